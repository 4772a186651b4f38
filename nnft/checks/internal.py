"""Internal symmetry checker of a vector field φ: ℝᵈ → ℝᴰ: are its correlators invariant under SO(D)
rotations of the components? (Maiti–Stoner–Halverson arXiv:2106.00694; TASI arXiv:2408.00082 eq. 52-54)

For a configuration X = (x₁..xₙ) and unit directions U = (u₁..uₙ) in component space, the correlator
G(U; X) = ⟨Πᵢ uᵢ·φ(xᵢ)⟩ must equal G(RᵀU; X) = ⟨Πᵢ uᵢ·Rφ(xᵢ)⟩ for every R ∈ SO(D) if φ and Rφ have the
same law. The checker measures D = G(U; X) − G(RᵀU; X) from *one* ensemble (the same networks: correlated
differences, jackknife error of the difference), with random X, U and R per configuration, and decides by
the shared rule of :mod:`nnft.checks.result` (Holm at α; PASS only when every |D| + z*·err ≤ tolerance,
default ``rel_tol`` × (⟨φ·φ⟩/D)^{n/2}; else INCONCLUSIVE with the samples needed). Order 1 is included by
default: a readout mean μ gives ⟨φ_a(x)⟩ = μ N E[ψ(x)], a fixed vector that rotations move, the
symmetry breaking of arXiv:2106.00694 §3. A proof from the graph (``nnft.graph.symmetry``, rule
``internal_rotation``) is reported as the basis, as for the spatial checks.
"""

from __future__ import annotations

import numpy as np

from nnft.checks.result import ALPHA, PASS, CheckResult, decide, degenerate_result, dof_of, with_proof
from nnft.checks.symmetry import _random_rotation, configurations
from nnft.errors import InputError
from nnft.estimators.local import Operator, local_ensemble

NAME = "internal_rotation"


def _unit(rng, D: int) -> np.ndarray:
    u = rng.normal(size=D)
    return u / np.linalg.norm(u)


def check_internal_rotation(model, *, orders=(1, 2, 4), configs: int = 6, samples: int = 50_000, key=0,
                            alpha: float = ALPHA, rel_tol: float = 0.1, tolerance: float | None = None,
                            radius: float = 1.0, connected: bool = False, statistical: bool = True,
                            config_seed: int = 0, blocks: int = 64, static=None) -> CheckResult:
    """Test SO(D) invariance of the component correlators of a vector field (``components: D``).

    Args:
      model: a compiled vector theory with D ≥ 2 components.
      orders: correlator orders n tested (1 catches a mean, 2 and 4 the covariance and beyond).
      configs: random configurations (points, directions, rotation) per order.
      samples, key: networks of the one ensemble used for U and RᵀU.
      alpha: family-wise false-FAIL level over all configurations.
      rel_tol / tolerance: the smallest violation that matters (absolute ``tolerance``, default
        ``rel_tol`` × s^{n/2} with s = mean over the points of ⟨φ·φ⟩/D).
      radius: points are drawn in the ball of this radius (keep Gauss-nets near the origin).
      connected: test the connected correlators instead.
      statistical: when proven from the graph, still sample (else return the proof alone).
      static: a precomputed :class:`~nnft.graph.symmetry.StaticSymmetries`.

    Returns:
      A :class:`CheckResult` named ``internal_rotation`` (``data``: differences, errors, tolerances).

    Raises:
      InputError: a scalar field, or D = 1 (SO(1) is trivial).
    """
    from nnft.graph.symmetry import static_symmetries
    D = model.components
    if not model.is_vector or D < 2:
        raise InputError("internal_rotation tests SO(D) of a vector field's components: the spec must declare "
                         f"components: with D ≥ 2 (this field has {D})")
    static = static or static_symmetries(model.graph)
    proof = static.reason(NAME)
    label = f"SO({D}) G{'c' if connected else ''}" + ",".join(map(str, orders))
    if proof and not statistical:
        return CheckResult(label, PASS, 0.0, 0.0, 0, alpha, proof, message="proven from the graph; not sampled")
    rng = np.random.default_rng(config_seed)
    X_all, U_all, gU_all, labels = [], [], [], []
    for n in orders:
        for X in configurations(model.d, n, configs, radius, rng):
            U = np.stack([_unit(rng, D) for _ in range(n)])
            R = _random_rotation(D, rng)
            X_all.append(X)
            U_all.append(U)
            gU_all.append(U @ R)                    # rows Rᵀu: u·Rφ = (Rᵀu)·φ
            labels.append({"n": n, "x": X.round(3).tolist(), "u": U.round(3).tolist()})
    m = len(X_all)
    pts = np.unique(np.concatenate(X_all), axis=0)

    def ops(U):
        return [Operator("linear", (), tuple(map(float, u))) for u in U]

    tuples = X_all + X_all + [p[None] for p in pts]
    operators = [ops(U) for U in U_all] + [ops(U) for U in gU_all] + [["phi^2"]] * len(pts)
    ens = local_ensemble(model, tuples, operators, samples=samples, key=key, blocks=blocks)

    def fn(full, conn):
        G = conn if connected else full
        return G[:m] - G[m:2 * m]

    est = ens.derived(fn)
    dof = dof_of(ens.sums)
    scale = float(np.mean(ens.full().mean[2 * m:])) / D
    ords = np.array([len(X) for X in X_all], dtype=float)
    tol = np.broadcast_to(np.asarray(tolerance if tolerance is not None else rel_tol * max(scale, 0.0) ** (ords / 2),
                                     dtype=float), (m,))
    basis = (proof + "; checked statistically") if proof else "statistical"
    if not np.all(tol > 0):
        return degenerate_result(label, f"⟨φ·φ⟩ = {scale * D:.3g} at the points: nothing to rotate", est.n,
                                 alpha=alpha, dof=dof, m=m)
    res = decide(label, est.mean / tol, est.stderr / tol, est.n, alpha=alpha, tolerance=1.0, dof=dof,
                 labels=labels, basis=basis, what="violation/tol",
                 data={"diff": est.mean, "diff_err": est.stderr, "tolerance": tol})
    return with_proof(res, proof, alpha)
