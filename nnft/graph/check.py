"""Static checks of a built graph, before anything is sampled."""

from __future__ import annotations

import networkx as nx

from nnft.errors import GraphError
from nnft.graph import ir
from nnft.spec.hints import free_axis_error


def check(g: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Check references, cycles and the field's shape.

    - parameters whose densities refer to each other in a cycle are refused (the sampling order
      must exist);
    - the field must be a scalar at each point: free axes left over (a forgotten ``sum_N``) are
      refused.

    Returns the graph unchanged, so ``check(build(t))`` chains.

    Raises:
      GraphError: a cycle of parameter densities (naming ``params.<name>.density``), free axes left on
        the field (naming ``field``), naming the spec file.
    """
    src = g.graph.get("source", "<dict>")
    params = ir.params(g)
    deps = param_dependencies(g)
    try:
        cycle = nx.find_cycle(deps)
        names = [a for a, _ in cycle] + [cycle[0][0]]
        raise GraphError("parameter densities depend on each other in a cycle: " + " -> ".join(names),
                         file=src, field=f"params.{cycle[0][0]}.density",
                         hint="a density may use parameters sampled before it; break the cycle")
    except nx.NetworkXNoCycle:
        pass
    axes = ir.axes(g, ir.OUTPUT)
    comp = getattr(g.graph.get("theory"), "components", None)
    if comp is not None:                     # a vector field keeps exactly its component axis
        if comp not in axes:
            raise GraphError(f"components: {comp} is declared but the field has no free axis {comp} "
                             f"(its free axes: {axes or '()'})", file=src, field="field",
                             hint=f"let a readout carry the axis, e.g. W1: {{shape: [N, {comp}]}} and "
                                  f"field: sum_N(W1 * ...)")
        axes = tuple(a for a in axes if a != comp)
    if axes:
        field, message, got, hint = free_axis_error(g.graph["theory"], axes)
        raise GraphError(message, file=src, field=field, got=got, hint=hint)
    if not nx.is_directed_acyclic_graph(g):  # pragma: no cover - guarded by the builder
        raise GraphError("the graph has a cycle", file=src, field="<graph>")
    for p in params:
        if ir.density(g, p) is None:  # pragma: no cover
            raise GraphError("parameter without density", file=src, field=ir.field(g, p))
    return g


def param_dependencies(g: nx.MultiDiGraph) -> nx.DiGraph:
    """Parameter -> parameter edges: ``a -> b`` when b's density arguments use a (nodes: the
    parameters' spec names)."""
    deps = nx.DiGraph()
    params = ir.params(g)
    deps.add_nodes_from(ir.name(g, p) for p in params)
    for p in params:
        for arg_node in ir.density_args(g, p).values():
            for q in _params_used(g, arg_node):
                deps.add_edge(ir.name(g, q), ir.name(g, p))
    return deps


def _params_used(g: nx.MultiDiGraph, node: str) -> set[str]:
    """Parameter nodes an expression node reads directly (the search stops at parameters, so a
    parameter's own density arguments are not mistaken for a use: A(B(A)) is A -> B -> A, not A -> A)."""
    found: set[str] = set()
    seen = {node}
    stack = [node]
    while stack:
        n = stack.pop()
        if ir.kind(g, n) == "param":
            found.add(n)
            continue
        for u in ir.inputs(g, n):
            if u not in seen:
                seen.add(u)
                stack.append(u)
    return found
