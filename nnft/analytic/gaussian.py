"""Gaussian expectations of activations: the one home of every E_{N(0, K)}[…] nnft computes (numpy/scipy).

    expect1(f, K)                = E_{u ~ N(0, K)}[f(u)]
    expect2(f, g, K11, K22, K12) = E_{(u, v) ~ N(0, [[K11, K12], [K12, K22]])}[f(u) g(v)]

Both are elementwise over arrays of variances and used by the kernel maps (``nnft.graph.kernels``,
``nnft.analytic.activations``), the criticality analysis and the finite-width corrections.

**The rule.** In the standardised variable t = u/√K the integrand is f(√K t)φ(t): the Gaussian has
scale 1, but f's own features (a kink at u = 0, tanh's switch over |u| ≲ 1, poles at distance
~1 from the real axis) sit at |t| ≲ 1/√K — at K = 10⁴ a hundred times narrower than the Gaussian.
A fixed Gauss–Hermite rule cannot resolve both (numpy's 512-node rule even returns NaN weights).
So the line [−T, T] is cut into panels *graded* about the point where f has its features — width
1/√K there, doubling outwards up to width 1 — with a break exactly at that point (so a kink at 0
costs nothing), and each panel gets Gauss–Legendre. For f analytic in a strip of half-width ~1/√K
around the real axis this converges geometrically at every K (tanh at K = 10⁴ to ~1e-15).

The bivariate expectation is iterated in the Cholesky coordinates u = √K11 z₁,
v = √K22(ρz₁ + √(1−ρ²) z₂): the outer rule over z₁ is graded about 0 (f's features, and those of the
inner average), the inner rule over z₂ is graded about z₂* = −ρz₁/√(1−ρ²), where g's argument crosses
0, for each outer node separately. ρ = ±1 reduces to one dimension.

**Error control.** Every expectation is computed with two Gauss–Legendre orders on the same panels;
if they differ by more than ``tol`` relative to E|f g| (the scale of the integrand, so small kernels
keep their relative accuracy) the integral is refused (ValueError "did not converge") — a kink away
from 0, a function that grows too fast for Gaussian integrals (exp(u²)), or non-finite values. The
integrand must also be negligible beyond :data:`T_TAIL` standard deviations. Verified against scipy's
adaptive quadrature on a grid of (K11, K22, ρ) up to K = 10⁴ for every shipped activation
(tests/trust/test_deep_quadrature.py; ``bench/bench_quadrature.py`` for the full sweep). No
Gauss–Hermite shortcut: two Gauss–Hermite orders can agree on the same wrong value (a relu pair at
ρ → −1 lives in a wedge both rules miss). :func:`nodes` (scipy's stable ``roots_hermitenorm``) is
kept for callers that want a fixed rule.
"""

from __future__ import annotations

from nnft.errors import InputError

import math
from functools import lru_cache
from typing import Callable

import numpy as np
from scipy import special

from nnft.analytic._quad import gauss_legendre, panel_breaks

#: accuracy relative to E|f g| (E|f| in one dimension) the expectations guarantee (else they raise)
ACCURACY = 1e-7
#: standardised half-range of the rules (the N(0,1) mass beyond is < 1e-32)
T = 12.0
#: tail region whose integrand must be negligible (|t| > T_TAIL)
T_TAIL = 9.0
#: |integrand| in the tail relative to ∫|integrand| above which the integral is refused
TAIL_TOL = 1e-12
#: scale (in u) of an activation's features: tanh's poles sit at ±iπ/2, sigmoid's and softplus's at ±iπ
FEATURE = 1.0
#: widest panel (in t)
HMAX = 1.0
#: Gauss–Legendre nodes per panel: the result and the order it is checked against (on panels no wider
#: than their distance from the feature, 12 nodes converge to ~1e-15 for the shipped activations)
ORDER, CHECK_ORDER = 12, 8
#: most nodes of the one-dimensional fallback that resolves σ's own scale everywhere (cos, sin)
MAX_UNIFORM_NODES = 200_000


