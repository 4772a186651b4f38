"""Which moments of the field exist, decided from the graph before sampling.

Each parameter's density declares its tail (``Density.tail``: E|θ|ᵖ < ∞ iff p < α). This module
propagates, node by node, two bounds on the moments of every value in the graph:

* ``lo``: moments of every order p < lo certainly exist (Minkowski for sums, independence or
  Hölder for products, boundedness of cos/tanh/erf/...);
* ``hi``: moments of every order p ≥ hi certainly do NOT exist — only where this follows exactly:
  a product of independent non-degenerate factors (E|XY|ᵖ = E|X|ᵖ E|Y|ᵖ), a sum in which one term
  has an infinite moment the others do not have, and sums of i.i.d. terms (E|Σ Xᵢ|ᵖ < ∞ iff
  E|X₁|ᵖ < ∞ for independent Xᵢ).

For φ(x) = Σᵢ W1ᵢ cos(W0ᵢ·x + bᵢ) with W1 ~ t(ν): lo = hi = ν, so E φⁿ is infinite for n ≥ ν
(G⁽ⁿ⁾ and G_c⁽ⁿ⁾ do not exist) and finite below. Between lo and hi (e.g. a heavy-tailed weight
inside relu, whose one-sided tail may or may not be heavy) finiteness is not decided: the estimate
is then flagged, and the data-driven tail diagnostic (``nnft.tails``) judges it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import networkx as nx

from nnft.densities import get_density
from nnft.errors import EstimatorError
from nnft.functions import FUNCTIONS
from nnft.graph import ir

INF = math.inf


@dataclass(frozen=True)
class Moments:
    """Moment bounds of one graph value (see the module docstring).

    Attributes:
      lo: E|v|ᵖ < ∞ for every p < lo.
      hi: E|v|ᵖ = ∞ for every p ≥ hi (inf: never certain).
      bounded: v is bounded.
      light: E e^{t|v|} < ∞ for every t.
      lo_why / hi_why: the parameter that limits lo / hi, or None.
      deterministic: v depends on no parameter.
    """

    lo: float
    hi: float
    bounded: bool
    light: bool
    lo_why: str | None = None
    hi_why: str | None = None
    deterministic: bool = False


_DET = Moments(INF, INF, True, True, deterministic=True)
_UNDECIDED = dict(lo=0.0, hi=INF, bounded=False, light=False)


def analyse_moments(g: nx.MultiDiGraph) -> dict[str, Moments]:
    """:class:`Moments` of every node of a built graph (node -> bounds), propagated in topological
    order from the parameters' declared tails (``Density.tail``) and the grammar functions' growth
    classes (``Function.growth``); ``out["phi"]`` is the field's."""
    theory = g.graph["theory"]
    dims = dict(theory.dims)
    inputs = ir.all_inputs(g)
    deps: dict[str, frozenset[str]] = {}
    out: dict[str, Moments] = {}
    for n in nx.topological_sort(g):
        a = g.nodes[n]
        kind = ir.kind(g, n)
        preds = set(g.predecessors(n))
        deps[n] = frozenset().union(*(deps[u] for u in preds)) | ({ir.name(g, n)} if kind == "param" else set())
        if kind in ("input", "const") or (kind != "param" and not deps[n]):
            out[n] = _DET
        elif kind == "param":
            out[n] = _param(g, n, out)
        elif kind == "output":
            out[n] = out[inputs[n][0]]
        else:
            out[n] = _op(g, n, a, [out[u] for u in inputs[n]], [deps[u] for u in inputs[n]], inputs[n], dims)
    return out


