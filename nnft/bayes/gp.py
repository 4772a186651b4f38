"""Exact Gaussian-process regression on the NNGP kernel: posterior mean, covariance and log evidence.

With training inputs X (n, d), targets y (n,), Gaussian noise of variance σ_ε² and a zero-mean GP
prior with kernel K (the NNGP, K(x, x') = E[φ(x)φ(x')] at N → ∞), the posterior of the latent field
f* = φ(X*) at test points is Gaussian with (Rasmussen & Williams 2006, Alg. 2.1; Lee et al.
arXiv:1711.00165 eq. 3-4; LH arXiv:2309.01592 eq. 32)

    μ* = K*ᵀ (K + σ_ε² I)⁻¹ y,          Σ* = K** − K*ᵀ (K + σ_ε² I)⁻¹ K*,

and the log marginal likelihood (evidence) of the data (LH arXiv:2309.01592 eq. 33)

    log p(y | X) = −½ yᵀ (K + σ_ε² I)⁻¹ y − ½ log det(K + σ_ε² I) − (n/2) log 2π.

Both by one Cholesky factor L of A = K + (σ_ε² + j) I: the jitter j starts at 0 and grows by factors
of 10 from 10⁻¹² · mean diag K up to :data:`MAX_JITTER` · mean diag K; the jitter used is reported,
and a matrix not positive definite even then is refused (:class:`~nnft.errors.EstimatorError`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nnft.errors import EstimatorError, InputError
from nnft.tables import TextTable

__all__ = ["GPPosterior", "MAX_JITTER", "cholesky_jitter", "gp_posterior", "nngp_posterior"]

#: most training + test points of one NNGP posterior (its kernel matrix, float64: 512 MB)
MAX_GP_POINTS = 8192
#: largest jitter tried, relative to the mean diagonal of K (a larger one would change the model)
MAX_JITTER = 1e-6
#: smallest nonzero jitter tried, relative to the mean diagonal of K
MIN_JITTER = 1e-12


@dataclass(frozen=True)
class GPPosterior(TextTable):
    """The GP posterior of the latent field at test points.

    Attributes:
      x_train: (n, d) training inputs.  y_train: (n,) targets.  x_test: (m, d) test inputs.
      noise_var: σ_ε², units of φ².
      mean: (m,) posterior mean μ*, units of φ.
      cov: (m, m) posterior covariance Σ* of the latent f* (add σ_ε² I for noisy targets), units of φ².
      log_evidence: log p(y | X), a float (nats).
      jitter: the diagonal added to K + σ_ε² I to factor it (absolute, units of φ²; 0.0 if none).
      source: where K came from (e.g. "graph recursion").
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    noise_var: float
    mean: np.ndarray
    cov: np.ndarray
    log_evidence: float
    jitter: float
    source: str = ""

    def table(self) -> str:
        """Per test point: the posterior mean and variance; then the log evidence and the jitter."""
        from nnft.tables import render
        rows = [[", ".join(f"{c:g}" for c in x), f"{m:.6g}", f"{v:.6g}"]
                for x, m, v in zip(self.x_test, self.mean, self.var)]
        return (f"NNGP posterior, {len(self.x_train)} training points, σ_ε² = {self.noise_var:g}\n"
                + "\n".join(render(["x*", "mean", "variance"], rows, align=["<", ">", ">"]))
                + f"\nlog evidence {self.log_evidence:.6g} (jitter {self.jitter:.3g}, {self.source})")

    @property
    def var(self) -> np.ndarray:
        """(m,) posterior variances, the diagonal of :attr:`cov`."""
        return np.diag(self.cov).copy()


def cholesky_jitter(A: np.ndarray, scale: float | None = None) -> tuple[np.ndarray, float]:
    """Lower Cholesky factor of a symmetric A, adding the smallest jitter j·I that makes it work.

    Args:
      A: (n, n) symmetric matrix.
      scale: the unit of the jitter (default: mean |diag A|); tried j = 0, then 10⁻¹², 10⁻¹¹, …,
        :data:`MAX_JITTER` times ``scale``.

    Returns:
      (L, j): L (n, n) lower triangular with L Lᵀ = A + j I, and the absolute jitter j.

    Raises:
      EstimatorError: A is not finite, or not positive definite even with the largest jitter.
    """
    A = np.asarray(A, dtype=np.float64)
    if not np.all(np.isfinite(A)):
        raise EstimatorError("the kernel matrix has non-finite entries: no GP posterior")
    s = float(np.mean(np.abs(np.diag(A)))) if scale is None else float(scale)
    s = s if s > 0 else 1.0
    tries = [0.0] + [s * 10.0 ** k for k in range(int(math.log10(MIN_JITTER)), int(math.log10(MAX_JITTER)) + 1)]
    eye = np.eye(len(A))
    for j in tries:
        try:
            return np.linalg.cholesky(A + j * eye), j
        except np.linalg.LinAlgError:
            continue
    lo = float(np.linalg.eigvalsh(0.5 * (A + A.T))[0])
    raise EstimatorError(f"K + σ_ε² I is not positive definite even with jitter {tries[-1]:.3g} "
                         f"({MAX_JITTER:g} × mean diagonal); smallest eigenvalue {lo:.3g}. Likely: repeated "
                         "training inputs with σ_ε² = 0, or a kernel that is not a covariance; fix: σ_ε² > 0 "
                         "or distinct inputs")


