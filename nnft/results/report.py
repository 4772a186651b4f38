"""``nnft.run``'s :class:`~nnft.study.Report` as an ``xarray.Dataset`` and back.

Layout (R rows, n_max the largest order, d the input dimension)::

    coords   row (R) · order (row) · points (row, point, coord)   NaN-padded past each row's order
    G, G_stderr, G_theory, z_G                  (row)   Monte Carlo G⁽ⁿ⁾, its standard error, reference, z
    G_c, G_c_stderr, G_c_theory, z_G_c          (row)   the same for the connected G_c⁽ⁿ⁾
    G_c_neuron, G_c_neuron_stderr, z_G_c_neuron (row)   exact-in-N neuron-level G_c⁽ⁿ⁾ (TASI arXiv:2408.00082 eq. 39, 50-51)
    khat_G, khat_G_c                            (row)   Pareto k̂ of the largest per-network contributions
    error_bar_infinite                          (row)   E|φ|^{2n} infinite: the error bar means nothing
    has_theory, has_theory_connected, has_neuron, has_khat_G, has_khat_G_c
                                                (row)   whether the optional columns exist (None is kept
                                                        apart from NaN, which is a value: k̂ not computable)

Attributes: the provenance (``nnft.results.provenance``), ``notes``, and ``neurons`` (the neurons drawn
for the G_c_neuron column; absent when there is none or it was not recorded).

z columns are derived (``nnft.stats.zscore``, NaN where there is none) and recomputed on loading.
Row fields this module does not know (added later to :class:`~nnft.study.Row`, e.g. the kind of
theory and its allowance) are kept as packed JSON text in ``row_extra`` (what loading reads) and,
when numbers or text, also as a readable (row) variable of the field's name (None: NaN or "");
report fields likewise in the ``report_extra`` attribute.
"""

from __future__ import annotations

import dataclasses
import math
import types

import numpy as np

from nnft.results.files import pack, unpack
from nnft.results.provenance import provenance, theory_of

KIND = "Report"
_KNOWN_ROW = {"order", "points", "full", "connected", "exact_full", "exact_connected", "neuron_connected",
              "khat_full", "khat_connected", "error_bar_infinite"}
_KNOWN_REPORT = {"theory", "model", "samples", "seed", "rows", "notes", "neurons"}


def _nan(v):
    return math.nan if v is None else float(v)


