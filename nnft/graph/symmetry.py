"""Symmetries that hold *by construction*, read off the graph alone (structure is found
once, in the graph). Each proven symmetry comes with the reason a physicist can check by hand.

Rules (each is a change of variables θ → θ' that leaves P(θ) invariant and maps φ_θ(g·x) to φ_θ'(x)):

- **translation** (TASI arXiv:2408.00082 §3.3 eq. 65-71): every path from x to φ passes through a
  phase node cos/sin(L(x) + b) with L linear in x and b ~ U over a 2π period, b independent of
  everything and used nowhere else. Under x → x + c, b → b + L(c) mod 2π has the same law given the
  rest, so every correlator is translation invariant at every N.
- **z2 (phase)**: one such phase node feeds φ linearly (through products with factors that do not
  depend on it, sums and signs): b → b + π flips cos and sin, hence φ → −φ *for any readout
  density* (TASI §3.3), and every odd correlator vanishes.
- **z2 (linear readout)**: φ is an odd linear function of a set of parameters P jointly (the last
  layer W_L, b_L of an MLP; the readout v of a neuron sum Σᵢ vᵢψᵢ), each with a density even about
  0 (``Density.centre``) and constant arguments, used nowhere else: P → −P leaves P(θ) invariant and gives φ → −φ.
  A nonzero mean or a skewed density is not proven (TASI §3.3).
- **z2 (readout)**: φ = Σᵢ vᵢψᵢ with an even readout density (and an even offset, if any):
  v → −v gives φ → −φ (TASI §3.3).
- **rotation / reflection** (O(d) about the origin): x enters only through W @ x (contracting d) with
  W isotropic along d (``Density.isotropic``: i.i.d. zero-mean normal, or uniform_ball over d) and through norm(x);
  W is used elsewhere only through norm_d(W). Then x → Rx is absorbed by W → WR.
- **permutation** of the points of a correlator: always (the field is a commuting scalar).
- **internal_rotation** (SO(D) of a vector field's components, ``components: D``; Maiti–Stoner–Halverson
  arXiv:2106.00694): one parameter v carries the component axis D, its density is isotropic along D
  (i.i.d. zero-mean normal with constant arguments, or a vector law over D, ``Density.isotropic``), it
  feeds no density, and φ is linear in v without mixing D (products with D-free factors, sums and
  means over other axes, contractions of other axes). Then v → vRᵀ has the same law and gives φ → Rφ.
  A readout mean breaks it (⟨φ_a⟩ = μ Σ E[ψ] is a fixed vector).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import networkx as nx

from nnft.densities import get_density
from nnft.graph import ir


@dataclass(frozen=True)
class StaticSymmetries:
    """Symmetries proven from the graph.

    Attributes:
      proven: symmetry name (``translation``, ``rotation``, ``reflection``, ``z2``, ``permutation``)
        -> the reason it holds by construction.
      notes: why other symmetries could not be proven (this does not mean they are broken).
    """

    proven: dict[str, str]
    notes: tuple[str, ...] = field(default=())

    def reason(self, name: str) -> str | None:
        """Why symmetry ``name`` holds by construction, or None when it was not proven."""
        return self.proven.get(name)


def _density_args(g, pnode) -> dict[str, float] | None:
    """Constant density arguments of a parameter node (defaults filled in), or None if any depends on
    other parameters."""
    consts = ir.constant_args(g, pnode)
    if consts is None:
        return None
    return {**get_density(ir.density(g, pnode)).defaults, **consts}


def _depends_on_x(g, n, memo):
    if n not in memo:
        memo[n] = n == ir.INPUT or ir.INPUT in nx.ancestors(g, n)
    return memo[n]


def _linear_in_x(g, n, memo) -> bool:
    """Whether node n is a homogeneous linear function of x (coefficients independent of x)."""
    if n == ir.INPUT:
        return True
    if not ir.is_op(g, n):
        return False
    a = g.nodes[n]
    ins = ir.inputs(g, n)
    dep = [_depends_on_x(g, i, memo) for i in ins]
    op = a["op"]
    if op in ("matmul", "mul"):
        return sum(dep) == 1 and _linear_in_x(g, ins[dep.index(True)], memo)
    if op == "div":
        return dep == [True, False] and _linear_in_x(g, ins[0], memo)
    if op in ("add", "sub"):
        return all(dep) and all(_linear_in_x(g, i, memo) for i in ins)
    if op in ("neg", "index", "rename"):
        return _linear_in_x(g, ins[0], memo)
    if op == "reduce" and a["reduce"] == "sum":
        return _linear_in_x(g, ins[0], memo)
    return False


def _add_terms(g, n) -> list[str]:
    if ir.is_op(g, n, "add"):
        return [t for i in ir.inputs(g, n) for t in _add_terms(g, i)]
    return [n]


def _phase_nodes(g, memo) -> dict[str, str]:
    """Nodes cos/sin(L(x) + b) with b a uniform 2π phase: {add node: phase parameter name}."""
    out = {}
    for n, a in g.nodes(data=True):
        if not (ir.is_op(g, n, "add") and _depends_on_x(g, n, memo)):
            continue
        consumers = ir.consumers(g, n)
        if not consumers or any(ir.op(g, v) not in ("fn:cos", "fn:sin") for v, _ in consumers):
            continue
        terms = _add_terms(g, n)
        phases = [t for t in terms if ir.kind(g, t) == "param"]
        rest = [t for t in terms if t not in phases]
        if len(phases) != 1 or not all(_depends_on_x(g, t, memo) and _linear_in_x(g, t, memo) for t in rest):
            continue
        b = phases[0]
        dens = get_density(ir.density(g, b))
        args = _density_args(g, b)
        if not (dens.flat and dens.event_dims == 0) or args is None or len(ir.consumers(g, b)) != 1:
            continue
        support = dens.support(args)             # a uniform phase on [low, high]
        period = support.high - support.low
        k = period / (2 * math.pi)
        if k < 0.5 or abs(k - round(k)) > 1e-9 or set(ir.axes(g, b)) != set(ir.axes(g, n)):
            continue
        out[n] = ir.name(g, b)
    return out


def _feeds_linearly(g, start: str, memo_cos) -> bool:
    """Whether φ is a linear (odd) function of the value of node ``start``."""
    path = (nx.descendants(g, start) & (nx.ancestors(g, ir.OUTPUT) | {ir.OUTPUT}))
    def dep(u):
        return u == start or u in path
    for n in path:
        a = g.nodes[n]
        ins = ir.inputs(g, n)
        d = [dep(i) for i in ins]
        if ir.kind(g, n) == "output":
            continue
        op = ir.op(g, n)
        if op == "mul" and sum(d) == 1:
            continue
        if op == "div" and d == [True, False]:
            continue
        if op in ("neg", "index", "rename") or (op == "reduce" and a["reduce"] in ("sum", "mean")):
            continue
        if op in ("add", "sub") and all(d):
            continue
        return False
    return True


def static_symmetries(g: nx.MultiDiGraph) -> StaticSymmetries:
    """Symmetries of the theory's law that hold by construction (the rules of the module docstring,
    TASI arXiv:2408.00082 §3.3), on a built graph; an insertion keeps only those its weight keeps.

    Returns:
      :class:`StaticSymmetries`: the proven ones with their reasons, and notes on the others (not
      proven does not mean broken).
    """
    proven = {"permutation": "correlators of a real (commuting) field are symmetric in their points (with their component indices)"}
    notes: list[str] = []
    memo: dict = {}
    phases = _phase_nodes(g, memo)
    # translation: x reaches φ only through phase nodes
    h = g.copy()
    h.remove_nodes_from(phases)
    if phases and not nx.has_path(h, ir.INPUT, ir.OUTPUT):
        names = ", ".join(sorted(set(phases.values())))
        proven["translation"] = (f"by construction: x enters only through cos/sin(L(x) + {names}) with L linear and "
                                 f"{names} ~ U over 2π, independent (shift absorbed by the phase; every N)")
    else:
        notes.append("translation: x reaches φ other than through a uniform-phase cos/sin of a linear layer")
    # z2 by phase
    if len(phases) == 1:
        (pn, b), = phases.items()
        trig = [v for v, _ in ir.consumers(g, pn)]
        if len(trig) == 1 and _feeds_linearly(g, trig[0], {}):
            proven["z2"] = (f"by construction: {b} → {b} + π flips {ir.op(g, trig[0])[3:]}(...) and φ is linear in it "
                            f"(φ → −φ for any readout density)")
    # z2 by an odd (linear) readout layer: φ linear in parameters with even densities used nowhere else
    if "z2" not in proven:
        odd = odd_readout(g)
        if odd:
            names = ", ".join(odd)
            flips = ", ".join(f"{p} → −{p}" for p in odd)
            proven["z2"] = (f"by construction: φ is linear in ({names}), each with an even density about 0 and used "
                            f"nowhere else ({flips} gives φ → −φ; every width)")
    # z2 by an even readout
    if "z2" not in proven:
        th = g.graph.get("theory")
        from nnft.graph.analyse import analyse
        ns = analyse(g).neuron_sum
        if ns is not None and _even(g, ir.param_node(ns.readout)) and (
                ns.offset is None or _even(g, ir.param_node(ns.offset))):
            proven["z2"] = f"by construction: even readout density of {ns.readout} (v → −v gives φ → −φ)"
        else:
            notes.append("z2: no uniform phase feeding φ linearly and no even readout density found")
        del th
    # rotations about the origin
    ok, why = _isotropic(g, memo)
    if ok:
        proven["rotation"] = f"by construction: {why} (x → Rx absorbed by W → WR; O(d) about the origin)"
        proven["reflection"] = proven["rotation"]
    else:
        notes.append(f"rotation: {why}")
    comp = getattr(g.graph.get("theory"), "components", None)
    if comp is not None:
        ok, why = internal_rotation(g, comp)
        if ok:
            proven["internal_rotation"] = f"by construction: {why}"
        else:
            notes.append(f"internal_rotation: {why}")
    _insertion_effects(g, proven, notes)
    return StaticSymmetries(proven=proven, notes=tuple(notes))


def _insertion_effects(g: nx.MultiDiGraph, proven: dict, notes: list) -> None:
    """An insertion e^{−∫_box V(φ)} keeps only what both P(θ) and the weight keep: the box breaks
    translations, rotations and reflections (they hold at best approximately deep inside it), and
    Z2 survives only for an even V (TASI §5: the domain is part of the theory)."""
    theory = g.graph.get("theory")
    if theory is None or not theory.insertions:
        return
    import numpy as np

    from nnft.insertions import compile_insertions
    for name in ("translation", "rotation", "reflection"):
        if proven.pop(name, None):
            notes.append(f"{name}: holds for the free theory, but the insertion's finite box breaks it "
                         "(test it statistically, deep inside the box)")
    if "z2" in proven:
        grid = np.linspace(-20, 20, 4001)
        if all(np.allclose(ins.V_np(grid), ins.V_np(-grid), rtol=1e-12, atol=1e-12)
               for ins in compile_insertions(theory)):
            proven["z2"] += "; the inserted potential is even, V(−φ) = V(φ)"
        else:
            proven.pop("z2")
            notes.append("z2: the inserted potential is not even, V(−φ) ≠ V(φ)")


def _independent_of(g, n, params: set) -> bool:
    return not (params & (nx.ancestors(g, n) | {n}))


def _odd_params(g, n) -> set | None:
    """A set P of parameter nodes such that the value of node ``n`` is an odd, homogeneous linear
    function of P jointly (flipping every parameter in P flips ``n``), or None when none is found.

    Linear steps: neg, index, rename, sum/mean reductions; add/sub of terms all odd in the same P;
    mul/matmul with exactly one factor odd in P and the others independent of P; div by something
    independent of P."""
    a, kind = g.nodes[n], ir.kind(g, n)
    if kind == "param":
        return {n}
    if kind not in ("op", "output"):
        return None
    ins = ir.inputs(g, n)
    op = ir.op(g, n)
    if kind == "output" or op in ("neg", "index", "rename") or (op == "reduce" and a["reduce"] in ("sum", "mean")):
        return _odd_params(g, ins[0]) if len(ins) == 1 else None
    if op in ("add", "sub"):
        sets = [_odd_params(g, i) for i in ins]
        if any(s is None for s in sets):
            return None
        P = set().union(*sets)
        # each term must be odd in all of P: terms odd in disjoint sets are fine only if every term's
        # set is all of P's members it depends on (no term may depend on a member it is not odd in)
        for i, s in zip(ins, sets):
            if not _independent_of(g, i, P - s):
                return None
        return P
    if op in ("mul", "matmul", "div"):
        cands = ins[:1] if op == "div" else ins
        for c in cands:
            P = _odd_params(g, c)
            if P and all(_independent_of(g, o, P) for o in ins if o != c):
                return P
        return None
    return None


def odd_readout(g) -> list[str]:
    """Names of parameters P with φ an odd linear function of P jointly, each with a constant-argument
    density even about 0, independent of the rest, and used nowhere but on that linear path (e.g.
    the last layer (W_L, b_L) of an MLP); empty when there is none. Then (P) → −(P) leaves P(θ)
    invariant and flips φ, so every odd correlator vanishes (TASI arXiv:2408.00082 §3.3, internal symmetries)."""
    if ir.OUTPUT not in g:
        return []
    P = _odd_params(g, ir.OUTPUT)
    if not P:
        return []
    for p in P:
        if not _even(g, p):
            return []
        if ir.feeds_a_density(g, p):
            return []                                            # feeds another parameter's density
    return sorted(ir.name(g, p) for p in P)


def _even(g, pnode) -> bool:
    """Whether a scalar parameter has a constant-argument density symmetric about 0 (θ → −θ keeps it)."""
    dens = get_density(ir.density(g, pnode))
    args = _density_args(g, pnode)
    if args is None or dens.event_dims:
        return False
    return dens.centre(args) == 0.0


def _isotropic(g, memo) -> tuple[bool, str]:
    layers = []
    for v, _ in ir.consumers(g, ir.INPUT):
        a = g.nodes[v]
        if ir.is_op(g, v, "reduce") and a["reduce"] == "norm" and a["axis"] == "d":
            continue
        if not (ir.is_op(g, v, "matmul") and tuple(a["contract"]) == ("d",)):
            return False, f"x is used by {ir.op(g, v) or ir.kind(g, v)} (not W @ x or norm(x))"
        (w,) = [u for u in ir.inputs(g, v) if u != ir.INPUT] or [None]
        if w is None or ir.kind(g, w) != "param":
            return False, "x is contracted with something that is not a parameter"
        w_name, w_density = ir.name(g, w), ir.density(g, w)
        args = _density_args(g, w)
        if args is None:
            return False, f"the density of {w_name} depends on other parameters"
        dens = get_density(w_density)             # i.i.d. along every axis, or one vector along its last
        iso = dens.isotropic(args) and (dens.event_dims == 0 or ir.axes(g, w)[-1] == "d")
        if not iso:
            return False, f"{w_name} ~ {w_density} is not isotropic along d"
        for u, role in ir.consumers(g, w):
            ua = g.nodes[u]
            if role != ir.IN:
                return False, f"{w_name} is used in another density"
            if not ((ir.op(g, u) == "matmul" and ir.INPUT in ir.inputs(g, u)) or
                    (ir.op(g, u) == "reduce" and ua["reduce"] == "norm" and ua["axis"] == "d")):
                return False, f"{w_name} is used other than in {w_name} @ x and norm_d({w_name})"
        layers.append(f"{w_name} ~ {w_density} (isotropic)")
    if not layers:
        return False, "x enters through no isotropic linear layer"
    return True, "x enters only through " + ", ".join(f"{s} @ x" for s in layers) + " and norm(x)"


def internal_rotation(g, comp: str) -> tuple[bool, str]:
    """Whether SO(D) rotations of the components (axis ``comp``) leave the law of φ invariant by
    construction (rule ``internal_rotation`` of the module docstring), and why (or why not proven)."""
    carriers = [p for p in ir.params(g) if comp in ir.axes(g, p)]
    if len(carriers) != 1:
        return False, f"{len(carriers)} parameters carry the component axis {comp} (the rule needs one readout)"
    v = carriers[0]
    name, kind = ir.name(g, v), ir.density(g, v)
    args = _density_args(g, v)
    if args is None:
        return False, f"the density of {name} depends on other parameters"
    dens = get_density(kind)
    if not (dens.isotropic(args) and (dens.event_dims == 0 or ir.axes(g, v)[-1] == comp)):
        centre = dens.centre(args) if dens.event_dims == 0 else None
        extra = f" (its centre is {centre:g}, not 0: a readout mean)" if centre not in (None, 0.0) else ""
        return False, f"{name} ~ {kind} is not isotropic along {comp}{extra}"
    if ir.feeds_a_density(g, v):
        return False, f"{name} is used in another density"
    path = nx.descendants(g, v) & (nx.ancestors(g, ir.OUTPUT) | {ir.OUTPUT})
    if ir.OUTPUT not in path:
        return False, f"{name} does not reach the field"

    def dep(u):
        return u == v or u in path
    for n in path:
        if ir.kind(g, n) == "output":
            continue
        a, ins, op = g.nodes[n], ir.inputs(g, n), ir.op(g, n)
        d = [dep(i) for i in ins]
        free = [i for i, di in zip(ins, d) if not di]
        if any(comp in ir.axes(g, i) for i in free):
            return False, f"{op} mixes {name} with another value along {comp}"
        if op in ("mul", "matmul") and sum(d) == 1:
            if op == "matmul" and comp in a.get("contract", ()):
                return False, f"a contraction over {comp} mixes the components"
            continue
        if op == "div" and d == [True, False]:
            continue
        if op == "neg" or (op == "reduce" and a["reduce"] in ("sum", "mean") and a["axis"] != comp):
            continue
        if op in ("add", "sub") and all(d):
            continue
        return False, f"φ is not linear in {name} component by component ({op} on the way)"
    return True, (f"{name} ~ {kind} is isotropic along {comp} and φ is linear in it without mixing components "
                  f"({name} → {name}Rᵀ gives φ → Rφ; SO({comp}) at every width)")
