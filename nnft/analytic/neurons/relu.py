"""ReLU moment numerics: M_K = E[Π_k relu(u_k)], u ~ N(0, C), for the first-layer ReLU neuron.

* rank C ≤ 2: :func:`relu_arc_moment`, exact (polar coordinates, one arc; Cho & Saul 2009);
* rank 3, 4: :func:`relu_cone_moment`, spherical-simplex quadrature of the polar form;
* :func:`relu_orthant_moment`: an independent nested quadrature (used by the tests as a cross-check);
* :class:`ReluLayer`: the neuron ψ = relu(w·x + b) choosing between them (docs/physics.md §4).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from nnft.errors import QuadratureError

from .._quad import gauss_legendre, halfnormal_moment
from .base import GaussianPreactivation


def _distinct(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of ``points`` (first-occurrence order) and their multiplicities."""
    uniq, idx, counts = np.unique(points, axis=0, return_index=True, return_counts=True)
    order = np.argsort(idx)
    return uniq[order], counts[order]


def _chi_moment(r: int, k: int) -> float:
    """E[R^k], R ~ chi_r: 2^{k/2} Γ((r+k)/2)/Γ(r/2)."""
    return 2.0 ** (k / 2.0) * math.exp(math.lgamma((r + k) / 2.0) - math.lgamma(r / 2.0))


def relu_arc_moment(L: np.ndarray, a, nodes: int = 16) -> float:
    """E[Π_j (l_j·z)_+^{a_j}], z ~ N(0, I_2), rows l_j of L (n×2), exactly (rank ≤ 2 covariances).

    Polar coordinates: = E[R^K]/(2π) ∫_arc Π_j |l_j|^{a_j} cos(φ − α_j)^{a_j} dφ, the arc being the
    intersection of the half-circles |φ − α_j| < π/2 (one interval of length ≤ π). The integrand is
    a trig polynomial of degree K, so Gauss–Legendre with ``nodes`` > K/2+1 is exact to rounding.
    ``a`` (n,) are nonnegative integer exponents, K = Σ a_j; returns a float (0 for an empty arc or a
    zero row). The (1,1) and (2,2) cases are the arc-cosine kernels J_1, J_2 of Cho & Saul
    (NeurIPS 2009). No error is raised.
    """
    a = np.asarray(a, dtype=int)
    norms = np.linalg.norm(L, axis=1)
    if np.any(norms == 0.0):
        return 0.0
    al = np.arctan2(L[:, 1], L[:, 0])
    da = (al - al[0] + math.pi) % (2.0 * math.pi) - math.pi  # relative angles in [−π, π)
    lo, hi = float(np.max(da - math.pi / 2.0)), float(np.min(da + math.pi / 2.0))
    if hi <= lo:
        return 0.0
    t, w = gauss_legendre(nodes)
    phi = lo + (hi - lo) * t
    f = np.prod(np.cos(phi[None, :] - da[:, None]) ** a[:, None], axis=0)
    k = int(a.sum())
    return float(np.prod(norms ** a) * _chi_moment(2, k) * (hi - lo) * (w @ f) / (2.0 * math.pi))


def _cone_rays(L: np.ndarray) -> list[np.ndarray]:
    """Spherical simplices (rows = unit vertices) tiling cone {z : Lz ≥ 0} ∩ S^{r−1}, r = 3 or 4.

    Simplicial cones (n = r): the extreme rays are the columns of L^{−1}. n = 4 rows in r = 3: the
    extreme rays are the admissible ±l_i×l_j; the convex spherical polygon is fan-triangulated.
    """
    n, r = L.shape
    if n == r:
        V = np.linalg.inv(L).T
        return [V / np.linalg.norm(V, axis=1, keepdims=True)]
    assert r == 3, "only rank 3 needs a polygon"
    Ln = L / np.linalg.norm(L, axis=1, keepdims=True)
    verts: list[np.ndarray] = []
    for i in range(n):
        for j in range(i + 1, n):
            c = np.cross(Ln[i], Ln[j])
            nc = np.linalg.norm(c)
            if nc < 1e-12:
                continue
            for v in (c / nc, -c / nc):
                if np.all(Ln @ v >= -1e-12) and not any(np.linalg.norm(v - u) < 1e-9 for u in verts):
                    verts.append(v)
    if len(verts) < 3:
        return []  # the cone has empty interior
    V = np.array(verts)
    cen = V.mean(axis=0)
    cen /= np.linalg.norm(cen)
    e1 = V[0] - (V[0] @ cen) * cen
    e1 /= np.linalg.norm(e1)
    V = V[np.argsort(np.arctan2(V @ np.cross(cen, e1), V @ e1))]
    return [np.array([V[0], V[q], V[q + 1]]) for q in range(1, len(V) - 1)]


