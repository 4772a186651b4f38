"""The non-finite rule without separate checks: an elementwise operation that can swallow a non-finite input
(erf(inf) = 1, relu(−inf) = 0, maximum, a denominator) is evaluated guarded, NaN wherever that input is
non-finite (``Evaluator.guards``), so the grid nets' fields need no finiteness pass over the hidden layer; the
readout Σᵢ W1ᵢ σ(...) is one matrix product. Values keep their bits where finite. (That a guarded activation
gives NaN at exactly the (network, point) whose input overflowed is tests/speed/test_field.py's
test_swallowed_overflow_gives_nan_at_that_network_and_point.)"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nnft
from nnft.graph import ir

RELU_HMS = {"nnft": 1, "name": "relu-hms", "dims": {"d": 1, "N": 8},
            "params": {"W0": {"shape": ["N", "d"], "density": {"normal": {"std": 1.0}}},
                       "W1": {"shape": ["N"], "density": {"normal": {"std": "1 / sqrt(N)"}}}},
            "field": "sum_N(W1 * relu(W0 @ x))"}


def _nodes(m):
    ev = m._ev
    return ev, ev.needed([ir.OUTPUT])


@pytest.mark.parametrize("name", ["erf_net", "relu_net", "tanh_mlp", "relu_hms"])
def test_grid_nets_need_no_separate_finiteness_check(name):
    m = nnft.compile(nnft.from_dict(RELU_HMS) if name == "relu_hms" else nnft.load(name))
    ev, nodes = _nodes(m)
    guards, unchecked = ev.guards(ir.OUTPUT, nodes)
    assert unchecked == []
    assert guards                                       # erf/relu/tanh would swallow an infinite argument
    for node, inputs in guards.items():
        assert all(u in nodes for u in inputs)


@pytest.mark.parametrize("name", ["erf_net", "relu_net"])
def test_guards_keep_every_finite_bit(name):
    """The guarded evaluation (a select after the activation) equals the unguarded one bitwise."""
    m = nnft.compile(nnft.load(name, N=50))
    ev, nodes = _nodes(m)
    guards, _ = ev.guards(ir.OUTPUT, nodes)
    th = m.sample(jax.random.key(3), 64, 0, jnp.float32)
    pts = jnp.linspace(-1.0, 1.0, 5, dtype=jnp.float32)[:, None]

    def phi(th, with_guards):
        values = {ir.param_node(k): v for k, v in th.items()}
        axes = {ir.param_node(k): ("#networks",) + tuple(ir.axes(m.graph, ir.param_node(k))) for k in th}
        values[ir.INPUT], axes[ir.INPUT] = pts, ("#points", "d")
        return ev.run(nodes, values, axes, readout=True, guards=guards if with_guards else None)[ir.OUTPUT]

    a, b = jax.jit(lambda t: phi(t, True))(th), jax.jit(lambda t: phi(t, False))(th)
    assert np.all(np.isfinite(np.asarray(a)))
    assert np.array_equal(np.asarray(a).view(np.uint32), np.asarray(b).view(np.uint32))


def test_readout_routes():
    """Narrow layers written out whole, wide ones folded into ≤ 10 slabs of ≥ 8 terms, a prime width (and
    the training steps' ``dots``) a plain matrix product."""
    from nnft.graph.evaluate import _fold
    assert [_fold(n, 16) for n in (2, 16, 32, 40, 1000, 10_000, 37, 997)] == [2, 16, 32, 5, 10, 10, 0, 0]
    assert _fold(1000, 0) == 0


@pytest.mark.parametrize("N", [8, 40, 37])
def test_each_readout_route_gives_the_field(N):
    """Cos-net φ at 64 networks × 5 points by each route against the float64 hand-written field: float32
    rounding only (|Δ| ≤ 1e-5·max|φ|); the same networks shifted by 10⁻³ in W1 must fail that comparison."""
    m = nnft.compile(nnft.load("cos_net", N=N))
    th = m.sample(jax.random.key(5), 64, 0, jnp.float32)
    pts = np.random.default_rng(0).uniform(-1, 1, (5, 2)).astype(np.float32)
    got = np.asarray(jax.jit(lambda t: m.fields(t, jnp.asarray(pts)))(th), np.float64)
    t64 = {k: np.asarray(v, np.float64) for k, v in th.items()}
    ref = np.einsum("bpn,bn->bp", np.cos(np.einsum("bnd,pd->bpn", t64["W0"], pts) + t64["b0"][:, None, :]), t64["W1"])
    wrong = np.einsum("bpn,bn->bp", np.cos(np.einsum("bnd,pd->bpn", t64["W0"], pts) + t64["b0"][:, None, :]),
                      t64["W1"] + 1e-3)
    tol = 1e-5 * np.max(np.abs(ref))
    assert np.max(np.abs(got - ref)) <= tol
    assert np.max(np.abs(wrong - ref)) > tol
