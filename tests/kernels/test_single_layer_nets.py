"""Infinite-width kernels of the shipped single-layer nets the recursion learned: Cos-net (uniform
phase under cos, TASI arXiv:2408.00082 eq. 68-69) and Gauss-net (a per-point shift under exp, eq.
61-62). Against the closed form, the spec's analytic reference, Monte Carlo G2 and the ensemble NTK,
each beside a wrong answer that must fail."""

import numpy as np
import pytest

import nnft
from helpers import Z_MAX
from nnft.graph.kernels import KernelError, kernels

POINTS = {"cos_net": np.array([[0.0, 0.0], [0.5, 0.0], [0.3, -0.9], [1.5, 0.4]]),
          "gauss_net": np.array([[-0.5], [0.0], [0.2], [0.5]])}


def closed_form(X, sigma_w0=1.0, sigma_w1=1.0):
    """G2 = (σ_w1²/2) exp(−σ_w0²|x−y|²/(2d)) for both nets (TASI eq. 62 and 69)."""
    d2 = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    return sigma_w1 ** 2 / 2 * np.exp(-sigma_w0 ** 2 * d2 / (2 * X.shape[1]))


@pytest.fixture(scope="module", params=["cos_net", "gauss_net"])
def net(request):
    return request.param, nnft.compile(nnft.load(request.param))


def test_nngp_is_the_closed_form_and_the_analytic_reference(net):
    name, model = net
    X = POINTS[name]
    K = kernels(model, X).nngp
    np.testing.assert_allclose(K, closed_form(X), rtol=1e-12, atol=1e-14)
    assert not np.allclose(K, closed_form(X, sigma_w0=1.1), rtol=1e-3)          # wrong σ_w0 is seen
    pairs = [X[[i, j]] for i in range(len(X)) for j in range(i, len(X))]
    ref = nnft.exact(model, pairs).full[0]                 # the declared per-neuron law's 2-point function
    iu = np.triu_indices(len(X))
    np.testing.assert_allclose(K[iu], ref, rtol=1e-10, atol=1e-12)


def test_nngp_agrees_with_monte_carlo_g2(net):
    name, model = net
    X = POINTS[name][:3]
    est = nnft.two_point(model, X, samples=40_000, key=1, dtype="float64")
    K = kernels(model, X).nngp
    z = (est.mean - K) / est.stderr
    assert np.abs(z).max() < Z_MAX, z
    wrong = np.abs((est.mean - 0.8 * K) / est.stderr)     # a 20% error is resolved
    assert wrong.max() > Z_MAX, wrong


def test_ntk_agrees_with_the_ensemble_ntk(net):
    """One hidden layer: the ensemble mean of the empirical NTK is exact at any width."""
    name, model = net
    X = POINTS[name][:3]
    mean, _ = nnft.ntk_ensemble(model, X, samples=400, key=2)
    T = kernels(model, X).ntk
    z = (mean.mean - T) / np.where(mean.stderr > 0, mean.stderr, 1.0)
    assert np.abs(z).max() < Z_MAX, z
    K = kernels(model, X).nngp
    assert np.abs((mean.mean - K) / mean.stderr).max() > Z_MAX   # Θ ≠ K: the first layer's weights count


def test_phase_and_shift_are_refused_where_no_closed_form():
    base = {"nnft": 1, "name": "t", "dims": {"d": 1, "N": 8}, "constants": {},
            "params": {"W0": {"shape": ["N", "d"], "density": {"normal": {"std": 1.0}}},
                       "b0": {"shape": ["N"], "density": {"uniform": {"low": "-pi", "high": "pi"}}},
                       "W1": {"shape": ["N"], "density": {"normal": {"std": 0.3}}}}}
    X = POINTS["gauss_net"]
    for field, what in [("sum_N(W1 * tanh(W0 @ x + b0))", "uniform phase"),
                        ("sum_N(W1 * tanh(W0 @ x - norm(x)))", "differs between points")]:
        model = nnft.compile(nnft.from_dict({**base, "field": field}))
        with pytest.raises(KernelError, match=what):
            kernels(model, X)
    # a shift equal at every point folds into any activation (quadrature): tanh(u − 0.5)
    model = nnft.compile(nnft.from_dict({**base, "field": "sum_N(W1 * tanh(W0 @ x - 0.5))"}))
    u = np.random.default_rng(0).normal(size=400_000) * np.abs(X[:, 0])[:, None]
    samples = (0.3 ** 2 * 8) * np.tanh(u - 0.5) ** 2
    mc, se = samples.mean(axis=1), samples.std(axis=1, ddof=1) / np.sqrt(u.shape[1])
    K = np.diag(kernels(model, X).nngp)
    rand = se > 0                                                # x = 0: u ≡ 0, both sides are tanh(−0.5)²·σ²
    np.testing.assert_allclose(K[~rand], mc[~rand], rtol=1e-12)
    assert np.max(np.abs(K - mc)[rand] / se[rand]) < 5           # bounded samples: the CLT z is honest
    assert np.max(np.abs(1.05 * K - mc)[rand] / se[rand]) > 5    # a 5 % wrong kernel is seen


def test_layer_labels_name_the_spec_layers():
    labels = [w for w, _, _ in kernels(nnft.compile(nnft.load("relu_mlp")), np.ones((2, 3))).layers]
    assert labels[:2] == ["z1", "z2"] and labels[-1] == "field"
    labels = [w for w, _, _ in kernels(nnft.compile(nnft.load("cos_net")), POINTS["cos_net"]).layers]
    assert labels == ["field: layer 1/2", "field: layer 2/2"]


def test_non_gaussian_layers_fall_back_to_the_neuron_reference_labelled():
    """cos_net_skewed: a skewed (non-Gaussian) first-layer law, the same G2 as Cos-net (TASI eq. 69)."""
    from nnft.kernels_reference import REFERENCE_SOURCE, kernels_or_reference
    model = nnft.compile(nnft.load("cos_net_skewed"))
    X = POINTS["cos_net"][:, :model.d]                    # the shipped cos_net_skewed has d = 1
    with pytest.raises(KernelError, match="non-Gaussian"):
        kernels(model, X)                                  # the graph alone has no kernel map
    k = kernels_or_reference(model, X)
    assert k.source == REFERENCE_SOURCE and np.isnan(k.ntk).all()
    np.testing.assert_allclose(k.nngp, closed_form(X), rtol=1e-10, atol=1e-12)
    assert not np.allclose(k.nngp, closed_form(X, sigma_w0=1.1), rtol=1e-3)
    assert nnft.kernels(model, X).source == REFERENCE_SOURCE          # the public name falls back
    assert nnft.kernels(nnft.compile(nnft.load("gauss_net")), X).source == "graph recursion"
    with pytest.raises(KernelError, match="non-Gaussian"):            # interacting: no Gaussian process
        kernels_or_reference(nnft.compile(nnft.load("phi4_scalar_1d")), np.zeros((2, 1)))
