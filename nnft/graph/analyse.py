"""Structure found once, in the graph: independence and the neuron-sum form.

Everything downstream (neuron-level estimators, analytic references) reads :class:`Structure`;
no other module re-derives structure from the spec.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from nnft.graph import ir
from nnft.graph.check import param_dependencies


@dataclass(frozen=True)
class NeuronSum:
    """φ(x) = offset + Σ_{i=1}^{W} v_i ψ_i(x) with (v_i, ψ_i) i.i.d. over i and v independent of ψ
    (TASI arXiv:2408.00082 eq. 39, 50-51; docs/physics.md §0).

    Attributes:
      width: the summed axis (e.g. ``"N"``).
      readout: the parameter v (shape ``[width]``, constant density arguments, used once, as a factor).
      sum_node: graph node of the ``sum_<width>`` reduction.
      offset: an independent scalar parameter added to the sum (e.g. an output bias), or None.
      neuron_params: parameters that ψ depends on.
      width_dependent: whether ψ's law depends on the *value* of the width (then a width sweep from
        one run is impossible).

    Source: the neuron-sum form φ = Σᵢ vᵢψᵢ(x) (arXiv:2408.00082 eq. 44).
    """

    width: str
    readout: str
    sum_node: str
    offset: str | None
    neuron_params: tuple[str, ...]
    width_dependent: bool


@dataclass(frozen=True)
class Structure:
    """What the analysis found.

    Attributes:
      order: a sampling order of the parameters (densities may use earlier ones).
      independent: blocks of parameters; parameters in different blocks are independent.
      neuron_sum: the neuron-sum form, or None (see ``notes`` for why not).
      unused: parameters the field does not use.
      notes: human-readable findings (why something is not a neuron sum, ...).

    Source: the neuron-sum form φ = Σᵢ vᵢψᵢ(x) (arXiv:2408.00082 eq. 44) found by graph analysis.
    """

    order: tuple[str, ...]
    independent: tuple[frozenset[str], ...]
    neuron_sum: NeuronSum | None
    unused: tuple[str, ...]
    notes: tuple[str, ...] = field(default=())


def analyse(g: nx.MultiDiGraph) -> Structure:
    """What the graph of a theory says about its parameters and its field, found once.

    Finds a sampling order of the parameters (a density's arguments may use parameters drawn before
    it; ties in declaration order), the blocks of mutually independent parameters, the parameters
    the field does not use, and the neuron-sum form φ = offset + Σᵢ vᵢψᵢ (TASI arXiv:2408.00082
    eq. 39, 50–51), or notes on why there is none.

    Args:
      g: a graph from ``nnft.graph.build.build`` that ``nnft.graph.check.check`` accepted.

    Returns:
      the :class:`Structure`.

    Raises:
      networkx.NetworkXUnfeasible: parameter densities that depend on each other in a cycle (``check``
        refuses such a graph first, with a GraphError naming the spec field).
    """
    deps = param_dependencies(g)
    declared = list(g.graph["theory"].params)
    order = tuple(nx.lexicographical_topological_sort(deps, key=declared.index))
    blocks = tuple(sorted((frozenset(c) for c in nx.weakly_connected_components(deps)),
                          key=lambda b: min(declared.index(p) for p in b)))
    used = {ir.name(g, n) for n in nx.ancestors(g, ir.OUTPUT) if ir.kind(g, n) == "param"}
    unused = tuple(p for p in declared if p not in used)
    notes: list[str] = []
    ns = _neuron_sum(g, notes)
    return Structure(order=order, independent=blocks, neuron_sum=ns, unused=unused, notes=tuple(notes))


def _params_above(g: nx.MultiDiGraph, node: str) -> set[str]:
    """Parameters a node depends on, including through other parameters' densities."""
    out = set()
    for n in nx.ancestors(g, node) | {node}:
        if ir.kind(g, n) == "param":
            out.add(ir.name(g, n))
    return out


def _mul_factors(g: nx.MultiDiGraph, node: str) -> list[str]:
    """Top-level multiplicative factors of a node (through ``mul`` and the numerator of ``div``)."""
    if ir.is_op(g, node, "mul", "div"):
        left, right = ir.inputs(g, node)
        if ir.op(g, node) == "mul":
            return _mul_factors(g, left) + _mul_factors(g, right)
        return _mul_factors(g, left)
    return [node]


