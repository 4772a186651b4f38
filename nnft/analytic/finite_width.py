"""Finite-width corrections for deep fully-connected networks at one input (docs/physics.md §4, §5).

**Layer convention (all functions here).** Hanin's indexing with L *hidden* layers of widths
``widths = [n_1, …, n_L]`` and a readout: z⁽¹⁾ = W⁽¹⁾x + b⁽¹⁾, z⁽ˡ⁺¹⁾ = W⁽ˡ⁺¹⁾σ(z⁽ˡ⁾) + b⁽ˡ⁺¹⁾,
W⁽¹⁾ ~ N(0, C_W/n₀), W⁽ˡ⁺¹⁾ ~ N(0, C_W/n_l), b ~ N(0, C_b); the output is z⁽ᴸ⁺¹⁾ (L + 1 weight
matrices). Arrays "per layer" have L + 1 entries, entry ``l − 1`` belonging to z⁽ˡ⁾ (l = 1 … L+1),
so ``[-1]`` is the output. The input enters only through K⁽¹⁾ = C_b + C_W|x|²/n₀ (``K1``).

**κ4 normalisation.** κ4⁽ˡ⁾ (code name ``kappa4_lh``) is the Les Houches quantity
κ4⁽ˡ⁾ := ⅓(E z⁴ − 3(E z²)²) of one neuron z = z_i⁽ˡ⁾(x) at one input (LH = Bahri, Hanin et al.,
arXiv:2309.01592, §4.8 and Thm 4.2). It is **one third** of the connected 4-point function at
coincident points: G_c⁽⁴⁾(x,x,x,x) = κ(z,z,z,z) = 3 κ4; in Roberts–Yaida–Hanin's notation
(arXiv:2106.10165, ch. 4) κ4⁽ˡ⁾ = V⁽ˡ⁾/n_{l−1}, the four-point vertex over the width feeding z⁽ˡ⁾.

* :func:`leading_order` — the O(1/n) theory for any activation: infinite-width K⁽ˡ⁾, κ4⁽ˡ⁾ (LH Thm 4.2)

      κ4⁽ˡ⁺¹⁾ = (C_W²/n_l) Var_{K⁽ˡ⁾}[σ²] + χ∥(K⁽ˡ⁾)² κ4⁽ˡ⁾,   κ4⁽¹⁾ = 0,

  and the O(1/n) shift of the two-point function, E z⁽ˡ⁾² = K⁽ˡ⁾ + δ⁽ˡ⁾,

      δ⁽ˡ⁺¹⁾ = χ∥(K⁽ˡ⁾) δ⁽ˡ⁾ + (C_W/8) κ4⁽ˡ⁾ ⟨(σ²)''''⟩_{K⁽ˡ⁾},   δ⁽¹⁾ = 0,

  (an Edgeworth expansion of E σ(z)² about N(0, K): the single-neuron fourth cumulant is 3κ4), with
  ⟨f''''⟩_K = ⟨f·(u⁴/K⁴ − 6u²/K³ + 3/K²)⟩_K by Gaussian integration by parts. Both are exact up to
  O(1/n²) (relative O(L/n) corrections to κ4, O(L²/n²) to E z²); the tests check them against
  Monte Carlo of finite-width tanh networks.
* :func:`relu_moments` — ReLU at one input **exactly** in the widths (conditional Gaussianity).
* :func:`deep_linear_g2`, :func:`deep_linear_g4c` — deep linear networks exactly (§5; converted to
  the convention above: §5's "L weight matrices, hidden widths n₁…n_{L−1}" is L − 1 hidden layers here).
"""

from __future__ import annotations

from nnft.errors import InputError

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from nnft.analytic.criticality import (_check_hyper, _is_relu, as_activation, chi_parallel, gaussian_expect,
                                       sigma2_mean)

__all__ = ["as_widths", "LeadingOrder", "leading_order", "sigma2_fourth_derivative_mean", "sigma2_variance",
           "ReluMoments", "relu_moments", "relu_leading_ratio", "deep_linear_g2", "deep_linear_g4c"]


