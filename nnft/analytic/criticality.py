"""Criticality of deep fully-connected networks at infinite width (docs/physics.md §4).

Hanin's indexing: z⁽¹⁾ = W⁽¹⁾x + b⁽¹⁾, z⁽ˡ⁺¹⁾ = W⁽ˡ⁺¹⁾σ(z⁽ˡ⁾) + b⁽ˡ⁺¹⁾, W⁽ˡ⁺¹⁾ ~ N(0, C_W/n_l),
b ~ N(0, C_b). At one input the infinite-width variance obeys

    K⁽ˡ⁺¹⁾ = C_b + C_W ⟨σ²⟩_{K⁽ˡ⁾},        ⟨f⟩_K := E_{u ~ N(0, K)} f(u),

and the two susceptibilities (derivatives of the single- and two-input maps at coincident inputs) are

    χ∥(K) = C_W ⟨σ'² + σσ''⟩_K = d K⁽ˡ⁺¹⁾/d K⁽ˡ⁾,     χ⊥(K) = C_W ⟨σ'²⟩_K.

At the fixed point K* = C_b + C_W⟨σ²⟩_{K*} two inputs of variance K* and correlation c map to

    c' = M(c) = [C_b + C_W E σ(u)σ(v)] / K*,   (u, v) ~ N(0, K*[[1, c], [c, 1]]),
    χ_c(c) = dM/dc = C_W E σ'(u)σ'(v)   (Price's theorem; χ_c(1) = χ⊥(K*)),

(Poole et al. arXiv 1606.05340 eq. 4-5; Schoenholz et al. arXiv 1611.01232 eq. 5, 9). c = 1 is always
a fixed point of M: stable (ordered phase) iff χ⊥(K*) < 1, unstable (chaotic) iff χ⊥(K*) > 1, critical
at χ⊥(K*) = 1. ξ_q = −1/ln χ∥(K*) and ξ_c = −1/ln χ_c(c*) at the *stable* correlation fixed point c*:
c* = 1 in the ordered phase (ξ_c = −1/ln χ⊥(K*); the LH eq. 43 erratum: ξ_c⁻¹ = −ln[…]), and c* < 1 in
the chaotic phase (:func:`correlation_fixed_point`) — never χ⊥(K*) > 1, which would give a negative
"depth".
Known critical points at C_b = 0: ReLU C_W = 2 (every K is then a fixed point), tanh C_W = 1 (K* = 0,
K⁽ˡ⁾ ≈ 1/(2l)), erf C_W = π/4 (K* = 0; χ⊥(0) = C_W σ'(0)² = 4C_W/π).

Activations: a registry name (``"tanh"``), an :class:`~nnft.analytic.activations.Activation`, or a
tuple ``(f, df, d2f)`` of numpy callables (assumed smooth; pass an ``Activation(..., smooth=False)``
for a kink at u = 0). Gaussian expectations are those of ``nnft.analytic.gaussian`` (graded
Gauss–Legendre, ~1e-13 at any K ≤ 10⁴; the same rule as the kernel maps); ReLU uses closed forms. An
activation whose Gaussian integrals do not converge (e.g. exp(u²), or exp(u) at very large K) raises
ValueError.
"""

from __future__ import annotations

from nnft.errors import InputError

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import integrate, optimize

from nnft.analytic.activations import ACTIVATIONS, Activation
from nnft.analytic.gaussian import _check_K, expect1

__all__ = [
    "as_activation", "gaussian_expect", "sigma2_mean", "chi_parallel", "chi_perp", "FixedPoint",
    "fixed_point", "residual_fixed_point", "correlation_map", "correlation_fixed_point", "Criticality", "criticality", "correlation_depths", "critical_line", "PhaseDiagram",
    "phase_diagram",
]

#: tolerance deciding χ⊥(K*) = 1 (critical) in :func:`criticality`
CRITICAL_TOL = 1e-9


# ---------------------------------------------------------------------------------------------------
# activations and Gaussian expectations

def as_activation(activation) -> Activation:
    """An :class:`Activation` from a registry name, an Activation, or a tuple ``(f, df, d2f)``."""
    if isinstance(activation, Activation):
        return activation
    if isinstance(activation, str):
        try:
            return ACTIVATIONS[activation]
        except KeyError:
            raise InputError(f"unknown activation {activation!r}; known: {', '.join(ACTIVATIONS)}, "
                             "or pass (f, df, d2f) callables") from None
    if isinstance(activation, (tuple, list)) and len(activation) == 3 and all(callable(g) for g in activation):
        f, df, d2f = activation
        return Activation(getattr(f, "__name__", "custom"), f, df, d2f)
    if callable(activation):
        raise InputError("a bare callable has no derivatives: pass (f, df, d2f) or an Activation")
    raise InputError(f"cannot interpret {activation!r} as an activation")


