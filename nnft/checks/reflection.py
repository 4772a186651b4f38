"""Reflection positivity (RP) checker (TASI §5.1 eq. 133 in matrix form; the diagonal is only necessary).

Time is coordinate ``axis`` (default 0), R flips it. For observables F_k supported at positive time,
RP requires the matrix M_kl = ⟨Θ(F_k) F_l⟩ to be positive semidefinite — the *matrix* condition;
TASI eq. 133 prints only its diagonal, which the Gaussian kernel passes while failing the matrix.
Families: ``fields`` F_k = φ(x_k) (M_kl = G2(R x_k, x_l)); ``pairs`` F = 1 and φ(x_a)φ(x_b)
(4-point entries); user test functions F = Σ_j c_j φ(x_j) (rows of ``weights`` over the points).

Decision (declared family-wise level α over the families tested):
- FAIL by *sample splitting*, so the level is exact despite the downward bias of a noisy smallest
  eigenvalue: the even jackknife blocks choose the direction u of the smallest eigenvalue, the odd
  blocks test uᵀMu (linear in the means, jackknife error, Student-t tails): FAIL iff
  uᵀMu/σ < −t⁻¹(1 − α/m). The offending eigenvector and configuration are reported.
- PASS iff not FAIL and the jackknifed λ_min of the whole-sample matrix satisfies
  λ_min − z*·σ(λ_min) ≥ −tolerance (default ``rel_tol``·λ_max): the data exclude a violation that matters.
- otherwise INCONCLUSIVE, with the sample size needed (σ ∝ 1/√n).
- before any of this: if φ is deterministic at one of the points (⟨φ(x)²⟩ = 0 up to 10⁻¹² of the
  largest), the matrix cannot discriminate and the check is INCONCLUSIVE (degenerate). Thresholds use
  the degrees of freedom of the jackknife blocks actually filled.
:func:`rp_analytic` is the same condition on a closed-form two-point function.
"""

from __future__ import annotations

from nnft.errors import InputError

import numpy as np

from nnft.checks.result import (ALPHA, DEGENERATE_VAR, FAIL, INCONCLUSIVE, PASS, CheckResult, critical_z,
                                degenerate_result, dof_of, needed)
from nnft.estimators.npoint import Plan, ensemble
from nnft.stats import BlockSums, zscore


def positive_time_points(d: int, times=(0.25, 0.5, 0.75, 1.0, 1.5, 2.0), axis: int = 0, spatial=None) -> np.ndarray:
    """Points at the given positive times on the time axis (spatial coordinates ``spatial`` or 0)."""
    pts = np.zeros((len(times), d))
    pts[:, axis] = np.asarray(times, dtype=float)
    if spatial is not None:
        pts += np.asarray(spatial, dtype=float)
        pts[:, axis] = np.asarray(times, dtype=float)
    return pts


def reflect(points, axis: int = 0) -> np.ndarray:
    """Θx: the points (..., d) with coordinate ``axis`` (Euclidean time) negated, as a new float array
    of the same shape (the time reflection of reflection positivity; TASI arXiv:2408.00082 §5.1, eq. 133)."""
    out = np.array(points, dtype=float)
    out[..., axis] = -out[..., axis]
    return out


class _Family:
    """Tuples whose full correlators fill an RP matrix, and how."""

    def __init__(self, points: np.ndarray, family: str, axis: int, weights=None):
        self.P = points
        self.kind = family
        R = reflect(points, axis)
        P = len(points)
        if family == "fields":
            self.labels = [f"φ({np.round(p, 3).tolist()})" for p in points]
            self.tuples = [np.stack([R[k], points[l]]) for k in range(P) for l in range(P)]
            self.shape = (P, P)
        elif family == "pairs":
            pairs = [(a, b) for a in range(P) for b in range(a, P)]
            self.labels = ["1"] + [f"φ{a}φ{b}" for a, b in pairs]
            self.tuples = [np.stack([points[c], points[dd]]) for c, dd in pairs]          # ⟨F⟩
            self.tuples += [np.stack([R[a], R[b]]) for a, b in pairs]                     # ⟨ΘF⟩
            self.tuples += [np.stack([R[a], R[b], points[c], points[dd]]) for a, b in pairs for c, dd in pairs]
            self.pairs = pairs
            self.shape = (len(pairs) + 1,) * 2
        else:
            raise InputError(f"unknown RP family {family!r}: 'fields' or 'pairs'")
        self.weights = None if weights is None else np.atleast_2d(np.asarray(weights, dtype=float))
        if self.weights is not None:
            if family != "fields" or self.weights.shape[1] != P:
                raise InputError(f"test-function weights must have shape (k, {P}) over the points (fields family)")
            self.labels = [f"F{i}" for i in range(len(self.weights))]

    def matrix(self, G: np.ndarray) -> np.ndarray:
        """RP matrix from the full correlators of ``tuples`` (leading axes broadcast)."""
        if self.kind == "fields":
            M = G.reshape(G.shape[:-1] + self.shape)
        else:
            q = len(self.pairs)
            M = np.empty(G.shape[:-1] + self.shape)
            M[..., 0, 0] = 1.0
            M[..., 0, 1:] = G[..., :q]
            M[..., 1:, 0] = G[..., q:2 * q]
            M[..., 1:, 1:] = G[..., 2 * q:].reshape(G.shape[:-1] + (q, q))
        M = 0.5 * (M + np.swapaxes(M, -1, -2))
        if self.weights is not None:
            M = self.weights @ M @ self.weights.T
        return M