def as_widths(widths, depth: int | None = None) -> np.ndarray:
    """Hidden widths [n_1 … n_L] as an int array.

    ``widths`` is a sequence of positive integers, or one integer repeated ``depth`` times. If both a
    sequence and ``depth`` are given they must agree. Returns an int64 array of shape (L,).

    Raises:
      InputError: depth 0 or not an integer, a single width without ``depth``, non-positive or
        non-integer widths, or a length mismatch with ``depth``.
    """
    if depth is not None:
        if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 1:
            raise InputError(f"depth (number of hidden layers) must be an integer ≥ 1, got {depth!r}")
    if isinstance(widths, (int, np.integer)) and not isinstance(widths, bool):
        if depth is None:
            raise InputError("a single width needs depth= (the number of hidden layers)")
        arr = [int(widths)] * int(depth)
    else:
        try:
            arr = list(widths)
        except TypeError:
            raise InputError(f"widths must be an integer or a sequence of integers, got {widths!r}") from None
    if len(arr) == 0:
        raise InputError("depth 0: at least one hidden layer is needed (widths = [n_1, …, n_L], L ≥ 1)")
    if depth is not None and len(arr) != depth:
        raise InputError(f"{len(arr)} per-layer widths given for depth {depth}: give one width per hidden layer")
    out = []
    for i, n in enumerate(arr, 1):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer, float, np.floating)) or n != int(n) or n < 1:
            raise InputError(f"width n_{i} = {n!r}: widths must be positive integers")
        out.append(int(n))
    return np.asarray(out, dtype=np.int64)


def _check_K1(K1):
    if not (np.isfinite(K1) and K1 >= 0):
        raise InputError(f"K1 (the first-layer variance C_b + C_W|x|²/n₀) must be finite and ≥ 0, got {K1}")
    return float(K1)


def sigma2_variance(activation, K) -> np.ndarray:
    """Var_K[σ²] = ⟨σ⁴⟩_K − ⟨σ²⟩_K² over u ~ N(0, K), elementwise over an array of variances K ≥ 0
    (same shape out; ReLU: 5K²/4 exactly, LH arXiv:2309.01592 §4.13). ``activation``: a registry
    name, an Activation or (f, df, d2f). InputError for an unknown activation, K < 0 or a Gaussian
    quadrature that does not converge."""
    act = as_activation(activation)
    K = np.asarray(K, dtype=np.float64)
    if _is_relu(act):
        return 1.25 * K ** 2
    m4 = gaussian_expect(lambda u: act.f(u) ** 4, K, smooth=act.smooth, what="σ⁴")
    return m4 - sigma2_mean(act, K) ** 2


def sigma2_fourth_derivative_mean(activation, K) -> np.ndarray:
    """⟨(σ²)''''⟩_K = ⟨σ²·(t⁴ − 6t² + 3)⟩/K², t = u/√K (Gaussian integration by parts; ReLU: 0).

    Elementwise over an array of variances K ≥ 0 (same shape out). At K = 0 the limit (σ²)''''(0) is
    taken by a small-K evaluation (K = 1e-4). The O(1/n) shift δ of E z² uses it (module docstring).
    InputError as :func:`sigma2_variance`."""
    act = as_activation(activation)
    K = np.asarray(K, dtype=np.float64)
    if _is_relu(act):
        return np.zeros_like(K)
    Ks = np.maximum(K, 1e-4)

    def one(k):
        return gaussian_expect(lambda u: act.f(u) ** 2 * ((u ** 2 / k) ** 2 - 6 * u ** 2 / k + 3), k,
                               smooth=act.smooth, what="(σ²)''''") / k ** 2

    return np.vectorize(lambda k: float(one(k)))(Ks) if Ks.ndim else np.asarray(float(one(float(Ks))))


@dataclass(frozen=True)
class LeadingOrder:
    """Leading finite-width theory at one input; per-layer arrays, entry l − 1 ↔ z⁽ˡ⁾, l = 1 … L+1.

    Attributes:
      widths: [n_1 … n_L].
      K: infinite-width variance K⁽ˡ⁾.
      kappa4_lh: κ4⁽ˡ⁾ = ⅓(E z⁴ − 3(E z²)²) to O(1/n), the Les Houches normalisation (LH
        arXiv:2309.01592 §4.8, Thm 4.2): one third of the connected 4-point function
        G_c⁽⁴⁾(x,x,x,x) of one neuron; = V⁽ˡ⁾/n_{l−1} of RYH arXiv:2106.10165.
      delta: δ⁽ˡ⁾, the O(1/n) shift of E z⁽ˡ⁾².
      chi_parallel: χ∥(K⁽ˡ⁾).
    """

    widths: np.ndarray
    K: np.ndarray
    kappa4_lh: np.ndarray
    delta: np.ndarray
    chi_parallel: np.ndarray

    @property
    def G2(self) -> np.ndarray:
        """E z² to O(1/n): K + δ."""
        return self.K + self.delta

    @property
    def Ez4(self) -> np.ndarray:
        """E z⁴ to O(1/n): 3(K + δ)² + 3κ4 (δ² is O(1/n²) and may be dropped)."""
        return 3 * self.G2 ** 2 + 3 * self.kappa4_lh

    @property
    def ratio(self) -> np.ndarray:
        """E z⁴/(E z²)² to O(1/n): 3 + 3κ4/K²."""
        return 3 + 3 * self.kappa4_lh / self.K ** 2


