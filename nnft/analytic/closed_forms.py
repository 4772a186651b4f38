"""Whole-theory closed forms of docs/physics.md (numpy/scipy only): G2 and the connected 4-point
function G4c = G_c⁽⁴⁾ of the shipped architectures, and the NNGP kernel maps of ReLU and erf.

Arguments shared by the functions here:
  points ``x``, ``y``, ``x1`` … ``x4``: (d,) vectors (scalars allowed for d = 1); ``d`` defaults to
    the length of the first point.
  ``sigma_w0`` (≥ 0, units 1/|x|), ``sigma_b0`` (≥ 0): first-layer weight/bias standard deviations;
  ``sigma_w1``: readout scale (readout-weight variance as in docs/physics.md §1, §2); ``N``: width
    (number of neurons); ``r`` = μ4/μ2² of the readout (3 for Gaussian, docs/physics.md §0);
  ``mass`` m > 0, ``cutoff`` Λ > 0 (units 1/|x|).
Every function returns a float (the kernel maps: an array of the broadcast shape). Conventions
(docs/physics.md §0): E(v) = exp(−σ_w0²|v|²/(2d)). "TASI eq. N" is arXiv:2408.00082.
Radial quadratures raise :class:`NeuronArgError` beyond ``_quad.MAX_PANELS`` panels.
"""

from __future__ import annotations

from nnft.errors import InputError

import math

import numpy as np
from scipy import special

from ._quad import checked_breaks, composite_nodes, sphere_average


def _vec(x) -> np.ndarray:
    return np.atleast_1d(np.asarray(x, dtype=float))


def _dim(d, x) -> int:
    return int(d) if d is not None else _vec(x).size


def _E(v, sigma_w0, d) -> float:
    """E(v) = exp(−σ_w0²|v|²/(2d)) (docs/physics.md §0)."""
    v = _vec(v)
    return math.exp(-sigma_w0 ** 2 * float(v @ v) / (2.0 * d))


def _pair_products(g, x1, x2, x3, x4) -> float:
    """g(12)g(34) + g(13)g(24) + g(14)g(23)."""
    return g(x1, x2) * g(x3, x4) + g(x1, x3) * g(x2, x4) + g(x1, x4) * g(x2, x3)


def _s123(x1, x2, x3, x4):
    x1, x2, x3, x4 = map(_vec, (x1, x2, x3, x4))
    return x1 + x2 - x3 - x4, x1 - x2 + x3 - x4, x1 - x2 - x3 + x4


# ----------------------------------------------------------------------------- Gauss-net, Cos-net

def gauss_net_g2(x, y, sigma_w0, sigma_w1, d=None) -> float:
    """Gauss-net G2 = (σ_w1²/2) E(x − y), exact at every N, independent of σ_b0 (docs/physics.md §1;
    TASI arXiv:2408.00082 eq. 62; NN-FT arXiv:2008.08601)."""
    d = _dim(d, x)
    return sigma_w1 ** 2 / 2.0 * _E(_vec(x) - _vec(y), sigma_w0, d)


def gauss_net_g4c(x1, x2, x3, x4, sigma_w0, sigma_w1, sigma_b0, N, d=None, r=3.0) -> float:
    """Gauss-net G4c (docs/physics.md §1; TASI arXiv:2408.00082 eq. 64 with the §10 erratum), exact in N:

    σ_w1⁴/(4N)[r e^{4σ_b0²} exp(σ_w0²/(2d)(|S|² − 2Σ|x_i|²)) − (E12E34 + E13E24 + E14E23)].
    """
    d = _dim(d, x1)
    xs = [_vec(x) for x in (x1, x2, x3, x4)]
    S = sum(xs)
    q = float(S @ S) - 2.0 * sum(float(x @ x) for x in xs)
    E = lambda a, b: _E(a - b, sigma_w0, d)
    return sigma_w1 ** 4 / (4.0 * N) * (r * math.exp(4.0 * sigma_b0 ** 2 + sigma_w0 ** 2 * q / (2.0 * d))
                                        - _pair_products(E, *xs))


def cos_net_g2(x, y, sigma_w0, sigma_w1, d=None) -> float:
    """Cos-net G2 = (σ_w1²/2) E(x − y) (docs/physics.md §2; TASI arXiv:2408.00082 eq. 70)."""
    return gauss_net_g2(x, y, sigma_w0, sigma_w1, d)


