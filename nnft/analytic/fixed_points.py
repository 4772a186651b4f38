"""Fixed points of the infinite-width layer maps (docs/physics.md §4): the variance K* of
K = C_b + C_W⟨σ²⟩_K (plain and residual) and the correlation c* of the two-input map at K*.

    c' = M(c) = [C_b + C_W E σ(u)σ(v)] / K*,   (u, v) ~ N(0, K*[[1, c], [c, 1]]),
    χ_c(c) = dM/dc = C_W E σ'(u)σ'(v)   (Price's theorem; χ_c(1) = χ⊥(K*)),

(Poole et al. arXiv 1606.05340 eq. 4-5; Schoenholz et al. arXiv 1611.01232 eq. 5, 9; the residual map
is Les Houches lectures eq. 26). Raises InputError for bad hyperparameters, ValueError for a Gaussian
integral that does not converge.
"""

from __future__ import annotations

from nnft.errors import InputError

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from nnft.analytic.activations import Activation, as_activation, is_relu
from nnft.analytic.susceptibility import sigma2_mean


@dataclass(frozen=True)
class FixedPoint:
    """The fixed point of K ↦ C_b + C_W⟨σ²⟩_K reached from K0.

    Attributes:
      K: K* (``inf`` if the iteration diverges; ``K0`` if every K is fixed).
      kind: ``"finite"`` (K* > 0), ``"zero"`` (K* = 0: C_b = 0 and σ(0) = 0, the signal dies),
        ``"every"`` (the map is the identity, e.g. ReLU at C_W = 2, C_b = 0: every K is a fixed point),
        ``"divergent"`` (K grows without bound from K0: no finite fixed point above it).
      converged: whether a fixed point was found (False for ``"divergent"``).
      message: a sentence saying which case occurred.
    """

    K: float
    kind: str
    converged: bool
    message: str
    C_W: float
    C_b: float


def _kmap(act: Activation, C_W: float, C_b: float):
    return lambda K: C_b + C_W * float(sigma2_mean(act, K))


def _check_hyper(C_W, C_b):
    if not (np.isfinite(C_W) and C_W > 0):
        raise InputError(f"C_W must be finite and > 0, got {C_W}")
    if not (np.isfinite(C_b) and C_b >= 0):
        raise InputError(f"C_b must be finite and ≥ 0, got {C_b}")


