"""The first-layer erf neuron ψ = erf(w·x + b): moments as Gaussian orthant (sign) moments.

erf(u) = E_η[sign(u − η)], η ~ N(0, ½), turns M_K into E[Π_k sign(y_k)] with y ~ N(0, C + I/2):
arcsine law for K = 2, a Price's-theorem path integral (:func:`sign_moment4`) for K = 4 and, with
the K = 4 moment of the conditional law inside, for K = 6 (:func:`sign_moment6`)
(docs/physics.md §4; Williams 1997 for the K = 2 erf kernel).
"""

from __future__ import annotations

import math

import numpy as np

from nnft.errors import QuadratureError

from .._quad import gauss_legendre
from .base import GaussianPreactivation


def sign_moment4(sig: np.ndarray, nodes: int = 64) -> float:
    """E[sign(y1)sign(y2)sign(y3)sign(y4)], y ~ N(0, Σ), Σ 4×4 positive definite.

    Price's theorem along Σ(t) = D + t·offdiag(Σ) (E = 0 at t = 0):
    dE/dt = Σ_{i<j} Σ_ij · 4 p_ij(0,0) · (2/π) arcsin(ρ_{kl|ij}), with p_ij(0,0) =
    1/(2π sqrt(Σ_iiΣ_jj − t²Σ_ij²)) and ρ_{kl|ij} the conditional correlation of the complementary
    pair given y_i = y_j = 0 (Price, IRE Trans. Inf. Theory 4 (1958) 69). Gauss–Legendre in t with
    ``nodes`` nodes (integrand analytic on [0, 1]); returns a float in [−1, 1]. No error is raised:
    callers compare two node counts (see :class:`ErfLayer`).
    """
    t, w = gauss_legendre(nodes)
    D = np.diag(sig)
    total = np.zeros_like(t)
    for (i, j), (k, l) in [((0, 1), (2, 3)), ((0, 2), (1, 3)), ((0, 3), (1, 2)),
                           ((2, 3), (0, 1)), ((1, 3), (0, 2)), ((1, 2), (0, 3))]:
        sij = t * sig[i, j]
        det = D[i] * D[j] - sij ** 2
        # Schur complement of (k, l) given (i, j), at every t
        a = np.stack([t * sig[k, i], t * sig[k, j]], -1)
        b = np.stack([t * sig[l, i], t * sig[l, j]], -1)
        inv = np.stack([np.stack([D[j] + 0 * t, -sij], -1), np.stack([-sij, D[i] + 0 * t], -1)], -2) / det[:, None, None]
        quad = lambda u, v: np.einsum("ta,tab,tb->t", u, inv, v)
        vkk = D[k] - quad(a, a)
        vll = D[l] - quad(b, b)
        vkl = t * sig[k, l] - quad(a, b)
        rho = np.clip(vkl / np.sqrt(vkk * vll), -1.0, 1.0)
        total += sig[i, j] * 4.0 / (2.0 * math.pi * np.sqrt(det)) * (2.0 / math.pi) * np.arcsin(rho)
    return float(w @ total)


def _pairs(k: int) -> list[tuple[int, int]]:
    return [(i, j) for i in range(k) for j in range(i + 1, k)]


def _sign_moment4_batch(sig: np.ndarray, nodes: int) -> np.ndarray:
    """:func:`sign_moment4` for a stack of 4×4 covariances ``sig`` (m, 4, 4), vectorised: (m,)."""
    t, w = gauss_legendre(nodes)
    D = np.diagonal(sig, axis1=1, axis2=2)                     # (m, 4)
    total = np.zeros((len(sig), len(t)))
    for (i, j), (k, l) in [((0, 1), (2, 3)), ((0, 2), (1, 3)), ((0, 3), (1, 2)),
                           ((2, 3), (0, 1)), ((1, 3), (0, 2)), ((1, 2), (0, 3))]:
        sij = t[None, :] * sig[:, i, j, None]                  # (m, T)
        di, dj = D[:, i, None], D[:, j, None]
        det = di * dj - sij ** 2
        aki, akj = t * sig[:, k, i, None], t * sig[:, k, j, None]
        bli, blj = t * sig[:, l, i, None], t * sig[:, l, j, None]

        def quad(u1, u2, v1, v2):                              # uᵀ A⁻¹ v, A = [[di, sij], [sij, dj]]
            return (u1 * (dj * v1 - sij * v2) + u2 * (-sij * v1 + di * v2)) / det
        vkk = D[:, k, None] - quad(aki, akj, aki, akj)
        vll = D[:, l, None] - quad(bli, blj, bli, blj)
        vkl = t * sig[:, k, l, None] - quad(aki, akj, bli, blj)
        rho = np.clip(vkl / np.sqrt(vkk * vll), -1.0, 1.0)
        total += sig[:, i, j, None] * 4.0 / (2.0 * math.pi * np.sqrt(det)) * (2.0 / math.pi) * np.arcsin(rho)
    return total @ w


