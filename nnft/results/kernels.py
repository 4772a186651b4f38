"""Infinite-width kernels (:class:`~nnft.graph.kernels.Kernels`, ``nnft.kernels``, ``nnft kernel``) as
an ``xarray.Dataset`` and back.

Layout (P points in d dimensions, L Gaussian nodes of the layer-by-layer recursion)::

    coords   point_i, point_j (P) · x (point_i, coord) when the points are given · layer (L): spec location
    nngp     (point_i, point_j)          K(xᵢ, xⱼ) of the field
    ntk      (point_i, point_j)          Θ(xᵢ, xⱼ) (NTK parameterisation)
    layer_nngp, layer_ntk  (layer, point_i, point_j)   K and Θ of each Gaussian node, in graph order

An analytic result: the sampling provenance keys are missing as not applicable. The attribute
``show_layers`` (0/1) records whether ``nnft kernel`` printed the layers (``--layers``), so that
``nnft show`` prints the same text (:func:`text_of_dataset`).
"""

from __future__ import annotations

import numpy as np

from nnft.results.provenance import provenance

KIND = "Kernels"


def to_dataset(k, *, points=None, theory=None, show_layers=False, **known):
    """Kernels as a Dataset (layout in the module docstring).

    Args:
      points: the (P, d) points the kernels were computed at (for the ``x`` coordinate).
      theory: the theory (for the spec provenance).
      show_layers: the text of the result lists the layers (``nnft kernel --layers``).
    """
    import xarray as xr
    P = np.asarray(k.nngp).shape[0]
    L = len(k.layers)
    coords = {"point_i": np.arange(P), "point_j": np.arange(P),
              "layer": np.array([str(w) for w, _, _ in k.layers], dtype=object)}
    if points is not None:
        coords["x"] = (("point_i", "coord"), np.asarray(points, dtype=np.float64).reshape(P, -1))
    lk = np.array([np.asarray(K, dtype=np.float64) for _, K, _ in k.layers]).reshape(L, P, P)
    lt = np.array([np.asarray(T, dtype=np.float64) for _, _, T in k.layers]).reshape(L, P, P)
    ds = xr.Dataset({"nngp": (("point_i", "point_j"), np.asarray(k.nngp, dtype=np.float64)),
                     "ntk": (("point_i", "point_j"), np.asarray(k.ntk, dtype=np.float64)),
                     "layer_nngp": (("layer", "point_i", "point_j"), lk),
                     "layer_ntk": (("layer", "point_i", "point_j"), lt)}, coords=coords)
    ds["nngp"].attrs["long_name"] = "infinite-width NNGP kernel K(x_i, x_j)"
    ds["ntk"].attrs["long_name"] = "neural tangent kernel Theta(x_i, x_j), NTK parameterisation"
    ds.attrs.update(nnft_result=KIND, show_layers=int(bool(show_layers)), kernel_source=str(k.source), **provenance(theory, analytic=True, **known))
    return ds


def from_dataset(ds):
    """The Kernels a Dataset of :func:`to_dataset` holds."""
    from nnft.graph.kernels import Kernels
    layers = tuple((str(w), ds["layer_nngp"].values[i], ds["layer_ntk"].values[i])
                   for i, w in enumerate(ds["layer"].values))
    return Kernels(nngp=ds["nngp"].values, ntk=ds["ntk"].values, layers=layers,
                   source=str(ds.attrs.get("kernel_source", "graph recursion")))


def table(k, name: str = "", layers: bool = False) -> str:
    """K and Θ as text, as ``nnft kernel`` prints them (:func:`nnft.result_tables.kernels`: tables fitted
    to the terminal): ``name: `` first when given, then with ``layers`` one line per Gaussian node with
    the diagonals of its K and Θ."""
    from nnft.result_tables import kernels as text
    return text(k, name=name, layers=layers)


def text_of_dataset(ds) -> str:
    """The text ``nnft kernel`` printed for the result a Dataset of :func:`to_dataset` holds (the
    theory's name from the ``spec`` attribute, the layers when ``show_layers`` is set)."""
    import json
    name = str(json.loads(ds.attrs["spec"]).get("name", "")) if "spec" in ds.attrs else ""
    return table(from_dataset(ds), name=name, layers=bool(int(ds.attrs.get("show_layers", 0))))