def _is_relu(act: Activation) -> bool:
    return act is ACTIVATIONS.get("relu")


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
    if _is_relu(act):
        return K / 2
    return gaussian_expect(lambda u: act.f(u) ** 2, K, smooth=act.smooth, what="σ²")


def chi_parallel(activation, C_W, K) -> np.ndarray:
    """χ∥(K) = C_W⟨σ'² + σσ''⟩_K (= dK⁽ˡ⁺¹⁾/dK⁽ˡ⁾; ReLU: C_W/2)."""
    act = as_activation(activation)
    K = _check_K(K)
    if _is_relu(act):
        return C_W / 2 * np.ones_like(K)
    return C_W * gaussian_expect(lambda u: act.df(u) ** 2 + act.f(u) * act.d2f(u), K, smooth=act.smooth,
                                 what="σ'² + σσ''")


def chi_perp(activation, C_W, K) -> np.ndarray:
    """χ⊥(K) = C_W⟨σ'²⟩_K (ReLU: C_W/2; erf: (4C_W/π)/√(1 + 4K))."""
    act = as_activation(activation)
    K = _check_K(K)
    if _is_relu(act):
        return C_W / 2 * np.ones_like(K)
    return C_W * gaussian_expect(lambda u: act.df(u) ** 2, K, smooth=act.smooth, what="σ'²")


# ---------------------------------------------------------------------------------------------------
# fixed points

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
    if _is_relu(act):
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


# ---------------------------------------------------------------------------------------------------
# phase classification

@dataclass(frozen=True)
class Criticality:
    """Fixed point, susceptibilities, depths and phase at (C_W, C_b).

    Attributes:
      fixed: the :class:`FixedPoint`.
      chi_parallel, chi_perp: χ∥(K*), χ⊥(K*) (at a divergent K* the large-K limit for ReLU-like maps).
      xi_q: −1/ln χ∥(K*) (``inf`` at χ∥ = 1).
      xi_c: −1/ln χ_c(c*), the depth over which correlations approach their stable fixed point c*
        (``inf`` at criticality; NaN when there is no finite K* and so no correlation map).
      phase: ``"ordered"`` (χ⊥ < 1), ``"chaotic"`` (χ⊥ > 1) or ``"critical"`` (|χ⊥ − 1| ≤ tol).
      c_star: the stable correlation fixed point: 1 in the ordered and critical phases, < 1 in the
        chaotic phase (Poole et al. arXiv 1606.05340), NaN without a finite K* > 0.
      chi_c: χ_c(c*) = C_W E σ'(u)σ'(v) (+ γ²) at (K*, c*): χ⊥ when c* = 1.
      note: why c* or ξ_c is not available, else "".
    """

    fixed: FixedPoint
    chi_parallel: float
    chi_perp: float
    xi_q: float
    xi_c: float
    phase: str
    c_star: float = 1.0
    chi_c: float = math.nan
    note: str = ""


def _depth(chi: float) -> float:
    if chi <= 0:
        return 0.0
    lg = math.log(chi)
    return math.inf if lg == 0 else -1.0 / lg


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


def criticality(activation, C_W: float, C_b: float, K0: float = 1.0, *, tol: float = CRITICAL_TOL,
                gamma: float = 0.0) -> Criticality:
    """Fixed point, χ∥, χ⊥, ξ_q, ξ_c and the phase (ordered / chaotic / critical) at (C_W, C_b).

    ``gamma``: residual strength γ (z⁽ˡ⁾ = Wσ(z⁽ˡ⁻¹⁾) + b + γz⁽ˡ⁻¹⁾): the map gains γ²K, so both
    susceptibilities gain γ² (χ∥ = C_W⟨σ'² + σσ''⟩ + γ², χ⊥ = C_W⟨σ'²⟩ + γ²) and K* is
    :func:`residual_fixed_point`.
    """
    act = as_activation(activation)
    fp = residual_fixed_point(act, C_W, C_b, gamma, K0)
    g2 = float(gamma) ** 2
    if fp.kind == "divergent":
        Kc = 1e6 if not _is_relu(act) else 1.0   # ReLU χ's do not depend on K
        try:
            cpar, cperp = float(chi_parallel(act, C_W, Kc)) + g2, float(chi_perp(act, C_W, Kc)) + g2
        except ValueError:
            cpar = cperp = math.inf
    else:
        cpar, cperp = float(chi_parallel(act, C_W, fp.K)) + g2, float(chi_perp(act, C_W, fp.K)) + g2
    if abs(cperp - 1) <= tol:
        phase = "critical"
    else:
        phase = "ordered" if cperp < 1 else "chaotic"
    if phase != "chaotic":
        return Criticality(fp, cpar, cperp, _depth(cpar), _depth(cperp), phase, 1.0, cperp)
    if fp.kind not in ("finite", "every") or not fp.K > 0:
        return Criticality(fp, cpar, cperp, _depth(cpar), math.nan, phase, math.nan, math.nan,
                           f"no finite K* > 0 ({fp.message}): the correlation map, c* and ξ_c are not defined")
    c_star, chi_c = correlation_fixed_point(act, C_W, C_b, fp.K, gamma=gamma)
    return Criticality(fp, cpar, cperp, _depth(cpar), _depth(chi_c), phase, c_star, chi_c)


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