def _neuron_sum(g: nx.MultiDiGraph, notes: list[str]) -> NeuronSum | None:
    root, = ir.inputs(g, ir.OUTPUT)
    offset = None
    if ir.is_op(g, root, "add"):
        terms = ir.inputs(g, root)
        sums = [t for t in terms if _is_sum(g, t)]
        others = [t for t in terms if not _is_sum(g, t)]
        if len(sums) == 1 and len(others) == 1 and ir.kind(g, others[0]) == "param" \
                and ir.axes(g, others[0]) == () and g.out_degree(others[0]) == 1:
            offset = ir.name(g, others[0])
            if _params_above(g, others[0]) & _params_above(g, sums[0]) or _depends_on_params_args(g, others[0]):
                notes.append("the additive term is not independent of the neuron sum")
                return None
            root = sums[0]
    if not _is_sum(g, root):
        notes.append("φ is not of the form sum_W(...) (+ an independent scalar offset)")
        return None
    width = g.nodes[root]["axis"]
    body, = ir.inputs(g, root)
    factors = _mul_factors(g, body)
    readout = None
    for f in factors:
        if ir.kind(g, f) == "param" and ir.axes(g, f) == (width,) and g.out_degree(f) == 1 \
                and not _depends_on_params_args(g, f) and factors.count(f) == 1:
            readout = ir.name(g, f)
            break
    if readout is None:
        fn = next((f for f in factors if ir.is_op(g, f) and ir.op(g, f).startswith("fn:")
                   and len(ir.inputs(g, f)) == 1 and ir.kind(g, ir.inputs(g, f)[0]) == "param"
                   and ir.axes(g, ir.inputs(g, f)[0]) == (width,)), None)
        hint = "" if fn is None else (
            f" (the readout {ir.op(g, fn)[3:]}({ir.name(g, ir.inputs(g, fn)[0])}) is a function of a parameter: "
            "declare its law as the parameter's density instead, e.g. a ±s readout as "
            "density: {rademacher: {scale: s}}, any finite law as density: {discrete: {...}})")
        notes.append(f"no readout factor v with shape [{width}], constant density and a single use in "
                     f"sum_{width}(v * ...){hint}")
        return None
    without_readout = g.subgraph(n for n in g.nodes if n != ir.param_node(readout))
    neuron_nodes = nx.ancestors(without_readout, body) if body in without_readout else set()
    neuron_params = sorted({ir.name(g, n) for n in neuron_nodes if ir.kind(g, n) == "param"})
    from nnft.densities import get_density
    inside = neuron_nodes | {body}
    for n in (n for n in g.nodes if n in inside):     # graph order (params as declared): the same note every run
        if ir.kind(g, n) == "param":
            p, p_axes = ir.name(g, n), ir.axes(g, n)
            if width not in p_axes:
                notes.append(f"parameter {p} is shared by all neurons (no axis {width})")
                return None
            ev = get_density(ir.density(g, n)).event_dims
            if ev and width in p_axes[len(p_axes) - ev:]:     # one draw spans the neurons: not independent
                notes.append(f"parameter {p} draws {'vectors' if ev == 1 else 'matrices'} along the width axis "
                             f"{width} (its neurons are dependent, e.g. the rows of a Haar-orthogonal matrix)")
                return None
        na = g.nodes[n]
        if ir.is_op(g, n) and (width in (na.get("contract") or ()) or na.get("axis") == width):
            notes.append(f"an operation inside the sum reduces over the width axis {width}" if na["op"] != "rename"
                         else f"an axis is relabelled as the width axis {width} inside the sum (as_{width})")
            return None
    width_dependent = any(ir.kind(g, n) == "const" and width in g.nodes[n]["dims"] for n in neuron_nodes)
    return NeuronSum(width=width, readout=readout, sum_node=root, offset=offset,
                     neuron_params=tuple(neuron_params), width_dependent=width_dependent)


def _is_sum(g: nx.MultiDiGraph, node: str) -> bool:
    return ir.is_op(g, node, "reduce") and g.nodes[node]["reduce"] == "sum"


def _depends_on_params_args(g: nx.MultiDiGraph, param_node: str) -> bool:
    """Whether a parameter's density arguments depend on other parameters (or vary by element)."""
    return ir.constant_args(g, param_node) is None
