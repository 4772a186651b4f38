"""The computation graph's layout, and the one set of accessors that reads and writes it.

``nnft.graph.build`` writes a networkx ``MultiDiGraph``; every other module (check, analyse, moments,
kernels, symmetry, the evaluator, the NTK estimator) reads it through the functions here, so the
layout below is stated, parsed and written in one place.

Nodes (attribute ``kind``, one of :data:`KINDS`):

- ``input``  the point x, node :data:`INPUT` (axes ``("d",)``);
- ``param``  a parameter block, node :func:`param_node` (``"param:<name>"``): ``name``, ``axes``
  (its shape as axis names), ``density`` (the density's spec name); its density arguments are the
  nodes with an edge of role ``"arg:<argument>"`` into it (:func:`density_args`);
- ``const``  a folded constant: ``value`` (float) and ``dims``, the named sizes it depends on;
- ``op``     an operation: ``op`` (``add``, ``matmul``, ``reduce``, ``fn:cos``, ...; see
  ``nnft.graph.build.OPS``) and its own attributes (``reduce`` and ``axis`` of a reduction,
  ``contract`` of a matmul, ``index``, ``axis`` of a rename); its inputs are the nodes with an edge of
  role ``"in"`` into it, ordered by the edge's ``pos`` (:func:`inputs`);
- ``output`` the field φ(x), node :data:`OUTPUT`, with one ``in`` edge.

Every node carries ``axes`` (the named axes of its value) and ``field`` (the spec path it came from).
A node may feed another twice (``b0 * b0``): the graph is a multigraph, one edge per input position.
"""

from __future__ import annotations

import networkx as nx

#: the node kinds, in the order values flow
KINDS = ("input", "param", "const", "op", "output")
#: the node of the input point x
INPUT = "x"
#: the node of the field φ(x)
OUTPUT = "phi"
#: role of an edge that carries an operation's (or the output's) input
IN = "in"
#: prefix of the role of an edge that carries a density argument (``"arg:std"``)
ARG = "arg:"


# --- writing (nnft.graph.build) -------------------------------------------------------------------
def param_node(name: str) -> str:
    """The node of the parameter called ``name`` in the spec (``"param:W0"``)."""
    return f"param:{name}"


def add_input(g: nx.MultiDiGraph, src: str, node: str, pos: int) -> None:
    """Make ``src`` the input at position ``pos`` (0-based) of the operation or output ``node``."""
    g.add_edge(src, node, role=IN, pos=pos)


def add_density_arg(g: nx.MultiDiGraph, src: str, pnode: str, arg: str) -> None:
    """Make ``src`` the value of density argument ``arg`` of the parameter node ``pnode``."""
    g.add_edge(src, pnode, role=ARG + arg)


# --- nodes ----------------------------------------------------------------------------------------
def kind(g: nx.MultiDiGraph, n: str) -> str:
    """The kind of node ``n``: one of :data:`KINDS`."""
    return g.nodes[n]["kind"]


def is_op(g: nx.MultiDiGraph, n: str, *ops: str) -> bool:
    """Whether ``n`` is an operation node, and (if ``ops`` are given) one of those operations."""
    a = g.nodes[n]
    return a["kind"] == "op" and (not ops or a["op"] in ops)


def op(g: nx.MultiDiGraph, n: str) -> str | None:
    """The operation of node ``n`` (``"add"``, ``"fn:cos"``, ...), or None if it is no operation."""
    return g.nodes[n].get("op")


def axes(g: nx.MultiDiGraph, n: str) -> tuple[str, ...]:
    """The named axes of node ``n``'s value, in the order its array is laid out."""
    return g.nodes[n]["axes"]


def field(g: nx.MultiDiGraph, n: str) -> str:
    """The spec path node ``n`` came from (``"params.W0"``, ``"define.z1"``, ``"field"``), for messages."""
    return g.nodes[n]["field"]


def value(g: nx.MultiDiGraph, n: str) -> float:
    """The value of the constant node ``n``.

    Raises:
      KeyError: ``n`` is not a constant (only constants carry a value).
    """
    return g.nodes[n]["value"]


def params(g: nx.MultiDiGraph) -> list[str]:
    """The parameter nodes, in declaration order (the order ``build`` added them)."""
    return [n for n, a in g.nodes(data=True) if a["kind"] == "param"]


def name(g: nx.MultiDiGraph, pnode: str) -> str:
    """The spec name of the parameter node ``pnode`` (``"W0"`` for ``"param:W0"``)."""
    return g.nodes[pnode]["name"]


def density(g: nx.MultiDiGraph, pnode: str) -> str:
    """The density's spec name (``"normal"``, ``"student_t"``, ...) of the parameter node ``pnode``."""
    return g.nodes[pnode]["density"]


# --- edges ----------------------------------------------------------------------------------------
def inputs(g: nx.MultiDiGraph, n: str) -> list[str]:
    """The inputs of node ``n`` in order (position 0 first); a node used twice appears twice; [] for
    inputs, parameters and constants (a parameter's density arguments are no inputs:
    :func:`density_args`)."""
    return [u for u, _, d in sorted(g.in_edges(n, data=True), key=lambda e: e[2].get("pos", 0))
            if d["role"] == IN]


def all_inputs(g: nx.MultiDiGraph) -> dict[str, list[str]]:
    """:func:`inputs` of every node: node -> its inputs in order."""
    return {n: inputs(g, n) for n in g.nodes}


def density_args(g: nx.MultiDiGraph, pnode: str) -> dict[str, str]:
    """The density arguments the spec gives the parameter node ``pnode``: argument name -> the node
    of its value (defaults of arguments the spec leaves out are the density's, not here)."""
    return {d["role"][len(ARG):]: u for u, _, d in g.in_edges(pnode, data=True) if d["role"].startswith(ARG)}


def constant_args(g: nx.MultiDiGraph, pnode: str) -> dict[str, float] | None:
    """The density arguments of ``pnode`` as numbers (argument -> value), or None when any of them is
    no constant (it depends on other parameters)."""
    args = density_args(g, pnode)
    if any(g.nodes[u]["kind"] != "const" for u in args.values()):
        return None
    return {k: g.nodes[u]["value"] for k, u in args.items()}


def consumers(g: nx.MultiDiGraph, n: str) -> list[tuple[str, str]]:
    """Where the value of node ``n`` is used: (node, role) per edge out of it, role :data:`IN` (an
    input) or ``"arg:<argument>"`` (a density argument of a parameter)."""
    return [(v, d["role"]) for _, v, d in g.out_edges(n, data=True)]


def feeds_a_density(g: nx.MultiDiGraph, n: str) -> bool:
    """Whether the value of node ``n`` is a density argument of some parameter."""
    return any(role != IN for _, role in consumers(g, n))
