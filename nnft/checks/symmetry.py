"""Symmetry checker: is G⁽ⁿ⁾ invariant under a group action g? (TASI §3.3, eq. 60-71)

For each configuration X = (x₁..xₙ) the checker measures D = G⁽ⁿ⁾(X) − G⁽ⁿ⁾(g·X) from *one*
ensemble (the same networks at X and g·X: correlated differences, jackknife error of the
difference), and for the internal Z2 (φ → −φ) the odd correlators G⁽ⁿ⁾(X) themselves. The verdict
is the shared rule of :mod:`nnft.checks.result`: Holm–Bonferroni over all configurations at α;
PASS only if every |D| + z*·err ≤ tolerance (default ``rel_tol`` × ⟨φ²⟩^{n/2}), else INCONCLUSIVE
with the sample size needed; Student-t degrees of freedom are those of the jackknife blocks actually
filled. A configuration touching a point where φ is deterministic over the ensemble (Var φ(x) = 0,
e.g. the origin of a bias-free net with σ(0) = 0) compares 0 with 0: it is skipped, and when every
configuration is such, the check is INCONCLUSIVE (degenerate) with the reason. Symmetries proven
from the graph (:mod:`nnft.graph.symmetry`) are
reported as such (``basis="by construction: ..."``); the statistical test can still be run.

Actions: ``translation``, ``rotation`` (SO(d), random rotations; d ≥ 2), ``reflection`` (x → x −
2(x·e)e through the origin), ``permutation`` (of the points of a correlator), ``z2`` (φ → −φ), and
:func:`linear` (x → A x + c, user-given).
"""

from __future__ import annotations

from nnft.errors import InputError

from dataclasses import dataclass
from typing import Callable

import numpy as np

from nnft.checks.result import (ALPHA, DEGENERATE_VAR, PASS, CheckResult, decide,
                                degenerate_result, dof_of, with_proof)
from nnft.estimators.npoint import ensemble

ACTIONS = ("translation", "rotation", "reflection", "permutation", "z2")


@dataclass(frozen=True)
class Action:
    """A group action on point tuples: ``apply(X, rng) -> g·X`` (X of shape (n, d))."""

    name: str
    apply: Callable[[np.ndarray, np.random.Generator], np.ndarray]
    describe: Callable[[np.ndarray, np.ndarray], dict] = lambda X, gX: {}


def _random_rotation(d: int, rng) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(d, d)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def translation(shift: float = 1.0) -> Action:
    """x → x + c, c a random vector of length ``shift``.

    Args:
      shift: |c|, in the units of x.

    Returns:
      An :class:`Action` mapping (n, d) point tuples to (n, d) point tuples.

    Raises:
      Nothing: no checks of its own.

    Source: spacetime symmetries of NN-FT correlators (arXiv:2106.00694; arXiv:2408.00082 §3.3).
    """
    def apply(X, rng):
        c = rng.normal(size=X.shape[1])
        return X + shift * c / np.linalg.norm(c)
    return Action("translation", apply, lambda X, gX: {"shift": (gX - X)[0]})


def rotation() -> Action:
    """x → R x, R a random SO(d) matrix (about the origin).

    Returns:
      An :class:`Action` mapping (n, d) point tuples to (n, d) point tuples.

    Raises:
      InputError: when applied to points with d < 2.

    Source: spacetime symmetries of NN-FT correlators (arXiv:2106.00694; arXiv:2408.00082 §3.3).
    """
    def apply(X, rng):
        if X.shape[1] < 2:
            raise InputError("rotations need d ≥ 2 (SO(1) is trivial); use 'reflection' in d = 1")
        return X @ _random_rotation(X.shape[1], rng).T
    return Action("rotation", apply)


def reflection(axis: int | None = None) -> Action:
    """x → x − 2(x·e)e through the origin (e a coordinate axis, or random).

    Args:
      axis: the coordinate axis e (0 … d−1), or None for a random unit vector.

    Returns:
      An :class:`Action` mapping (n, d) point tuples to (n, d) point tuples.

    Raises:
      IndexError: when applied, an ``axis`` outside 0 … d−1.

    Source: spacetime symmetries of NN-FT correlators (arXiv:2106.00694; arXiv:2408.00082 §3.3).
    """
    def apply(X, rng):
        d = X.shape[1]
        e = np.eye(d)[axis] if axis is not None else rng.normal(size=d)
        e = e / np.linalg.norm(e)
        return X - 2 * np.outer(X @ e, e)
    return Action("reflection", apply)


def permutation() -> Action:
    """A random permutation of the points of the correlator.

    Returns:
      An :class:`Action` mapping (n, d) point tuples to (n, d) point tuples.

    Raises:
      Nothing: a permutation applies to any tuple.

    Source: spacetime symmetries of NN-FT correlators (arXiv:2106.00694; arXiv:2408.00082 §3.3).
    """
    return Action("permutation", lambda X, rng: X[rng.permutation(len(X))])


