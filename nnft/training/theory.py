"""Infinite-width theory of training: the linearised network is a Gaussian process at every time
(Lee et al. arXiv:1902.06720 eq. 14-16; TASI arXiv:2408.00082 eq. 96-99; Les Houches arXiv:2309.01592
eq. 88-90), and the critical learning rate η_crit = 2/λ_max (LH §3.3, Result 5).

Conventions (docs/training.md). The loss is L = (c/2) Σ_α (f(x_α) − y_α)² (c = 1 for ``square``,
2/M for ``mse``); Θ is the NTK of the trained coordinates weighted by their learning rates (NTK
parameterisation: the graph's NTK, ``nnft.kernel_fn``; standard and abcd: Σ_p w_p Θ_p from the graph's
per-parameter terms, :func:`trained_kernel`); K is the NNGP kernel. With Θ = Θ(X, X) = V diag(λ) Vᵀ and after k steps:

    D_k = (I − η c Θ)^k              (gradient descent, exact for the linearised model)
    D_k = exp(−η c Θ k)              (gradient flow at time t = η k)
    A_k = Θ(x, X) Θ⁻¹ (I − D_k) = Θ(x, X) V diag((1 − d_k(λ))/λ) Vᵀ
    μ_k(x)      = A_k Y
    Σ_k(x, x')  = K(x, x') − A_k K(X, x') − K(x, X) A_kᵀ + A_k K(X, X) A_kᵀ
    E L_k       = (c/2) [tr(D_k K D_kᵀ) + ‖D_k Y‖²]      (f₀ centred with covariance K)

(1 − d(λ))/λ is evaluated stably for small λ (→ η c k), so no inverse of Θ is formed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LinearisedGP:
    """The infinite-width prediction at the recorded steps.

    Attributes:
      mean: μ_k at the test points, (T, P).
      cov: Σ_k between the test points, (T, P, P).
      loss: expected training loss E L_k, (T,).
      eta_crit: 2/(c λ_max(Θ(X, X))): above it gradient descent of the linearised model diverges.
      regime: "stable" (η < η_crit), "catapult" (η_crit ≤ η < 2 η_crit, LH §3.3: the NTK must shrink
        for training to converge) or "divergent" (η ≥ 2 η_crit).
      dynamics: "gd" or "flow".
      source: where the kernels came from.
    """

    mean: np.ndarray
    cov: np.ndarray
    loss: np.ndarray
    eta_crit: float
    regime: str
    dynamics: str
    source: str = "Lee et al. arXiv:1902.06720 eq. 14-16 with the graph's NNGP and NTK"


def decay(lam: np.ndarray, eta_c: float, steps: int, dynamics: str) -> tuple[np.ndarray, np.ndarray]:
    """(d_k(λ), (1 − d_k(λ))/λ) per eigenvalue λ ≥ 0 of Θ(X, X) after ``steps`` steps of rate ηc."""
    lam = np.asarray(lam, dtype=np.float64)
    if dynamics == "flow":
        x = eta_c * steps * lam
        d = np.exp(-x)
        # (1 − e^{−x})/λ = η c k · (1 − e^{−x})/x, via expm1 (exact as x → 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(x > 1e-12, -np.expm1(-x) / np.where(x > 0, x, 1.0), 1.0)
        return d, eta_c * steps * ratio
    if dynamics != "gd":
        from nnft.errors import InputError
        raise InputError(f"dynamics must be 'gd' or 'flow', got {str(dynamics)[:40]!r}")
    r = 1.0 - eta_c * lam
    d = r ** steps
    # (1 − r^k)/λ = η c Σ_{j<k} r^j (a geometric sum; stable for r near 1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        geo = np.where(np.abs(1.0 - r) > 1e-8, (1.0 - d) / np.where(np.abs(1 - r) > 1e-8, 1.0 - r, 1.0), steps)
    return d, eta_c * geo


def regime(eta: float, eta_crit: float) -> str:
    """``stable`` below η_crit, ``catapult`` in [η_crit, 2η_crit), ``divergent`` from 2η_crit on
    (Lewkowycz et al. arXiv:2003.02218; LH arXiv:2309.01592 §3.3)."""
    if eta < eta_crit:
        return "stable"
    return "catapult" if eta < 2 * eta_crit else "divergent"


def linearised_gp(K: np.ndarray, Theta: np.ndarray, M: int, Y: np.ndarray, eta: float, loss_factor: float,
                  steps, dynamics: str = "gd") -> LinearisedGP:
    """μ_k, Σ_k and E L_k of the infinite-width linearised network (module docstring).

    Args:
      K, Theta: NNGP and NTK on the points Z = (X; test), (M + P, M + P), the training inputs first.
      M: number of training inputs; Y: targets (M,).
      eta: learning rate η; loss_factor: c of L = (c/2)Σ(f − y)².
      steps: the recorded steps (T,).
      dynamics: "gd" (discrete gradient descent) or "flow" (gradient flow, t = η k).

    Returns:
      :class:`LinearisedGP`.
    """
    K = np.asarray(K, dtype=np.float64)
    Th = np.asarray(Theta, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    Kxx, Kxt, Ktt = K[:M, :M], K[:M, M:], K[M:, M:]
    Txx, Ttx = Th[:M, :M], Th[M:, :M]
    lam, V = np.linalg.eigh(0.5 * (Txx + Txx.T))
    lam = np.clip(lam, 0.0, None)
    eta_c = eta * loss_factor
    means, covs, losses = [], [], []
    for k in np.asarray(steps, dtype=np.int64):
        with np.errstate(over="ignore", invalid="ignore"):     # a divergent rate: inf/NaN theory (flagged)
            d, g = decay(lam, eta_c, int(k), dynamics)
            A = (Ttx @ V) * g @ V.T                             # (P, M)
            D = (V * d) @ V.T                                   # (M, M)
            means.append(A @ Y)
            cov = Ktt - A @ Kxt - Kxt.T @ A.T + A @ Kxx @ A.T
            covs.append(0.5 * (cov + cov.T))
            losses.append(0.5 * loss_factor * (np.trace(D @ Kxx @ D.T) + np.sum((D @ Y) ** 2)))
    lmax = float(lam.max()) if lam.size else 0.0
    eta_crit = 2.0 / (loss_factor * lmax) if lmax > 0 else float("inf")
    return LinearisedGP(mean=np.array(means), cov=np.array(covs), loss=np.array(losses), eta_crit=eta_crit,
                        regime=regime(eta, eta_crit), dynamics=dynamics)


def linearised_gp_momentum(K: np.ndarray, Theta: np.ndarray, M: int, Y: np.ndarray, eta: float,
                           loss_factor: float, steps, beta: float) -> LinearisedGP:
    """μ_k, Σ_k, E L_k of the infinite-width linearised network trained by heavy-ball gradient descent
    (optax ``sgd(η, momentum=β)``: v ← β v + ∇L, ω ← ω − η v), by iterating its linear map in function
    space. With f_k(Z) = f_0(Z) − A_k (f_0(X) − Y) and the velocity J v_k = U_k (f_0(X) − Y):

        U_{k+1} = β U_k + c Θ(Z, X) (I − A_k[X]),     A_{k+1} = A_k + η U_{k+1},     A_0 = U_0 = 0,

    (β = 0 is gradient descent: A_k[test] = Θ(x, X)Θ⁻¹(I − D_k), the closed form of :func:`linearised_gp`),
    jumping between recorded steps by powers of the map's matrix.
    Then μ_k = A_k[test] Y and Σ_k, E L_k as in the module docstring with D_k = I − A_k[X]. The map is
    stable iff η c λ < 2(1 + β) for every eigenvalue λ of Θ(X, X) (Polyak 1964): η_crit = 2(1 + β)/(c λ_max).
    """
    K = np.asarray(K, dtype=np.float64)
    Th = np.asarray(Theta, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    Q = len(K)
    Kxx, Kxt, Ktt = K[:M, :M], K[:M, M:], K[M:, M:]
    Tzx = Th[:, :M]
    c = loss_factor
    # the affine map s ↦ G s + h on s = (A; U) (2Q × M), as one (2Q + M)-square matrix: jumps between
    # recorded steps are matrix powers (exponentiation by squaring), whatever the number of steps
    S = np.zeros((M, Q))
    S[:, :M] = np.eye(M)
    G = np.block([[np.eye(Q) - eta * c * Tzx @ S, eta * beta * np.eye(Q)], [-c * Tzx @ S, beta * np.eye(Q)]])
    h = np.concatenate([eta * c * Tzx, c * Tzx])
    aug = np.block([[G, h], [np.zeros((M, 2 * Q)), np.eye(M)]])
    state = np.concatenate([np.zeros((2 * Q, M)), np.eye(M)])
    out, at = {}, 0
    for k in sorted({int(k) for k in steps}):
        state = np.linalg.matrix_power(aug, k - at) @ state
        at = k
        A = state[:Q]
        At, D = A[M:], np.eye(M) - A[:M]
        cov = Ktt - At @ Kxt - Kxt.T @ At.T + At @ Kxx @ At.T
        out[k] = (At @ Y, 0.5 * (cov + cov.T), 0.5 * c * (np.trace(D @ Kxx @ D.T) + np.sum((D @ Y) ** 2)))
    lam = float(np.clip(np.linalg.eigvalsh(0.5 * (Th[:M, :M] + Th[:M, :M].T)), 0, None).max())
    eta_crit = 2.0 * (1.0 + beta) / (c * lam) if lam > 0 else float("inf")
    ks = [int(k) for k in steps]
    return LinearisedGP(mean=np.array([out[k][0] for k in ks]), cov=np.array([out[k][1] for k in ks]),
                        loss=np.array([out[k][2] for k in ks]), eta_crit=eta_crit, regime=regime(eta, eta_crit),
                        dynamics=f"heavy ball β = {beta:g}")


def trained_kernel(model, setup, Z: np.ndarray):
    """(K, Θ, "") on the points Z for the block's parameterisation, or (None, None, the reason there is
    no kernel theory). Θ is the NTK of the trained coordinates weighted by their learning rates,
    Σ_p w_p Θ_p with w_p = r_p c_p²/s_p² (``nnft.training.abcd.kernel_weights``) and Θ_p parameter p's
    term of the NTK-parameterisation NTK (``Kernels.ntk_terms``): in ``standard`` Θ = Σ_p Θ_p/s_p²
    (Sohl-Dickstein et al. arXiv:2001.07301). It exists when every parameter starts from the spec's law
    (ρ_p = 1): then at infinite width the features stay put (the rates are at most the NTK
    parameterisation's, scaled by η) and K is the spec's NNGP."""
    from nnft.errors import KernelError
    from nnft.graph.kernels import kernel_fn, kernels
    b = setup.block
    try:
        if b.parameterisation == "ntk":
            k = kernel_fn(model)(Z, None, ("nngp", "ntk"))
            return k.nngp, k.ntk, ""
        from nnft.estimators.ntk import trainable_scales
        from nnft.training.abcd import coordinates, kernel_weights
        coords = coordinates(model, b)
        moved = {p: co.rho for p, co in coords.items() if co.rho != 1.0}
        if b.parameterisation == "mup":
            return None, None, ("mup: features move by O(1) at any width (TASI arXiv:2408.00082 eq. 119-125, "
                                "d = 1/2; Yang & Hu arXiv:2011.14522 §3): no kernel theory at infinite width")
        if moved:
            what = ", ".join(f"{p} × {r:.3g}" for p, r in moved.items())
            return None, None, (f"abcd: the initial law is not the spec's ({what}, from 2a + b ≠ the spec's width "
                                "exponent): the spec's NNGP and NTK do not describe it (TASI arXiv:2408.00082 "
                                "eq. 101-106); no kernel theory")
        k = kernels(model, Z)
        w = kernel_weights(coords, trainable_scales(model))
        theta = sum(w[p] * t for p, t in k.ntk_terms.items() if p in w)
        return k.nngp, np.asarray(theta, dtype=np.float64), ""
    except KernelError as err:
        return None, None, f"no infinite-width kernel: {err}"


def theory_for(model, setup, dynamics: str | None = None) -> tuple[LinearisedGP | None, str]:
    """The linearised-GP theory of a training setup, or None and the reason it does not apply.

    It applies to gradient descent (``sgd``) and heavy-ball ``momentum`` without weight decay in the
    ``ntk`` and ``standard`` parameterisations and in an ``abcd`` one whose initial law is the spec's
    (:func:`trained_kernel`), of a model whose graph has infinite-width kernels (``nnft.kernel_fn``); not
    in ``mup`` (feature learning). For sgd ``dynamics`` defaults to "gd" (the exact discrete map of the
    linearised model) or is "flow".
    """
    b = setup.block
    if b.loss == "logistic":
        return None, "logistic loss: the linearised dynamics are not linear in function space (no closed form)"
    if b.optimizer == "adam":
        return None, "adam: the linearised dynamics are not linear in function space (no closed form)"
    if setup.temperature > 0:
        return None, ("Langevin noise: the closed form is for noiseless descent (with weight decay = T in ntk "
                      "coordinates the stationary law is the Bayesian posterior: nnft.nngp_posterior at large width)")
    if setup.weight_decay > 0:
        return None, "weight decay: the closed form is for the unregularised loss"
    if b.optimizer == "momentum" and dynamics == "flow":
        return None, "momentum: the theory is the discrete heavy-ball map (no flow form)"
    try:                                 # constants far out of range (σ = 1e200) overflow the kernel maps
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            Z = np.concatenate([setup.X, setup.test])
            K, Theta, why = trained_kernel(model, setup, Z)
            if K is None:
                return None, why
            if not (np.all(np.isfinite(K)) and np.all(np.isfinite(Theta))):
                raise FloatingPointError("a kernel entry is not finite")
            if b.optimizer == "momentum":
                return linearised_gp_momentum(K, Theta, len(setup.X), setup.Y, setup.lr, setup.loss_factor,
                                              setup.record, setup.momentum), ""
            return linearised_gp(K, Theta, len(setup.X), setup.Y, setup.lr, setup.loss_factor, setup.record,
                                 dynamics or "gd"), ""
    except (OverflowError, FloatingPointError, ZeroDivisionError, np.linalg.LinAlgError) as err:
        return None, (f"the linearised theory cannot be computed at these constants ({type(err).__name__}: "
                      f"{str(err)[:80]}): the kernels overflow or are numerically singular")