def correlation_depths(activation, C_W: float, C_b: float, K0: float = 1.0) -> tuple[float, float]:
    """(ξ_q, ξ_c) = (−1/ln χ∥(K*), −1/ln χ_c(c*)) — see :class:`Criticality` (c* = 1 unless chaotic)."""
    c = criticality(activation, C_W, C_b, K0)
    return c.xi_q, c.xi_c


def critical_line(activation, C_b_values, *, C_W_bracket=(1e-3, 1e3), K0: float = 1.0,
                  xtol: float = 1e-12) -> np.ndarray:
    """C_W on the critical line χ⊥(K*(C_W, C_b)) = 1 for each C_b (NaN where there is no crossing in
    ``C_W_bracket``). ReLU: C_W = 2 for every C_b (for C_b > 0 K* diverges linearly there)."""
    act = as_activation(activation)
    cbs = np.atleast_1d(np.asarray(C_b_values, dtype=np.float64))
    if np.any(~np.isfinite(cbs)) or np.any(cbs < 0):
        raise InputError(f"C_b values must be finite and ≥ 0, got {C_b_values}")
    out = np.full(cbs.shape, np.nan)
    if _is_relu(act):
        out[:] = 2.0
        return out.reshape(np.shape(C_b_values))

    for i, cb in enumerate(cbs):
        def h(cw, cb=cb):
            fp = fixed_point(act, cw, cb, K0)
            if fp.kind == "divergent":
                return 1.0
            return float(chi_perp(act, cw, fp.K)) - 1.0

        a, b = C_W_bracket
        ha, hb = h(a), h(b)
        if ha * hb > 0:
            continue
        root = optimize.brentq(h, a, b, xtol=xtol, rtol=4 * np.finfo(float).eps, maxiter=500)
        # At C_b = 0 with σ(0) = 0 the transition is where K* = 0 loses stability: χ⊥(0) = C_W σ'(0)² = 1.
        # On the chaotic side χ⊥(K*) − 1 = O((C_W − C_W*)²) for odd σ (tanh, erf), so the root is flat and
        # Brent's method only gets it to ~1e-8; use the exact value when it is the root found.
        if cb == 0 and float(act.f(np.zeros(1))[0]) == 0:
            s0 = float(act.df(np.zeros(1))[0]) ** 2
            if s0 > 0 and abs(1 / s0 - root) <= 1e-5 * root:
                root = 1 / s0
        out[i] = root
    return out.reshape(np.shape(C_b_values))


@dataclass(frozen=True)
class PhaseDiagram:
    """Arrays on a (C_b, C_W) grid (axis 0: C_b, axis 1: C_W) for plotting.

    Attributes:
      C_b, C_W: the grid vectors.
      K: K* (inf where divergent), chi_parallel, chi_perp, xi_q, xi_c, c_star: as in :class:`Criticality`.
      phase: integer codes −1 ordered, 0 critical, +1 chaotic.
      critical_C_W: the critical line C_W(C_b) (:func:`critical_line`).
    """

    C_b: np.ndarray
    C_W: np.ndarray
    K: np.ndarray
    chi_parallel: np.ndarray
    chi_perp: np.ndarray
    xi_q: np.ndarray
    xi_c: np.ndarray
    phase: np.ndarray
    critical_C_W: np.ndarray
    c_star: np.ndarray | None = None


def phase_diagram(activation, C_b_grid, C_W_grid, K0: float = 1.0) -> PhaseDiagram:
    """:func:`criticality` on every (C_b, C_W) of the grid plus the critical line."""
    act = as_activation(activation)
    cbs = np.asarray(C_b_grid, dtype=np.float64).ravel()
    cws = np.asarray(C_W_grid, dtype=np.float64).ravel()
    shape = (len(cbs), len(cws))
    arrs = {k: np.empty(shape) for k in ("K", "chi_parallel", "chi_perp", "xi_q", "xi_c", "c_star")}
    phase = np.empty(shape, dtype=int)
    code = {"ordered": -1, "critical": 0, "chaotic": 1}
    for i, cb in enumerate(cbs):
        for j, cw in enumerate(cws):
            c = criticality(act, cw, cb, K0)
            arrs["K"][i, j] = c.fixed.K
            arrs["chi_parallel"][i, j] = c.chi_parallel
            arrs["chi_perp"][i, j] = c.chi_perp
            arrs["xi_q"][i, j] = c.xi_q
            arrs["xi_c"][i, j] = c.xi_c
            arrs["c_star"][i, j] = c.c_star
            phase[i, j] = code[c.phase]
    return PhaseDiagram(cbs, cws, phase=phase, critical_C_W=critical_line(act, cbs, K0=K0), **arrs)