def _check(x_train, y_train, x_test, noise_var):
    X = np.atleast_2d(np.asarray(x_train, dtype=np.float64))
    Xs = np.atleast_2d(np.asarray(x_test, dtype=np.float64))
    y = np.asarray(y_train, dtype=np.float64).reshape(-1)
    if X.ndim != 2 or Xs.ndim != 2 or X.shape[1] != Xs.shape[1]:
        raise InputError(f"x_train (n, d) and x_test (m, d) must have one d; got {X.shape} and {Xs.shape}")
    if len(y) != len(X):
        raise InputError(f"y_train has {len(y)} targets for {len(X)} training inputs")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(Xs)) and np.all(np.isfinite(y))):
        raise InputError("training inputs, targets and test inputs must be finite")
    nv = float(noise_var)
    if not (math.isfinite(nv) and nv >= 0):
        raise InputError(f"noise_var σ_ε² must be finite and ≥ 0, got {noise_var}")
    return X, y, Xs, nv


def gp_posterior(K_train: np.ndarray, K_cross: np.ndarray, K_test: np.ndarray, y: np.ndarray,
                 noise_var: float) -> tuple[np.ndarray, np.ndarray, float, float]:
    """The GP algebra (Rasmussen & Williams 2006 Alg. 2.1) on given kernel blocks.

    Args:
      K_train: (n, n) K(X, X).  K_cross: (n, m) K(X, X*).  K_test: (m, m) K(X*, X*).
      y: (n,) targets.  noise_var: σ_ε² ≥ 0.

    Returns:
      (mean (m,), cov (m, m), log_evidence, jitter), as in :class:`GPPosterior`.

    Raises:
      EstimatorError: K + σ_ε² I not positive definite with jitter up to :data:`MAX_JITTER` (relative).
    """
    K = np.asarray(K_train, dtype=np.float64)
    n = len(K)
    L, jit = cholesky_jitter(K + noise_var * np.eye(n), scale=float(np.mean(np.abs(np.diag(K)))) or None)
    y = np.asarray(y, dtype=np.float64)
    alpha = np.linalg.solve(L.T, np.linalg.solve(L, y))
    Ks = np.asarray(K_cross, dtype=np.float64)
    mean = Ks.T @ alpha
    V = np.linalg.solve(L, Ks)
    cov = np.asarray(K_test, dtype=np.float64) - V.T @ V
    cov = 0.5 * (cov + cov.T)
    logev = float(-0.5 * y @ alpha - np.sum(np.log(np.diag(L))) - 0.5 * n * math.log(2 * math.pi))
    return mean, cov, logev, jit


def nngp_posterior(model, x_train, y_train, x_test, noise_var: float) -> GPPosterior:
    """The NNGP posterior of a compiled model's field at test points (Lee et al. arXiv:1711.00165
    eq. 3-4; LH arXiv:2309.01592 eq. 32-33).

    K is the model's NNGP on the union of the training and test points
    (``nnft.kernels_reference.kernels_or_reference``: the graph's kernel recursion, else the neuron
    reference), normalised as the field's prior two-point function, K(x, x') = E[φ(x)φ(x')] at
    N → ∞ (readout and bias variances included). The prior mean is taken as 0.

    Args:
      model: a compiled model (``nnft.compile``) without insertions.
      x_train: training inputs, (n, d).
      y_train: targets, (n,) (units of φ).
      x_test: test inputs, (m, d).
      noise_var: σ_ε² ≥ 0 (units of φ²).

    Returns:
      :class:`GPPosterior`.

    Raises:
      InputError: malformed arrays or σ_ε², no training point, or more than :data:`MAX_GP_POINTS` training and
        test points together.  KernelError: no NNGP for this model.
      EstimatorError: K + σ_ε² I not positive definite even with the largest jitter.
    """
    from nnft.kernels_reference import kernels_or_reference
    X, y, Xs, nv = _check(x_train, y_train, x_test, noise_var)
    if X.shape[1] != model.d:
        raise InputError(f"points must have d = {model.d} coordinates, got {X.shape[1]}")
    if not 1 <= len(X) or len(X) + len(Xs) > MAX_GP_POINTS:
        raise InputError(f"need at least 1 training point and at most {MAX_GP_POINTS} training + test points "
                         f"(the kernel matrix is their square); got {len(X)} + {len(Xs)}")
    k = kernels_or_reference(model, np.concatenate([X, Xs]))
    K = np.asarray(k.nngp, dtype=np.float64)
    n = len(X)
    mean, cov, logev, jit = gp_posterior(K[:n, :n], K[:n, n:], K[n:, n:], y, nv)
    return GPPosterior(x_train=X, y_train=y, x_test=Xs, noise_var=nv, mean=mean, cov=cov, log_evidence=logev,
                       jitter=jit, source=str(getattr(k, "source", "")))
