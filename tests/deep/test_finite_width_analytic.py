"""Finite-width formulas (docs/physics.md §4-5) without Monte Carlo: consistency and bad input."""

import math

import numpy as np
import pytest

from nnft.analytic import finite_width as F


def test_relu_exact_ratio_product_form():
    for ns in ([64] * 8, [3, 7, 11], [5]):
        m = F.relu_moments(ns, C_W=2.0, C_b=0.0, K1=0.7)
        assert m.ratio == pytest.approx(3 * math.prod(1 + 5 / n for n in ns), rel=1e-14)
        assert m.Ez2 == pytest.approx(0.7, rel=1e-14)
    assert F.relu_leading_ratio(64, depth=8) == 3 * (1 + 40 / 64)


def test_relu_leading_order_is_expansion_of_exact():
    # Thm 4.2 for relu at C_b = 0 gives 3(1 + 5Σ1/n): the first-order term of the exact product
    ns = [50, 80, 120]
    lo = F.leading_order("relu", ns, C_W=2.0, C_b=0.0, K1=1.3)
    assert lo.ratio[-1] == pytest.approx(F.relu_leading_ratio(ns), rel=1e-13)
    assert np.all(lo.delta == 0)
    # with bias, compare against the exact recursion to first order in 1/n (scale the widths)
    for s in (1e3, 1e4):
        w = [int(s * k) for k in (1, 2, 3)]
        ex = F.relu_moments(w, C_W=1.7, C_b=0.2, K1=0.9)
        lo = F.leading_order("relu", w, C_W=1.7, C_b=0.2, K1=0.9)
        assert abs(ex.Ez2 - lo.G2[-1]) < 1e-13
        assert abs(ex.kappa4_lh - lo.kappa4_lh[-1]) < 20 / s ** 2   # O(1/n²); measured ≈ 8.4/s²


def test_linear_leading_order_is_expansion_of_exact():
    ns = [2000, 3000]
    lo = F.leading_order("linear", ns, C_W=1.4, C_b=0.0, K1=0.5)
    x = np.array([1.0, 2.0])
    X = np.stack([x] * 4)
    G2 = F.deep_linear_g2(x, x, C_W=1.4, depth=2)
    k4_exact = F.deep_linear_g4c(X, C_W=1.4, widths=ns) / 3      # single input: G4c = 3 κ4
    assert G2 == pytest.approx(1.4 ** 3 * 5 / 2)
    lo = F.leading_order("linear", ns, C_W=1.4, C_b=0.0, K1=1.4 * 5 / 2)
    assert lo.G2[-1] == pytest.approx(G2, rel=1e-12)
    assert abs(lo.kappa4_lh[-1] - k4_exact) < 10 / 2000 ** 2 * G2 ** 2


def test_fourth_derivative_by_parts():
    # (σ²)'''' for σ = tanh at K → 0 is (tanh²)''''(0) = −16; for σ = sin: σ² = (1 − cos 2u)/2,
    # ⟨(σ²)''''⟩ = −8⟨cos 2u⟩ = −8 e^{−2K}
    assert float(F.sigma2_fourth_derivative_mean("tanh", 1e-4)) == pytest.approx(-16, rel=1e-2)
    for K in (0.1, 1.0, 3.0):
        assert float(F.sigma2_fourth_derivative_mean("sin", K)) == pytest.approx(-8 * math.exp(-2 * K), rel=1e-9)


def test_deep_linear_g4c_pairs():
    X = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0], [1.0, 1.0]])
    G = 2.0 ** 3 * X @ X.T / 2
    want = ((1 + 2 / 4) * (1 + 2 / 6) - 1) * (G[0, 1] * G[2, 3] + G[0, 2] * G[1, 3] + G[0, 3] * G[1, 2])
    assert F.deep_linear_g4c(X, C_W=2.0, widths=[4, 6]) == pytest.approx(want, rel=1e-14)


@pytest.mark.parametrize("call", [
    lambda: F.leading_order("tanh", [16, 0, 16], C_W=1.0, C_b=0.0, K1=1.0),
    lambda: F.leading_order("tanh", [16, -3], C_W=1.0, C_b=0.0, K1=1.0),
    lambda: F.leading_order("tanh", [16, 2.5], C_W=1.0, C_b=0.0, K1=1.0),
    lambda: F.leading_order("tanh", [], C_W=1.0, C_b=0.0, K1=1.0),
    lambda: F.leading_order("tanh", 16, C_W=1.0, C_b=0.0, K1=1.0, depth=0),
    lambda: F.leading_order("tanh", 16, C_W=1.0, C_b=0.0, K1=1.0),
    lambda: F.leading_order("tanh", [16, 16], C_W=1.0, C_b=0.0, K1=1.0, depth=3),
    lambda: F.relu_moments([8, 8], C_W=2.0, C_b=0.0, K1=1.0, depth=1),
    lambda: F.relu_moments(0, C_W=2.0, C_b=0.0, K1=1.0, depth=2),
    lambda: F.relu_moments([8], C_W=2.0, C_b=0.0, K1=-1.0),
    lambda: F.deep_linear_g4c(np.ones((4, 2)), C_W=1.0, widths=[]),
    lambda: F.deep_linear_g2([1.0], [1.0, 2.0], C_W=1.0, depth=1),
    lambda: F.deep_linear_g2([1.0], [1.0], C_W=1.0, depth=0),
])
def test_bad_shapes(call):
    with pytest.raises(ValueError):
        call()


def test_too_fast_activation():
    blowup = (lambda u: np.exp(u ** 2), lambda u: 2 * u * np.exp(u ** 2), lambda u: (2 + 4 * u ** 2) * np.exp(u ** 2))
    with pytest.raises(ValueError, match="grows too fast"):
        F.leading_order(blowup, [8, 8], C_W=1.0, C_b=0.0, K1=1.0)
