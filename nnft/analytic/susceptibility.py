"""The single-input layer map at infinite width: ⟨σ²⟩_K and the susceptibilities χ∥, χ⊥ (docs/physics.md §4).

For u ~ N(0, K) and ⟨f⟩_K := E f(u) (Poole et al. arXiv 1606.05340 eq. 3; Schoenholz et al. arXiv
1611.01232 eq. 5):

    K⁽ˡ⁺¹⁾ = C_b + C_W ⟨σ²⟩_{K⁽ˡ⁾},   χ∥(K) = C_W ⟨σ'² + σσ''⟩_K = dK⁽ˡ⁺¹⁾/dK⁽ˡ⁾,   χ⊥(K) = C_W ⟨σ'²⟩_K.

Gaussian expectations are ``nnft.analytic.gaussian.expect1`` (graded Gauss–Legendre, ~1e-13 at any
K ≤ 10⁴); ReLU uses closed forms. Activations: see :func:`nnft.analytic.activations.as_activation`.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from nnft.analytic.activations import as_activation, is_relu
from nnft.analytic.gaussian import _check_K, expect1


def gaussian_expect(f: Callable, K, *, smooth: bool = True, what: str = "f") -> np.ndarray:
    """⟨f⟩_K = E_{u ~ N(0, K)} f(u), elementwise over an array of K ≥ 0: :func:`nnft.analytic.gaussian.expect1`
    (graded Gauss–Legendre in u/√K with a break at u = 0, accurate to ~1e-13 for the shipped activations
    at any K ≤ 10⁴; ``smooth`` is accepted for compatibility — a kink at u = 0 needs nothing special).

    Raises ValueError if the integrand is not finite, not negligible beyond 9 standard deviations (an f
    growing too fast for Gaussian integrals, e.g. exp(u²)) or the rule does not converge.
    """
    return expect1(f, K, what=what, tol=1e-10)


def sigma2_mean(activation, K) -> np.ndarray:
    """⟨σ²⟩_K."""
    act = as_activation(activation)
    K = _check_K(K)
    if is_relu(act):
        return K / 2
    return gaussian_expect(lambda u: act.f(u) ** 2, K, smooth=act.smooth, what="σ²")


def chi_parallel(activation, C_W, K) -> np.ndarray:
    """χ∥(K) = C_W⟨σ'² + σσ''⟩_K (= dK⁽ˡ⁺¹⁾/dK⁽ˡ⁾; ReLU: C_W/2)."""
    act = as_activation(activation)
    K = _check_K(K)
    if is_relu(act):
        return C_W / 2 * np.ones_like(K)
    return C_W * gaussian_expect(lambda u: act.df(u) ** 2 + act.f(u) * act.d2f(u), K, smooth=act.smooth,
                                 what="σ'² + σσ''")


def chi_perp(activation, C_W, K) -> np.ndarray:
    """χ⊥(K) = C_W⟨σ'²⟩_K (ReLU: C_W/2; erf: (4C_W/π)/√(1 + 4K))."""
    act = as_activation(activation)
    K = _check_K(K)
    if is_relu(act):
        return C_W / 2 * np.ones_like(K)
    return C_W * gaussian_expect(lambda u: act.df(u) ** 2, K, smooth=act.smooth, what="σ'²")
