"""The graph accessors (nnft.graph.ir): each one agrees with what build() wrote, on shipped specs, and
no other module parses the graph's edges by hand."""

import re
from pathlib import Path

import networkx as nx
import pytest

import nnft
from nnft.graph import ir
from nnft.graph.build import build
from nnft.spec import expr as E
from nnft.spec.constants import evaluate_constants
from nnft.spec.mlp import expand

SPECS = ["cos_net", "relu_mlp", "gauss_net", "rp_scalar_2d"]
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module", params=SPECS)
def built(request):
    theory = expand(nnft.load(request.param))
    return theory, build(theory)


def _raw_inputs(g, n):
    """The inputs as build() wrote them: edges of role "in", by position."""
    edges = [(d["pos"], u) for u, _, d in g.in_edges(n, data=True) if d["role"] == "in"]
    assert sorted(p for p, _ in edges) == list(range(len(edges))), "positions 0..k-1, each once"
    return [u for _, u in sorted(edges)]


def test_kinds_and_node_attributes(built):
    theory, g = built
    assert ir.kind(g, ir.INPUT) == "input" and ir.kind(g, ir.OUTPUT) == "output"
    assert ir.axes(g, ir.INPUT) == ("d",) and ir.axes(g, ir.OUTPUT) == ()
    for n, a in g.nodes(data=True):
        assert ir.kind(g, n) == a["kind"] in ir.KINDS
        assert ir.axes(g, n) == a["axes"] and ir.field(g, n) == a["field"]
        assert ir.op(g, n) == (a["op"] if a["kind"] == "op" else None)
        assert ir.is_op(g, n) == (a["kind"] == "op")
        if a["kind"] == "op":
            assert ir.is_op(g, n, a["op"]) and not ir.is_op(g, n, "no-such-op")
        if a["kind"] == "const":
            assert ir.value(g, n) == a["value"]
        else:
            with pytest.raises(KeyError):
                ir.value(g, n)


def test_inputs_in_order(built):
    _, g = built
    inputs = ir.all_inputs(g)
    assert set(inputs) == set(g.nodes)
    for n in g.nodes:
        assert ir.inputs(g, n) == inputs[n] == _raw_inputs(g, n)
        kind = ir.kind(g, n)
        if kind in ("input", "param", "const"):
            assert inputs[n] == []
        elif kind == "output":
            assert len(inputs[n]) == 1
        elif ir.op(g, n) in ("matmul", "add", "sub", "mul", "div", "pow", "maximum", "minimum"):
            assert len(inputs[n]) == 2
        else:
            assert len(inputs[n]) == 1
    # every edge is an input edge or a density-argument edge
    n_args = sum(len(ir.density_args(g, p)) for p in ir.params(g))
    assert sum(map(len, inputs.values())) + n_args == g.number_of_edges()


def test_parameters_and_density_arguments(built):
    theory, g = built
    env, _ = evaluate_constants(theory)
    assert ir.params(g) == [ir.param_node(p) for p in theory.params]        # declaration order
    for name, p in theory.params.items():
        node = ir.param_node(name)
        assert node == f"param:{name}"
        assert ir.name(g, node) == name and ir.density(g, node) == p.density_kind
        assert ir.axes(g, node) == tuple(p.shape)
        args = ir.density_args(g, node)
        raw = {d["role"][len("arg:"):]: u for u, _, d in g.in_edges(node, data=True) if d["role"] != "in"}
        assert args == raw and set(args) == set(p.density_args)
        consts = ir.constant_args(g, node)
        random = [k for k, u in args.items() if ir.kind(g, u) != "const"]
        assert (consts is None) == bool(random)
        if consts is not None:
            assert set(consts) == set(p.density_args)
            for k, src in p.density_args.items():
                assert consts[k] == pytest.approx(E.evaluate_constant(E.parse(src), env), rel=1e-15)


def test_consumers(built):
    _, g = built
    edges = sorted((u, v, d["role"]) for u, v, d in g.edges(data=True))
    assert sorted((u, v, r) for u in g.nodes for v, r in ir.consumers(g, u)) == edges
    for n in g.nodes:
        assert ir.feeds_a_density(g, n) == any(r.startswith("arg:") for _, r in ir.consumers(g, n))
    rp = g.graph["theory"].name.startswith("rp")              # p0 | k ~ Cauchy(0, sqrt(k² + m²))
    assert {ir.name(g, p) for p in ir.params(g) if ir.constant_args(g, p) is None} == ({"p0"} if rp else set())
    assert any(ir.feeds_a_density(g, n) and ir.is_op(g, n) for n in g.nodes) == rp


def test_writers_round_trip():
    g = nx.MultiDiGraph()
    g.add_node("a", kind="const", value=2.0, axes=(), field="f")
    g.add_node("b", kind="const", value=3.0, axes=(), field="f")
    g.add_node(ir.param_node("W"), kind="param", name="W", density="normal", axes=("N",), field="params.W")
    g.add_node("m", kind="op", op="sub", axes=("N",), field="f")
    ir.add_density_arg(g, "a", ir.param_node("W"), "std")
    ir.add_input(g, ir.param_node("W"), "m", 1)
    ir.add_input(g, "b", "m", 0)
    assert ir.inputs(g, "m") == ["b", "param:W"]
    assert ir.density_args(g, "param:W") == {"std": "a"}
    assert ir.constant_args(g, "param:W") == {"std": 2.0}
    assert ir.consumers(g, "a") == [("param:W", "arg:std")] and ir.feeds_a_density(g, "a")


def test_a_node_used_twice_is_an_input_twice():
    g = build(nnft.from_dict({"nnft": 1, "name": "t", "dims": {"d": 1, "N": 2},
                              "params": {"b": {"shape": ["N"], "density": {"normal": {"std": 1.0}}}},
                              "field": "sum_N(b * b)"}))
    (mul,) = [n for n in g.nodes if ir.is_op(g, n, "mul")]
    assert ir.inputs(g, mul) == ["param:b", "param:b"]


def test_no_module_parses_the_graph_layout_by_hand():
    """Edge roles, positions and the ``param:`` naming are read and written in nnft/graph/ir.py only."""
    pattern = re.compile(r"""["']role["']|["']pos["']|["']arg:|in_edges\(|out_edges\(|f["']param:""")
    offenders = []
    for path in sorted((ROOT / "nnft").rglob("*.py")):
        if path == ROOT / "nnft" / "graph" / "ir.py":
            continue
        for i, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{i}: {line.strip()}")
    assert not offenders, "read the graph through nnft.graph.ir:\n" + "\n".join(offenders)
