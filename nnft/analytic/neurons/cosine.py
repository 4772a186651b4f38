"""Plane-wave neurons ψ = A F(w) cos(w·x + b), b ~ U[−π, π]: the cosine families.

Every family here shares the identity (TASI arXiv:2408.00082 eq. 65-66; docs/physics.md §2)

    M_K = A^K 2^{1−K} Σ_{ε∈{±1}^K, Σε=0, ε_1=+1} E_w[F(w)^K cos(w·s_ε)],   s_ε = Σ_k ε_k x_k,

(odd K: 0, since b → b + π flips ψ), so each family only supplies its "spectral average"
``_spectral(s, K)`` = E_w[F^K cos(w·s)] for the rows s of an (m, d) array:

* :class:`CosNet` -- F = 1, w Gaussian (closed form);
* :class:`CauchyNet` -- F = 1, d = 1, w Cauchy (closed form, reflection positive);
* :class:`ScalarNet`, :class:`ShapedNet` -- F = (|w|² + m²)^{−1/2}, isotropic w (radial quadrature);
* :class:`RPScalar` -- reflection-positive free scalar, Cauchy frequency given the momentum.
"""

from __future__ import annotations

import math

import numpy as np

from .._quad import GL_NODES, checked_breaks, composite_nodes, cos_product_terms, sphere_average
from .base import NeuronReference


class _CosFamily(NeuronReference):
    """ψ = A F(w) cos(w·x + b), b ~ U[−π, π]; subclasses give ``_spectral(s, K)`` = E_w[F^K cos(w·s)]
    (shape (m,) for s of shape (m, d))."""

    def _moment(self, points):
        k = points.shape[0]
        if k % 2:
            return 0.0  # b → b+π flips ψ (docs/physics.md §2)
        s = cos_product_terms(points)
        return self.amplitude ** k * 2.0 ** (1 - k) * float(np.sum(self._spectral(s, k)))


class CosNet(_CosFamily):
    """Cos-net neuron ψ = A cos(w·x + b), w ~ N(0, σ_w0²/d I): E_w cos(w·s) = exp(−σ_w0²|s|²/(2d)).

    TASI arXiv:2408.00082 eq. 68-71; docs/physics.md §2. Arguments: ``sigma_w0`` ≥ 0 (units 1/|x|),
    ``amplitude`` A (real, default 1). Closed form for every K ≤ 16 (accuracy 0); any d.
    """

    name = "cos_net"
    equation = "TASI eq. 68-71; docs/physics.md §2"
    max_order = 16

    def _spectral(self, s, k):
        return np.exp(-self.sigma_w0 ** 2 * np.sum(s * s, axis=1) / (2.0 * self.d))


class CauchyNet(_CosFamily):
    """d = 1 cosine neuron ψ = A cos(w t + b) with w ~ Cauchy(0, m): E cos(ws) = e^{−m|s|}.

    G2 ∝ e^{−m|t|}, reflection positive by construction (docs/physics.md §8; TASI arXiv:2408.00082
    eq. 65-67). Arguments: ``mass`` m > 0 (units 1/|t|), ``amplitude`` A (real, default 1). Closed
    form for K ≤ 16. Only d = 1 (else NeuronArgError).
    """

    name = "cauchy_net"
    equation = "docs/physics.md §8 (RP by construction, d = 1); TASI eq. 65-67"
    max_order = 16
    dims = (1, 1)

    def _spectral(self, s, k):
        return np.exp(-self.mass * np.abs(s[:, 0]))


class _RadialCosFamily(_CosFamily):
    """Isotropic w with F = (|w|² + m²)^{−1/2}: E_w[F^K cos(w·s)] = ∫ p(ρ)(ρ²+m²)^{−K/2} Ω_d(ρ|s|) dρ."""

    max_order = 6
    REL_ACC = 1e-10
    gl_nodes = GL_NODES

    def _radial(self) -> tuple[float, float]:
        """(ρ_max, ρ scale) of the radial density."""
        raise NotImplementedError

    def _density(self, rho):
        raise NotImplementedError

    def _spectral(self, s, k):
        r = np.sqrt(np.sum(s * s, axis=1))
        rmax, scale = self._radial()
        hmax = min(scale, math.pi / max(r.max(initial=0.0), 1e-300))
        rho, w = composite_nodes(checked_breaks(self.name, rmax, self.mass, hmax), self.gl_nodes)
        f = w * self._density(rho) * (rho ** 2 + self.mass ** 2) ** (-k / 2.0)
        return sphere_average(self.d, rho[None, :] * r[:, None]) @ f

    def _setup(self):
        # scale = max_K |A|^K E[F^K] bounds |M_K| and the integral of |integrand| of every term.
        ef = [abs(self.amplitude) ** k * self._spectral(np.zeros((1, self.d)), k)[0]
              for k in range(self.max_order + 1)]
        self._scale = max(ef)

    @property
    def accuracy(self) -> float:
        """Absolute accuracy of :meth:`moment`: REL_ACC × max_K |A|^K E[F^K] (verified in tests
        against a 2× refined quadrature)."""
        return self.REL_ACC * self._scale


