"""Derivative observables by automatic differentiation of the field (nnft.estimators.local):
⟨∂_μφ(x)∂_νφ(y)⟩ = ∂_{x_μ}∂_{y_ν}G(x, y), ⟨φ ∂_μ∂_νφ⟩, φ² and (∂φ)² against the closed-form kernels of
Cos-net and Gauss-net, G = (σ_w1²/2) exp(−s|x−y|²/2), s = σ_w0²/d (TASI arXiv:2408.00082 eq. 60-71), by
|z|; beside each, a wrong answer that must fail the same comparison."""

import numpy as np
import pytest

import nnft
from nnft.analytic.closed_forms import cos_net_g2
from nnft.errors import InputError
from nnft.estimators.local import Operator, local_correlator, operator


def dxdy(x, y, s, A=0.5):
    """∂_{x_μ}∂_{y_ν} of A exp(−s|x−y|²/2): K (s δ_μν − s² r_μ r_ν), r = x − y (by hand)."""
    r = np.asarray(x) - np.asarray(y)
    K = A * np.exp(-s * r @ r / 2)
    return K * (s * np.eye(len(r)) - s * s * np.outer(r, r))


def test_hand_derivatives_match_finite_differences_of_the_closed_form():
    x, y, h = np.array([0.3, -0.2]), np.array([-0.1, 0.4]), 1e-4
    e = np.eye(2)
    for mu in range(2):
        for nu in range(2):
            fd = (cos_net_g2(x + h * e[mu], y + h * e[nu], 1.0, 1.0) - cos_net_g2(x + h * e[mu], y - h * e[nu], 1.0, 1.0)
                  - cos_net_g2(x - h * e[mu], y + h * e[nu], 1.0, 1.0)
                  + cos_net_g2(x - h * e[mu], y - h * e[nu], 1.0, 1.0)) / (4 * h * h)
            assert fd == pytest.approx(dxdy(x, y, 0.5)[mu, nu], rel=1e-6, abs=1e-8)


def test_cos_net_derivative_correlators_match_the_kernel_derivatives():
    m = nnft.compile(nnft.load("cos_net", N=8))
    x, y = np.array([0.3, -0.2]), np.array([-0.1, 0.4])
    pair = np.stack([x, y])
    ops = [["d0 phi", "d0 phi"], ["d0 phi", "d1 phi"], ["d1 phi", "d1 phi"], ["phi", "d0 d0 phi"], ["phi", "phi"]]
    c = local_correlator(m, [pair] * len(ops), ops, samples=20_000, key=1)
    s, r = 0.5, x - y
    K = 0.5 * np.exp(-s * r @ r / 2)
    D = dxdy(x, y, s)
    # ⟨φ(x) ∂²_{y0}φ(y)⟩ = ∂²_{y0}K = K(s² r0² − s)
    theory = np.array([D[0, 0], D[0, 1], D[1, 1], K * (s * s * r[0] ** 2 - s), K])
    z = c.full.z(theory)
    assert np.all(np.abs(z) < 5), z
    # both derivatives on one point (∂²_x K instead of ∂_x∂_y K) is the sign-flipped kinetic term: refused
    wrong = theory.copy()
    wrong[:3] = -theory[:3]
    assert np.max(np.abs(c.full.z(wrong))) > 5


def test_gauss_net_kinetic_composites_at_the_origin():
    """(∂φ)² at x = 0 goes through d/dx norm(x)² at the origin (0, not NaN); ⟨(∂φ)²(x)⟩ = d·s·σ_w1²/2 and
    ⟨φ²(x)⟩ = σ_w1²/2 at every x."""
    m = nnft.compile(nnft.load("gauss_net", N=8))
    pts = [np.array([[0.0]]), np.array([[0.2]]), np.array([[0.0]]), np.array([[0.1], [-0.15]])]
    ops = [["(dphi)^2"], ["phi^2"], ["d0 phi"], ["d0 phi", "d0 phi"]]
    c = local_correlator(m, pts, ops, samples=20_000, key=2)
    assert np.all(np.isfinite(c.full.mean))
    theory = np.array([0.5, 0.5, 0.0, dxdy([0.1], [-0.15], 1.0)[0, 0]])
    assert np.all(np.abs(c.full.z(theory)) < 5), c.full.z(theory)
    # the kinetic term without the kernel's curvature (⟨(∂φ)²⟩ = 0, as for a constant field) fails
    assert abs(c.full.z(np.array([0.0, 0.5, 0.0, theory[3]]))[0]) > 5


def test_operator_grammar_and_refusals():
    assert operator("d0 d1 phi[2]", 2, 3) == Operator("linear", (0, 1), (0.0, 0.0, 1.0))
    assert operator("  d1   phi ", 2, 1).derivs == (1,)
    assert operator("phi^2", 1, 3).kind == "phi^2"
    for bad, d, D in [("d2 phi", 2, 1), ("phi[3]", 1, 3), ("phi", 1, 3), ("d0 d0 d0 phi", 1, 1), ("psi", 1, 1),
                      ("d0phi", 1, 1)]:
        with pytest.raises(InputError):
            operator(bad, d, D)
    with pytest.raises(InputError):
        operator(Operator("linear", (), (1.0, np.nan)), 1, 2)


def test_second_derivative_at_the_origin_of_a_norm_is_refused():
    m = nnft.compile(nnft.load("gauss_net", N=4))
    with pytest.raises(InputError, match="second derivative"):
        local_correlator(m, [np.array([[0.0]])], [["d0 d0 phi"]], samples=100)


def test_derivatives_of_a_cauchy_frequency_net_are_refused():
    """cauchy_scalar_1d: φ = Σ v cos(w x + b) with w ~ Cauchy is bounded, but ∂φ = −Σ v w sin(w x + b) has
    E|∂φ|² = ∞ (E w² = ∞): refused before sampling, while φ's own correlator is measured."""
    from nnft.errors import EstimatorError
    m = nnft.compile(nnft.load("cauchy_scalar_1d", N=4))
    with pytest.raises(EstimatorError, match="brings it down"):
        local_correlator(m, [np.array([[0.1], [0.3]])], [["d0 phi", "d0 phi"]], samples=100)
    with pytest.raises(EstimatorError, match="brings it down"):
        local_correlator(m, [np.array([[0.1]])], [["(dphi)^2"]], samples=100)
    c = local_correlator(m, [np.array([[0.1], [0.3]])], [["phi", "phi"]], samples=200)
    assert np.isfinite(c.full.mean[0])