def _refine(simplices: list[np.ndarray], max_angle: float) -> list[np.ndarray]:
    """Longest-edge bisection (on the sphere) until every edge subtends ≤ max_angle."""
    out, todo = [], list(simplices)
    while todo:
        S = todo.pop()
        G = np.clip(S @ S.T, -1.0, 1.0)
        i, j = np.unravel_index(np.argmin(G), G.shape)
        if math.acos(G[i, j]) <= max_angle:
            out.append(S)
            continue
        m = S[i] + S[j]
        m /= np.linalg.norm(m)
        for q in (i, j):
            T = S.copy()
            T[q] = m
            todo.append(T)
    return out


@lru_cache(maxsize=None)
def _simplex_rule(r: int, nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Collapsed (Duffy/Stroud) Gauss–Legendre rule on the standard (r−1)-simplex: barycentric
    coordinates (m, r) and weights (m,), exact for polynomials of degree ≤ 2·nodes − r."""
    t, w = gauss_legendre(nodes)
    grids = np.meshgrid(*([t] * (r - 1)), indexing="ij")
    u = np.stack([g.ravel() for g in grids], axis=1)
    wt = np.prod(np.stack(np.meshgrid(*([w] * (r - 1)), indexing="ij"), -1).reshape(-1, r - 1), axis=1)
    x = np.zeros((len(u), r))
    rest = np.ones(len(u))
    for q in range(r - 1):
        x[:, q + 1] = u[:, q] * rest
        wt = wt * rest
        rest = rest * (1.0 - u[:, q])
    x[:, 0] = rest
    return x, wt


def relu_cone_moment(L: np.ndarray, a, nodes: int = 8, max_angle: float = 0.5) -> float:
    """E[Π_j (l_j·z)_+^{a_j}], z ~ N(0, I_r), rows l_j of L (n×r), r = 3 or 4, L of rank r.

    Polar coordinates: = E[R^K] · |S^{r−1}|^{−1} ∫_P Π_j (l_j·θ)^{a_j} dΩ over the spherical
    polytope P = {Lz ≥ 0} ∩ S^{r−1}, tiled by spherical simplices refined to edges ≤ ``max_angle``.
    On each, θ = p/|p| with p = Σ λ_i v_i on the flat simplex, dΩ = |det V|/|p|^r dλ; the integrand
    Π_j(l_j·p)^{a_j}/|p|^{K+r} is smooth there and integrated by a collapsed Gauss–Legendre rule.
    Insensitive to the conditioning of L (thin cones are just small simplices). ``a`` (n,) are
    nonnegative integer exponents, K = Σ a_j; ``nodes`` per simplex direction. Returns a float; no
    error is raised (:class:`ReluLayer` compares two resolutions).
    """
    a = np.asarray(a, dtype=int)
    k, r = int(a.sum()), L.shape[1]
    bary, wt = _simplex_rule(r, nodes)
    total = 0.0
    for V in _refine(_cone_rays(L), max_angle):
        p = bary @ V
        g = np.prod(np.clip(p @ L.T, 0.0, None) ** a[None, :], axis=1) / np.linalg.norm(p, axis=1) ** (k + r)
        total += abs(np.linalg.det(V)) * (wt @ g)
    area = 2.0 * math.pi ** (r / 2.0) / math.gamma(r / 2.0)
    return float(_chi_moment(r, k) * total / area)


def relu_orthant_moment(c: np.ndarray, a, panels: int = 6, nodes: int = 10, zmax: float = 9.0) -> float:
    """E[Π_j relu(u_j)^{a_j}], u ~ N(0, c) (n×n positive definite), by nested quadrature.

    u = L z (Cholesky, variables ordered so the last has the largest conditional variance). The
    first n−1 standard variables are integrated over their half-lines {u_j > 0} ∩ {z_j < zmax} by
    composite Gauss–Legendre (``panels`` × ``nodes``; integrands are smooth there), the last one
    analytically by :func:`halfnormal_moment`. Cost (panels·nodes)^{n−1}. ``a`` (n,) are
    nonnegative integer exponents. Returns a float; numpy's LinAlgError if ``c`` is not positive
    definite.
    """
    c = np.asarray(c, dtype=float)
    a = np.asarray(a, dtype=int)
    n = len(a)
    if n == 1:
        return float(halfnormal_moment(int(a[0]), np.zeros(1), math.sqrt(c[0, 0]))[0])
    cond = 1.0 / np.diag(np.linalg.inv(c)) / np.diag(c)  # relative conditional variances
    last = int(np.argmax(cond))
    order = [j for j in range(n) if j != last] + [last]
    c, a = c[np.ix_(order, order)], a[order]
    L = np.linalg.cholesky(c)
    t, w = gauss_legendre(nodes)
    t = ((np.arange(panels)[:, None] + t[None, :]) / panels).ravel()
    w = np.tile(w / panels, panels)
    z = np.zeros((1, 0))  # rows: quadrature points of the variables integrated so far
    weight = np.ones(1)
    for j in range(n - 1):
        mu = z @ L[j, :j]
        lo = -mu / L[j, j]
        span = np.clip(zmax - lo, 0.0, None)
        zj = lo[:, None] + span[:, None] * t[None, :]
        uj = mu[:, None] + L[j, j] * zj
        wj = span[:, None] * w[None, :] * np.exp(-0.5 * zj * zj) / math.sqrt(2 * math.pi) * uj ** a[j]
        z = np.concatenate([np.repeat(z, len(t), axis=0), zj.reshape(-1, 1)], axis=1)
        weight = (weight[:, None] * wj).ravel()
    mu = z @ L[n - 1, : n - 1]
    return float(weight @ halfnormal_moment(int(a[-1]), mu, L[n - 1, n - 1]))


class ReluLayer(GaussianPreactivation):
    """First-layer ReLU neuron ψ = relu(w·x + b), w ~ N(0, weight_std² I_d), b ~ N(0, bias_std²)
    (docs/physics.md §4; LH arXiv:2309.01592 eq. 16 for the (1,1) kernel). Arguments: ``weight_std``
    ≥ 0 (units 1/|x|), ``bias_std`` ≥ 0. K ≤ 6 (the 6-point references of Halverson–Maiti–Stoner
    arXiv:2008.08601 §4 by the neuron-sum theorem, TASI arXiv:2408.00082 eq. 39).

    Let n = number of distinct points, a = multiplicities, C their preactivation covariance and
    r = rank C (eigenvalues below RANK_TOL·min_j C_jj are dropped: by Price's theorem this changes
    M_K by O(K² · dropped/min C_jj) relative, < 1e-10 here). Then, by cases:
    * n = 1: C^{K/2} 2^{K/2}Γ((K+1)/2)/(2√π) (K=1: sqrt(C/2π); K=4: 3C²/2), exact;
    * r ≤ 2 (e.g. any two points, or d = 1): exact polar arc formula :func:`relu_arc_moment`
      (reproduces the arc-cosine kernels J_1, J_2 of Cho & Saul 2009 for (1,1) and (2,2));
    * r = 3 (any n, e.g. d = 2), or r = 4 with n = 4 distinct points: spherical-simplex quadrature of
      the polar form, :func:`relu_cone_moment` (robust to near-degenerate C);
    * otherwise (K ≥ 5 at ≥ 5 distinct points in general position, d ≥ 3): QuadratureError — the cone
      is a 4-polytope (or higher) that the quadrature does not tile. :func:`relu_orthant_moment` is an independent nested
      quadrature used in the tests as a cross-check.
    The quadrature is computed at two resolutions (8 and 12 nodes per direction) which must agree
    within error_bound/10, else :class:`QuadratureError`.
    """

    name = "relu_layer"
    max_order = 6
    equation = "docs/physics.md §4; Cho & Saul 2009 arc-cosine kernels J_1, J_2"
    REL_ACC = 1e-9
    RANK_TOL = 1e-12

    @property
    def accuracy(self) -> float:
        """Absolute accuracy when every preactivation variance C_kk ≤ 1; see :meth:`error_bound`."""
        return self.REL_ACC

    def error_bound(self, points: np.ndarray) -> float:
        """Absolute error bound of ``moment(points)`` for points of shape (K, d):
        REL_ACC × max(1, max_k C_kk)^{K/2} (|M_K| ≤ Π_k (E relu(u_k)^K)^{1/K} ≤ 2 max C_kk^{K/2}).
        NeuronArgError for badly shaped points (as :meth:`moment`)."""
        p = self._points(points)
        c = np.diag(self.cov(p))
        return self.REL_ACC * max(1.0, float(np.max(c, initial=0.0))) ** (p.shape[0] / 2.0)

    def _moment(self, points):
        x, mult = _distinct(points)
        c = self.cov(x)
        if np.any(np.diag(c) <= 0.0):
            return 0.0  # ψ ≡ 0 at that point
        k = int(mult.sum())
        if len(mult) == 1:
            return float(halfnormal_moment(k, np.zeros(1), math.sqrt(c[0, 0]))[0])
        ev, U = np.linalg.eigh(c)
        keep = ev > self.RANK_TOL * np.min(np.diag(c))
        L = U[:, keep] * np.sqrt(ev[keep])
        r = L.shape[1]
        if r <= 2:
            return relu_arc_moment(np.pad(L, ((0, 0), (0, 2 - r))), mult)
        if r > 4 or (r == 4 and len(mult) > 4):
            raise QuadratureError(f"relu_layer: {len(mult)} distinct points with a rank-{r} preactivation "
                                  "covariance: the quadrature covers rank ≤ 3, or rank 4 at 4 distinct points "
                                  "(use d ≤ 2, or fewer distinct points)")
        coarse, fine = relu_cone_moment(L, mult), relu_cone_moment(L, mult, nodes=12)
        if abs(fine - coarse) > self.error_bound(points) / 10.0:
            raise QuadratureError(f"relu_layer: quadrature not converged for rank {r} "
                                  f"({coarse!r} vs {fine!r}); covariance eigenvalues {ev}")
        return fine