def cos_net_g4c(x1, x2, x3, x4, sigma_w0, sigma_w1, N, d=None, r=3.0) -> float:
    """Cos-net G4c = σ_w1⁴/N[(r/8)(E(s1)+E(s2)+E(s3)) − ¼(E12E34 + E13E24 + E14E23)]
    (docs/physics.md §2; TASI arXiv:2408.00082 eq. 71 with σ_b² → σ_w0², the §10 erratum); s1, s2, s3 =
    x1 ± x2 ∓ … the balanced sign sums of the four points."""
    d = _dim(d, x1)
    xs = [_vec(x) for x in (x1, x2, x3, x4)]
    E = lambda a, b: _E(a - b, sigma_w0, d)
    es = sum(_E(s, sigma_w0, d) for s in _s123(*xs))
    return sigma_w1 ** 4 / N * (r / 8.0 * es - 0.25 * _pair_products(E, *xs))


# ----------------------------------------------------------------------------- Scalar-net

def _ball_integral(r: float, mass: float, cutoff: float, d: int, power: float) -> float:
    """∫_{|p|<Λ} d^dp/(2π)^d e^{ip·s}/(p²+m²)^power, |s| = r, by radial Gauss–Legendre.

    = (2π)^{−d} |S^{d−1}| ∫_0^Λ ρ^{d−1} Ω_d(ρr)/(ρ²+m²)^power dρ, |S^{d−1}| = 2π^{d/2}/Γ(d/2).
    Graded panels (width ≤ max(m, ρ)) and ≤ π/r for the oscillation: relative error ~1e-13.
    """
    hmax = min(cutoff / 4.0, math.pi / max(r, 1e-300))
    rho, w = composite_nodes(checked_breaks("scalar_net", cutoff, mass, hmax))
    area = 2.0 * math.pi ** (d / 2.0) / math.gamma(d / 2.0)
    f = w * rho ** (d - 1) * (rho ** 2 + mass ** 2) ** (-power) * sphere_average(d, rho * r)
    return area / (2.0 * math.pi) ** d * float(np.sum(f))


def scalar_net_g2(x, y, mass, cutoff, d=None) -> float:
    """Scalar-net G2(x−y) = ∫_{|p|<Λ} d^dp/(2π)^d e^{ip·(x−y)}/(p²+m²) (docs/physics.md §3; TASI
    arXiv:2408.00082 eq. 72-74 with the §10 errata); independent of σ_w1 by the normalisation of §3.

    Position space G(r) = (2π)^{−d/2} r^{1−d/2} ∫_0^Λ p^{d/2} J_{d/2−1}(pr)/(p²+m²) dp, evaluated
    by radial quadrature (relative accuracy ~1e-12). G(0): d=1 arctan(Λ/m)/(πm),
    d=2 ln(1+Λ²/m²)/(4π), d=3 (Λ − m arctan(Λ/m))/(2π²).
    """
    d = _dim(d, x)
    s = _vec(x) - _vec(y)
    return _ball_integral(float(np.sqrt(s @ s)), mass, cutoff, d, 1.0)


def scalar_net_h(s, mass, cutoff, d=None) -> float:
    """H(s) = ∫_{|p|<Λ} d^dp/(2π)^d e^{ip·s}/(p²+m²)² for a (d,) separation s (docs/physics.md §3):
    the single-neuron 4-point term of :func:`scalar_net_g4c`. Radial quadrature (relative ~1e-12)."""
    d = _dim(d, s)
    s = _vec(s)
    return _ball_integral(float(np.sqrt(s @ s)), mass, cutoff, d, 2.0)


def scalar_net_g4c(x1, x2, x3, x4, mass, cutoff, N, d=None, r=3.0) -> float:
    """Scalar-net G4c = (1/N)[(r/2)V(H(s1)+H(s2)+H(s3)) − (G12G34 + G13G24 + G14G23)],
    V = vol(B_Λ^d)/(2π)^d, s1, s2, s3 the balanced sign sums of the points (docs/physics.md §3; TASI
    arXiv:2408.00082 eq. 72-74); independent of σ_w1 by the normalisation of §3."""
    d = _dim(d, x1)
    xs = [_vec(x) for x in (x1, x2, x3, x4)]
    V = math.pi ** (d / 2.0) * cutoff ** d / math.gamma(d / 2.0 + 1.0) / (2.0 * math.pi) ** d
    G = lambda a, b: scalar_net_g2(a, b, mass, cutoff, d)
    hs = sum(scalar_net_h(s, mass, cutoff, d) for s in _s123(*xs))
    return (r / 2.0 * V * hs - _pair_products(G, *xs)) / N


def free_scalar_g2(x, y, mass, d=None) -> float:
    """Free massive scalar propagator, no cutoff (docs/physics.md §3, Λ → ∞), d = 1, 2, 3:

    d=1 e^{−mr}/(2m); d=2 K0(mr)/(2π); d=3 e^{−mr}/(4πr) (infinite at r = 0 for d ≥ 2).

    Raises:
      InputError: d not in 1, 2, 3.
    """
    d = _dim(d, x)
    s = _vec(x) - _vec(y)
    r = float(np.sqrt(s @ s))
    if d == 1:
        return math.exp(-mass * r) / (2.0 * mass)
    if r == 0.0:
        return math.inf
    if d == 2:
        return float(special.k0(mass * r)) / (2.0 * math.pi)
    if d == 3:
        return math.exp(-mass * r) / (4.0 * math.pi * r)
    raise InputError(f"free_scalar_g2: d={d} not supported (d in 1, 2, 3)")


