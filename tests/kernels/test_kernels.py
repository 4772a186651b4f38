"""Infinite-width kernels read off the graph: against independent recursions and closed forms,
against Monte Carlo of finite networks (width ≥ 512), and bad input."""

import numpy as np
import pytest

import nnft
from helpers import Z_MAX
from nnft.analytic import erf_kernel, relu_kernel
from nnft.analytic.activations import ACTIVATIONS
from nnft.graph.kernels import KernelError, kernels

X = np.array([[1.0, 0.0, 0.0], [0.6, 0.8, 0.0], [0.3, -0.2, 0.5], [-1.0, 0.4, 0.2]])


def mlp(activation, depth=3, width=64, C_W=1.5, C_b=0.1, d=3):
    return nnft.compile(nnft.from_dict({
        "nnft": 1, "name": "mlp", "dims": {"d": d, "N": width}, "constants": {"C_W": C_W, "C_b": C_b},
        "mlp": {"depth": depth, "width": "N", "activation": activation, "weight_var": "C_W / fan_in",
                "bias_var": "C_b"}}))


def recursion(act, depth, C_W, C_b, X):
    """Independent NNGP/NTK recursion (docs/physics.md §4), written out by hand."""
    a = ACTIVATIONS[act]
    K = C_b + C_W * X @ X.T / X.shape[1]
    T = K.copy()
    for _ in range(depth):
        d = np.diag(K)
        F, dF = a.F(d[:, None], d[None, :], K), a.dF(d[:, None], d[None, :], K)
        K, T = C_b + C_W * F, C_b + C_W * F + C_W * dF * T
    return K, T