def _param(g, n: str, out: dict[str, Moments]) -> Moments:
    dens = get_density(ir.density(g, n))
    arg_nodes = ir.density_args(g, n)
    name = ir.name(g, n)
    all_consts = ir.constant_args(g, n)
    if all_consts is not None:
        t = dens.tail(all_consts)
        why = name if t.alpha < INF else None
        return Moments(t.alpha, t.alpha, t.bounded, t.light, why, why)
    # arguments that depend on other parameters: a location-scale mixture θ = loc + scale·Y with Y
    # independent of its arguments (``Density.affine_args``)
    consts = {k: ir.value(g, u) for k, u in arg_nodes.items() if ir.kind(g, u) == "const"}
    if any(k not in dens.affine_args and k not in consts for k in arg_nodes):
        # a random shape (student_t's df) or inverse scale (exponential's rate): θ = Y/R needs
        # E|1/R|ᵖ, which the graph does not bound; undecided, never silently finite
        return Moments(**_UNDECIDED, lo_why=name)
    t = dens.tail({k: consts.get(k, 1.0) for k in arg_nodes})
    ms = [out[u] for u in arg_nodes.values()]
    lo = min([t.alpha] + [m.lo for m in ms])
    lo_why = name if lo == t.alpha and t.alpha < INF else next((m.lo_why for m in ms if m.lo == lo), name)
    return Moments(lo, INF, t.bounded and all(m.bounded for m in ms), False, lo_why, None)


def _iid_along(g, axis: str, params: frozenset[str]) -> bool:
    """Whether values built from ``params`` are i.i.d. along ``axis``: every parameter has the axis,
    constant density arguments and no vector draws along it."""
    for p in params:
        node = ir.param_node(p)
        p_axes = ir.axes(g, node)
        if axis not in p_axes:
            return False
        if ir.constant_args(g, node) is None:
            return False
        ev = get_density(ir.density(g, node)).event_dims
        if ev and axis in p_axes[len(p_axes) - ev:]:
            return False
    return True


def _mul(x: Moments, y: Moments, independent: bool) -> Moments:
    if x.deterministic:
        return y
    if y.deterministic:
        return x
    if x.bounded:
        lo, lo_why = y.lo, y.lo_why
    elif y.bounded:
        lo, lo_why = x.lo, x.lo_why
    elif independent or (x.lo == INF and y.lo == INF):
        lo, lo_why = (x.lo, x.lo_why) if x.lo <= y.lo else (y.lo, y.lo_why)
    else:                                                     # Hölder: E|XY|ᵖ ≤ (E|X|²ᵖ E|Y|²ᵖ)^½
        lo, lo_why = (x.lo / 2, x.lo_why) if x.lo <= y.lo else (y.lo / 2, y.lo_why)
    hi, hi_why = INF, None
    if independent:
        hi, hi_why = (x.hi, x.hi_why) if x.hi <= y.hi else (y.hi, y.hi_why)
    light = (x.bounded and y.light) or (y.bounded and x.light)
    return Moments(lo, hi, x.bounded and y.bounded, light, lo_why, hi_why)


def _add(ms: list[Moments]) -> Moments:
    live = [m for m in ms if not m.deterministic] or [_DET]
    lo_m = min(live, key=lambda m: m.lo)
    hi, hi_why = INF, None
    for i, m in enumerate(live):
        others = min([o.lo for j, o in enumerate(live) if j != i], default=INF)
        if m.hi < others and m.hi < hi:                       # E|X+Y|ᵖ = ∞ if E|X|ᵖ = ∞ > E|Y|ᵖ
            hi, hi_why = m.hi, m.hi_why
    return Moments(lo_m.lo, hi, all(m.bounded for m in live), all(m.light for m in live), lo_m.lo_why, hi_why,
                   deterministic=all(m.deterministic for m in live))


def _sum_along(g, m: Moments, axis: str, params: frozenset[str], kind: str, size: int) -> Moments:
    iid = _iid_along(g, axis, params)
    if kind in ("sum", "mean"):
        return Moments(m.lo, m.hi if iid else INF, m.bounded, m.light, m.lo_why, m.hi_why if iid else None)
    if kind == "norm":                                        # max|vᵢ| ≤ |v| ≤ Σ|vᵢ|
        return Moments(m.lo, m.hi, m.bounded, m.light, m.lo_why, m.hi_why)
    # prod
    if m.bounded:
        return Moments(INF, INF, True, True)
    lo = m.lo if (iid or m.lo == INF) else m.lo / max(1, size)
    return Moments(lo, m.hi if iid else INF, False, False, m.lo_why, m.hi_why if iid else None)


