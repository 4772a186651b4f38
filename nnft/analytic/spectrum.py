"""Power spectra G̃(p) of the reference families, and the exact expectation of the lattice (FFT) estimator.

Convention (docs/spectrum.md): G̃(p) = ∫dᵈr e^{−ip·r} G(r), G(r) = ∫dᵈp/(2π)ᵈ e^{ip·r} G̃(p), for a
translation-invariant connected two-point function G(x − y) = ⟨φ(x)φ(y)⟩_c.

A plane-wave neuron sum φ = Σᵢ vᵢ A F(wᵢ) cos(wᵢ·x + bᵢ), b ~ U[−π, π], has G(r) = (μ2 A²/2) E_w[F(w)² cos(w·r)]
(TASI arXiv:2408.00082 eq. 65-67), so its spectrum is the frequency density q(w) weighted by the squared
amplitude:

    G̃(p) = (2π)ᵈ (μ2 A²/4) [q(p) F(p)² + q(−p) F(−p)²],      μ2 = N E[v²].

A continuous q gives a spectral density; an atom of q at w₀ (mass a) gives (2π)ᵈ μ2 A² a F(w₀)²/4 ·
[δ(p − w₀) + δ(p + w₀)] instead, which no density describes.
"""

from __future__ import annotations

import math

import numpy as np

from nnft.errors import InputError, NeuronArgError


def ball_volume(d: int, radius: float) -> float:
    """vol(B_Λᵈ) = π^{d/2} Λᵈ / Γ(d/2 + 1)."""
    return math.pi ** (d / 2.0) * radius ** d / math.gamma(d / 2.0 + 1.0)


def _gauss(p2, d, sigma):
    if sigma <= 0:
        raise NeuronArgError("sigma_w0 = 0: every frequency is 0, the spectrum is a delta at p = 0 (no density)")
    return (2 * math.pi * d / sigma ** 2) ** (d / 2.0) * np.exp(-d * p2 / (2 * sigma ** 2))


def _cos_net(nr, p, p2, mu2):
    return mu2 * nr.amplitude ** 2 / 2.0 * _gauss(p2, nr.d, nr.sigma_w0)


def _gauss_net(nr, p, p2, mu2):
    return mu2 * _gauss(p2, nr.d, nr.sigma_w0)


def _cauchy_net(nr, p, p2, mu2):
    return mu2 * nr.amplitude ** 2 * nr.mass / (p2 + nr.mass ** 2)


def _scalar_net(nr, p, p2, mu2):
    d = nr.d
    inside = (p2 < nr.cutoff ** 2).astype(np.float64)
    return (2 * math.pi) ** d * mu2 * nr.amplitude ** 2 / (2 * ball_volume(d, nr.cutoff)) * inside / (p2 + nr.mass ** 2)


def _shaped_net(nr, p, p2, mu2):
    d = nr.d
    dens = _gauss(p2, d, nr.sigma_w0) / (2 * math.pi) ** d        # the N(0, σ²/d) density
    return (2 * math.pi) ** d * mu2 * nr.amplitude ** 2 / 2.0 * dens / (p2 + nr.mass ** 2)


def _rp_scalar(nr, p, p2, mu2):
    d = nr.d
    k2 = p2 - p[:, 0] ** 2
    inside = (k2 < nr.cutoff ** 2).astype(np.float64) if d > 1 else np.ones_like(p2)
    vol = ball_volume(d - 1, nr.cutoff) if d > 1 else 1.0
    return (2 * math.pi) ** (d - 1) * mu2 * nr.amplitude ** 2 / vol * inside / (p2 + nr.mass ** 2)


#: reference family -> (G̃(p), the formula and source as text)
SPECTRA = {
    "cos_net": (_cos_net, "G̃(p) = (μ2A²/2)(2πd/σ_w0²)^{d/2} exp(−d|p|²/(2σ_w0²)) (TASI arXiv:2408.00082 eq. 68-70)"),
    "gauss_net": (_gauss_net, "G̃(p) = μ2 (2πd/σ_w0²)^{d/2} exp(−d|p|²/(2σ_w0²)) (TASI arXiv:2408.00082 eq. 60-62)"),
    "cauchy_net": (_cauchy_net, "G̃(p) = μ2A² m/(p² + m²) (Cauchy frequency, d = 1)"),
    "scalar_net": (_scalar_net, "G̃(p) = (2π)ᵈμ2A²/(2 vol B_Λᵈ) θ(Λ − |p|)/(p² + m²) (TASI arXiv:2408.00082 eq. 72-74)"),
    "shaped_net": (_shaped_net, "G̃(p) = (2π)ᵈ(μ2A²/2) N(p; 0, σ_w0²/d)/(p² + m²) (TASI arXiv:2408.00082 eq. 65-67)"),
    "rp_scalar": (_rp_scalar, "G̃(p) = (2π)^{d−1}μ2A²/vol(B_Λ^{d−1}) θ(Λ − |p⃗|)/(p² + m²) (arXiv:2112.04527)"),
}