def _blocks(samples: int) -> int:
    return min(64, max(2, samples // 2))                  # the jackknife blocks nnft.sample.iid.stream uses


def to_dataset(report, **known):
    """A :class:`~nnft.study.Report` as a Dataset (layout in the module docstring) with provenance.

    Args:
      known: provenance the report does not hold (``dtype``, ``devices``, ``wall_time_s``).
    """
    import xarray as xr
    from nnft.study import Row
    rows = report.rows
    R = len(rows)
    d = rows[0].points.shape[1] if R else 0
    nmax = max((r.order for r in rows), default=0)
    pts = np.full((R, nmax, d), np.nan)
    for i, r in enumerate(rows):
        pts[i, :r.order] = r.points

    def col(get):
        return ("row", np.array([_nan(get(r)) for r in rows], dtype=np.float64))

    data = {
        "G": col(lambda r: r.full[0]), "G_stderr": col(lambda r: r.full[1]),
        "G_theory": col(lambda r: r.exact_full), "z_G": col(lambda r: r.z_full),
        "G_c": col(lambda r: r.connected[0]), "G_c_stderr": col(lambda r: r.connected[1]),
        "G_c_theory": col(lambda r: r.exact_connected), "z_G_c": col(lambda r: r.z_connected),
        "G_c_neuron": col(lambda r: r.neuron_connected[0] if r.neuron_connected else None),
        "G_c_neuron_stderr": col(lambda r: r.neuron_connected[1] if r.neuron_connected else None),
        "z_G_c_neuron": col(lambda r: r.z_neuron),
        "khat_G": col(lambda r: r.khat_full), "khat_G_c": col(lambda r: r.khat_connected),
        "error_bar_infinite": ("row", np.array([bool(r.error_bar_infinite) for r in rows], dtype=bool)),
        "has_theory": ("row", np.array([r.exact_full is not None for r in rows], dtype=bool)),
        "has_theory_connected": ("row", np.array([r.exact_connected is not None for r in rows], dtype=bool)),
        "has_neuron": ("row", np.array([r.neuron_connected is not None for r in rows], dtype=bool)),
        "has_khat_G": ("row", np.array([r.khat_full is not None for r in rows], dtype=bool)),
        "has_khat_G_c": ("row", np.array([r.khat_connected is not None for r in rows], dtype=bool)),
    }
    extra = [f.name for f in dataclasses.fields(rows[0] if rows else Row) if f.name not in _KNOWN_ROW]
    if extra:
        data["row_extra"] = ("row", np.array([pack({k: getattr(r, k) for k in extra}) for r in rows], dtype=object))
    for k in extra:                     # readable copies of the packed fields (derived, like z; not read back)
        vals = [getattr(r, k) for r in rows]
        if k in data:
            continue
        if all(v is None or (isinstance(v, (float, int)) and not isinstance(v, bool)) for v in vals):
            data[k] = col(lambda r, k=k: getattr(r, k))
        elif all(v is None or isinstance(v, str) for v in vals):
            data[k] = ("row", np.array(["" if v is None else v for v in vals], dtype=object))
    ds = xr.Dataset(data, coords={"row": np.arange(R), "order": ("row", np.array([r.order for r in rows], dtype=np.int64)),
                                  "points": (("row", "point", "coord"), pts)})
    ds["G"].attrs["long_name"] = "Monte Carlo G^(n) = <phi(x1)...phi(xn)>"
    ds["G_c"].attrs["long_name"] = "Monte Carlo connected G_c^(n) (joint cumulant)"
    ds["points"].attrs["long_name"] = "point tuple of each row, NaN past its order"
    blocks = _blocks(report.samples)
    ds.attrs.update(nnft_result=KIND, **provenance(report.theory, seed=report.seed, samples=report.samples,
                                                   blocks=blocks, **known))
    ds.attrs["notes"] = pack(list(report.notes))
    if getattr(report, "neurons", None) is not None:      # neurons drawn for the G_c_neuron column
        ds.attrs["neurons"] = int(report.neurons)
    rep_extra = {f.name: getattr(report, f.name) for f in dataclasses.fields(report) if f.name not in _KNOWN_REPORT}
    if rep_extra:
        ds.attrs["report_extra"] = pack(rep_extra)
    ns = report.model.structure.neuron_sum
    ds.attrs["neuron_sum"] = pack(None if ns is None else dataclasses.asdict(ns))
    ds.attrs["structure_notes"] = pack(list(report.model.structure.notes))
    phi = report.model.moments["phi"]
    ds.attrs["phi_moments"] = pack({"lo": float(phi.lo), "hi": float(phi.hi)})
    return ds


class SavedModel:
    """What a loaded Report keeps of its compiled model: the neuron-sum structure and the field's
    moment bounds (enough for :meth:`Report.table`); any other attribute compiles the model from
    the saved spec on first use."""

    def __init__(self, theory, neuron_sum, notes, phi):
        self.theory = theory
        self.structure = types.SimpleNamespace(neuron_sum=neuron_sum, notes=tuple(notes))
        self.moments = {"phi": types.SimpleNamespace(**phi)}
        self._compiled = None

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if self.__dict__.get("_compiled") is None:
            from nnft.graph.compile import compile
            self.__dict__["_compiled"] = compile(self.theory)
        return getattr(self.__dict__["_compiled"], name)


def from_dataset(ds):
    """The :class:`~nnft.study.Report` a Dataset of :func:`to_dataset` holds (the model is a
    :class:`SavedModel`).

    Raises:
      InputError: the Dataset is not a saved Report or is damaged.
    """
    from nnft.graph.analyse import NeuronSum
    from nnft.study import Report, Row
    theory = theory_of(ds.attrs)
    a = {k: np.asarray(v.values) for k, v in ds.variables.items()}
    rows = []
    extras = [unpack(x) for x in a["row_extra"]] if "row_extra" in a else None
    fields = {f.name for f in dataclasses.fields(Row)}

    def opt(ok, v):
        return float(v) if ok else None

    for i in range(ds.sizes["row"]):
        n = int(a["order"][i])
        kw = dict(order=n, points=a["points"][i, :n].copy(), full=(float(a["G"][i]), float(a["G_stderr"][i])),
                  connected=(float(a["G_c"][i]), float(a["G_c_stderr"][i])),
                  exact_full=opt(a["has_theory"][i], a["G_theory"][i]),
                  exact_connected=opt(a["has_theory_connected"][i], a["G_c_theory"][i]),
                  neuron_connected=(float(a["G_c_neuron"][i]), float(a["G_c_neuron_stderr"][i]))
                  if a["has_neuron"][i] else None,
                  khat_full=opt(a["has_khat_G"][i], a["khat_G"][i]),
                  khat_connected=opt(a["has_khat_G_c"][i], a["khat_G_c"][i]),
                  error_bar_infinite=bool(a["error_bar_infinite"][i]))
        if extras is not None:
            kw.update({k: v for k, v in extras[i].items() if k in fields})
        rows.append(Row(**kw))
    ns = unpack(ds.attrs["neuron_sum"])
    if ns is not None:
        ns = NeuronSum(**{k: tuple(v) if isinstance(v, list) else v for k, v in ns.items()})
    model = SavedModel(theory, ns, unpack(ds.attrs["structure_notes"]), unpack(ds.attrs["phi_moments"]))
    extra = unpack(ds.attrs["report_extra"]) if "report_extra" in ds.attrs else {}
    rep_fields = {f.name for f in dataclasses.fields(Report)}
    neurons = int(ds.attrs["neurons"]) if "neurons" in ds.attrs else None     # absent: not recorded / no column
    return Report(theory=theory, model=model, samples=int(ds.attrs["samples"]), seed=int(ds.attrs["seed"]),
                  rows=rows, notes=list(unpack(ds.attrs["notes"])), neurons=neurons,
                  **{k: v for k, v in extra.items() if k in rep_fields})