def fixed_point(activation, C_W: float, C_b: float, K0: float = 1.0, *, xtol: float = 1e-14,
                K_max: float = 1e7) -> FixedPoint:
    """K* of K = C_b + C_W⟨σ²⟩_K: the fixed point that the layer recursion reaches from K⁽¹⁾ = K0.

    For the usual activations the map is increasing in K, so the recursion moves monotonically to the
    nearest root of g(K) = C_b + C_W⟨σ²⟩_K − K in the direction of g(K0); that root is bracketed
    (geometric steps) and solved with Brent's method to ``xtol`` — iteration alone would crawl at
    criticality (tanh at C_W = 1: K⁽ˡ⁾ ≈ 1/(2l)). Cases: see :class:`FixedPoint`. ReLU is closed form:
    K* = C_b/(1 − C_W/2) for C_W < 2; at C_W = 2, C_b = 0 every K is fixed; otherwise K diverges.
    """
    act = as_activation(activation)
    _check_hyper(C_W, C_b)
    if not (np.isfinite(K0) and K0 >= 0):
        raise InputError(f"K0 must be finite and ≥ 0, got {K0}")
    C_W, C_b, K0 = float(C_W), float(C_b), float(K0)
    if is_relu(act):
        if abs(C_W - 2) <= 1e-12:      # e.g. a residual net's C_W/(1 − γ²) with γ² = 1/2 in floating point
            C_W = 2.0
        if C_W < 2:
            K = C_b / (1 - C_W / 2)
            if K == 0:
                return FixedPoint(0.0, "zero", True, "K* = 0: C_b = 0 and C_W < 2, the signal decays "
                                  "geometrically (ratio C_W/2)", C_W, C_b)
            return FixedPoint(K, "finite", True, f"K* = C_b/(1 − C_W/2) = {K:.6g}", C_W, C_b)
        if C_W == 2 and C_b == 0:
            return FixedPoint(K0, "every", True, "ReLU at C_W = 2, C_b = 0: every K is a fixed point "
                              "(the map is the identity); K* = K0 is returned", C_W, C_b)
        grow = "linearly (by C_b per layer)" if C_W == 2 else f"geometrically (ratio C_W/2 = {C_W / 2:.4g})"
        return FixedPoint(math.inf, "divergent", False, f"no finite fixed point: K grows {grow}", C_W, C_b)

    F = _kmap(act, C_W, C_b)

    def g(K):
        return F(K) - K

    g0 = g(K0)
    scale = max(1.0, K0)
    if abs(g0) <= xtol * scale:
        # K0 is (numerically) fixed; is the map the identity near it?
        if all(abs(g(k)) <= 1e-12 * max(1.0, k) for k in (0.5 * K0 + 1e-3, 2 * K0 + 1e-3)):
            return FixedPoint(K0, "every", True, "every K is a fixed point (the map is the identity); "
                              "K* = K0 is returned", C_W, C_b)
        return FixedPoint(K0, "finite" if K0 > 0 else "zero", True, "K0 is a fixed point", C_W, C_b)
    if g0 > 0:
        lo, hi = K0, max(2 * K0, K0 + 1e-3)
        while g(hi) > 0:
            lo, hi = hi, 2 * hi
            if hi > K_max:
                return FixedPoint(math.inf, "divergent", False, f"no fixed point below K = {K_max:.3g}: "
                                  "the variance grows without bound", C_W, C_b)
    else:
        hi, lo = K0, K0 / 2
        while lo > 1e-300 and g(lo) < 0:
            hi, lo = lo, lo / 2
            if lo < 1e-14 * max(1.0, K0):
                gz = g(0.0)
                if gz <= 0:  # C_b = 0 and σ(0) = 0: K* = 0, approached from above
                    return FixedPoint(0.0, "zero", True, "K* = 0: the variance flows to zero (C_b = 0, σ(0) = 0, "
                                      "χ∥(0) ≤ 1)", C_W, C_b)
                lo = 0.0
                break
    K = optimize.brentq(g, lo, hi, xtol=xtol * 1e-2, rtol=4 * np.finfo(float).eps, maxiter=500)
    if K <= 1e-12 * max(1.0, K0) and C_b == 0:
        return FixedPoint(0.0, "zero", True, "K* = 0: the variance flows to zero (C_b = 0, σ(0) = 0)", C_W, C_b)
    return FixedPoint(float(K), "finite", True, f"K* = {K:.10g}", C_W, C_b)


def residual_fixed_point(activation, C_W: float, C_b: float, gamma: float, K0: float = 1.0) -> FixedPoint:
    """K* of the residual recursion K = C_b + C_W⟨σ²⟩_K + γ²K (Les Houches lectures eq. 26).

    For γ² < 1 this is the plain fixed point of (C_W, C_b)/(1 − γ²); for γ² ≥ 1 the skip connection
    alone keeps K, so any C_b + C_W⟨σ²⟩_K > 0 makes it grow without bound.
    """
    g2 = float(gamma) ** 2
    if not math.isfinite(g2):
        raise InputError(f"γ must be finite, got {gamma}")
    if g2 == 0:
        return fixed_point(activation, C_W, C_b, K0)
    _check_hyper(C_W, C_b)
    if g2 >= 1:
        return FixedPoint(math.inf, "divergent", False, f"no finite fixed point: with γ² = {g2:.4g} ≥ 1 the skip "
                          "connection keeps K and every layer adds C_b + C_W⟨σ²⟩ > 0", C_W, C_b)
    fp = fixed_point(activation, C_W / (1 - g2), C_b / (1 - g2), K0)
    return FixedPoint(fp.K, fp.kind, fp.converged, fp.message + f" (residual γ² = {g2:.4g}: the plain map with "
                      "C_W and C_b divided by 1 − γ²)", C_W, C_b)


