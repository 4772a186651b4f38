"""A :class:`~nnft.sweep.Sweep` (one :class:`~nnft.study.Report` per value of a swept size, constant or
spec path) as an ``xarray.Dataset`` and back.

Layout: the :mod:`nnft.results.report` layout of every value stacked along a leading dimension::

    coords   sweep (V) · value (sweep): the swept value · row, order, points as in a Report
    G, G_stderr, G_theory, z_G, G_c, ...   (sweep, row)
    report_attrs (sweep)   packed JSON text: each value's own attributes, its resolved spec
                           (after the override) and sha256 among them
    attrs    swept (the name), values (packed, types kept), and the provenance of the first value
             (``spec``/``spec_sha256`` are the first value's; every value's are in ``report_attrs``)
    samples, seed, blocks, neurons (sweep)   only when they differ between values (a sweep over
             ``study.samples`` or ``study.seed``; neurons drawn, rounded up to whole networks, when
             the neuron's law depends on the swept width): then each value's (-1: none), and no
             top-level attribute of that name claims one value for all (``per_value`` lists them)

Every value's report must have the same rows (the same point tuples and orders), as a Sweep's do.
"""

from __future__ import annotations

import numpy as np

from nnft.results import report as report_io
from nnft.results.files import pack, unpack

KIND = "Sweep"
#: provenance that may differ between the values of a sweep (stored per value when it does)
PER_VALUE = ("samples", "seed", "blocks", "neurons")


def to_dataset(sweep, **known):
    """A Sweep as a Dataset (layout in the module docstring).

    Args:
      known: provenance the reports do not hold (``dtype``, ``devices``, ``wall_time_s`` of the whole sweep).
    """
    import xarray as xr
    parts = [report_io.to_dataset(r, **known) for r in sweep.reports]
    attrs = [dict(p.attrs) for p in parts]
    ds = xr.concat([p.drop_attrs() for p in parts], dim="sweep", data_vars="all", coords="minimal",
                   compat="override", join="exact")
    values = list(sweep.values)
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    col = np.asarray(values, dtype=np.float64) if numeric else np.array([str(v) for v in values], dtype=object)
    ds = ds.assign_coords(sweep=np.arange(len(values)), value=("sweep", col))
    ds["report_attrs"] = ("sweep", np.array([pack(a) for a in attrs], dtype=object))
    varying = [k for k in PER_VALUE if len({repr(a.get(k)) for a in attrs}) > 1]
    for k in varying:                          # differs between values: a variable along the sweep, no attribute
        ds[k] = ("sweep", np.array([-1 if a.get(k) is None else int(a[k]) for a in attrs], dtype=np.int64))
        ds[k].attrs["missing_value_meaning"] = "-1: not recorded"
    ds.attrs.update({k: v for k, v in attrs[0].items() if k != "nnft_result" and k not in varying})
    if varying:
        ds.attrs["per_value"] = ", ".join(varying)
    ds.attrs.update(nnft_result=KIND, swept=str(sweep.name), values=pack(values),
                    spec_note="spec and spec_sha256 are the first value's; every value's are in report_attrs")
    return ds


def from_dataset(ds):
    """The Sweep a Dataset of :func:`to_dataset` holds."""
    from nnft.sweep import Sweep
    reports = []
    for i in range(ds.sizes["sweep"]):
        sub = ds.isel(sweep=i).drop_vars(["report_attrs", "value", "sweep", *(k for k in PER_VALUE if k in ds)])
        sub.attrs = unpack(ds["report_attrs"].values[i])
        reports.append(report_io.from_dataset(sub))
    return Sweep(name=str(ds.attrs["swept"]), values=list(unpack(ds.attrs["values"])), reports=reports)