def leading_order(activation, widths, *, C_W: float, C_b: float, K1: float, depth: int | None = None) -> LeadingOrder:
    """K⁽ˡ⁾, κ4⁽ˡ⁾ (``kappa4_lh``) and δ⁽ˡ⁾ (module docstring) for l = 1 … L+1 at one input with
    K⁽¹⁾ = ``K1`` (LH arXiv:2309.01592 Thm 4.2; Yaida arXiv:1910.00019; RYH arXiv:2106.10165 ch. 4).

    ``widths``/``depth`` as :func:`as_widths`; per-layer arrays of the result have shape (L+1,).

    Raises:
      InputError: bad widths/depth, C_W ≤ 0, C_b < 0, K1 < 0 or not finite, an unknown activation,
        or a Gaussian expectation that does not converge.
    """
    act = as_activation(activation)
    ns = as_widths(widths, depth)
    _check_hyper(C_W, C_b)
    K1 = _check_K1(K1)
    L = len(ns)
    K = np.zeros(L + 1)
    k4 = np.zeros(L + 1)
    dl = np.zeros(L + 1)
    chi = np.zeros(L + 1)
    K[0] = K1
    for l in range(L):
        chi[l] = float(chi_parallel(act, C_W, K[l]))
        K[l + 1] = C_b + C_W * float(sigma2_mean(act, K[l]))
        k4[l + 1] = C_W ** 2 / ns[l] * float(sigma2_variance(act, K[l])) + chi[l] ** 2 * k4[l]
        d4 = float(sigma2_fourth_derivative_mean(act, K[l])) if k4[l] != 0 else 0.0
        dl[l + 1] = chi[l] * dl[l] + C_W / 8 * k4[l] * d4
    chi[L] = float(chi_parallel(act, C_W, K[L]))
    return LeadingOrder(ns, K, k4, dl, chi)


@dataclass(frozen=True)
class ReluMoments:
    """Exact one-input moments of a ReLU network (entry l ↔ Σ⁽ˡ⁾, l = 0 … L).

    Σ⁽ˡ⁾ = C_b + (C_W/n_l) Σ_j relu(z_j⁽ˡ⁾)² is the variance of z⁽ˡ⁺¹⁾ given the layers below
    (Σ⁽⁰⁾ = K⁽¹⁾); z⁽ˡ⁺¹⁾ | Σ⁽ˡ⁾ ~ N(0, Σ⁽ˡ⁾).

    Attributes:
      widths: [n_1 … n_L].
      E_Sigma, E_Sigma2: E Σ⁽ˡ⁾ and E (Σ⁽ˡ⁾)², shape (L+1,).
    """

    widths: np.ndarray
    E_Sigma: np.ndarray
    E_Sigma2: np.ndarray

    @property
    def Ez2(self) -> float:
        """E z⁽ᴸ⁺¹⁾² = E Σ⁽ᴸ⁾."""
        return float(self.E_Sigma[-1])

    @property
    def Ez4(self) -> float:
        """E z⁽ᴸ⁺¹⁾⁴ = 3 E (Σ⁽ᴸ⁾)²."""
        return 3 * float(self.E_Sigma2[-1])

    @property
    def ratio(self) -> float:
        """E z⁴/(E z²)² (= 3Π_l(1 + 5/n_l) at C_b = 0)."""
        return self.Ez4 / self.Ez2 ** 2

    @property
    def kappa4_lh(self) -> float:
        """κ4 = ⅓(E z⁴ − 3(E z²)²) = Var Σ⁽ᴸ⁾ of the output, exactly: the Les Houches normalisation
        (LH arXiv:2309.01592 §4.8), one third of the connected 4-point function G_c⁽⁴⁾(x,x,x,x)."""
        return float(self.E_Sigma2[-1] - self.E_Sigma[-1] ** 2)