def _op(g, n: str, a: dict, ms: list[Moments], ds: list[frozenset[str]], ins: list[str], dims) -> Moments:
    op = a["op"]
    x = ms[0]
    if op in ("neg", "rename", "index"):
        return x
    if op in ("add", "sub"):
        return _add(ms)
    if op in ("maximum", "minimum"):
        s = _add(ms)
        return Moments(s.lo, INF, s.bounded, s.light, s.lo_why, None)
    if op == "mul":
        return _mul(ms[0], ms[1], not (ds[0] & ds[1]))
    if op == "div":
        if ms[1].deterministic:
            return x
        if (_lower_bound(g, ins[1]) or 0.0) > 0:             # |a/b| ≤ |a|/c for b ≥ c > 0
            return Moments(x.lo, INF, x.bounded, x.light, x.lo_why, None)
        return Moments(**_UNDECIDED, lo_why=_first(ds[1]))
    if op == "pow":
        base, ex = ms
        if ex.deterministic and ir.kind(g, ins[1]) == "const":
            c = float(ir.value(g, ins[1]))
            if c == 0:
                return _DET
            if c > 0:
                return Moments(base.lo / c, base.hi / c, base.bounded, base.light and c <= 1, base.lo_why, base.hi_why)
        if base.deterministic:                                # c**θ behaves like exp(θ)
            return _fn("exp", ex, ds[1])
        return Moments(**_UNDECIDED, lo_why=_first(ds[0] | ds[1]))
    if op.startswith("fn:"):
        return _fn(op[3:], x, ds[0])
    if op == "reduce":
        return _sum_along(g, x, a["axis"], ds[0], a["reduce"], dims.get(a["axis"], 1))
    if op == "matmul":
        m = _mul(ms[0], ms[1], not (ds[0] & ds[1]))
        contracted = [ax for ax in dict.fromkeys(ir.axes(g, ins[0]) + ir.axes(g, ins[1])) if ax not in a["axes"]]
        for ax in contracted:
            m = _sum_along(g, m, ax, ds[0] | ds[1], "sum", dims.get(ax, 1))
        return m
    return Moments(**_UNDECIDED, lo_why=_first(ds[0]))       # pragma: no cover - unknown op: decide nothing


def _fn(f: str, x: Moments, deps: frozenset[str]) -> Moments:
    """Moments of f(u) from those of u, by the growth class of the grammar function f
    (``nnft.functions.GROWTHS``)."""
    growth = FUNCTIONS[f].growth
    if growth == "bounded":
        return Moments(INF, INF, True, True)
    if growth == "linear":                                    # |f(u)| ≤ a|u| + c: only lo carries over
        return Moments(x.lo, INF, x.bounded, x.light, x.lo_why, None)
    if growth == "modulus":                                   # |f(u)| = |u|: lo and hi carry over
        return Moments(x.lo, x.hi, x.bounded, x.light, x.lo_why, x.hi_why)
    if growth == "square":
        return Moments(x.lo / 2, x.hi / 2, x.bounded, x.bounded, x.lo_why, x.hi_why)
    if growth == "sqrt":
        return Moments(2 * x.lo, 2 * x.hi, x.bounded, x.light, x.lo_why, x.hi_why)
    if growth == "exp":
        if x.bounded:
            return Moments(INF, INF, True, True)
        if x.light:                                           # exp of a sub-Gaussian: every moment (lognormal)
            return Moments(INF, INF, False, False)
    return Moments(**_UNDECIDED, lo_why=x.lo_why or _first(deps))