class ScalarNet(_RadialCosFamily):
    """Scalar-net neuron ψ = A cos(w·x + b)/sqrt(|w|²+m²), w ~ Unif(B_Λ^d) (TASI arXiv:2408.00082
    eq. 72-73, with the square root of docs/physics.md §10).

    With A² = 2 vol(B_Λ^d)/((2π)^d σ_w1²) and w1 ~ N(0, σ_w1²/N): G2 = σ_w1² M2 is the cutoff free
    propagator of docs/physics.md §3. Radial quadrature, radial density d ρ^{d−1}/Λ^d on [0, Λ].
    Arguments: ``mass`` m > 0 and ``cutoff`` Λ > 0 (units 1/|x|), ``amplitude`` A (real, default 1).
    K ≤ 6; absolute accuracy :attr:`accuracy`. NeuronArgError if the quadrature would need more than
    ``_quad.MAX_PANELS`` (20 000) panels (points too far apart for Λ, or m ≪ Λ).
    """

    name = "scalar_net"
    equation = "TASI eq. 72-74 (with docs/physics.md §10 errata); docs/physics.md §3"

    def _radial(self):
        return self.cutoff, self.cutoff / 4.0

    def _density(self, rho):
        return self.d * rho ** (self.d - 1) / self.cutoff ** self.d


class ShapedNet(_RadialCosFamily):
    """Spectrum-shaped Euclidean input layer ψ = A cos(w·x+b)/sqrt(|w|²+m²), w ~ N(0, σ_w0²/d I).

    TASI arXiv:2408.00082 eq. 65-67 with F(w) = (|w|²+m²)^{−1/2} (arXiv:2112.04527; docs/physics.md
    §2); |w| = (σ_w0/√d) χ_d, integrated on [0, t(√d + 10)], t = σ_w0/√d. Arguments: ``sigma_w0`` > 0,
    ``mass`` m > 0 (units 1/|x|), ``amplitude`` A (real, default 1). K ≤ 6; absolute accuracy
    :attr:`accuracy`; NeuronArgError beyond ``_quad.MAX_PANELS`` (20 000) panels.
    """

    name = "shaped_net"
    equation = "TASI eq. 65-67; docs/physics.md §2 (general F-net)"

    def _radial(self):
        t = self.sigma_w0 / math.sqrt(self.d)
        return t * (math.sqrt(self.d) + 10.0), t / 2.0

    def _density(self, rho):
        t = self.sigma_w0 / math.sqrt(self.d)
        x = rho / t
        logc = (1 - self.d / 2.0) * math.log(2.0) - math.lgamma(self.d / 2.0)
        return np.exp(logc + (self.d - 1) * np.log(np.maximum(x, 1e-300)) - x * x / 2.0) / t


class RPScalar(_CosFamily):
    """Reflection-positive free scalar (docs/physics.md §8), time = x[0].

    k ~ Unif(B_Λ^{d−1}) (no k for d = 1), ω = sqrt(|k|²+m²), p0 | k ~ Cauchy(0, ω),
    ψ = A cos(p0 x0 + k·x⃗ + b)/sqrt(ω). E_{p0|k} cos(p0 s0 + k·s⃗) = e^{−ω|s0|} cos(k·s⃗), so
    E_w[F^K cos(w·s)] = E_k[ω^{−K/2} e^{−ω|s0|} Ω_{d−1}(|k||s⃗|)] (radial quadrature for d ≥ 2;
    closed form for d = 1, where ``cutoff`` is unused). With A² = vol(B_Λ^{d−1})/((2π)^{d−1}σ_w1²),
    G2 = σ_w1² M2 = ∫_{|k|<Λ} d^{d−1}k/(2π)^{d−1} e^{ik·x⃗} e^{−ω|τ|}/(2ω), the free propagator
    with a spatial cutoff (Osterwalder–Schrader reflection positive; arXiv:2112.04527).
    Arguments: ``mass`` m > 0, ``cutoff`` Λ > 0 (units 1/|x|), ``amplitude`` A (real, default 1).
    K ≤ 6; NeuronArgError beyond ``_quad.MAX_PANELS`` (20 000) panels.
    """

    name = "rp_scalar"
    equation = "docs/physics.md §8 (RP by construction)"
    max_order = 6
    REL_ACC = 1e-10
    gl_nodes = GL_NODES

    def _spectral(self, s, k):
        m, n = self.mass, self.d - 1
        t = np.abs(s[:, 0])
        if n == 0:
            return m ** (-k / 2.0) * np.exp(-m * t)
        r = np.sqrt(np.sum(s[:, 1:] ** 2, axis=1))
        hmax = min(self.cutoff / 4.0, math.pi / max(r.max(initial=0.0), 1e-300),
                   2.0 / max(t.max(initial=0.0), 1e-300))
        rho, w = composite_nodes(checked_breaks(self.name, self.cutoff, m, hmax), self.gl_nodes)
        om = np.sqrt(rho ** 2 + m ** 2)
        f = (w * n * rho ** (n - 1) / self.cutoff ** n * om ** (-k / 2.0))[None, :]
        return np.sum(f * np.exp(-om[None, :] * t[:, None])
                      * sphere_average(n, rho[None, :] * r[:, None]), axis=1)

    def _setup(self):
        self._scale = max(abs(self.amplitude) ** k * self._spectral(np.zeros((1, self.d)), k)[0]
                          for k in range(self.max_order + 1))

    @property
    def accuracy(self) -> float:
        """Absolute accuracy of :meth:`moment`: 0 for d = 1 (closed form); else
        REL_ACC × max_K |A|^K E[ω^{−K/2}]."""
        return 0.0 if self.d == 1 else self.REL_ACC * self._scale