def continuum(neuron, mu2: float, momenta) -> np.ndarray:
    """G̃(p) of a reference family at momenta (M, d), for readout second moment μ2 = N E[v²].

    Args:
      neuron: an ``nnft.analytic.NEURONS`` instance (the spec's declared reference).
      mu2: N E[v²] of the readout (units of φ² per amplitude²).
      momenta: (M, d) array, units 1/|x|.

    Returns:
      (M,) spectral density, units φ²·|x|ᵈ (the convention of the module docstring).

    Raises:
      NeuronArgError: a family with no closed-form spectrum (relu, erf: use the lattice route), or a
        spectrum with no density (σ_w0 = 0).
    """
    p = np.atleast_2d(np.asarray(momenta, dtype=np.float64))
    entry = SPECTRA.get(neuron.name)
    if entry is None:
        raise NeuronArgError(f"reference {neuron.name} has no closed-form power spectrum in nnft (closed forms: "
                             f"{', '.join(SPECTRA)}); estimate it from a lattice (route='lattice')")
    return np.asarray(entry[0](neuron, p, np.sum(p * p, axis=1), float(mu2)), dtype=np.float64)


def formula(name: str) -> str | None:
    """The closed form of a family's spectrum, with its source, or None."""
    entry = SPECTRA.get(name)
    return None if entry is None else entry[1]


def jumps(neuron) -> tuple[float, ...]:
    """|p| at which a family's G̃ jumps (the Scalar-net cutoff Λ), for :func:`box_average` in d = 1."""
    return (float(neuron.cutoff),) if neuron.name == "scalar_net" else ()


def box_average(fn, momenta, half_width: float, nodes: int = 48, breaks=()) -> np.ndarray:
    """(1/(2h)ᵈ)∫_{[p−h, p+h]ᵈ} fn(q) dᵈq per row p of momenta (M, d): the expectation of the window
    estimator of the neuron route. Tensor Gauss–Legendre with ``nodes`` per axis. In d = 1 each window is split
    at the ``breaks`` (±|p| of :func:`jumps`) inside it, so a jump like the Scalar-net cutoff is integrated to
    machine precision; in d ≥ 2 a jump across a window converges only like 1/nodes (~0.3 % at 48 nodes):
    keep windows off |p| = Λ there for sharp tests."""
    p = np.atleast_2d(np.asarray(momenta, dtype=np.float64))
    d = p.shape[1]
    if d == 1 and len(breaks):
        cuts = np.unique(np.concatenate([np.asarray(breaks, dtype=np.float64), -np.asarray(breaks, dtype=np.float64)]))
        t, w = np.polynomial.legendre.leggauss(nodes)
        out = np.zeros(len(p))
        for i, q in enumerate(p[:, 0]):
            edges = np.concatenate([[q - half_width], cuts[(cuts > q - half_width) & (cuts < q + half_width)],
                                    [q + half_width]])
            for lo, hi in zip(edges[:-1], edges[1:]):
                x = 0.5 * (hi + lo) + 0.5 * (hi - lo) * t
                out[i] += 0.5 * (hi - lo) * float(np.asarray(fn(x[:, None])) @ w)
        return out / (2 * half_width)
    t, w = np.polynomial.legendre.leggauss(nodes)
    grids = np.meshgrid(*([t] * d), indexing="ij")
    offs = np.stack([g.ravel() for g in grids], axis=1) * half_width            # (G, d)
    wts = np.prod(np.meshgrid(*([w] * d), indexing="ij"), axis=0).ravel() / 2.0 ** d
    vals = fn((p[:, None, :] + offs[None, :, :]).reshape(-1, d)).reshape(len(p), len(offs))
    return vals @ wts


