"""Correlator estimates as an ``xarray.Dataset`` and back: :class:`~nnft.estimators.npoint.Correlators`
(``nnft.measure``), an :class:`~nnft.estimators.npoint.Ensemble` (saved as its Correlators: the block
sums are not kept, their number is the ``blocks`` attribute, which a re-save of the loaded result keeps) and the neuron-level :class:`~nnft.estimators.neuron.WidthCorrelators`.

Layout (T tuples; W widths for WidthCorrelators, which have the leading dim ``width``)::

    coords   tuple (T) · order (tuple) · points (tuple, point, coord) when the tuples are known,
             NaN-padded past each tuple's order · width (W)
    G, G_stderr, G_khat          ([width,] tuple)   full G⁽ⁿ⁾: mean, standard error, Pareto k̂ tail diagnostic
    G_c, G_c_stderr, G_c_khat    ([width,] tuple)   connected G_c⁽ⁿ⁾, the same
    attrs  G_n, G_c_n (networks or neurons summed), G_ess, G_c_ess (Kish ESS (Σw)²/Σw², only when
           importance-weighted), G_notes, G_c_notes (packed JSON text)

``*_khat`` is absent when the estimate does not track it.

The exact reference :class:`~nnft.reference.Exact` (``nnft.exact``) has the same coordinates and
``G_exact``, ``G_c_exact`` (width, tuple) with its stated relative ``accuracy``, its ``label``, the
``kinds`` per tuple and the ``reasons`` of the tuples without theory (NaN values; packed JSON) as
attributes (an analytic result: the sampling provenance is not applicable).
"""

from __future__ import annotations

import numpy as np

from nnft.results.files import pack, unpack
from nnft.results.provenance import provenance

KINDS = ("Correlators", "WidthCorrelators", "Exact")


def _estimate_vars(ds, name: str, est, dims) -> None:
    ds[name] = (dims, np.asarray(est.mean, dtype=np.float64))
    ds[f"{name}_stderr"] = (dims, np.asarray(est.stderr, dtype=np.float64))
    if est.khat is not None:
        ds[f"{name}_khat"] = (dims, np.asarray(est.khat, dtype=np.float64))
    ds.attrs[f"{name}_n"] = int(est.n)
    if est.ess is not None:
        ds.attrs[f"{name}_ess"] = float(est.ess)
    ds.attrs[f"{name}_notes"] = pack(list(est.notes))


def _estimate(ds, name: str):
    from nnft.stats import Estimate
    khat = ds[f"{name}_khat"].values if f"{name}_khat" in ds else None
    return Estimate(mean=ds[name].values, stderr=ds[f"{name}_stderr"].values, n=int(ds.attrs[f"{name}_n"]),
                    ess=float(ds.attrs[f"{name}_ess"]) if f"{name}_ess" in ds.attrs else None,
                    khat=None if khat is None else np.array(khat), notes=tuple(unpack(ds.attrs[f"{name}_notes"])))


def _tuple_coords(orders, tuples):
    T = len(orders)
    coords = {"tuple": np.arange(T), "order": ("tuple", np.asarray(orders, dtype=np.int64))}
    if tuples is not None:
        arrs = [np.atleast_2d(np.asarray(t, dtype=np.float64)) for t in tuples]
        if len(arrs) != T or any(len(a) != n for a, n in zip(arrs, orders)):
            from nnft.errors import InputError
            raise InputError("tuples= does not match the correlators' orders")
        d = arrs[0].shape[1] if arrs else 0
        pts = np.full((T, max(orders, default=0), d), np.nan)
        for i, a in enumerate(arrs):
            pts[i, :len(a)] = a
        coords["points"] = (("tuple", "point", "coord"), pts)
    return coords