def correlation_map(activation, C_W: float, C_b: float, K: float, c, *, gamma: float = 0.0):
    """(M(c), χ_c(c)): the correlation of the next layer and its slope, for two inputs of variance K
    (the fixed point K*) and correlation c ∈ [−1, 1]:

        M(c) = [C_b + C_W E σ(u)σ(v) + γ² c K] / K,   χ_c(c) = C_W E σ'(u)σ'(v) + γ²,
        (u, v) ~ N(0, K [[1, c], [c, 1]])

    (Poole et al. arXiv 1606.05340 eq. 4-5; Schoenholz et al. arXiv 1611.01232 eq. 9). Scalars or
    arrays of c; closed forms where the activation has them, else ``nnft.analytic.gaussian.expect2``.
    """
    act = as_activation(activation)
    c = np.clip(np.asarray(c, dtype=np.float64), -1.0, 1.0)
    K = float(K)
    g2 = float(gamma) ** 2
    F, dF = act.maps(K, K, c * K)
    return (C_b + C_W * np.asarray(F) + g2 * c * K) / K, C_W * np.asarray(dF) + g2


def correlation_fixed_point(activation, C_W: float, C_b: float, K: float, *, gamma: float = 0.0,
                            c0: float = 0.0, xtol: float = 1e-13) -> tuple[float, float]:
    """(c*, χ_c(c*)): the fixed point of the correlation map :func:`correlation_map` at variance K that
    the layer recursion reaches from correlation ``c0`` (default 0: orthogonal inputs).

    M is increasing in c, so from c0 the recursion moves monotonically to the nearest root of
    h(c) = M(c) − c in the direction of h(c0); it is bracketed (towards 1 on the points 1 − 2⁻ᵏ, since in
    the chaotic phase h < 0 just below the unstable c = 1) and solved with Brent's method. Returns
    (1, χ⊥) when no root below 1 is resolved (the ordered and critical phases: c* = 1).

    Source: Poole et al. arXiv 1606.05340 §3 (c* < 1 in the chaotic phase); Schoenholz et al.
    arXiv 1611.01232 eq. 9 (ξ_c = −1/ln χ_c(c*)).
    Raises ValueError for a bad activation or a Gaussian integral that does not converge.
    """
    if not (math.isfinite(K) and K > 0):
        raise InputError(f"the correlation map needs a finite variance K > 0, got {K}")
    if not -1.0 <= c0 < 1.0:
        raise InputError(f"c0 must be in [−1, 1), got {c0}")

    def h(c):
        return float(correlation_map(activation, C_W, C_b, K, c, gamma=gamma)[0]) - c

    h0 = h(c0)
    if h0 == 0.0:
        root = c0
    elif h0 > 0:
        grid = [c for c in np.linspace(c0, 1.0, 17)[1:-1]] + [1.0 - 2.0 ** -k for k in range(5, 45)]
        lo, root = c0, None
        for c in sorted(c for c in grid if c > c0):
            if h(c) < 0:
                root = optimize.brentq(h, lo, c, xtol=xtol, rtol=4 * np.finfo(float).eps, maxiter=500)
                break
            lo = c
        if root is None:              # M(c) ≥ c up to 1 − 2⁻⁴⁴: c = 1 attracts (ordered or critical)
            root = 1.0
    else:
        hi, root = c0, None
        for c in np.linspace(c0, -1.0, 9)[1:]:
            if h(c) >= 0:
                root = optimize.brentq(h, c, hi, xtol=xtol, rtol=4 * np.finfo(float).eps, maxiter=500)
                break
            hi = c
        if root is None:  # pragma: no cover - M(−1) ≥ −1 for any correlation map
            root = -1.0
    chi = float(correlation_map(activation, C_W, C_b, K, root, gamma=gamma)[1])
    return float(root), chi