def linear(A, c=None, name: str = "linear") -> Action:
    """A user-given affine map x → A x + c.

    Args:
      A: (d, d) matrix.
      c: (d,) shift, in the units of x (None: 0).
      name: the label in the result.

    Returns:
      An :class:`Action` mapping (n, d) point tuples to (n, d) point tuples.

    Raises:
      ValueError: ``A`` or ``c`` not numeric (NumPy's conversion); shapes that do not match d fail when
        applied.

    Source: spacetime symmetries of NN-FT correlators (arXiv:2106.00694; arXiv:2408.00082 §3.3).
    """
    A = np.atleast_2d(np.asarray(A, dtype=float))
    c0 = np.zeros(A.shape[0]) if c is None else np.asarray(c, dtype=float)
    return Action(name, lambda X, rng: X @ A.T + c0)


def get_action(action) -> Action:
    """The :class:`Action` ``action`` names (``translation``, ``rotation``, ``reflection``,
    ``permutation``), or ``action`` itself if it is one.

    Raises:
      InputError: an unknown name.
    """
    if isinstance(action, Action):
        return action
    table = {"translation": translation, "rotation": rotation, "reflection": reflection, "permutation": permutation}
    if action not in table:
        raise InputError(f"unknown symmetry {action!r}; one of {', '.join(ACTIONS)} or nnft.checks.linear(A, c)")
    return table[action]()


def configurations(d: int, order: int, count: int, radius: float, rng) -> list[np.ndarray]:
    """``count`` random n-point tuples in the ball of ``radius``; the first has coincident pairs
    (x, x, y, y), where 4-point signals are largest."""
    out = []
    for k in range(count):
        X = rng.uniform(-radius, radius, size=(order, d)) / np.sqrt(d)
        if k == 0 and order % 2 == 0:
            X[1::2] = X[0::2]
        out.append(X)
    return out


def _scale_tuples(X_all):
    pts = np.unique(np.concatenate(X_all), axis=0)
    return [np.stack([p, p]) for p in pts]


