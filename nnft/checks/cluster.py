"""Cluster decomposition checker (TASI §5.1): connected correlators must vanish when a subset of
points is moved to infinity.

For a base configuration X and a subset S of its points, the profile G_c(X + a·e·1_S) is measured
for growing |a| along several directions e, from one set of block sums (jackknife errors with the
degrees of freedom of the blocks actually filled). The decision:

- **usable configurations.** A configuration is *degenerate* when the field is deterministic at one
  of its points (Var φ(x) = 0: e.g. the origin of a bias-free net with σ(0) = 0, where φ ≡ 0 and
  G_c = 0 exactly), when the field's scale Πᵢ⟨φ(xᵢ)²⟩^{1/2} there fell below ``rel_tol`` of the
  base's (a small G_c there says nothing), or when a few samples carry the estimate (Cochran's C of
  the leave-one-block-out values above its critical value at level α: heavy tails, e.g. a lognormal
  Gauss-net neuron far from the origin, whose mean the samples never reach). Degenerate
  configurations are never used to decide.
- The base configuration must be usable with G_c(X) resolved (|z| above the critical value):
  otherwise the check is INCONCLUSIVE (degenerate) — there is nothing whose decay could be watched.
- The *tail* of each direction is its farthest usable distance.
- **FAIL** if Holm at α over the directions finds a tail ≠ 0 that is a violation that matters at a
  separation beyond the correlation length: every correlation coefficient ρ between a fixed and a
  moved point ≤ ``FAR_RHO`` there, and |tail| − z*·err > tolerance + ρ·|G_c(X)| (the part the
  residual correlation of the two subsets can still carry). A non-zero G_c inside the correlation
  length is not a failure to cluster.
- **PASS** if every distance of every direction is usable and every |tail| + z*·err ≤ tolerance
  (default ``rel_tol`` × |G_c(X)|).
- otherwise **INCONCLUSIVE**, saying which of these failed.
Exponential, power-law and Gaussian fits of |G_c(a)| are reported where it decays; with several
``widths`` (neuron-level estimator, exact in N) the scaling of the tail with N is fitted: for neuron
sums the violation is ∝ 1/N (TASI eq. 39, 50-51).
"""

from __future__ import annotations

from nnft.errors import InputError

import numpy as np

from nnft.checks._sampling import generic_points, network_sums, neuron_sums
from nnft.checks.result import (ALPHA, DEGENERATE_VAR, FAIL, INCONCLUSIVE, PASS, CheckResult, critical_z, decide,
                                degenerate_result, dof_of, dominance, holm, jackknife_blocks)
from nnft.estimators.npoint import Plan
from nnft.stats import zscore

#: default profile distances |a|; the farthest usable one decides
DISTANCES = (0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0)
#: a separation is beyond the correlation length when every fixed–moved correlation coefficient
#: |G2(x_i, x_j)|/(Var φ(x_i) Var φ(x_j))^½ is ≤ FAR_RHO (e^{−r/ξ} ≤ 0.2: r ≳ 1.6 ξ)
FAR_RHO = 0.2


def _fit_decay(a: np.ndarray, g: np.ndarray, err: np.ndarray) -> dict | None:
    keep = (a > 0) & (np.abs(g) > 3 * err) & (err > 0)
    if keep.sum() < 3:
        return None
    a, y = a[keep], np.log(np.abs(g[keep]))
    w = (np.abs(g[keep]) / err[keep]) ** 2                  # 1/var of log|g|
    best = None
    for name, t in (("exponential", a), ("power", np.log(a)), ("gaussian", a ** 2)):
        A = np.stack([np.ones_like(t), t], 1)
        coef, *_ = np.linalg.lstsq(A * np.sqrt(w)[:, None], y * np.sqrt(w), rcond=None)
        chi2 = float(np.sum(w * (y - A @ coef) ** 2))
        fit = {"model": name, "rate": float(-coef[1]), "chi2_per_dof": chi2 / max(len(a) - 2, 1)}
        if best is None or chi2 < best["chi2_per_dof"] * max(len(a) - 2, 1):
            best = fit
    return best


