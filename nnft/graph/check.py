"""Static checks of a built graph, before anything is sampled."""

from __future__ import annotations

import networkx as nx

from nnft.errors import GraphError


def check(g: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Check references, cycles and the field's shape.

    - parameters whose densities refer to each other in a cycle are refused (the sampling order
      must exist);
    - the field must be a scalar at each point: free axes left over (a forgotten ``sum_N``) are
      refused.

    Returns the graph unchanged, so ``check(build(t))`` chains.
    """
    src = g.graph.get("source", "<dict>")
    params = [n for n, a in g.nodes(data=True) if a["kind"] == "param"]
    deps = param_dependencies(g)
    try:
        cycle = nx.find_cycle(deps)
        names = [a for a, _ in cycle] + [cycle[0][0]]
        raise GraphError("parameter densities depend on each other in a cycle: " + " -> ".join(names),
                         file=src, field=f"params.{cycle[0][0]}.density",
                         hint="a density may use parameters sampled before it; break the cycle")
    except nx.NetworkXNoCycle:
        pass
    axes = g.nodes["phi"]["axes"]
    if axes:
        red = axes[0]
        raise GraphError(f"the field has free axes {axes}; φ(x) must be one number per point", file=src,
                         field="field", got=g.graph["theory"].field,
                         hint=f"reduce them, e.g. sum_{red}(...)")
    if not nx.is_directed_acyclic_graph(g):  # pragma: no cover - guarded by the builder
        raise GraphError("the graph has a cycle", file=src, field="<graph>")
    for p in params:
        if g.nodes[p]["density"] is None:  # pragma: no cover
            raise GraphError("parameter without density", file=src, field=g.nodes[p]["field"])
    return g


def param_dependencies(g: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Parameter -> parameter edges: ``a -> b`` when b's density arguments use a."""
    deps = nx.DiGraph()
    params = [n for n, a in g.nodes(data=True) if a["kind"] == "param"]
    deps.add_nodes_from(g.nodes[p]["name"] for p in params)
    for p in params:
        for arg_node, _, data in g.in_edges(p, data=True):
            if not data["role"].startswith("arg:"):
                continue
            for q in _params_used(g, arg_node):
                deps.add_edge(g.nodes[q]["name"], g.nodes[p]["name"])
    return deps


def _params_used(g: nx.MultiDiGraph, node: str) -> set[str]:
    """Parameter nodes an expression node reads directly (the search stops at parameters, so a
    parameter's own density arguments are not mistaken for a use: A(B(A)) is A -> B -> A, not A -> A)."""
    found: set[str] = set()
    seen = {node}
    stack = [node]
    while stack:
        n = stack.pop()
        if g.nodes[n]["kind"] == "param":
            found.add(n)
            continue
        for u in g.predecessors(n):
            if u not in seen:
                seen.add(u)
                stack.append(u)
    return found