def rp_scalar_g2(x, y, mass, cutoff, d=None) -> float:
    """RP free scalar with a cutoff on spatial momentum only (docs/physics.md §8), time = component 0:

    G(τ, x⃗) = ∫_{|k|<Λ} d^{d−1}k/(2π)^{d−1} e^{ik·x⃗} e^{−ω_k|τ|}/(2ω_k), ω_k = sqrt(k²+m²);
    d = 1: e^{−m|τ|}/(2m) (cutoff unused). Radial quadrature for d ≥ 2 (arXiv:2112.04527 for the
    reflection-positive construction).
    """
    d = _dim(d, x)
    s = _vec(x) - _vec(y)
    tau = abs(float(s[0]))
    if d == 1:
        return math.exp(-mass * tau) / (2.0 * mass)
    n = d - 1
    r = float(np.sqrt(s[1:] @ s[1:]))
    hmax = min(cutoff / 4.0, math.pi / max(r, 1e-300), 2.0 / max(tau, 1e-300))
    rho, w = composite_nodes(checked_breaks("rp_scalar", cutoff, mass, hmax))
    om = np.sqrt(rho ** 2 + mass ** 2)
    area = 2.0 * math.pi ** (n / 2.0) / math.gamma(n / 2.0)
    f = w * rho ** (n - 1) * np.exp(-om * tau) / (2.0 * om) * sphere_average(n, rho * r)
    return area / (2.0 * math.pi) ** n * float(np.sum(f))


# ----------------------------------------------------------------------------- NNGP kernels

def relu_kernel(c11, c22, c12):
    """F_relu(K) = E[relu(u)relu(v)] = sqrt(K11K22)/(2π)[sin θ + (π−θ)cos θ], θ = arccos(K12/sqrt(K11K22))
    (docs/physics.md §4; LH arXiv:2309.01592 eq. 16; Cho & Saul 2009, J_1). K11, K22 ≥ 0 variances and
    K12 the covariance of (u, v), broadcast arrays or scalars; returns the broadcast shape (a float for
    scalars); 0 where K11K22 = 0."""
    c11, c22, c12 = np.broadcast_arrays(*(np.asarray(c, dtype=float) for c in (c11, c22, c12)))
    n = np.sqrt(c11 * c22)
    safe = np.where(n > 0, n, 1.0)
    th = np.arccos(np.clip(c12 / safe, -1.0, 1.0))
    out = np.where(n > 0, n / (2.0 * np.pi) * (np.sin(th) + (np.pi - th) * np.cos(th)), 0.0)
    return out[()] if out.ndim == 0 else out


def erf_kernel(c11, c22, c12):
    """F_erf(K) = E[erf(u)erf(v)] = (2/π) arcsin(2K12/sqrt((1+2K11)(1+2K22))) (docs/physics.md §4;
    Williams, NeurIPS 1997). Arguments as :func:`relu_kernel`; vectorised over broadcast arrays."""
    c11, c22, c12 = (np.asarray(c, dtype=float) for c in (c11, c22, c12))
    out = 2.0 / np.pi * np.arcsin(2.0 * c12 / np.sqrt((1.0 + 2.0 * c11) * (1.0 + 2.0 * c22)))
    return out[()] if np.ndim(out) == 0 else out


def relu_moment_22(c11, c22, c12):
    """E[relu(u)² relu(v)²] = K11K22/(2π) J_2(θ), J_2 = 3 sin θ cos θ + (π−θ)(1 + 2cos²θ)
    (Cho & Saul 2009 degree-2 arc-cosine kernel; θ = 0 gives E relu⁴ = 3K²/2, θ = π/2 gives K11K22/4).
    Arguments as :func:`relu_kernel`; vectorised over broadcast arrays; 0 where K11K22 = 0."""
    c11, c22, c12 = np.broadcast_arrays(*(np.asarray(c, dtype=float) for c in (c11, c22, c12)))
    n = np.sqrt(c11 * c22)
    safe = np.where(n > 0, n, 1.0)
    th = np.arccos(np.clip(c12 / safe, -1.0, 1.0))
    ct = np.cos(th)
    j2 = 3.0 * np.sin(th) * ct + (np.pi - th) * (1.0 + 2.0 * ct ** 2)
    out = np.where(n > 0, c11 * c22 / (2.0 * np.pi) * j2, 0.0)
    return out[()] if out.ndim == 0 else out