def default_base(model, n: int = 4) -> np.ndarray:
    """The default base configuration: n coincident points at a fixed generic point c (|c| ≈ 0.04,
    no coordinate zero; :func:`~nnft.checks._sampling.generic_points`), where n-point signals are
    largest. Never the origin, a fixed point of bias-free nets with σ(0) = 0 (φ ≡ 0 there); close to
    it, so that lognormal neurons (Gauss-net) stay estimable as the points separate."""
    c = 0.1 * generic_points(model.d, 1)[0]
    return np.repeat(c[None], n, axis=0)


def check_cluster(model, base=None, moved=(2, 3), *, directions=None, distances=DISTANCES, widths=None,
                  estimator: str = "auto", samples: int = 1_000_000, key=0, alpha: float = ALPHA,
                  rel_tol: float = 0.05, tolerance: float | None = None, blocks: int = 64) -> CheckResult:
    """Separate the points ``moved`` of ``base`` from the others by a·e and follow G_c (rule: module
    docstring).

    Args:
      model: a compiled theory.
      base: (n, d) base configuration (default :func:`default_base`, never the origin).
      moved: indices of the points moved (a pair: ``cluster``; one point: ``cluster_point``): at
        separation a they sit at x + a/2·e and the others at x − a/2·e (for a translation-invariant
        theory the same as moving the subset by a).
      directions: unit vectors e (default: the coordinate axes, at most 3).
      distances: the |a| of the profile, starting at 0.
      widths: widths N for the neuron-level estimator (the verdict is at the first; the spec's by
        default); the tail's scaling with N is fitted when there are several.
      estimator: ``"neuron"`` (exact in N; ``samples`` = neurons), ``"ensemble"`` (``samples`` =
        networks), ``"auto"`` (neuron when the theory is a neuron sum).
      samples: how many neurons (``estimator="neuron"``) or networks are drawn.
      key: seed or JAX key.
      blocks: jackknife blocks requested.

    Returns:
      A :class:`CheckResult`; ``data`` holds the profile (len(widths), directions, distances).

    Raises:
      EstimatorError: ``estimator="neuron"`` on a theory that is not a neuron sum.
    """
    d = model.d
    X = default_base(model) if base is None else np.atleast_2d(np.asarray(base, float))
    moved = tuple(moved)
    dirs = np.eye(d)[:min(d, 3)] if directions is None else np.atleast_2d(np.asarray(directions, float))
    dirs = dirs / np.linalg.norm(dirs, axis=1, keepdims=True)
    dist = np.asarray(distances, float)
    if dist[0] != 0 or np.any(np.diff(dist) <= 0):
        raise InputError("distances must start at 0 and increase")
    fixed = [i for i in range(len(X)) if i not in moved]
    tuples, labels, cross = [], [], []
    for e in dirs:
        for a in dist:
            Y = X.copy()
            Y[list(moved)] += 0.5 * a * e
            Y[fixed] -= 0.5 * a * e
            tuples.append(Y)
            labels.append({"direction": np.round(e, 3).tolist(), "a": float(a)})
            cross.append(list(dict.fromkeys((tuple(Y[i]), tuple(Y[j])) for i in fixed for j in moved)))
    T = len(tuples)
    pts = np.unique(np.concatenate(tuples), axis=0)
    diag = [np.stack([p, p]) for p in pts]
    pairs = list(dict.fromkeys(c for cs in cross for c in cs))
    plan = Plan(tuples + diag + [np.asarray(c) for c in pairs], d)
    npts = len(pts)
    use_neuron = estimator == "neuron" or (estimator == "auto" and model.structure.neuron_sum is not None)
    if use_neuron:
        sums, ws, maps = neuron_sums(model, plan, samples, key, blocks, widths)
        what = "neurons"
    else:
        sums, maps = network_sums(model, plan, samples, key, blocks)
        ws = (model.theory.dims.get("N", 0),)
        what = "networks"
    nW, nd, na = len(ws), len(dirs), len(dist)

    def quantities(means):
        full, conn = maps(means)
        return np.concatenate([conn[:, :T].ravel(), conn[0, T:]])       # G_c profile; Var φ(x); cross G2c

    est, err, loo = jackknife_blocks(sums, quantities)
    n, dof = sums.n, dof_of(sums)
    G, S = est[:nW * T].reshape(nW, nd, na), err[:nW * T].reshape(nW, nd, na)
    var = est[nW * T:nW * T + npts]
    g2 = est[nW * T + npts:]
    pair_idx = {c: k for k, c in enumerate(pairs)}
    pidx = {tuple(p): i for i, p in enumerate(pts)}
    cfg_pts = [[pidx[tuple(p)] for p in Y] for Y in tuples]
    # ---- usable configurations (at the verdict's width)
    C, cstar = dominance(loo, alpha, m=nd * na + len(pts))
    Cg = C[:T]                                     # width 0 occupies the first T entries
    Cv = C[nW * T:nW * T + npts]
    vmax = float(np.max(np.abs(var))) if len(var) else 0.0
    scale = np.array([np.prod(np.sqrt(np.clip(var[c], 0, None))) for c in cfg_pts]).reshape(nd, na)
    why = np.full((nd, na), "", dtype=object)
    for k in range(T):
        i, j = divmod(k, na)
        dead = [pts[p] for p in cfg_pts[k] if not var[p] > DEGENERATE_VAR * vmax]
        if dead:
            why[i, j] = (f"Var φ = {var[pidx[tuple(dead[0])]]:.2g} (zero variance, ≤ 1e-12 of the largest) at "
                         f"{np.round(dead[0], 3).tolist()}: φ is deterministic there, or the samples never reach its mass")
        elif scale[i, j] < rel_tol * scale[i, 0]:
            why[i, j] = (f"field scale Π⟨φ²⟩^½ fell to {scale[i, j] / scale[i, 0]:.2g} of the base's (the field "
                         "vanishes there, or the samples never reach its mass)")
        elif Cg[k] > cstar or any(Cv[p] > cstar for p in cfg_pts[k]):
            share = max([Cg[k]] + [Cv[p] for p in cfg_pts[k]])
            why[i, j] = (f"one of {loo.shape[0]} blocks carries {share:.0%} of the jackknife variance (heavy tails: "
                         "the estimate rests on a few samples)")
    usable = why == ""
    # largest correlation coefficient between a fixed and a moved point: the separation is beyond the
    # correlation length when it is ≤ FAR_RHO (only there is a non-zero G_c a failure to cluster)
    rho = np.zeros((nd, na))
    for k in range(T):
        i, j = divmod(k, na)
        vals = [abs(g2[pair_idx[c]]) / np.sqrt(max(var[pidx[c[0]]] * var[pidx[c[1]]], 1e-300)) for c in cross[k]]
        rho[i, j] = max(vals) if vals else 0.0
    which = "pair" if len(moved) == 2 else "point" if len(moved) == 1 else f"{len(moved)} points"
    label = f"cluster ({which} {list(moved)} moved, G{len(X)}c)"
    data = {"distances": dist, "directions": dirs, "profile": G, "profile_err": S, "widths": ws,
            "usable": usable, "degenerate_reason": why, "cross_correlation": rho}
    base_ev = {"base": np.round(X, 3).tolist(), "G_c(a=0)": float(G[0, 0, 0]), "stderr": float(S[0, 0, 0])}
    zc = critical_z(alpha, nd, dof)
    if not usable[0, 0]:
        return degenerate_result(label, f"base configuration {np.round(X, 3).tolist()}: {why[0, 0]}", n, alpha=alpha,
                                 dof=dof, m=nd, evidence=(base_ev,), data=data)
    if not abs(G[0, 0, 0]) > zc * S[0, 0, 0]:
        return degenerate_result(label, f"G_c at the base configuration {np.round(X, 3).tolist()} is "
                                 f"{G[0, 0, 0]:.3g} ± {S[0, 0, 0]:.2g}, not resolved from 0: there is no connected "
                                 "correlation whose decay could be watched (choose another base, or more samples)",
                                 n, alpha=alpha, dof=dof, m=nd, evidence=(base_ev,), data=data)
    ref = float(abs(G[0, 0, 0]))
    tol = tolerance if tolerance is not None else rel_tol * ref
    far = [max((j for j in range(1, na) if usable[i, j]), default=None) for i in range(nd)]
    live = [i for i in range(nd) if far[i] is not None]
    notes = []
    for i in range(nd):
        bad = [j for j in range(1, na) if not usable[i, j]]
        if bad:
            notes.append(f"e={np.round(dirs[i], 3).tolist()}: a ≥ {dist[bad[0]]:g} unusable ({why[i, bad[0]]})")
    if not live:
        return degenerate_result(label, "no separated configuration is usable; " + "; ".join(notes), n, alpha=alpha,
                                 dof=dof, m=nd, evidence=(base_ev,), data=data)
    tv = np.array([G[0, i, far[i]] for i in live])
    ts = np.array([S[0, i, far[i]] for i in live])
    tail_labels = [{**labels[i * na + far[i]], "N": ws[0]} for i in live]
    res = decide(label, tv, ts, n, alpha=alpha, tolerance=tol, dof=dof, labels=tail_labels,
                 basis=f"statistical ({what})", what="tail", data=data)
    # a FAIL needs a violation that matters at a separation beyond the correlation length: every
    # fixed–moved correlation coefficient ρ ≤ FAR_RHO, and |tail| − z*·err > tolerance + ρ·|G_c(0)|
    # (what the residual correlation of the separated subsets can still carry): a non-zero G_c at a
    # finite separation inside the correlation length is not a failure to cluster
    rej = holm(zscore((tv, ts)), alpha, dof)
    fails = [live[k] for k in range(len(live)) if rej[k] and rho[live[k], far[live[k]]] <= FAR_RHO
             and abs(tv[k]) - res.threshold * ts[k] > tol + rho[live[k], far[live[k]]] * ref]
    verdict, msg = res.verdict, res.message
    if verdict == FAIL and not fails:
        verdict = INCONCLUSIVE
        i = live[int(np.argmax(np.abs(zscore((tv, ts)))))]
        msg = (f"G_c ≠ 0 at a = {dist[far[i]]:g} (e={np.round(dirs[i], 3).tolist()}: {G[0, i, far[i]]:.3g} ± "
               f"{S[0, i, far[i]]:.2g}), but " + (f"the fixed and moved points are still correlated there "
                                                 f"(|ρ| = {rho[i, far[i]]:.2g} > {FAR_RHO:g}): farther usable "
                                                 "distances would decide, unless G2 never decays (then not even "
                                                 "the two-point function clusters)" if rho[i, far[i]] > FAR_RHO else
                                                 f"not beyond the tolerance plus the residual correlation, "
                                                 f"{tol:.3g} + |ρ|·|G_c(0)| = {tol + rho[i, far[i]] * ref:.3g}"))
    elif verdict == FAIL:
        i = fails[0]
        msg += f"; at a = {dist[far[i]]:g} the fixed–moved correlation is |ρ| = {rho[i, far[i]]:.2g} ≤ {FAR_RHO:g}"
    elif verdict == PASS and (len(live) < nd or any(far[i] != na - 1 for i in live)):
        verdict = INCONCLUSIVE
        msg = "within tolerance at the farthest usable distances, but farther ones could not be estimated"
    if notes:
        msg += "; " + "; ".join(notes)
    fits = [_fit_decay(dist[usable[i]], G[0, i][usable[i]], S[0, i][usable[i]]) for i in range(nd)]
    scaling = None
    if nW >= 2:
        t = np.array([np.mean([abs(G[w, i, far[i]]) for i in live]) for w in range(nW)])
        if np.all(t > 0):
            slope = np.polyfit(np.log(ws), np.log(t), 1)[0]
            scaling = {"widths": list(ws), "tail": t.tolist(), "exponent": float(slope)}
    extra = [{"profile_dir": np.round(dirs[k], 3).tolist(), "G_c": np.round(G[0, k], 6).tolist(),
              "err": np.round(S[0, k], 6).tolist(), "usable": usable[k].tolist(),
              "cross_rho": np.round(rho[k], 4).tolist(), "fit": fits[k]} for k in range(nd)]
    if scaling:
        extra.append({"violation_vs_N": scaling})
    msg += f"; G_c(a=0) = {ref:.3g} at base {np.round(X, 3).tolist()}"
    if verdict == FAIL:
        msg += f"; tail/G_c(0) = {float(np.max(np.abs(tv))) / ref:.3g}"
        if scaling:
            msg += f"; violation ∝ N^{scaling['exponent']:.2f}"
    elif any(fits):
        f = next(f for f in fits if f)
        msg += f"; |G_c| {'decays' if f['rate'] > 0 else 'grows'} ({f['model']}, rate {f['rate']:.3g})"
    return CheckResult(res.check, verdict, res.statistic, res.threshold, res.samples, alpha, res.basis,
                       res.evidence + (base_ev,) + tuple(extra), res.needed_samples if verdict == INCONCLUSIVE else None,
                       msg, res.data)