def check_symmetry(model, action="translation", *, orders=(2, 4), configs: int = 8, points=None,
                   samples: int = 50_000, key=0, alpha: float = ALPHA, rel_tol: float = 0.1,
                   tolerance: float | None = None, radius: float = 1.0, connected: bool = False,
                   statistical: bool = True, config_seed: int = 0, blocks: int = 64,
                   static=None) -> CheckResult:
    """Test invariance of G⁽ⁿ⁾ under ``action`` (a name in :data:`ACTIONS` or an :class:`Action`).

    Args:
      model: a compiled theory.
      orders: correlator orders n (for ``"z2"`` the odd ones are tested: G⁽ⁿ⁾ = 0).
      configs: generated configurations per order (plus the user's ``points``: a list of (n, d) tuples).
      samples: networks of the one ensemble used for X and g·X.
      key: seed or JAX key of that ensemble.
      alpha: family-wise false-FAIL level over all configurations and orders.
      rel_tol: the smallest violation that matters, relative: ``rel_tol`` × mean⟨φ²⟩^{n/2} over the
        points (the default of ``tolerance``).
      tolerance: the smallest violation that matters, absolute.
      connected: test G_c⁽ⁿ⁾ instead of G⁽ⁿ⁾.
      statistical: when the symmetry is proven by construction, still run the test (else return
        the proof alone).
      static: a precomputed :class:`~nnft.graph.symmetry.StaticSymmetries`.

    Returns:
      A :class:`CheckResult` (``data``: per-configuration differences, errors, tolerances).

    Raises:
      ValueError: an unknown action name, or rotations in d = 1.

    Source: symmetries of NN-FT correlators, G⁽ⁿ⁾(g·x) = G⁽ⁿ⁾(x) (arXiv:2106.00694; arXiv:2408.00082 §3.3).
    """
    from nnft.graph.symmetry import static_symmetries
    is_z2 = action == "z2"
    act = None if is_z2 else get_action(action)
    name = "z2" if is_z2 else act.name
    static = static or static_symmetries(model.graph)
    proof = static.reason(name) if name != "linear" else None
    if is_z2:
        orders = tuple(n for n in orders if n % 2 == 1) or (1, 3)
    label = f"{name} G{'c' if connected else ''}" + ",".join(map(str, orders))
    if proof and not statistical:
        return CheckResult(label, PASS, 0.0, 0.0, 0, alpha, proof, message="proven from the graph; not sampled")
    rng = np.random.default_rng(config_seed)
    d = model.d
    X_all, gX_all, labels, perms = [], [], [], []
    for n in orders:
        Xs = configurations(d, n, configs, radius, rng) + [np.asarray(p, float) for p in (points or []) if len(p) == n]
        for X in Xs:
            X_all.append(X)
            # a vector field's permutation moves each point's component direction with it: apply the action
            # to the point labels, then permute both
            perm = (act.apply(np.arange(n, dtype=float)[:, None], rng)[:, 0].astype(int)
                    if model.is_vector and act is not None and act.name == "permutation" else None)
            perms.append(perm)
            gX = X if is_z2 else act.apply(X, rng) if perm is None else X[perm]
            gX_all.append(gX)
            labels.append({"n": n, "x": X.round(3).tolist()} | ({} if is_z2 else {"gx": np.round(gX, 3).tolist()}))
    m = len(X_all)
    diag = _scale_tuples(X_all + gX_all)
    tuples = X_all + ([] if is_z2 else gX_all) + diag
    if model.is_vector:        # components: random directions u·φ(x), carried along by a permutation
        ens = _vector_ensemble(model, X_all, gX_all, diag, is_z2, perms, rng, samples=samples, key=key, blocks=blocks)
    else:
        ens = ensemble(model, tuples, samples=samples, key=key, blocks=blocks)
    ords = np.array([len(X) for X in X_all])

    def fn(full, conn):
        G = conn if connected else full
        return G[:m] if is_z2 else G[:m] - G[m:2 * m]

    est = ens.derived(fn)
    dof = dof_of(ens.sums)
    c2 = ens.full().mean[len(tuples) - len(diag):]
    var = ens.connected().mean[len(tuples) - len(diag):]
    scale = float(np.mean(np.abs(c2)))
    # a configuration touching a point where φ is (numerically) deterministic cannot discriminate:
    # e.g. the origin of a bias-free net with σ(0) = 0, where φ ≡ 0 and every correlator is exactly 0
    dead = {tuple(np.round(P[0], 12)) for P, v in zip(diag, var) if not v > DEGENERATE_VAR * max(scale, 0.0)}
    live = np.array([not any(tuple(np.round(p, 12)) in dead for p in np.concatenate([X, gX]))
                     for X, gX in zip(X_all, gX_all)])
    tol = np.asarray(tolerance if tolerance is not None else rel_tol * scale ** (ords / 2.0), dtype=float)
    tol_each = np.broadcast_to(tol, (m,))
    basis = (proof + "; checked statistically") if proof else "statistical"
    if not live.any() or not np.all(tol_each[live] > 0):
        reason = (f"φ has zero variance over the ensemble at {len(dead)} of {len(diag)} points "
                  f"({', '.join(str(list(p)) for p in sorted(dead)[:3])}{', ...' if len(dead) > 3 else ''}): every "
                  "configuration touches one, so the correlators compared are identically equal; choose other points")
        res = degenerate_result(label, reason, est.n, alpha=alpha, dof=dof, m=m)
        if proof:
            return CheckResult(label, PASS, 0.0, res.threshold, est.n, alpha, proof + "; statistics degenerate",
                               message="PASS by construction; " + res.message)
        return res
    keep = np.nonzero(live)[0]
    # per-configuration tolerances: rescale so one scalar tolerance (1) applies
    res = decide(label, est.mean[keep] / tol_each[keep], est.stderr[keep] / tol_each[keep], est.n, alpha=alpha,
                 tolerance=1.0, dof=dof, labels=[labels[i] for i in keep], basis=basis,
                 what="violation/tol", data={"diff": est.mean, "diff_err": est.stderr, "tolerance": tol_each})
    if len(keep) < m:
        res = CheckResult(res.check, res.verdict, res.statistic, res.threshold, res.samples, alpha, res.basis,
                          res.evidence, res.needed_samples, res.message + f"; {m - len(keep)} degenerate configuration(s) "
                          "skipped (φ deterministic at a point)", res.data)
    return with_proof(res, proof, alpha)


def _vector_ensemble(model, X_all, gX_all, diag, is_z2, perms, rng, **kw):
    """The ensemble of a vector field's spatial check: each configuration's points carry random unit
    directions U in component space (the operators u·φ(x)), the same at X and g·X; a permutation of the
    points (``perms``) permutes their directions with them; the scale tuples use φ_0(x)φ_0(x)."""
    from nnft.estimators.local import Operator, local_ensemble
    D = model.components

    def ops(U):
        return [Operator("linear", (), tuple(map(float, u))) for u in U]

    U_all = []
    for X in X_all:
        U = rng.normal(size=(len(X), D))
        U_all.append(U / np.linalg.norm(U, axis=1, keepdims=True))
    gU_all = [U if p is None else U[p] for U, p in zip(U_all, perms)]
    e0 = tuple(float(a == 0) for a in range(D))
    tuples = X_all + ([] if is_z2 else gX_all) + diag
    operators = ([ops(U) for U in U_all] + ([] if is_z2 else [ops(U) for U in gU_all])
                 + [[Operator("linear", (), e0)] * 2] * len(diag))
    return local_ensemble(model, tuples, operators, **kw)
