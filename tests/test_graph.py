"""Graph build, checks and analysis: independence, neuron-sum form, sampling order."""

import jax
import numpy as np
import pytest

import nnft


def _theory(field, params=None, dims=None, **extra):
    params = params or {
        "W0": {"shape": ["N", "d"], "density": {"normal": {"std": 1.0}}},
        "b0": {"shape": ["N"], "density": {"uniform": {"low": "-pi", "high": "pi"}}},
        "W1": {"shape": ["N"], "density": {"normal": {"std": "1 / sqrt(N)"}}},
    }
    return nnft.from_dict({"nnft": 1, "name": "t", "dims": dims or {"d": 2, "N": 4}, "params": params,
                           "field": field, **extra})


def test_graph_nodes_and_axes():
    m = nnft.compile(nnft.load("cos_net"))
    g = m.graph
    kinds = {a["kind"] for _, a in g.nodes(data=True)}
    assert kinds == {"input", "param", "const", "op", "output"}
    assert g.nodes["param:W0"]["axes"] == ("N", "d")
    assert g.nodes["phi"]["axes"] == ()


def test_neuron_sum_found_for_shipped_single_layer_nets():
    for name in ["cos_net", "gauss_net", "scalar_net", "shaped_net", "cauchy_scalar_1d", "rp_scalar_2d"]:
        ns = nnft.compile(nnft.load(name)).structure.neuron_sum
        assert ns is not None and ns.width == "N" and ns.offset is None, name
    for name in ["relu_net", "erf_net"]:
        ns = nnft.compile(nnft.load(name)).structure.neuron_sum
        assert ns.readout == "W1" and ns.offset == "b1"


def test_width_dependence_of_the_neuron_law_is_detected():
    ns = nnft.compile(nnft.load("cos_net")).structure.neuron_sum
    assert not ns.width_dependent                         # the readout's 1/sqrt(N) is not the neuron's
    t = _theory("sum_N(W1 * cos(W0 @ x + b0))", params={
        "W0": {"shape": ["N", "d"], "density": {"normal": {"std": "1 / N"}}},
        "b0": {"shape": ["N"], "density": {"uniform": {"low": "-pi", "high": "pi"}}},
        "W1": {"shape": ["N"], "density": {"normal": {"std": 1.0}}}})
    m = nnft.compile(t)
    assert m.structure.neuron_sum.width_dependent
    with pytest.raises(nnft.EstimatorError, match="depends on the width"):
        nnft.neuron_measure(m, [np.zeros((2, 2))], neurons=100, widths=[8])


@pytest.mark.parametrize("field,why", [
    ("sum_N(cos(W0 @ x + b0))", "no readout"),
    ("sum_N(W1 * W1 * cos(W0 @ x + b0))", "no readout"),
    ("cos(sum_N(W1 * (W0 @ x + b0)))", "not of the form"),
    ("sum_N(W1 * cos(W0 @ x + b0 + sum_N(b0)))", "reduces over the width"),
    ("sum_N(W1 * cos(W0 @ x + s))", "shared by all neurons"),
])
def test_not_a_neuron_sum(field, why):
    params = {
        "W0": {"shape": ["N", "d"], "density": {"normal": {"std": 1.0}}},
        "b0": {"shape": ["N"], "density": {"uniform": {"low": "-pi", "high": "pi"}}},
        "W1": {"shape": ["N"], "density": {"normal": {"std": "1 / sqrt(N)"}}},
        "s": {"shape": [], "density": {"normal": {"std": 1.0}}},
    }
    st = nnft.compile(_theory(field, params=params)).structure
    assert st.neuron_sum is None
    assert any(why in n for n in st.notes), st.notes
    with pytest.raises(nnft.EstimatorError, match="neuron"):
        nnft.neuron_measure(nnft.compile(_theory(field, params=params)), [np.zeros((2, 2))], neurons=10)


def test_dependent_parameters_are_ordered_and_grouped():
    st = nnft.compile(nnft.load("rp_scalar_2d")).structure
    assert st.order.index("k") < st.order.index("p0")
    assert frozenset({"k", "p0"}) in st.independent
    assert frozenset({"W1"}) in st.independent


def test_density_argument_depending_on_a_parameter_is_sampled_per_element():
    """p0 | k ~ Cauchy(0, sqrt(k²+m²)): the median of |p0|/scale is 1 for a Cauchy."""
    m = nnft.compile(nnft.load("rp_scalar_2d", N=64))
    with jax.enable_x64(True):
        th = m.sample(jax.random.key(0), 200)
    k, p0 = np.asarray(th["k"]).ravel(), np.asarray(th["p0"]).ravel()
    ratio = np.abs(p0) / np.sqrt(k ** 2 + 1.0)
    frac = np.mean(ratio < 1.0)
    assert abs(frac - 0.5) / np.sqrt(0.25 / ratio.size) < 5
    # with a fixed scale (the largest) the fraction would be far from 1/2
    assert abs(np.mean(np.abs(p0) < np.sqrt(16 + 1.0)) - 0.5) / np.sqrt(0.25 / ratio.size) > 5


def test_unused_parameter_reported():
    params = {
        "W0": {"shape": ["N", "d"], "density": {"normal": {"std": 1.0}}},
        "W1": {"shape": ["N"], "density": {"normal": {"std": 1.0}}},
        "junk": {"shape": [], "density": {"normal": {"std": 1.0}}},
    }
    st = nnft.compile(_theory("sum_N(W1 * tanh(W0 @ x))", params=params)).structure
    assert st.unused == ("junk",)


def test_field_evaluation_matches_numpy():
    m = nnft.compile(nnft.load("cos_net", N=5))
    with jax.enable_x64(True):
        th = m.sample(jax.random.key(3), 4, dtype=np.float64)
        pts = np.array([[0.1, -0.2], [0.7, 0.3]])
        got = np.asarray(m.fields(th, pts))
    W0, b0, W1 = (np.asarray(th[k]) for k in ("W0", "b0", "W1"))
    want = np.einsum("sn,snp->sp", W1, np.cos(np.einsum("snd,pd->snp", W0, pts) + b0[:, :, None]))
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_an_input_used_twice_by_one_operation():
    """b0 * b0 uses one node twice (a multigraph edge each): Σ W1 b0² evaluated right."""
    m = nnft.compile(_theory("sum_N(W1 * b0 * b0) + x[0] * x[0]"))
    with jax.enable_x64(True):
        th = m.sample(jax.random.key(0), 3, dtype=np.float64)
        got = np.asarray(m.fields(th, np.array([[0.5, 0.0]])))[:, 0]
    want = np.sum(np.asarray(th["W1"]) * np.asarray(th["b0"]) ** 2, axis=1) + 0.25
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_sum_of_the_readout_alone_is_a_neuron_sum():
    """φ = Σᵢ vᵢ (ψ ≡ 1): a valid, if trivial, neuron sum; G2 = N·E[v²] at every point."""
    m = nnft.compile(_theory("sum_N(W1)"))
    assert m.structure.neuron_sum is not None and m.structure.neuron_sum.neuron_params == ()
