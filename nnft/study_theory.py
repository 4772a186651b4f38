"""The theory column of a study (``nnft.run``): beside every row of MC estimates, the theory value and
its kind, or the reason there is none.

Sources: exact neuron-sum correlators from the spec's ``reference:`` (``nnft.reference.exact``;
TASI arXiv:2408.00082 eq. 39, 50-51); NNGP / exact / leading-order values for ``mlp:`` nets
(``nnft.reference_mlp``); first-order perturbation theory with the exact finite-N c1(N) for insertions
(``nnft.perturbation.first_order``; TASI §5.2 eq. 135-137).
"""

from __future__ import annotations

import numpy as np

from nnft.errors import EstimatorError
from nnft.graph.compile import Model
from nnft.reference import exact
from nnft.reference_mlp import EXACT, PT1, mlp_info, mlp_theory


def _one_line(err: Exception) -> str:
    """The first line of an error's message (a table cell)."""
    return str(err).splitlines()[0] if str(err) else type(err).__name__


def fill_theory(model: Model, rows: list, tuples, notes: list[str]) -> None:
    """Put the theory beside every row (in place): a value and its kind, or the reason there is none.

    ``rows`` are :class:`nnft.study.Row` (their ``exact_*``, ``kind_*``, ``allow_*`` and ``reason`` are
    set), ``tuples`` the rows' point tuples ((n, d) arrays), ``notes`` the report's notes (appended to).

    * a neuron sum with a ``reference:`` — exact at the spec's width (``nnft.reference.exact``);
    * an ``mlp:`` net — NNGP / exact / leading order (``nnft.reference_mlp``);
    * an insertion on a free theory with a reference — first-order perturbation theory with the exact
      finite-N c1(N) (``nnft.perturbation.first_order``; TASI arXiv:2408.00082 §5.2 eq. 135-137):
      G = G₀ + δ (full for n ≤ 2) and G_c = G_c,₀ + δ_c, summed over insertions.
    """
    def none(why: str) -> None:
        for r in rows:
            r.reason = r.reason or why

    if model.insertions:
        _fill_pt(model, rows, tuples)
        return
    if model.structure.neuron_sum is not None:
        if not model.theory.reference:
            none("the spec declares no 'reference:' (a per-neuron law), so no exact correlators")
            return
        try:
            ex = exact(model, tuples)
        except EstimatorError as err:
            notes.append(f"no analytic values: {err}")
            none(_one_line(err))
            return
        for i, r in enumerate(rows):
            r.exact_full, r.exact_connected = float(ex.full[0, i]), float(ex.connected[0, i])
            r.kind_full = r.kind_connected = EXACT
        return
    if mlp_info(model) is None:
        none("not a neuron sum (" + "; ".join(model.structure.notes) + ") nor an 'mlp:' net: no theory in nnft")
        return
    try:
        th = mlp_theory(model, tuples)
    except EstimatorError as err:
        none(_one_line(err))
        return
    for i, r in enumerate(rows):
        if np.isfinite(th.full[i]) and np.isfinite(th.connected[i]):
            r.exact_full, r.exact_connected = float(th.full[i]), float(th.connected[i])
            r.kind_full, r.kind_connected = th.kind_full[i], th.kind_connected[i]
            r.allow_full, r.allow_connected = float(th.allow_full[i]), float(th.allow_connected[i])
        else:
            r.reason = th.reasons.get(i, "no theory")


def _fill_pt(model: Model, rows: list, tuples) -> None:
    """First-order perturbation theory beside the rows of a theory with insertions (:func:`fill_theory`)."""
    from nnft.errors import NnftError
    from nnft.perturbation.couplings import insertion_couplings
    from nnft.perturbation.first_order import first_order
    free = model.free()
    if not model.theory.reference or free.structure.neuron_sum is None:
        for r in rows:
            r.reason = ("first-order perturbation theory needs the free theory's exact moments, from a neuron sum "
                        "with a 'reference:'")
        return
    couplings = insertion_couplings(model.theory)
    if any(g is None for g in couplings):
        for r in rows:
            r.reason = "an 'expression' potential has no polynomial first order"
        return
    for n in sorted({len(t) for t in tuples}):
        idx = [j for j, t in enumerate(tuples) if len(t) == n]
        sub = [tuples[j] for j in idx]
        try:
            df = dc = f0 = c0 = None
            for ins, g in zip(model.insertions, couplings):
                fo = first_order(free, sub, ins.points, ins.weights, couplings=g)
                df = fo.full[0] if df is None else df + fo.full[0]
                dc = fo.connected[0] if dc is None else dc + fo.connected[0]
                f0, c0 = fo.full0[0], fo.connected0[0]
        except NnftError as err:
            for j in idx:
                rows[j].reason = "1st-order PT: " + _one_line(err)
            continue
        for k, j in enumerate(idx):
            r = rows[j]
            ok_full = not (f0[k] and abs(df[k]) >= abs(f0[k]))       # a small correction, else its allowance
            ok_conn = not (c0[k] and abs(dc[k]) >= abs(c0[k]))       # |δ| would make any z ≈ 1: no theory
            if ok_full:
                r.exact_full, r.kind_full = float(f0[k] + df[k]), PT1
                r.allow_full = float(min(df[k] ** 2 / abs(f0[k]), abs(df[k]))) if f0[k] else float(abs(df[k]))
            if ok_conn:
                r.exact_connected, r.kind_connected = float(c0[k] + dc[k]), PT1
                r.allow_connected = float(min(dc[k] ** 2 / abs(c0[k]), abs(dc[k]))) if c0[k] else float(abs(dc[k]))
            if not (ok_full and ok_conn):
                r.reason = ("1st-order PT does not apply at this coupling: its shift δ is not small against the free "
                            "value (|δ| ≥ |G₀|), so its allowance |δ| would make any z ≈ 1; use nnft perturb for the "
                            "λ dependence")