@lru_cache(maxsize=16)
def nodes(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Probabilists' Gauss–Hermite nodes and weights normalised to a N(0, 1) expectation (scipy's
    ``roots_hermitenorm``: stable at high order, unlike numpy's ``hermegauss``)."""
    z, w = special.roots_hermitenorm(n)
    return z, w / w.sum()


def _phi(t):
    return np.exp(-0.5 * t * t) / math.sqrt(2.0 * math.pi)


@lru_cache(maxsize=64)
def _graded(scale: float, extent: float) -> np.ndarray:
    """Break points on [−extent, extent], graded about 0: widths ≤ max(scale, distance), ≤ HMAX."""
    g = panel_breaks(extent, min(max(scale, 1e-12), HMAX), HMAX)
    return np.concatenate([-g[::-1], g[1:]])


def _rule(breaks: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss–Legendre nodes/weights on panels ``breaks`` (..., B) -> (..., (B−1)·n)."""
    t, w = gauss_legendre(n)
    a, b = breaks[..., :-1, None], breaks[..., 1:, None]
    shape = breaks.shape[:-1] + (-1,)
    return (a + (b - a) * t).reshape(shape), ((b - a) * w).reshape(shape)


def _check_K(K) -> np.ndarray:
    K = np.asarray(K, dtype=np.float64)
    if not np.all(np.isfinite(K)) or np.any(K < 0):
        raise InputError(f"variances K must be finite and ≥ 0, got {K}")
    return K


def _values(f: Callable, u: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.asarray(f(u), dtype=np.float64) * np.ones_like(u)


def _expect1_on(f, K, s, breaks, tol, what):
    """⟨f⟩ on the panels ``breaks`` (order ORDER, checked against CHECK_ORDER): (value, converged)."""
    out = None
    for n in (ORDER, CHECK_ORDER):
        t, w = _rule(breaks, n)
        dens = _phi(t)
        vals = _values(f, s[..., None] * t)
        with np.errstate(all="ignore"):
            terms = vals * (w * dens)
            total = np.sum(terms, axis=-1) / np.sum(w * dens)
        if out is None:
            if not np.all(np.isfinite(terms)):
                raise InputError(f"⟨{what}⟩_K is not finite for K = {np.max(K):.4g}: the function grows too fast "
                                 "for Gaussian integrals (e.g. exp(u²)) or overflows")
            tail = np.abs(t) > T_TAIL
            scale = np.sum(np.abs(terms), axis=-1)
            with np.errstate(all="ignore"):
                tail_density = np.max(np.abs(vals[..., tail]) * dens[tail], axis=-1)
            bad = (tail_density > TAIL_TOL * np.maximum(scale, 1e-300)) & (scale > 0)
            if np.any(bad):
                kb = float(np.max(K[bad]) if K.ndim else K)
                raise InputError(f"⟨{what}⟩_K does not converge at K = {kb:.4g}: the integrand is not negligible "
                                 f"beyond {T_TAIL} standard deviations — the function grows too fast for Gaussian "
                                 "integrals (e.g. exp(u²)); use a smaller K or a tamer function")
            out, norm = total, scale / np.sum(w * dens)
        else:
            ok = (np.abs(out - total) <= tol * np.maximum(np.abs(out), norm)) | (norm == 0)
            return out, bool(np.all(ok))
    raise AssertionError  # pragma: no cover


def expect1(f: Callable, K, *, tol: float = ACCURACY, what: str = "f") -> np.ndarray:
    """E[f(u)], u ~ N(0, K), elementwise over an array of variances K ≥ 0 (same shape out).

    Graded composite Gauss–Legendre in t = u/√K (module docstring), break at u = 0; if that does not
    converge (features away from 0, e.g. cos at large K), panels of width ~1/√K everywhere (at most
    :data:`MAX_UNIFORM_NODES` nodes). Accuracy ``tol`` relative to E|f| (the scale of the integrand).

    Raises:
      ValueError: K negative or non-finite; f not finite on the rule, not negligible beyond
        ``T_TAIL`` standard deviations, or the rule does not converge to ``tol``.
    """
    K = _check_K(K)
    s = np.sqrt(K)
    smax = float(np.max(s)) if s.size else 0.0
    out, ok = _expect1_on(f, K, s, _graded(FEATURE / smax if smax > 0 else HMAX, T), tol, what)
    if ok:
        return out
    h = min(HMAX, 0.5 * FEATURE / smax)
    if 2 * T / h * ORDER <= MAX_UNIFORM_NODES:
        out, ok = _expect1_on(f, K, s, np.linspace(-T, T, int(math.ceil(2 * T / h)) + 1), tol, what)
        if ok:
            return out
    raise InputError(f"Gaussian quadrature of ⟨{what}⟩_K did not converge to {tol:g} at K = {np.max(K):.4g} "
                     "(a kink away from u = 0, or a feature narrower than the rule resolves)")


def _tail_ok(t: np.ndarray, integrand: np.ndarray, w: np.ndarray) -> bool:
    """Whether |integrand| beyond T_TAIL standard deviations is negligible against ∫|integrand|
    (rows are separate integrals)."""
    tail = np.abs(t) > T_TAIL
    with np.errstate(all="ignore"):
        scale = np.sum(np.abs(integrand) * w, axis=-1)
        peak = np.max(np.where(tail, np.abs(integrand), 0.0), axis=-1)
    return bool(np.all((peak <= TAIL_TOL * np.maximum(scale, 1e-300)) | (scale == 0)))


def _expect2_one(f, g, s1: float, s2: float, rho: float, n: int, *, check: bool = False) -> tuple[float, float]:
    """(E f g, E|f g|) with the graded iterated rule of order n; with ``check``, NaN when the integrand
    is not finite or not negligible in the tails (the caller refuses it)."""
    if s1 == 0.0 or s2 == 0.0 or abs(rho) == 1.0:
        # one Gaussian variable: u = s1 t, v = ±s2 t (or a constant)
        t, w = _rule(_graded(FEATURE / max(s1, s2) if max(s1, s2) > 0 else HMAX, T), n)
        u, v = s1 * t, (1.0 if rho >= 0 else -1.0) * s2 * t
        dens = _phi(t)
        integrand = _values(f, u) * _values(g, v) * dens
        if check and not (np.all(np.isfinite(integrand)) and _tail_ok(t, integrand, w)):
            return math.nan, math.nan
        norm = np.sum(w * dens)
        return float(np.sum(integrand * w) / norm), float(np.sum(np.abs(integrand) * w) / norm)
    c = math.sqrt(max(0.0, 1.0 - rho * rho))
    # outer features at z1 = 0: f's (scale FEATURE/s1) and those of the inner average G(z1) = E g(s2(ρz1 + c z2)),
    # g's own scale FEATURE/(s2|ρ|), or for a kinked g the smoothing width c/|ρ| (relu pairs at ρ → −1)
    z1, w1 = _rule(_graded(min(FEATURE / s1, FEATURE / (s2 * abs(rho)) if rho else math.inf,
                               c / abs(rho) if rho else math.inf), T), n)
    # inner rule for each outer node: graded about the zero of g's argument, clipped to [−T, T]
    centre = np.clip(-rho * z1 / c, -T, T)
    inner = np.sort(np.clip(centre[:, None] + _graded(FEATURE / (s2 * c), 2 * T)[None, :], -T, T), axis=1)
    # drop the panels clipped to zero width at ±T (about half): each row keeps one −T, its interior
    # breaks and T, padded with T (zero-width panels) to a common length
    start = np.maximum(np.sum(inner <= -T, axis=1) - 1, 0)
    width = int(np.max(np.sum((inner > -T) & (inner < T), axis=1))) + 2
    idx = np.minimum(start[:, None] + np.arange(width)[None, :], inner.shape[1] - 1)
    inner = np.take_along_axis(inner, idx, axis=1)
    z2, w2 = _rule(inner, n)
    d2 = _phi(z2)
    inner_integrand = _values(g, s2 * (rho * z1[:, None] + c * z2)) * d2
    G = np.sum(inner_integrand * w2, axis=1) / np.sum(w2 * d2, axis=1)
    d1 = _phi(z1)
    fd1 = _values(f, s1 * z1) * d1
    outer_integrand = fd1 * G
    with np.errstate(all="ignore"):
        joint = np.abs(fd1)[:, None] * np.abs(inner_integrand)            # |f g| φ(z1)φ(z2)
        scale = float(np.sum(np.sum(joint * w2, axis=1) / np.sum(w2 * d2, axis=1) * w1) / np.sum(w1 * d1))
    if check:
        if not (np.all(np.isfinite(inner_integrand)) and np.all(np.isfinite(outer_integrand))):
            return math.nan, math.nan
        # the joint integrand must be negligible where either variable is in the tail
        tail = (np.abs(z1) > T_TAIL)[:, None] | (np.abs(z2) > T_TAIL)
        if scale > 0 and np.max(np.where(tail, joint, 0.0)) > TAIL_TOL * scale:
            return math.nan, math.nan
    return float(np.sum(outer_integrand * w1) / np.sum(w1 * d1)), scale


def expect2(f: Callable, g: Callable, K11, K22, K12, *, tol: float = ACCURACY, what: str = "f·g") -> np.ndarray:
    """E[f(u) g(v)] for (u, v) ~ N(0, [[K11, K12], [K12, K22]]), elementwise over broadcast arrays.

    Identical (K11, K22, K12) triples are computed once (a kernel matrix is symmetric). Each uses the
    graded iterated Gauss–Legendre rule of the module docstring, checked against a lower order to
    ``tol`` relative to E|f g|.

    Raises:
      ValueError: a variance negative or non-finite, |K12| > √(K11K22) beyond rounding, or the
        quadrature does not converge to ``tol`` (non-finite values, fast growth, a kink away from 0).
    """
    K11, K22, K12 = np.broadcast_arrays(*(_check_K(k) if i < 2 else np.asarray(k, dtype=np.float64)
                                          for i, k in enumerate((K11, K22, K12))))
    if not np.all(np.isfinite(K12)):
        raise InputError(f"covariances must be finite, got {K12}")
    shape = K11.shape
    s1, s2 = np.sqrt(K11).ravel(), np.sqrt(K22).ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.where(s1 * s2 > 0, K12.ravel() / (s1 * s2), 0.0)
    if np.any(np.abs(rho) > 1 + 1e-9):
        raise InputError("not a covariance: |K12| > √(K11 K22)")
    rho = np.clip(rho, -1.0, 1.0)
    triples, inverse = np.unique(np.stack([s1, s2, rho], axis=1), axis=0, return_inverse=True)
    out = np.empty(len(triples))
    for i, (a, b, r) in enumerate(triples):
        hi, scale = _expect2_one(f, g, a, b, r, ORDER, check=True)
        lo, _ = _expect2_one(f, g, a, b, r, CHECK_ORDER)
        if not (math.isfinite(hi) and abs(hi - lo) <= tol * max(abs(hi), scale)):
            raise InputError(f"Gaussian quadrature of E[{what}] did not converge to {tol:g} at K11 = {a ** 2:.4g}, "
                             f"K22 = {b ** 2:.4g}, ρ = {r:.6g} (the function grows too fast for Gaussian "
                             "integrals, is not finite, or has a kink away from 0)")
        out[i] = hi
    return out[inverse.ravel()].reshape(shape)


def expect2_converged(f: Callable, g: Callable, K11, K22, K12, tol: float = ACCURACY, **_) -> np.ndarray:
    """The same as :func:`expect2` (the name the kernel maps call through ``activations.py``); extra
    keyword arguments are ignored. Raises what :func:`expect2` raises."""
    return expect2(f, g, K11, K22, K12, tol=tol)