def to_dataset(result, *, tuples=None, theory=None, seed=None, samples=None, blocks=None, **known):
    """Correlators, an Ensemble or WidthCorrelators as a Dataset (layout in the module docstring).

    Args:
      tuples: the point tuples (list of (n, d) arrays) the correlators were measured at, for the
        ``points`` coordinate (an Ensemble knows them).
      theory, seed, samples, blocks, known: provenance (``samples`` defaults to the estimate's n).
    """
    import xarray as xr
    kind = type(result).__name__
    if kind == "Exact":
        coords = _tuple_coords(result.orders, tuples)
        coords["width"] = np.asarray(result.widths, dtype=np.int64)
        ds = xr.Dataset({"G_exact": (("width", "tuple"), np.asarray(result.full, dtype=np.float64)),
                         "G_c_exact": (("width", "tuple"), np.asarray(result.connected, dtype=np.float64))},
                        coords=coords)
        ds.attrs.update(nnft_result=kind, **provenance(theory, analytic=True, **known))
        ds.attrs["accuracy"] = float(result.accuracy)
        ds.attrs["label"] = str(result.label)
        ds.attrs["kinds"] = pack(None if result.kinds is None else list(result.kinds))
        ds.attrs["reasons"] = pack(None if result.reasons is None else {str(k): v for k, v in result.reasons.items()})
        return ds
    if kind == "Ensemble":
        plan = result.plan
        tuples = [plan.points[list(ids)] for ids in plan.ids]
        blocks = blocks or int(result.sums.sums.shape[0])
        result = _as_correlators(result)
        kind = "Correlators"
    dims = ("width", "tuple") if kind == "WidthCorrelators" else ("tuple",)
    coords = _tuple_coords(result.orders, tuples)
    if kind == "WidthCorrelators":
        coords["width"] = np.asarray(result.widths, dtype=np.int64)
    ds = xr.Dataset(coords=coords)
    _estimate_vars(ds, "G", result.full, dims)
    _estimate_vars(ds, "G_c", result.connected, dims)
    ds.attrs.update(nnft_result=kind, **provenance(theory, seed=seed, samples=samples or result.full.n,
                                                   blocks=blocks, **known))
    return ds


def _as_correlators(ens):
    from nnft.estimators.npoint import Correlators
    return Correlators(full=ens.full(), connected=ens.connected(), orders=ens.orders)


def from_dataset(ds):
    """The Correlators or WidthCorrelators a Dataset of :func:`to_dataset` holds."""
    orders = tuple(int(n) for n in ds["order"].values)
    if ds.attrs["nnft_result"] == "Exact":
        from nnft.reference import Exact
        kinds = unpack(ds.attrs["kinds"]) if "kinds" in ds.attrs else None
        reasons = unpack(ds.attrs["reasons"]) if "reasons" in ds.attrs else None
        return Exact(widths=tuple(int(w) for w in ds["width"].values), full=ds["G_exact"].values,
                     connected=ds["G_c_exact"].values, orders=orders, accuracy=float(ds.attrs["accuracy"]),
                     label=str(ds.attrs.get("label", "exact")), kinds=None if kinds is None else tuple(kinds),
                     reasons=None if reasons is None else {int(k): str(v) for k, v in reasons.items()})
    full, conn = _estimate(ds, "G"), _estimate(ds, "G_c")
    if ds.attrs["nnft_result"] == "WidthCorrelators":
        from nnft.estimators.neuron import WidthCorrelators
        return WidthCorrelators(widths=tuple(int(w) for w in ds["width"].values), full=full, connected=conn,
                                orders=orders)
    from nnft.estimators.npoint import Correlators
    return Correlators(full=full, connected=conn, orders=orders)


def tuples_of(ds) -> list[np.ndarray] | None:
    """The point tuples of a saved correlator Dataset (None when they were not saved)."""
    if "points" not in ds:
        return None
    return [ds["points"].values[i, :int(n)] for i, n in enumerate(ds["order"].values)]


def table(ds) -> str:
    """A saved correlator Dataset as text: one line per (width,) tuple with G and G_c (± standard error),
    fitted to the terminal (:func:`nnft.result_tables.correlators`)."""
    from nnft.result_tables import correlators
    kind = ds.attrs["nnft_result"]
    return correlators(from_dataset(ds), tuples=tuples_of(ds),
                       title=kind + (f"  ({ds.attrs['spec_source']})" if "spec_source" in ds.attrs else ""))

