"""Cluster decomposition checker (PHYSICS.md §9): connected correlators must vanish when a subset of
points is moved to infinity.

For a base configuration X and a subset S of its points, the profile G_c(X + a·e·1_S) is measured
for growing |a| along several directions e. The verdict uses the shared rule of
:mod:`nnft.checks.result` on the *tail* (the largest |a| of every direction): FAIL if Holm at α finds
a tail value ≠ 0; PASS if every |tail| + z*·err ≤ tolerance (default ``rel_tol`` × |G_c(X)|);
else INCONCLUSIVE with the samples needed. Where it decays, exponential, power-law and Gaussian
fits of |G_c(a)| are reported; with several ``widths`` (neuron-level estimator, exact in N) the
scaling of the tail with N is fitted — for neuron sums the violation is ∝ 1/N (PHYSICS.md §0, §9).
"""

from __future__ import annotations

import numpy as np

from nnft.checks.result import ALPHA, CheckResult, decide
from nnft.estimators.neuron import neuron_measure
from nnft.estimators.npoint import ensemble


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
        rate = -coef[1] if name != "gaussian" else -coef[1]
        fit = {"model": name, "rate": float(rate), "chi2_per_dof": chi2 / max(len(a) - 2, 1)}
        if best is None or chi2 < best["chi2_per_dof"] * max(len(a) - 2, 1):
            best = fit
    return best


def check_cluster(model, base=None, moved=(2, 3), *, directions=None, distances=(0.0, 1.0, 2.0, 4.0, 8.0),
                  widths=None, estimator: str = "auto", samples: int = 1_000_000, key=0, alpha: float = ALPHA,
                  rel_tol: float = 0.05, tolerance: float | None = None, blocks: int = 64) -> CheckResult:
    """Move the points ``moved`` of ``base`` (default: 4 points at the origin) by a·e.

    Args:
      directions: unit vectors e (default: the coordinate axes, at most 3).
      distances: the |a| of the profile; the last one is the tail that decides.
      widths: widths N for the neuron-level estimator (the verdict is at the spec's width or the
        first given); the tail's scaling with N is fitted when there are several.
      estimator: ``"neuron"`` (exact in N; ``samples`` = neurons), ``"ensemble"`` (``samples`` =
        networks), ``"auto"`` (neuron when the theory is a neuron sum).
    """
    d = model.d
    X = np.zeros((4, d)) if base is None else np.atleast_2d(np.asarray(base, float))
    moved = tuple(moved)
    dirs = np.eye(d)[:min(d, 3)] if directions is None else np.atleast_2d(np.asarray(directions, float))
    dirs = dirs / np.linalg.norm(dirs, axis=1, keepdims=True)
    dist = np.asarray(distances, float)
    tuples, labels = [], []
    for e in dirs:
        for a in dist:
            Y = X.copy()
            Y[list(moved)] += a * e
            tuples.append(Y)
            labels.append({"direction": np.round(e, 3).tolist(), "a": float(a)})
    use_neuron = estimator == "neuron" or (estimator == "auto" and model.structure.neuron_sum is not None)
    if use_neuron:
        ns = model.structure.neuron_sum
        ws = tuple(widths or [model.theory.dims[ns.width]])
        wc = neuron_measure(model, tuples, neurons=samples, widths=ws, key=key, blocks=blocks)
        conn = wc.connected
        n = conn.n
        what = "neurons"
    else:
        ws = (model.theory.dims.get("N", 0),)
        conn = ensemble(model, tuples, samples=samples, key=key, blocks=blocks).connected()
        conn = type(conn)(conn.mean[None], conn.stderr[None], conn.n)
        n = conn.n
        what = "networks"
    nd, na = len(dirs), len(dist)
    G = conn.mean.reshape(len(ws), nd, na)
    S = conn.stderr.reshape(len(ws), nd, na)
    ref = float(np.mean(np.abs(G[0, :, 0])))
    tol = tolerance if tolerance is not None else rel_tol * ref
    tail_labels = [{**labels[k * na + na - 1], "N": ws[0]} for k in range(nd)]
    fits = [_fit_decay(dist, G[0, k], S[0, k]) for k in range(nd)]
    scaling = None
    if len(ws) >= 2:
        t = np.abs(G[:, :, -1]).mean(1)
        if np.all(t > 0):
            slope = np.polyfit(np.log(ws), np.log(t), 1)[0]
            scaling = {"widths": list(ws), "tail": t.tolist(), "exponent": float(slope)}
    which = "pair" if len(moved) == 2 else "point" if len(moved) == 1 else f"{len(moved)} points"
    res = decide(f"cluster ({which} {list(moved)} moved, G{len(X)}c)", G[0, :, -1], S[0, :, -1], n,
                 alpha=alpha, tolerance=tol, dof=blocks - 1, labels=tail_labels,
                 basis=f"statistical ({what})", what="tail",
                 data={"distances": dist, "directions": dirs, "profile": G, "profile_err": S, "widths": ws})
    extra = [{"profile_dir": np.round(dirs[k], 3).tolist(), "G_c": np.round(G[0, k], 6).tolist(),
              "err": np.round(S[0, k], 6).tolist(), "fit": fits[k]} for k in range(nd)]
    if scaling:
        extra.append({"violation_vs_N": scaling})
    msg = res.message + f"; G_c(a=0) = {ref:.3g}"
    if res.failed:
        msg += f"; tail/G_c(0) = {float(np.max(np.abs(G[0, :, -1]))) / ref:.3g}"
        if scaling:
            msg += f"; violation ∝ N^{scaling['exponent']:.2f}"
    elif any(fits):
        f = next(f for f in fits if f)
        msg += f"; decays ({f['model']}, rate {f['rate']:.3g})"
    return CheckResult(res.check, res.verdict, res.statistic, res.threshold, res.samples, alpha, res.basis,
                       res.evidence + tuple(extra), res.needed_samples, msg, res.data)
