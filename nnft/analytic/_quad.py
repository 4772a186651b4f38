"""Numerical building blocks shared by the analytic references (numpy/scipy only).

* :func:`balanced_sign_vectors` -- the sign vectors ε ∈ {±1}^K with Σε = 0, one per {ε, −ε} pair.
* :func:`sphere_average` -- Ω_n(z) = average of e^{i z û·ê} over the unit sphere S^{n−1}.
* :func:`panel_breaks`, :func:`checked_breaks`, :func:`composite_nodes` -- composite Gauss–Legendre
  on graded panels for radial integrals ∫_0^R f(ρ) Ω_n(ρ r) dρ (refused, with :class:`NeuronArgError`,
  beyond :data:`MAX_PANELS` panels).
* :func:`halfnormal_moment` -- E[(μ + sZ)_+^a], Z ~ N(0, 1) (truncated-normal moments).
"""

from __future__ import annotations

import itertools
import math
from functools import lru_cache

import numpy as np
from scipy import special

from nnft.errors import NeuronArgError

#: Gauss–Legendre nodes per panel (radial quadrature)
GL_NODES = 20

#: most quadrature panels one radial integral may use (× GL_NODES nodes × point pairs, in memory)
MAX_PANELS = 20_000


@lru_cache(maxsize=None)
def gauss_legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Legendre nodes and weights on [0, 1], each of shape (n,) (cached; exact for polynomials
    of degree ≤ 2n − 1)."""
    t, w = np.polynomial.legendre.leggauss(n)
    return (t + 1.0) / 2.0, w / 2.0


@lru_cache(maxsize=None)
def balanced_sign_vectors(k: int) -> np.ndarray:
    """Rows ε ∈ {±1}^k with Σε = 0 and ε_0 = +1 (one representative of each {ε, −ε} pair).

    Shape (C(k−1, k/2−1), k); empty (0, k) for odd k.
    """
    if k % 2 or k == 0:
        return np.zeros((0, k))
    rows = []
    for plus in itertools.combinations(range(1, k), k // 2 - 1):
        e = -np.ones(k)
        e[0] = 1.0
        e[list(plus)] = 1.0
        rows.append(e)
    return np.array(rows)


def cos_product_terms(points: np.ndarray) -> np.ndarray:
    """The vectors s_ε = Σ_k ε_k x_k for the balanced ε of :func:`balanced_sign_vectors`: shape
    (C(K−1, K/2−1), d) for ``points`` of shape (K, d) (empty for odd K).

    For any neuron ψ = A F(w) cos(w·x + b), b ~ U[−π, π] (TASI arXiv:2408.00082 eq. 65-66):
    M_K = A^K 2^{1−K} Σ_{these ε} E_w[F(w)^K cos(w·s_ε)]  (zero for odd K).
    """
    return balanced_sign_vectors(points.shape[0]) @ points


def sphere_average(n: int, z: np.ndarray) -> np.ndarray:
    """Ω_n(z) = E_{û ~ Unif(S^{n−1})}[cos(z û_1)] = Γ(n/2) (2/z)^{n/2−1} J_{n/2−1}(z); Ω_n(0) = 1.

    n = 1: cos z; n = 2: J0(z); n = 3: sin z / z.
    """
    z = np.asarray(z, dtype=float)
    if n == 1:
        return np.cos(z)
    if n == 2:
        return special.j0(z)
    if n == 3:
        return np.sinc(z / np.pi)
    nu = n / 2.0 - 1.0
    out = np.ones_like(z)
    nz = np.abs(z) > 1e-300
    zz = np.abs(z[nz])
    out[nz] = math.gamma(n / 2.0) * (2.0 / zz) ** nu * special.jv(nu, zz)
    small = nz & (np.abs(z) < 1e-6)  # series, avoids 0·∞ for tiny z
    out[small] = 1.0 - z[small] ** 2 / (2.0 * n)
    return out


def panel_breaks(rmax: float, scale: float, hmax: float) -> np.ndarray:
    """Panel end points on [0, rmax]: width ≤ hmax, and ≤ max(scale, a) for a panel starting at a.

    ``scale`` is the distance of the nearest complex singularity of the integrand from the real axis
    (the mass m for (ρ²+m²)^{−p}); graded panels keep every panel at ≤ 1 its own distance from it,
    so Gauss–Legendre converges geometrically on each panel. ``hmax`` resolves oscillation/decay.
    """
    if rmax <= 0:
        return np.array([0.0, 0.0])
    out = [0.0]
    a = 0.0
    while a < rmax:
        h = min(hmax, max(scale, a))
        a = min(rmax, a + h)
        out.append(a)
    return np.array(out)


def panel_count(rmax: float, scale: float, hmax: float) -> float:
    """An upper bound on the number of panels :func:`panel_breaks` makes (checked before any array
    is built): geometric growth from ``scale`` up to ``hmax``, then steps of ``hmax``; ``inf`` for
    non-finite or non-positive ``scale``/``hmax``."""
    if not rmax > 0:
        return 1.0
    if not (math.isfinite(rmax) and math.isfinite(hmax) and hmax > 0 and scale > 0):
        return math.inf
    grow = math.log2(max(min(hmax, rmax) / scale, 1.0)) + 2.0
    return grow + rmax / hmax + 1.0


def checked_breaks(name: str, rmax: float, scale: float, hmax: float) -> np.ndarray:
    """``panel_breaks(rmax, scale, hmax)`` after checking the panel count against :data:`MAX_PANELS`.

    ``name`` (a reference family, e.g. ``"scalar_net"``) prefixes the error message.

    Raises:
      NeuronArgError: more than MAX_PANELS panels would be needed (arguments or point distances too
        large or too small for the quadrature).
    """
    n = panel_count(rmax, scale, hmax)
    if n > MAX_PANELS:
        raise NeuronArgError(f"{name}: the radial quadrature would need ~{n:.3g} panels (at most {MAX_PANELS}): "
                             f"the arguments or the distances between points are too large or too small for it "
                             f"(integration range {rmax:.3g}, oscillation/decay scale {hmax:.3g}, singularity "
                             f"distance {scale:.3g})")
    return panel_breaks(rmax, scale, hmax)


def composite_nodes(breaks: np.ndarray, n: int = GL_NODES) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss–Legendre nodes/weights on the panels ``breaks`` (shape (P+1,)): two arrays of
    shape (P·n,), ``n`` nodes per panel."""
    t, w = gauss_legendre(n)
    a, b = breaks[:-1, None], breaks[1:, None]
    return (a + (b - a) * t).ravel(), ((b - a) * w).ravel()


def halfnormal_moment(a: int, mu: np.ndarray, s: np.ndarray | float) -> np.ndarray:
    """E[(μ + sZ)_+^a], Z ~ N(0, 1), s > 0, vectorised over μ.

    Uses E[Z^j; Z > c] = c^{j−1}φ(c) + (j−1)E[Z^{j−2}; Z > c], c = −μ/s.
    """
    mu = np.asarray(mu, dtype=float)
    c = -mu / s
    phi = np.exp(-0.5 * c * c) / math.sqrt(2.0 * math.pi)
    tail = special.ndtr(-c)  # P(Z > c)
    mom = [tail, phi]  # E[Z^0; Z>c], E[Z^1; Z>c]
    for j in range(2, a + 1):
        mom.append(c ** (j - 1) * phi + (j - 1) * mom[j - 2])
    return sum(math.comb(a, j) * mu ** (a - j) * s ** j * mom[j] for j in range(a + 1))