def sign_moment6(sig: np.ndarray, nodes: int = 24, inner: int = 48) -> float:
    """E[Π_{k=1}^6 sign(y_k)], y ~ N(0, Σ), Σ 6×6 positive definite.

    Price's theorem one order up (as :func:`sign_moment4`): along Σ(t) = D + t·offdiag(Σ), where
    E = 0 at t = 0 (independent signs, each of mean 0),
    dE/dt = Σ_{i<j} Σ_ij · 4 p_ij(0, 0) · E[Π_{k≠i,j} sign(y_k) | y_i = y_j = 0], with
    p_ij(0, 0) = 1/(2π√(Σ_ii Σ_jj − t²Σ_ij²)); the conditional law of the other four is N(0, S_ij(t)),
    the Schur complement of the (i, j) block, and its four-sign moment is :func:`sign_moment4` (Price,
    IRE Trans. Inf. Theory 4 (1958) 69). Σ(t) = (1−t)D + tΣ is positive definite on [0, 1], so the
    integrand is analytic there: Gauss–Legendre with ``nodes`` in t, ``inner`` for the inner
    four-point integral. Returns a float in [−1, 1]; no error is raised (:class:`ErfLayer` compares
    two resolutions).
    """
    t, w = gauss_legendre(nodes)
    D = np.diag(np.diag(sig))
    off = sig - D
    S = D[None] + t[:, None, None] * off[None]                 # (T, 6, 6)
    total = np.zeros(len(t))
    for i in range(6):
        for j in range(i + 1, 6):
            rest = [k for k in range(6) if k not in (i, j)]
            A = S[:, [i, j]][:, :, [i, j]]
            B = S[:, rest][:, :, [i, j]]
            det = A[:, 0, 0] * A[:, 1, 1] - A[:, 0, 1] ** 2
            cond = S[:, rest][:, :, rest] - B @ np.linalg.solve(A, np.swapaxes(B, 1, 2))
            total += off[i, j] * 4.0 / (2.0 * math.pi * np.sqrt(det)) * _sign_moment4_batch(cond, inner)
    return float(w @ total)


class ErfLayer(GaussianPreactivation):
    """First-layer erf neuron ψ = erf(w·x + b), w ~ N(0, weight_std² I_d), b ~ N(0, bias_std²)
    (docs/physics.md §4; K = 2 is the erf NNGP kernel of Williams, NeurIPS 1997).

    Arguments: ``weight_std`` ≥ 0 (units 1/|x|), ``bias_std`` ≥ 0. K ≤ 6.

    erf(u) = E_η[sign(u − η)], η ~ N(0, ½) independent per factor, so E[Π_k erf(u_k)] =
    E[Π_k sign(y_k)] with y ~ N(0, C + I/2) (always nonsingular). Odd K: 0 (erf odd, u symmetric).
    K=2: (2/π) arcsin(2C12/sqrt((1+2C11)(1+2C22))). K=4: Price's-theorem path integral
    (:func:`sign_moment4`), computed with 64 and 128 nodes and checked to agree within ``accuracy``,
    else :class:`QuadratureError`. K=6: the same path integral one order up with the K = 4 moment of
    the conditional law inside (:func:`sign_moment6`), refined through ``K6_RULES`` until two successive
    rules agree within ``accuracy``, else QuadratureError: the 6-point references of
    Halverson–Maiti–Stoner arXiv:2008.08601 §4 (neuron-sum theorem, TASI arXiv:2408.00082 eq. 39).
    """

    max_order = 6

    name = "erf_layer"
    equation = "docs/physics.md §4 (erf kernel); Price's theorem for K = 4 and 6"
    accuracy_abs = 1e-10
    #: (outer, inner) Gauss–Legendre nodes of the K = 6 path integral, tried in turn
    K6_RULES = ((16, 32), (24, 48), (40, 96), (64, 160), (96, 256), (160, 400), (256, 640))

    @property
    def accuracy(self) -> float:
        """Absolute accuracy of :meth:`moment` (``accuracy_abs`` = 1e-10; K = 2 is exact)."""
        return self.accuracy_abs

    def _moment(self, points):
        k = points.shape[0]
        if k % 2:
            return 0.0
        sig = self.cov(points) + 0.5 * np.eye(k)
        if k == 2:
            return (2.0 / math.pi) * math.asin(sig[0, 1] / math.sqrt(sig[0, 0] * sig[1, 1]))
        if k == 4:
            coarse, fine = sign_moment4(sig, 64), sign_moment4(sig, 128)
        else:                   # refine until two successive resolutions agree (large C needs more nodes)
            coarse = sign_moment6(sig, *self.K6_RULES[0])
            for rule in self.K6_RULES[1:]:
                fine = sign_moment6(sig, *rule)
                if abs(fine - coarse) <= self.accuracy_abs:
                    return fine
                coarse, last = fine, coarse
            raise QuadratureError(f"erf_layer: K=6 path integral not converged to {self.accuracy_abs:g} with "
                                  f"{self.K6_RULES[-1]} Gauss–Legendre nodes ({last!r} vs {fine!r}): the "
                                  "preactivation variance is large and points nearly coincide (use smaller "
                                  "weight_std / bias_std, or points further apart)")
        if abs(fine - coarse) > self.accuracy_abs:
            raise QuadratureError(f"erf_layer: K={k} path integral not converged ({coarse!r} vs {fine!r})")
        return fine
