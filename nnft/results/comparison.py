"""The perturbative :class:`~nnft.perturbation.comparison.Comparison` (``nnft.compare``, ``nnft
perturb``) as an ``xarray.Dataset`` and back.

Layout (R rows = tuples × λ values; S tuples)::

    coords   row (R) · lam (row) · observable (row): "δG" | "δG_c" · series (row): tuple index
             · points (row, point, coord), NaN-padded · tuple_points (series_tuple, point, coord)
    shift, shift_stderr          (row)  reweighted Monte Carlo shift and its standard error
    first_order, gaussian        (row)  exact finite-N first order; the N = ∞ diagram (NaN: none, see has_*)
    z, z_gaussian                (row)  derived z-scores (``nnft.stats.zscore``), NaN where none
    ess, ess_low                 (row)  Kish ESS (Σw)²/Σw² of the λ-ensemble; below the reweighting floor
    threshold, reason, mc_extra  (row)  |z| flag level; why no first order; the estimate's n, k̂, notes
    attrs  coupling, lambdas, unit, unit_gaussian, threshold, notes, refused ((λ, reason) pairs) (packed JSON text)
"""

from __future__ import annotations

import numpy as np

from nnft.results.files import pack, unpack
from nnft.results.provenance import provenance

KIND = "Comparison"


def _nan(v):
    return np.nan if v is None else float(v)


def _pad(arrs):
    arrs = [np.atleast_2d(np.asarray(a, dtype=np.float64)) for a in arrs]
    d = arrs[0].shape[1] if arrs else 0
    out = np.full((len(arrs), max((len(a) for a in arrs), default=0), d), np.nan)
    for i, a in enumerate(arrs):
        out[i, :len(a)] = a
    return out, np.array([len(a) for a in arrs], dtype=np.int64)


def to_dataset(comp, *, blocks=None, **known):
    """A Comparison as a Dataset (layout in the module docstring), with provenance."""
    import xarray as xr
    rows = comp.rows
    pts, n_row = _pad([r.points for r in rows])
    tpts, n_tuple = _pad(comp.tuples)

    def num(get):
        return ("row", np.array([_nan(get(r)) for r in rows], dtype=np.float64))

    def flag(get):
        return ("row", np.array([bool(get(r)) for r in rows], dtype=bool))

    ds = xr.Dataset(
        {"shift": num(lambda r: r.mc.mean), "shift_stderr": num(lambda r: r.mc.stderr),
         "first_order": num(lambda r: r.first_order), "gaussian": num(lambda r: r.gaussian),
         "z": num(lambda r: r.z), "z_gaussian": num(lambda r: r.z_gaussian),
         "ess": num(lambda r: r.ess), "ess_low": flag(lambda r: r.ess_low),
         "has_first_order": flag(lambda r: r.first_order is not None),
         "has_gaussian": flag(lambda r: r.gaussian is not None), "has_ess": flag(lambda r: r.ess is not None),
         "threshold": num(lambda r: r.threshold),
         "reason": ("row", np.array([pack(r.reason) for r in rows], dtype=object)),
         "mc_extra": ("row", np.array([pack({"n": r.mc.n, "ess": r.mc.ess, "khat": r.mc.khat, "notes": r.mc.notes})
                                       for r in rows], dtype=object))},
        coords={"row": np.arange(len(rows)), "lam": ("row", np.array([r.lam for r in rows], dtype=np.float64)),
                "observable": ("row", np.array([r.observable for r in rows], dtype=object)),
                "series": ("row", np.array([r.series for r in rows], dtype=np.int64)),
                "points": (("row", "point", "coord"), pts), "order": ("row", n_row),
                "tuple_points": (("series_tuple", "point", "coord"), tpts), "tuple_order": ("series_tuple", n_tuple)})
    ds["shift"].attrs["long_name"] = "reweighted Monte Carlo shift of the correlator at coupling lam"
    ds.attrs.update(nnft_result=KIND, **provenance(comp.theory, seed=comp.seed, samples=comp.samples,
                                                   blocks=blocks, **known))
    ds.attrs.update(coupling=comp.coupling, lambdas=pack(tuple(comp.lambdas)), unit=pack(tuple(comp.unit)),
                    unit_gaussian=pack(tuple(comp.unit_gaussian)), threshold=float(comp.threshold),
                    notes=pack(tuple(comp.notes)), refused=pack([[lam, why] for lam, why in comp.refused]))
    return ds


def from_dataset(ds):
    """The Comparison a Dataset of :func:`to_dataset` holds."""
    from nnft.perturbation.comparison import Comparison, ComparisonRow
    from nnft.results.provenance import theory_of
    from nnft.stats import Estimate
    a = {k: np.asarray(v.values) for k, v in ds.variables.items()}
    rows = []
    for i in range(ds.sizes["row"]):
        ex = unpack(a["mc_extra"][i])
        mc = Estimate(mean=a["shift"][i], stderr=a["shift_stderr"][i], n=ex["n"], ess=ex["ess"], khat=ex["khat"],
                      notes=ex["notes"])
        rows.append(ComparisonRow(
            lam=float(a["lam"][i]), observable=str(a["observable"][i]), series=int(a["series"][i]),
            points=a["points"][i, :int(a["order"][i])].copy(), mc=mc,
            first_order=float(a["first_order"][i]) if a["has_first_order"][i] else None,
            gaussian=float(a["gaussian"][i]) if a["has_gaussian"][i] else None,
            ess=float(a["ess"][i]) if a["has_ess"][i] else None, ess_low=bool(a["ess_low"][i]),
            threshold=float(a["threshold"][i]), reason=unpack(a["reason"][i])))
    tuples = tuple(a["tuple_points"][j, :int(n)].copy() for j, n in enumerate(a["tuple_order"]))
    return Comparison(theory=theory_of(ds.attrs), coupling=str(ds.attrs["coupling"]),
                      lambdas=tuple(unpack(ds.attrs["lambdas"])), tuples=tuples, samples=int(ds.attrs["samples"]),
                      seed=int(ds.attrs["seed"]), rows=tuple(rows), unit=tuple(unpack(ds.attrs["unit"])),
                      unit_gaussian=tuple(unpack(ds.attrs["unit_gaussian"])), threshold=float(ds.attrs["threshold"]),
                      notes=tuple(unpack(ds.attrs["notes"])),
                      refused=tuple((float(lam), str(why)) for lam, why in unpack(ds.attrs.get("refused", "[]"))))