def _split(sums: BlockSums) -> tuple[BlockSums, BlockSums]:
    halves = []
    for idx in (slice(0, None, 2), slice(1, None, 2)):
        b = BlockSums(len(sums.sums[idx]), sums.sums.shape[1])
        b.sums = sums.sums[idx].copy()
        b.weights = sums.weights[idx].copy()
        b.n = sums.n // 2
        halves.append(b)
    return halves[0], halves[1]


def _neuron_sums(model, plan: Plan, neurons: int, key, blocks: int):
    """Per-neuron block sums and the map from per-neuron moments to G⁽ⁿ⁾ at the spec's width."""
    from nnft.checks._sampling import neuron_sums
    acc, _, to_means = neuron_sums(model, plan, neurons, key, blocks)
    return acc, lambda means: to_means(means)[0][0]


def check_reflection_positivity(model, points=None, *, family: str = "fields", weights=None, axis: int = 0,
                                samples: int = 100_000, key=0, alpha: float = ALPHA, rel_tol: float = 0.02,
                                tolerance: float | None = None, estimator: str = "auto", blocks: int = 64,
                                families_tested: int = 1) -> CheckResult:
    """Statistical RP check of one observable family (see the module docstring for the rule).

    Args:
      points: (P, d) points with positive time (default :func:`positive_time_points`).
      family: ``"fields"`` or ``"pairs"``; ``weights``: user test functions (k, P) (fields family).
      estimator: ``"ensemble"`` (whole networks), ``"neuron"`` (exact-in-N per-neuron moments, for
        G2 of a neuron sum: many more draws per second), or ``"auto"`` (neuron for ``fields``
        when the theory is a neuron sum).
      samples: how many networks (``"ensemble"``) or neurons (``"neuron"``) are drawn.
      key: seed or JAX key.
      blocks: jackknife blocks requested.
      families_tested: m of the Bonferroni correction when several families are checked together.
    """
    pts = positive_time_points(model.d, axis=axis) if points is None else np.atleast_2d(np.asarray(points, float))
    if np.any(pts[:, axis] <= 0):
        raise InputError("RP observables must be supported at positive time (all points need x[axis] > 0)")
    fam = _Family(pts, family, axis, weights)
    T = len(fam.tuples)
    diag = [np.stack([p, p]) for p in pts]                       # ⟨φ(x)²⟩: the field's own scale
    plan = Plan(fam.tuples + diag, model.d)
    use_neuron = estimator == "neuron" or (estimator == "auto" and family == "fields"
                                            and model.structure.neuron_sum is not None)
    if use_neuron:
        sums, to_full = _neuron_sums(model, plan, samples, key, blocks)
        what = "neurons"
    else:
        ens = ensemble(model, fam.tuples + diag, samples=samples, key=key, blocks=blocks)
        sums, to_full = ens.sums, ens.plan.full
        what = "networks"
    n = sums.n

    full_all = to_full
    phi2 = float(np.mean(full_all(sums.mean())[T:]))
    to_full = lambda means: full_all(means)[..., :T]  # noqa: E731
    label = f"reflection positivity ({'test functions' if weights is not None else family}, {len(fam.labels)} obs)"
    var = np.asarray(full_all(sums.mean())[T:], dtype=float)          # ⟨φ(x)²⟩ per point
    alive = var > DEGENERATE_VAR * max(float(np.max(np.abs(var))), 0.0)
    if not np.all(alive):
        return degenerate_result(label, f"⟨φ(x)²⟩ = 0 at {np.round(pts[~alive], 3).tolist()}: φ is deterministic "
                                 "there and the RP matrix cannot discriminate; choose other points",
                                 n, alpha=alpha, dof=dof_of(sums), evidence=({"points": np.round(pts, 3).tolist(),
                                                                             "phi2": var.tolist()},))

    lam = sums.jackknife(lambda means: np.linalg.eigvalsh(fam.matrix(to_full(means))))
    A, B = _split(sums)
    MA = fam.matrix(to_full(A.mean()))
    w, V = np.linalg.eigh(MA)
    u = V[:, 0]
    q = B.jackknife(lambda m: np.asarray(u @ fam.matrix(to_full(m)) @ u))
    zc = critical_z(alpha, families_tested, dof=len(B.sums) - 1, two_sided=False)
    z_split = float(zscore(q))
    lmin, lerr, lmax = float(lam.mean[0]), float(lam.stderr[0]), float(lam.mean[-1])
    tol = tolerance if tolerance is not None else rel_tol * abs(lmax)
    worst = int(np.argmax(np.abs(u)))
    evidence = ({"lambda_min": lmin, "stderr": lerr, "lambda_max": lmax, "relative": lmin / abs(lmax) if lmax else np.nan,
                 "relative_to_phi2": lmin / phi2,
                 "split_uMu": float(q.mean), "split_stderr": float(q.stderr), "z_split": z_split},
                {"eigenvector": np.round(u, 3).tolist(), "observables": fam.labels,
                 "dominant": fam.labels[worst]},
                {"points": np.round(pts, 3).tolist(), "time_axis": axis})
    data = {"eigenvalues": lam.mean, "eigenvalue_err": lam.stderr, "eigenvector": u, "points": pts}
    try:
        ex = rp_exact(model, pts, family=family, weights=weights, axis=axis)
        evidence = evidence + ({"exact_lambda_min": float(ex[0]), "exact_lambda_max": float(ex[-1]),
                                "exact_relative": float(ex[0] / abs(ex[-1]))},)
        data["exact_eigenvalues"] = ex
    except Exception:  # noqa: BLE001 - no closed form for this theory
        pass
    basis = f"statistical ({what}; split-sample test of the worst direction)"
    if z_split < -zc:
        size = "small" if abs(lmin) < 0.1 * phi2 else "large"
        msg = (f"M not PSD: uᵀMu = {q.mean:.3g} ± {q.stderr:.2g} on held-out samples; λ_min = {lmin:.3g} ± {lerr:.2g} "
               f"= {lmin / abs(lmax):.3g} λ_max = {lmin / phi2:.3g} ⟨φ²⟩ ({size} violation), driven by {fam.labels[worst]}")
        return CheckResult(label, FAIL, z_split, -zc, n, alpha, basis, evidence, message=msg, data=data)
    zc2 = critical_z(alpha, families_tested, dof=dof_of(sums), two_sided=False)
    if lmin - zc2 * lerr >= -tol:
        return CheckResult(label, PASS, z_split, -zc, n, alpha, basis, evidence,
                           message=f"λ_min = {lmin:.3g} ± {lerr:.2g} ≥ −{tol:.3g} (tolerance) at level α; "
                                   f"λ_max = {lmax:.3g}", data=data)
    need = needed(n, lerr, tol if lmin >= 0 else max(tol - abs(lmin), tol / 2), zc2) if tol > 0 else 0
    return CheckResult(label, INCONCLUSIVE, z_split, -zc, n, alpha, basis, evidence, needed_samples=need or None,
                       message=f"λ_min = {lmin:.3g} ± {lerr:.2g} cannot exclude a violation of {tol:.3g}; "
                               f"about {need:,} {what} would decide", data=data)


