"""Correlators of local operators (:class:`~nnft.estimators.local.LocalCorrelators`, ``nnft.local_correlator``,
``nnft local --out``) as an ``xarray.Dataset`` and back.

Layout (T tuples of at most n points in d dimensions, D components): that of :mod:`.correlators`
(``G``, ``G_c`` with ``_stderr``, ``_khat``; coords ``tuple``, ``order``, ``points``) plus the operators::

    operator   (tuple, point)             the operator's label ('d0 phi[1]', 'phi^2'); '' past the tuple's order
    op_kind    (tuple, point)             'linear', 'phi^2' or '(dphi)^2'
    op_derivs  (tuple, point)             the coordinates differentiated, space-separated ('0 1'; '' for none)
    op_direction (tuple, point, component)  c of a linear operator Σ_a c_a ∂…φ_a (NaN-padded)
"""

from __future__ import annotations

import numpy as np

from nnft.results.correlators import _estimate, _estimate_vars, _tuple_coords, tuples_of
from nnft.results.provenance import provenance

KIND = "LocalCorrelators"


def to_dataset(result, *, theory=None, seed=None, samples=None, blocks=None, **known):
    """A LocalCorrelators as a Dataset (layout in the module docstring)."""
    import xarray as xr
    T, n = len(result.orders), max(result.orders, default=0)
    D = max((len(o.direction) for ops in result.operators for o in ops), default=1)
    label = np.full((T, n), "", dtype=object)
    kind = np.full((T, n), "", dtype=object)
    derivs = np.full((T, n), "", dtype=object)
    direction = np.full((T, n, D), np.nan)
    for i, ops in enumerate(result.operators):
        for j, o in enumerate(ops):
            label[i, j], kind[i, j], derivs[i, j] = o.label(), o.kind, " ".join(map(str, o.derivs))
            direction[i, j, :len(o.direction)] = o.direction
    ds = xr.Dataset(coords=_tuple_coords(result.orders, list(result.tuples)))
    ds = ds.assign_coords(operator=(("tuple", "point"), label.astype(str)))
    ds["op_kind"] = (("tuple", "point"), kind.astype(str))
    ds["op_derivs"] = (("tuple", "point"), derivs.astype(str))
    ds["op_direction"] = (("tuple", "point", "component"), direction)
    _estimate_vars(ds, "G", result.full, ("tuple",))
    _estimate_vars(ds, "G_c", result.connected, ("tuple",))
    ds.attrs.update(nnft_result=KIND, **provenance(theory, seed=seed, samples=samples or result.full.n,
                                                   blocks=blocks, **known))
    return ds


def from_dataset(ds):
    """The LocalCorrelators a Dataset of :func:`to_dataset` holds."""
    from nnft.estimators.local import LocalCorrelators, Operator
    orders = tuple(int(n) for n in ds["order"].values)
    kinds, derivs, direction = ds["op_kind"].values, ds["op_derivs"].values, ds["op_direction"].values
    ops = []
    for i, n in enumerate(orders):
        row = []
        for j in range(n):
            c = direction[i, j]
            row.append(Operator(str(kinds[i, j]), tuple(int(t) for t in str(derivs[i, j]).split()),
                                tuple(float(v) for v in c[~np.isnan(c)])))
        ops.append(tuple(row))
    return LocalCorrelators(full=_estimate(ds, "G"), connected=_estimate(ds, "G_c"), orders=orders,
                            tuples=tuple(tuples_of(ds)), operators=tuple(ops))