def _lower_bound(g, n: str, depth: int = 0) -> float | None:
    """A constant c with value(n) ≥ c for every θ (None: not known), from the node's form:
    positive constants, squares, norms, |·|, sums of such, and increasing powers of them."""
    a = g.nodes[n]
    if depth > 64:
        return None
    if ir.kind(g, n) == "const":
        return float(ir.value(g, n))
    if not ir.is_op(g, n):
        return None
    ins = ir.inputs(g, n)
    op = ir.op(g, n)
    if op in ("fn:square", "fn:abs", "fn:exp", "fn:cosh") or (op == "reduce" and a["reduce"] == "norm"):
        return 1.0 if op == "fn:cosh" else 0.0
    if op == "fn:sqrt":
        c = _lower_bound(g, ins[0], depth + 1)
        return math.sqrt(c) if c is not None and c >= 0 else None
    if op == "add":
        cs = [_lower_bound(g, u, depth + 1) for u in ins]
        return None if any(c is None for c in cs) else sum(cs)
    if op == "pow":
        base, ex = ins
        c = _lower_bound(g, base, depth + 1)
        if ir.kind(g, ex) == "const":
            k = float(ir.value(g, ex))
            if c is not None and c >= 0 and k > 0:
                return c ** k
            if k == int(k) and k > 0 and int(k) % 2 == 0:
                return 0.0
        return None
    if op == "mul":
        cs = [_lower_bound(g, u, depth + 1) for u in ins]
        return None if any(c is None or c < 0 for c in cs) else cs[0] * cs[1]
    return None


def _first(deps: frozenset[str]) -> str | None:
    return min(deps) if deps else None


def describe(g: nx.MultiDiGraph, param: str) -> str:
    """``W1 ~ student_t(df=3)`` for messages (constant arguments with their values)."""
    node = ir.param_node(param)
    args = [f"{k}={ir.value(g, u):g}" if ir.kind(g, u) == "const" else f"{k}=<random>"
            for k, u in ir.density_args(g, node).items()]
    return f"{param} ~ {ir.density(g, node)}({', '.join(sorted(args))})"


def field_moment_check(model, order: int, what: str = "the correlator") -> tuple[str, ...]:
    """Refuse, before sampling, an order whose field moment cannot exist; describe what is undecided.

    An n-point function (full or connected) needs E|φ|ⁿ < ∞; its Monte Carlo error bar needs
    E|φ|²ⁿ < ∞.

    Args:
      model: a compiled theory (``nnft.compile``).
      order: n, the highest order asked for.

    Returns:
      notes (strings) for the estimate: orders whose finiteness the analysis could not decide.

    Raises:
      EstimatorError: E|φ|ⁿ is certainly infinite, naming the parameter, its density and the order.
    """
    g = model.graph
    m = model.moments["phi"]
    if model.insertions:
        # under P̃ ∝ P·e^{−S_int} the weight suppresses large fields (w ≤ 1, decaying like e^{−cφ⁴} for
        # φ⁴), so a free-field moment that is infinite proves nothing; the free-field lower bound
        # still suffices for finiteness
        if order >= m.lo:
            return (f"E|φ|^{order} of the free theory is not known to be finite; under the insertion's weight it "
                    "may be: judge the estimate by its tail diagnostic k̂ and effective sample size",)
        return ()
    if order >= m.hi:
        p = m.hi_why
        alpha = m.hi
        allowed = (f"orders n < {alpha:g}" if alpha > 1 else
                   "no order (E|φ| itself is infinite, so not even the mean exists)")
        raise EstimatorError(
            f"{model.theory.source}: {what} of order {order} does not exist: E|φ|^{order} is infinite because "
            f"{describe(g, p)} has finite moments only of order < {alpha:g}, and the field inherits that tail "
            f"({p} enters φ through sums and products with independent factors). Allowed: {allowed}. "
            f"Fix: ask for lower orders, or give {p} a density with more moments (e.g. student_t with a larger "
            "df, or normal)")
    notes = []
    if order >= m.lo:
        notes.append(f"finiteness of E|φ|^{order} could not be decided from the graph "
                     f"({describe(g, m.lo_why) if m.lo_why else 'a heavy-tailed parameter'} inside an "
                     "unbounded function); judge the estimate by its tail diagnostic k̂")
    elif 2 * order >= m.hi:
        notes.append(f"the error bar of order {order} needs E|φ|^{2 * order}, which is infinite "
                     f"({describe(g, m.hi_why)}): the estimate exists, its error bar is not reliable")
    elif 2 * order >= m.lo:
        notes.append(f"the error bar of order {order} needs E|φ|^{2 * order}, whose finiteness could not be "
                     "decided from the graph; judge it by the tail diagnostic k̂")
    return tuple(notes)
