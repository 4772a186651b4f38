"""Momentum-space design of the d = 1 Scalar-net: the same free propagator from every α (Zhang, arXiv:2604.27050).

A plane-wave neuron A F(w) cos(w x + b) with frequency density q(w) has G̃(p) = π μ2 A² [q(p)F(p)² + q(−p)F(−p)²]/2
(docs/spectrum.md), so any q with F² ∝ G̃/q gives the same two-point function. The α-family

    q_α(w) = (w² + m²)^{−(1+α)} / Z_α   on |w| < Λ,      F_α(w)² = (w² + m²)^{α},      A² = Z_α/(π σ_w1²),

gives G̃(p) = θ(Λ − |p|)/(p² + m²) at every α (TASI arXiv:2408.00082 eq. 72-74 in d = 1), with
Z_α = ∫_{−Λ}^{Λ}(w² + m²)^{−(1+α)} dw. α = −1 is the uniform-momentum Scalar-net (shipped ``scalar_net``);
α = 0 draws the momenta from the propagator itself with a constant amplitude, which arXiv:2604.27050 finds
minimises the finite-width variance. Only the finite-N statistics (G_c⁽⁴⁾ ∝ 1/N, the variance of estimators)
depend on α.

In the spec grammar the momentum is an elementary transform of a uniform u ~ U(−U, U) (closed-form inverse CDF)
for α ∈ :data:`ALPHAS`:

    α = −1:  w = u,                 U = Λ
    α = −½:  w = m sinh(u),         U = asinh(Λ/m)
    α = 0:   w = m tan(u),          U = arctan(Λ/m)
    α = ½:   w = m u/sqrt(1 − u²),  U = Λ/sqrt(Λ² + m²)

(other α have no elementary inverse CDF; the grammar has no general sampler for q_α).
"""

from __future__ import annotations

import math

import numpy as np

from nnft.errors import InputError

#: the α with an elementary momentum transform (module docstring)
ALPHAS = (-1.0, -0.5, 0.0, 0.5)

_TRANSFORM = {  # α -> (U, w(U0), Z_α), spec expressions in m, Lambda
    -1.0: ("Lambda", "U0", "2 * Lambda"),
    -0.5: ("log(Lambda / m + sqrt((Lambda / m)**2 + 1))", "m * sinh(U0)",
           "2 * log(Lambda / m + sqrt((Lambda / m)**2 + 1))"),
    0.0: ("arctan(Lambda / m)", "m * tan(U0)", "2 * arctan(Lambda / m) / m"),
    0.5: ("Lambda / sqrt(Lambda**2 + m**2)", "m * U0 / sqrt(1 - U0**2)", "2 * Lambda / (m**2 * sqrt(Lambda**2 + m**2))"),
}


def _alpha(alpha) -> float:
    a = float(alpha)
    if a not in _TRANSFORM:
        raise InputError(f"alpha = {alpha!r}: the d = 1 design has elementary momentum transforms for alpha in "
                         f"{', '.join(f'{x:g}' for x in ALPHAS)} only (docs/spectrum.md)")
    return a


def design_spec(alpha: float, *, N: int = 50, mass: float = 1.0, cutoff: float = 5.0, sigma_w1: float = 1.0) -> dict:
    """The spec mapping (``nnft.from_dict``) of the d = 1 Scalar-net with momentum design α (module docstring):
    the shipped ``scalar_net_alpha0`` (``extends:``) with the constants U, Z, alpha and the transform W0 of α.

    Raises:
      InputError: α not in :data:`ALPHAS`.
    """
    a = _alpha(alpha)
    U, w, Z = _TRANSFORM[a]
    tag = {-1.0: "m1", -0.5: "m1/2", 0.0: "0", 0.5: "1/2"}[a]
    return {
        "extends": "scalar_net_alpha0", "name": f"scalar-net-alpha{tag}",
        "description": f"d = 1 Scalar-net with momenta from the propagator^(1+alpha), alpha = {a:g} "
                       "(arXiv:2604.27050): G2 = (1/pi) int_0^Lambda cos(pr)/(p^2+m^2) dp at every alpha",
        "dims": {"N": int(N)},
        "constants": {"m": float(mass), "Lambda": float(cutoff), "sigma_w1": float(sigma_w1), "alpha": a,
                      "U": U, "Z": Z},
        "define": {"W0": w},
    }


def scalar_net_design(alpha: float, **kw):
    """The :class:`~nnft.spec.models.Theory` of :func:`design_spec` (keywords ``N``, ``mass``, ``cutoff``,
    ``sigma_w1``): the d = 1 Scalar-net with momentum design α ∈ {−1, −½, 0, ½} (arXiv:2604.27050).

    Raises:
      InputError: α not in :data:`ALPHAS`.
    """
    from nnft.spec.load import from_dict
    return from_dict(design_spec(alpha, **kw))


def _z(alpha: float, mass: float, cutoff: float) -> float:
    from scipy import integrate
    return 2 * integrate.quad(lambda w: (w * w + mass * mass) ** (-(1 + alpha)), 0, cutoff)[0]


def spectral_average(alpha: float, s, k: int, *, mass: float = 1.0, cutoff: float = 5.0,
                     sigma_w1: float = 1.0) -> np.ndarray:
    """E_q[(A F(w))^k cos(w s)] per s (shape (n,)) for design α: the per-neuron building block, so that
    M_K = 2^{1−K} Σ_{ε∈{±1}^K, Σε=0, ε₁=+1} E_q[(AF)^K cos(w s_ε)] (TASI arXiv:2408.00082 eq. 65-66); adaptive
    quadrature (scipy), absolute accuracy ~1e-10 of the integrand's scale."""
    from scipy import integrate
    a = _alpha(alpha)
    z = _z(a, mass, cutoff)
    amp2 = z / (math.pi * sigma_w1 ** 2)

    def integrand(w):
        g = w * w + mass * mass
        return 2 * g ** (-(1 + a)) / z * (amp2 * g ** a) ** (k / 2.0)
    out = []
    for si in np.atleast_1d(np.asarray(s, dtype=np.float64)):
        if si == 0:
            out.append(integrate.quad(integrand, 0, cutoff, epsabs=1e-13, limit=400)[0])
        else:
            out.append(integrate.quad(integrand, 0, cutoff, weight="cos", wvar=abs(si), epsabs=1e-13, limit=400)[0])
    return np.asarray(out)


def moment(alpha: float, points, **kw) -> float:
    """Per-neuron moment M_K(x₁..x_K) = E[ψ(x₁)…ψ(x_K)] of design α (points (K,) or (K, 1); K even ≤ 8; 0 for odd K)."""
    x = np.asarray(points, dtype=np.float64).reshape(-1)
    k = len(x)
    if k % 2:
        return 0.0
    total = 0.0
    for bits in range(1 << (k - 1)):
        eps = np.array([1] + [1 if bits >> i & 1 else -1 for i in range(k - 1)])
        if eps.sum() == 0:
            total += float(spectral_average(alpha, [eps @ x], k, **kw)[0])
    return 2.0 ** (1 - k) * total