def lattice_modes(n: int, d: int, modes=None) -> np.ndarray:
    """Integer lattice modes k (M, d): the given ones; ``"all"``: one of each pair ±k (G̃ is even), every
    component in (−n/2, n/2]; by default k = (j, 0, …, 0), j = 0 … ⌊n/2⌋."""
    if isinstance(modes, str) and modes == "all":
        half = np.arange(-((n - 1) // 2), n // 2 + 1)
        k = np.stack(np.meshgrid(*([half] * d), indexing="ij"), axis=-1).reshape(-1, d)
        own, neg = np.mod(k, n), np.mod(-k, n)
        keep = [i for i in range(len(k)) if tuple(own[i]) <= tuple(neg[i])]     # one of each pair ±k (mod n)
        k = k[keep]
        order = np.lexsort(tuple(k.T[::-1]) + (np.sum(k * k, axis=1),))
        return k[order].astype(np.int64)
    if isinstance(modes, str):
        raise InputError(f"modes: 'all' or (M, d) integers, got {modes!r}")
    if modes is not None:
        try:
            k = np.asarray(modes, dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError(f"modes must be (M, d) integers, got {modes!r}") from None
        if k.ndim == 1 and d == 1:
            k = k[:, None]
        if not np.all(np.isfinite(k)) or np.any(k != np.round(k)):
            raise InputError(f"modes must be integers (p_k = 2πk/(na)), got {np.asarray(modes).tolist()!r}"[:300])
        return np.atleast_2d(k.astype(np.int64))
    k = np.zeros((n // 2 + 1, d), dtype=np.int64)
    k[:, 0] = np.arange(n // 2 + 1)
    return k


def lattice_expectation(g2_of, d: int, n: int, spacing, modes, translation_invariant: bool = True,
                        points=None) -> np.ndarray:
    """E[Ĝ(p_k)] of the periodogram Ĝ(p_k) = (aᵈ/nᵈ)(E|F_k|² − |E F_k|²), F_k = Σ_j e^{−2πik·j/n} φ(x_j), on a
    lattice of n points per axis with spacing a, for a field whose connected two-point function is known:

        E Ĝ(p_k) = aᵈ Σ_{r ∈ (−n, n)ᵈ} Πᵢ(1 − |rᵢ|/n) G(r a) e^{−2πik·r/n}       (translation invariant)
                 = Σ_{m∈ℤᵈ} ∫dᵈq/(2π)ᵈ G̃(q) Φ_n(p_k + 2πm/a − q)                    (Fejér window Φ_n)

    so the lattice sees the continuum spectrum smoothed by the Fejér window of width ~2π/(na) (finite
    volume, leakage) and folded by the images p + 2πm/a (aliasing beyond the Nyquist momentum π/a).

    Args:
      g2_of: translation invariant: callable (R, d) displacements -> (R,) G(r); else callable
        (P, d) points -> (P, P) matrix G(x_i, x_j) (``points`` given, in the lattice's order).
      spacing: a per axis, scalar or (d,).
      modes: (M, d) integer modes k.

    Returns:
      (M,) expectations, units φ²·|x|ᵈ.
    """
    a = np.broadcast_to(np.asarray(spacing, dtype=np.float64), (d,))
    vol_cell = float(np.prod(a))
    modes = np.atleast_2d(np.asarray(modes, dtype=np.float64))
    if translation_invariant:
        r1 = np.arange(-(n - 1), n)
        grids = np.meshgrid(*([r1] * d), indexing="ij")
        r = np.stack([g.ravel() for g in grids], axis=1).astype(np.float64)          # (R, d)
        fej = np.prod(1.0 - np.abs(r) / n, axis=1)
        g = np.asarray(g2_of(r * a), dtype=np.float64)
        phase = np.cos(2 * np.pi * (modes @ r.T) / n)                                 # G(r) = G(−r): real
        return vol_cell * phase @ (fej * g)
    G = np.asarray(g2_of(points), dtype=np.float64)
    idx = np.stack(np.meshgrid(*([np.arange(n)] * d), indexing="ij"), axis=-1).reshape(-1, d)
    e = np.exp(-2j * np.pi * (modes @ idx.T.astype(np.float64)) / n)                  # (M, P)
    return vol_cell / n ** d * np.real(np.einsum("mp,pq,mq->m", e, G, np.conj(e)))
