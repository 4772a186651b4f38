"""Analytic references for a compiled theory: exact G⁽ⁿ⁾ and G_c⁽ⁿ⁾ next to Monte Carlo.

A spec's ``reference:`` names the law of one neuron ψ (a family of ``nnft.analytic.NEURONS``,
e.g. ``cos_net: {sigma_w0: 1.0}``); the graph analysis supplies the rest: that φ is a neuron sum,
its width, and the readout and offset densities, whose moments are taken exactly. The correlators
then follow from the neuron-sum theorem (``nnft.estimators.neuron.combine``) for *any* readout
density (r = μ4/μ2² enters through E[v⁴]).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnft.errors import EstimatorError
from nnft.estimators.neuron import _require, combine, width_moments
from nnft.estimators.npoint import Plan
from nnft.graph.build import evaluate_constants
from nnft.graph.compile import Model
from nnft.spec import expr as E


@dataclass(frozen=True)
class Exact:
    """Exact correlators, arrays (len(widths), T)."""

    widths: tuple[int, ...]
    full: np.ndarray
    connected: np.ndarray
    orders: tuple[int, ...]
    accuracy: float


def neuron_reference(model: Model):
    """The declared per-neuron law (an ``nnft.analytic`` family instance), or raise."""
    from nnft.analytic import NEURONS
    ref = model.theory.reference
    if not ref:
        raise EstimatorError(f"{model.theory.source}: the spec declares no 'reference:' (no analytic reference)")
    (kind, raw), = ref.items()
    env, _ = evaluate_constants(model.theory)
    args = {k: E.evaluate_constant(E.parse(v), env) for k, v in raw.items()}
    try:
        return NEURONS[kind](model.d, **args)
    except ValueError as err:
        raise EstimatorError(f"{model.theory.source}: reference.{kind}: {err}") from None


def exact(model: Model, tuples, widths=None) -> Exact:
    """Exact G⁽ⁿ⁾ and G_c⁽ⁿ⁾ per width and tuple from the declared neuron reference."""
    ns = _require(model)
    neuron = neuron_reference(model)
    widths = tuple(int(w) for w in (widths or [model.theory.dims[ns.width]]))
    plan = Plan(tuples, model.d)
    kmax = max(plan.orders)
    if kmax > neuron.max_order:
        raise EstimatorError(f"reference {neuron.name} gives moments up to order {neuron.max_order}, asked {kmax}")
    M = np.zeros(plan.n_features)
    for key, col in plan.key_col.items():
        M[col] = neuron.moment(plan.points[list(key)])
    v_mom, b_mom = width_moments(model, widths, kmax)
    full, conn = combine(plan, M, widths, v_mom, b_mom)
    return Exact(widths=widths, full=full, connected=conn, orders=plan.orders, accuracy=float(neuron.accuracy))