def rp_matrix(g2, points, axis: int = 0, weights=None) -> np.ndarray:
    """M_kl = G2(R x_k, x_l) from a closed-form two-point function ``g2(x, y)`` (symmetrized).

    Args:
      g2: a callable ``g2(x, y) -> float`` on points of shape (d,).
      points: (n, d) points (or (n,) for d = 1); ``axis`` is the reflected coordinate.
    Returns: (n, n) matrix, or (m, m) with ``weights`` of shape (m, n).
    Raises:
      InputError: ``g2`` is not callable (an array of values has no reflected entries to read).
    """
    if not callable(g2):
        raise InputError(f"g2 must be a callable g2(x, y), got {type(g2).__name__}: the RP matrix needs "
                         "G2 at reflected points R x_k, which an array of values does not hold")
    pts = np.atleast_2d(np.asarray(points, dtype=float))
    R = reflect(pts, axis)
    M = np.array([[g2(R[k], pts[l]) for l in range(len(pts))] for k in range(len(pts))])
    M = 0.5 * (M + M.T)
    if weights is not None:
        W = np.atleast_2d(np.asarray(weights, dtype=float))
        M = W @ M @ W.T
    return M


def rp_exact(model, points, *, family="fields", weights=None, axis=0) -> np.ndarray:
    """Eigenvalues of the RP matrix from the spec's analytic reference (``nnft.exact``)."""
    from nnft.reference import exact
    fam = _Family(np.atleast_2d(np.asarray(points, float)), family, axis, weights)
    G = exact(model, fam.tuples).full[0]
    return np.linalg.eigvalsh(fam.matrix(G))


def rp_analytic(g2, points, *, axis: int = 0, weights=None, rtol: float = 1e-9, name: str = "") -> CheckResult:
    """RP of a closed-form two-point function on a point set: PASS iff λ_min ≥ −rtol·λ_max."""
    M = rp_matrix(g2, points, axis, weights)
    w, V = np.linalg.eigh(M)
    lmin, lmax = float(w[0]), float(w[-1])
    verdict = PASS if lmin >= -rtol * abs(lmax) else FAIL
    rel = lmin / abs(lmax) if lmax else float("nan")
    return CheckResult(f"reflection positivity (analytic{', ' + name if name else ''})", verdict, rel, -rtol, 0, 0.0,
                       "analytic", ({"lambda_min": lmin, "lambda_max": lmax, "relative": rel,
                                     "eigenvector": np.round(V[:, 0], 3).tolist()},),
                       message=f"λ_min/λ_max = {rel:.3g}", data={"eigenvalues": w, "points": np.asarray(points)})