@pytest.mark.parametrize("act", ["relu", "erf", "tanh", "gelu", "linear", "cos", "sigmoid"])
def test_graph_kernels_equal_the_layer_recursion(act):
    k = kernels(mlp(act), X)
    K, T = recursion(act, 3, 1.5, 0.1, X)
    np.testing.assert_allclose(k.nngp, K, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(k.ntk, T, rtol=1e-12, atol=1e-14)
    assert len(k.layers) == 4                      # z¹ … z⁴, layer by layer


def test_one_hidden_layer_matches_independent_closed_forms():
    for act, closed in [("relu", relu_kernel), ("erf", erf_kernel)]:
        K1 = 0.1 + 1.5 * X @ X.T / 3
        d = np.diag(K1)
        want = 0.1 + 1.5 * closed(d[:, None], d[None, :], K1)
        # arccos near θ = 0 turns rounding of K12/√(K11K22) into ~√ε ≈ 1e-8 on the diagonal
        np.testing.assert_allclose(kernels(mlp(act, depth=1), X).nngp, want, rtol=1e-8)
    # the ReLU NTK by hand: Θ = K² + C_W (π − θ)/(2π) Θ¹ (Jacot et al.)
    K1 = 0.1 + 1.5 * X @ X.T / 3
    d = np.sqrt(np.diag(K1))
    theta = np.arccos(np.clip(K1 / np.outer(d, d), -1, 1))
    K2 = 0.1 + 1.5 * np.outer(d, d) / (2 * np.pi) * (np.sin(theta) + (np.pi - theta) * np.cos(theta))
    np.testing.assert_allclose(kernels(mlp("relu", depth=1), X).ntk, K2 + 1.5 * (np.pi - theta) / (2 * np.pi) * K1,
                               rtol=1e-8)


def test_quadrature_path_matches_closed_forms_to_stated_accuracy():
    """'1.0 * erf(z)' is not the named activation, so F and Ḟ come from Gauss–Hermite quadrature."""
    from nnft.analytic.gaussian import ACCURACY
    for act, expr in [("erf", "1.0 * erf(z)"), ("cos", "cos(z) * 1.0"), ("gelu", "gelu(z) + 0.0")]:
        closed = kernels(mlp(act), X)
        quad = kernels(mlp(expr), X)
        assert np.max(np.abs(quad.nngp - closed.nngp)) < ACCURACY
        assert np.max(np.abs(quad.ntk - closed.ntk)) < 10 * ACCURACY


@pytest.mark.parametrize("act", ["relu", "erf"])
def test_monte_carlo_of_wide_networks_matches_the_nngp(act):
    """Whole networks of width 512 and depth 2 (the O(L/n) finite-width shift is ~0.4%, far below the
    errors): sampling 2.6·10⁵ parameters per network is what this test pays for."""
    model = mlp(act, depth=2, width=512)
    K = kernels(model, X).nngp
    pairs = [(i, j) for i in range(len(X)) for j in range(i, len(X))]
    mc = nnft.measure(model, [X[[i, j]] for i, j in pairs], samples=3000, key=3).full
    want = np.array([K[i, j] for i, j in pairs])
    assert np.all(np.abs(mc.z(want)) < Z_MAX), mc.z(want)
    assert np.max(np.abs(mc.z(1.25 * want))) > Z_MAX     # a 25% error in the kernel is caught


def test_tanh_kernel_at_large_variance_converges():
    """Chaotic tanh (C_W = 4): K ~ 10 needs ~200 Gauss–Hermite nodes; the adaptive rule gets there."""
    from nnft.analytic.criticality import gaussian_expect
    k = kernels(mlp("tanh", depth=3, C_W=4.0, C_b=0.5), X)
    K = np.diag(k.layers[-2][1])
    want = 0.5 + 4.0 * np.array([gaussian_expect(lambda u: np.tanh(u) ** 2, Kd) for Kd in K])
    np.testing.assert_allclose(np.diag(k.layers[-1][1]), want, rtol=1e-6)


def test_empirical_ntk_ensemble_mean_matches_and_spread_shrinks_with_width():
    from nnft.estimators.ntk import ntk_ensemble
    pts = X[:3]
    spreads = []
    for width in (32, 256):
        model = mlp("relu", depth=1, width=width)
        T = kernels(model, pts).ntk
        mean, sd = ntk_ensemble(model, pts, samples=120, key=width)
        assert np.all(np.abs(mean.z(T)) < Z_MAX)          # exact in expectation for one hidden layer
        spreads.append(np.mean(sd.mean / T))
    # fluctuations of the NTK fall like 1/sqrt(width): ratio sqrt(8) ≈ 2.8
    assert 2.0 < spreads[0] / spreads[1] < 4.0, spreads


def test_kernel_regression_interpolates_and_matches_a_direct_solve():
    from nnft.estimators.ntk import ntk_predict
    model = mlp("relu", depth=2)
    y = np.sin(X @ np.array([1.0, -0.5, 0.3]))
    np.testing.assert_allclose(ntk_predict(model, X, y, X), y, rtol=1e-8, atol=1e-10)
    x_new = np.array([[0.2, 0.1, -0.4]])
    T = kernels(model, np.concatenate([X, x_new])).ntk
    want = T[4:, :4] @ np.linalg.solve(T[:4, :4], y)
    np.testing.assert_allclose(ntk_predict(model, X, y, x_new), want, rtol=1e-10)


def test_no_kernel_for_fast_growing_activation():
    with pytest.raises(KernelError, match="did not converge"):
        kernels(mlp("exp(z**2)", depth=1), X)


def test_no_kernel_for_non_gaussian_parameters():
    with pytest.raises(KernelError, match="non-Gaussian"):
        kernels(nnft.compile(nnft.load("scalar_net")), X[:, :nnft.compile(nnft.load("scalar_net")).d])


@pytest.mark.parametrize("mlp_block,fragment", [
    ({"depth": 0, "width": 8}, "depth"),
    ({"depth": 2, "width": 0}, "width"),
    ({"depth": 3, "width": [8, 8]}, "2 widths given for depth 3"),
    ({"depth": 2, "width": 8, "activation": "relux"}, "activation"),
])
def test_bad_mlp_blocks(mlp_block, fragment):
    block = {"activation": "relu", "weight_var": "1 / fan_in", **mlp_block}
    with pytest.raises(nnft.SpecError, match=fragment):
        nnft.compile(nnft.from_dict({"nnft": 1, "name": "bad", "dims": {"d": 2}, "mlp": block}))