def relu_moments(widths, *, C_W: float, C_b: float, K1: float, depth: int | None = None) -> ReluMoments:
    """Exact E Σ⁽ˡ⁾, E (Σ⁽ˡ⁾)² of a ReLU network at one input (docs/physics.md §4; conditional
    Gaussianity, LH arXiv:2309.01592 Lemma 4.4 and Prop. 5.2):

        E Σ⁽ˡ⁾ = C_b + (C_W/2) E Σ⁽ˡ⁻¹⁾,
        E (Σ⁽ˡ⁾)² = C_b² + C_b C_W E Σ⁽ˡ⁻¹⁾ + (C_W²/4)(1 + 5/n_l) E (Σ⁽ˡ⁻¹⁾)²,   Σ⁽⁰⁾ = K1.

    Arrays of shape (L+1,). InputError for bad widths/depth, C_W ≤ 0, C_b < 0 or K1 < 0.
    """
    ns = as_widths(widths, depth)
    _check_hyper(C_W, C_b)
    K1 = _check_K1(K1)
    L = len(ns)
    m1 = np.zeros(L + 1)
    m2 = np.zeros(L + 1)
    m1[0], m2[0] = K1, K1 ** 2
    for l in range(1, L + 1):
        m1[l] = C_b + C_W / 2 * m1[l - 1]
        m2[l] = C_b ** 2 + C_b * C_W * m1[l - 1] + C_W ** 2 / 4 * (1 + 5 / ns[l - 1]) * m2[l - 1]
    return ReluMoments(ns, m1, m2)


def relu_leading_ratio(widths, depth: int | None = None) -> float:
    """The leading-order E z⁴/(E z²)² = 3(1 + 5Σ_l 1/n_l) of a ReLU net at C_b = 0 (= 3(1 + 5L/n) at
    equal widths) — what LH arXiv:2309.01592 Thm 4.2 gives; compare :func:`relu_moments` for the exact
    3Π(1 + 5/n_l). InputError for bad widths/depth."""
    ns = as_widths(widths, depth)
    return 3 * (1 + 5 * float(np.sum(1.0 / ns)))


def deep_linear_g2(x, y, *, C_W: float, depth: int) -> float:
    """G2(x, y) = C_W^{L+1} x·y/n₀ of a deep linear net with L = ``depth`` hidden layers (L + 1 weight
    matrices, no biases), exact at any width (docs/physics.md §5; LH arXiv:2309.01592 eq. 45-49).

    ``x``, ``y``: vectors of shape (n₀,). InputError for shape mismatch, depth < 1 or C_W ≤ 0."""
    as_widths(1, depth)
    _check_hyper(C_W, 0.0)
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.shape != y.shape or x.ndim != 1:
        raise InputError(f"x and y must be vectors of one length n₀, got shapes {x.shape}, {y.shape}")
    return C_W ** (depth + 1) * float(x @ y) / x.size


def deep_linear_g4c(points, *, C_W: float, widths, depth: int | None = None) -> float:
    """Connected 4-point function of a deep linear net, exact at any widths (docs/physics.md §5):

        G4c(x1..x4) = [Π_{l=1}^{L}(1 + 2/n_l) − 1]·(G12 G34 + G13 G24 + G14 G23),

    with L hidden layers of widths n_1 … n_L (L + 1 weight matrices; §5's (1 + 2/n)^{L−1} counts §5's
    L weight matrices). ``points`` is (4, n₀). Source: LH arXiv:2309.01592 eq. 50-58; at one input
    G4c = 3 κ4 (``kappa4_lh``).

    Raises:
      InputError: points not of shape (4, n₀), bad widths/depth, C_W ≤ 0.
    """
    ns = as_widths(widths, depth)
    _check_hyper(C_W, 0.0)
    X = np.asarray(points, float)
    if X.ndim != 2 or X.shape[0] != 4:
        raise InputError(f"points must be an array (4, n₀), got shape {X.shape}")
    L = len(ns)
    G = C_W ** (L + 1) * (X @ X.T) / X.shape[1]
    pairs = G[0, 1] * G[2, 3] + G[0, 2] * G[1, 3] + G[0, 3] * G[1, 2]
    return float((math.prod(1 + 2 / n for n in ns) - 1) * pairs)
