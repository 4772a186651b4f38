"""A trained ensemble (:class:`~nnft.training.result.Training`, ``nnft.train``, ``nnft train``) as an
``xarray.Dataset`` and back: time is a dimension.

Layout (T recorded steps, P test points, M training inputs, Q = M + P NTK points, d coordinates)::

    coords   step (T) · time (step): t = η k · point, point_j (P) · x (point, coord) · train (M),
             x_train (train, coord), y_train (train) · z_i, z_j (Q): the NTK points, training inputs first
    mean, mean_stderr            (step, point)              E f_t(x)
    cov, cov_stderr              (step, point, point_j)     Cov f_t(x, x')
    kappa4, kappa4_stderr        (step, point)              connected G_c,t⁽⁴⁾(x, x, x, x)
    ntk, dntk (+ _stderr)        (step, z_i, z_j)           E Θ̂_t, E[Θ̂_t − Θ̂_0]
    dntk_rms, loss, lin_dist     (step,)                    √E‖ΔΘ̂_t‖², E L_t, √E(f − f_lin)² (each + _stderr)
    theory_mean, theory_cov, theory_loss                    the linearised GP (when there is one)
    <name>_khat                  (the statistic's dims)     Pareto k̂ per entry of mean, cov, loss (absent when
                                                            not tracked); Var f_t's k̂ is cov_khat's diagonal
    var_floor                    (step, point)              the least Var f_t(x) the dtype resolves (if computed)

Attributes: the provenance (:mod:`.provenance`), ``settings`` (JSON), ``name``, ``notes`` (the
moment analysis's notes, packed JSON text), ``<name>_notes`` of an estimate that has any (packed JSON),
the theory's ``eta_crit``, ``regime``, ``dynamics``, ``theory_source`` or ``theory_note``.

A file written before the k̂, the notes and the floor were saved (no ``notes`` attribute) still loads; its
``Training.notes`` is the single :data:`NOT_RECORDED` line, so the table says the flags are missing rather
than showing none.
"""

from __future__ import annotations

import json

import numpy as np

from nnft.results.files import pack, unpack
from nnft.results.provenance import provenance

KIND = "Training"
#: the note a file saved without k̂, notes and floor is read back with (printed under its table)
NOT_RECORDED = ("tail flags were not recorded in this file (saved by an older nnft, without the Pareto k̂, the "
                "moment-analysis notes and the variance resolution floor): k̂ shows —, and a missing HEAVY TAIL or "
                "below-resolution line is no evidence of light tails or resolved variances; train again to get them")
_DIMS = {"mean": ("step", "point"), "cov": ("step", "point", "point_j"), "kappa4": ("step", "point"),
         "ntk": ("step", "z_i", "z_j"), "dntk": ("step", "z_i", "z_j"), "dntk_rms": ("step",), "loss": ("step",),
         "lin_dist": ("step",)}


def to_dataset(r, *, theory=None, **known):
    """A :class:`~nnft.training.result.Training` as a Dataset (layout in the module docstring).

    Args:
      theory: the spec's theory (for the spec provenance); known: ``wall_time_s``, ``devices``.
    """
    import xarray as xr
    P, M = len(r.test), len(r.X)
    coords = {"step": np.asarray(r.steps, dtype=np.int64), "point": np.arange(P), "point_j": np.arange(P),
              "train": np.arange(M), "z_i": np.arange(M + P), "z_j": np.arange(M + P)}
    ds = xr.Dataset(coords=coords)
    ds = ds.assign_coords(time=("step", np.asarray(r.times, dtype=np.float64)),
                          x=(("point", "coord"), np.asarray(r.test, dtype=np.float64)),
                          x_train=(("train", "coord"), np.asarray(r.X, dtype=np.float64)),
                          y_train=("train", np.asarray(r.Y, dtype=np.float64)))
    for name, dims in _DIMS.items():
        est = getattr(r, name)
        if est is None:
            continue
        ds[name] = (dims, np.asarray(est.mean, dtype=np.float64))
        ds[f"{name}_stderr"] = (dims, np.asarray(est.stderr, dtype=np.float64))
        if est.khat is not None:
            ds[f"{name}_khat"] = (dims, np.asarray(est.khat, dtype=np.float64))
        ds.attrs[f"{name}_n"] = int(est.n)
        if est.notes:
            ds.attrs[f"{name}_notes"] = pack(list(est.notes))
    if r.var_floor is not None:
        ds["var_floor"] = (("step", "point"), np.asarray(r.var_floor, dtype=np.float64))
    ds["time"].attrs["long_name"] = "gradient-flow time t = lr * step"
    th = r.theory
    if th is not None:
        ds["theory_mean"] = (("step", "point"), np.asarray(th.mean, dtype=np.float64))
        ds["theory_cov"] = (("step", "point", "point_j"), np.asarray(th.cov, dtype=np.float64))
        ds["theory_loss"] = (("step",), np.asarray(th.loss, dtype=np.float64))
        ds.attrs.update(eta_crit=float(th.eta_crit), regime=th.regime, dynamics=th.dynamics, theory_source=th.source)
    else:
        ds.attrs["theory_note"] = r.theory_note
    s = r.settings
    ds.attrs.update(nnft_result=KIND, name=r.name, settings=json.dumps(s, sort_keys=True), notes=pack(list(r.notes)),
                    **provenance(theory, seed=s.get("seed"), samples=s.get("networks"), dtype=s.get("dtype"),
                                 blocks=s.get("blocks"), **known))
    return ds


def from_dataset(ds):
    """The :class:`~nnft.training.result.Training` a Dataset of :func:`to_dataset` holds.

    A Dataset without the ``notes`` attribute (written before k̂, notes and floor were saved) gives
    ``notes = (NOT_RECORDED,)``, no k̂ and no floor.

    Raises:
      InputError: damaged packed notes (``nnft.results.files.unpack``).
    """
    from nnft.stats import Estimate
    from nnft.training.result import Training
    from nnft.training.theory import LinearisedGP

    def est(name):
        if name not in ds:
            return None
        khat = ds[f"{name}_khat"].values if f"{name}_khat" in ds else None
        return Estimate(ds[name].values, ds[f"{name}_stderr"].values, int(ds.attrs[f"{name}_n"]),
                        khat=None if khat is None else np.array(khat),
                        notes=tuple(unpack(ds.attrs[f"{name}_notes"])) if f"{name}_notes" in ds.attrs else ())

    th = None
    if "theory_mean" in ds:
        th = LinearisedGP(mean=ds["theory_mean"].values, cov=ds["theory_cov"].values, loss=ds["theory_loss"].values,
                          eta_crit=float(ds.attrs["eta_crit"]), regime=str(ds.attrs["regime"]),
                          dynamics=str(ds.attrs["dynamics"]), source=str(ds.attrs["theory_source"]))
    notes = tuple(unpack(ds.attrs["notes"])) if "notes" in ds.attrs else (NOT_RECORDED,)
    floor = np.array(ds["var_floor"].values, dtype=np.float64) if "var_floor" in ds else None
    return Training(name=str(ds.attrs["name"]), steps=ds["step"].values, times=ds["time"].values,
                    X=ds["x_train"].values, Y=ds["y_train"].values, test=ds["x"].values,
                    **{k: est(k) for k in _DIMS}, theory=th, theory_note=str(ds.attrs.get("theory_note", "")),
                    settings=json.loads(str(ds.attrs["settings"])), notes=notes, var_floor=floor)
