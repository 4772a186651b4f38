"""Bayesian inference: the finite-width posterior by reweighting prior networks with the data's
likelihood (:func:`finite_width_posterior`), and with the infinite-width prior the NNGP posterior mean,
covariance and log evidence, by exact GP algebra on the graph's kernel map (Les Houches arXiv:2309.01592 eq. 32-33;
Rasmussen & Williams, *Gaussian Processes for Machine Learning* (2006), eq. 2.23-2.24 and 2.30):

    A = K(X, X) + (σ² + ε) I = L Lᵀ                 (Cholesky; ε the jitter, reported)
    μ(x)       = K(x, X) A⁻¹ Y
    Σ(x, x')   = K(x, x') − K(x, X) A⁻¹ K(X, x')
    log p(Y|X) = −½ Yᵀ A⁻¹ Y − Σᵢ log Lᵢᵢ − (M/2) log 2π

σ² is the observation noise variance of the Gaussian likelihood y = f(x) + N(0, σ²).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nnft.errors import InputError, KernelError

#: jitters tried, relative to the mean diagonal of K(X, X), when the Cholesky factorisation fails
JITTERS = (0.0, 1e-12, 1e-10, 1e-8, 1e-6)


@dataclass(frozen=True)
class Posterior:
    """The NNGP posterior at the test points.

    Attributes:
      mean: μ(x), (P,); cov: Σ(x, x'), (P, P); log_evidence: log p(Y | X) (nats).
      noise: σ², the likelihood's noise variance; jitter: ε added to the diagonal for the Cholesky
        factorisation (0 when none was needed; absolute, in the units of K).
      source: the formulas' source.
    """

    mean: np.ndarray
    cov: np.ndarray
    log_evidence: float
    noise: float
    jitter: float
    source: str = "Les Houches arXiv:2309.01592 eq. 32-33 with the graph's NNGP kernel"

    @property
    def var(self) -> np.ndarray:
        """Σ(x, x), (P,)."""
        return np.diagonal(self.cov).copy()


def gp_posterior(K: np.ndarray, M: int, Y, noise: float = 0.0) -> Posterior:
    """The GP posterior of a centred prior with covariance K on Z = (X; test) (training inputs first).

    Args:
      K: (M + P, M + P) prior covariance; M: training inputs; Y: targets (M,); noise: σ² ≥ 0.

    Raises:
      InputError: a negative or non-finite noise, shapes that do not fit.
      KernelError: K(X, X) + σ²I is not positive definite even with the largest jitter of
        :data:`JITTERS` (relative to its mean diagonal).
    """
    K = np.asarray(K, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64).reshape(-1)
    if not (math.isfinite(noise) and noise >= 0):
        raise InputError(f"noise must be a finite variance ≥ 0, got {noise!r}")
    if K.ndim != 2 or K.shape[0] != K.shape[1] or len(Y) != M or not 0 < M <= len(K):
        raise InputError(f"K must be (M + P, M + P) with M = {M} = len(Y) = {len(Y)}, got {K.shape}")
    Kxx, Kxt, Ktt = K[:M, :M], K[:M, M:], K[M:, M:]
    scale = float(np.mean(np.diag(Kxx))) or 1.0
    for rel in JITTERS:
        jitter = rel * scale
        try:
            L = np.linalg.cholesky(Kxx + (noise + jitter) * np.eye(M))
        except np.linalg.LinAlgError:
            continue
        break
    else:
        raise KernelError(f"K(X, X) + σ²I is not positive definite (σ² = {noise:g}) even with a jitter of "
                          f"{JITTERS[-1]:g} × its mean diagonal; remove duplicate training inputs or give noise > 0")
    from scipy.linalg import cho_solve
    alpha = cho_solve((L, True), Y)
    V = cho_solve((L, True), Kxt)
    cov = Ktt - Kxt.T @ V
    logev = -0.5 * float(Y @ alpha) - float(np.sum(np.log(np.diag(L)))) - 0.5 * M * math.log(2 * math.pi)
    return Posterior(mean=Kxt.T @ alpha, cov=0.5 * (cov + cov.T), log_evidence=logev, noise=float(noise),
                     jitter=float(jitter))


def nngp_posterior(model, X=None, Y=None, test=None, *, noise: float = 0.0) -> Posterior:
    """The infinite-width Bayesian posterior of ``model``'s NNGP prior (``nnft.kernel_fn``) given
    training data: by default the spec's ``train:`` inputs, targets and test points.

    Args:
      X: (M, d) training inputs; Y: (M,) targets; test: (P, d) test points.
      noise: σ², the variance of the Gaussian likelihood.

    Returns:
      :class:`Posterior` (mean, covariance, log evidence, the jitter used).

    Raises:
      SpecError: no data given and no ``train:`` block. KernelError: the model has no infinite-width
      kernel, or K(X, X) + σ²I is not positive definite (module docstring). InputError: bad shapes.
    """
    from nnft.graph.kernels import kernel_fn
    if X is None or Y is None or test is None:
        from nnft.training.setup import resolve
        s = resolve(model.theory)
        X = s.X if X is None else X
        Y = s.Y if Y is None else Y
        test = s.test if test is None else test
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    test = np.atleast_2d(np.asarray(test, dtype=np.float64))
    K = kernel_fn(model)(np.concatenate([X, test]), None, "nngp")
    return gp_posterior(K, len(X), Y, noise)


@dataclass(frozen=True)
class SampledPosterior:
    """The finite-width posterior of the network prior P(θ) given Gaussian-likelihood data, by importance
    reweighting of i.i.d. prior networks.

    Attributes:
      mean: E_post f(x) at the test points, (P,); cov: Cov_post f(x, x'), (P, P) (Estimates with the
        jackknife error and the Kish ESS of the weights).
      ess: Kish effective sample size (Σw)²/Σw² (``nnft.stats.kish_ess``).
      noise: σ².
    """

    mean: object
    cov: object
    ess: float
    noise: float


def finite_width_posterior(model, X=None, Y=None, test=None, *, noise: float, samples: int = 100_000,
                           key=0, chunk: int = 4096, n_blocks: int = 64) -> SampledPosterior:
    """The posterior of the finite-width network given data: networks θ⁽ⁱ⁾ ~ P(θ) (network i as in
    ``nnft.measure`` with the same key), weighted by the Gaussian likelihood of the training targets,
    wᵢ = exp(−Σ_α (f_θ⁽ⁱ⁾(x_α) − y_α)² / 2σ²) ≤ 1 (Les Houches arXiv:2309.01592 eq. 30-31: the data term
    as an insertion e^{−S_data} on the prior, TASI arXiv:2408.00082 §5.2), and the posterior mean and
    covariance at the test points as weighted averages with block-jackknife errors. At infinite width it
    is the NNGP posterior (:func:`nngp_posterior`).

    Args:
      X, Y, test: data and test points (default: the spec's ``train:`` block); noise: σ² > 0;
      samples: prior networks; key: seed; chunk: networks per jitted step (changes no number).

    Raises:
      InputError: noise ≤ 0. EstimatorError: the weights collapsed (Kish ESS < 10: a narrow
      likelihood; raise the noise or the samples).
    """
    import jax
    import jax.numpy as jnp

    from nnft.sample.iid import as_key
    from nnft.stats import BlockSums
    if not (math.isfinite(noise) and noise > 0):
        raise InputError(f"noise must be a finite variance > 0, got {noise!r}")
    if X is None or Y is None or test is None:
        from nnft.training.setup import resolve
        s = resolve(model.theory)
        X = s.X if X is None else X
        Y = s.Y if Y is None else Y
        test = s.test if test is None else test
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    test = np.atleast_2d(np.asarray(test, dtype=np.float64))
    Y = np.asarray(Y, dtype=np.float64).reshape(-1)
    M, P = len(X), len(test)
    Z = np.concatenate([X, test])
    K = max(2, min(n_blocks, samples // 2))
    chunk = max(1, min(chunk, samples))
    k = as_key(key)

    with jax.enable_x64(True):
        Zj, Yj = jnp.asarray(Z, jnp.float32), jnp.asarray(Y, jnp.float32)

        @jax.jit
        def step(start):
            theta = model.sample(k, chunk, start)
            f = model.fields(theta, Zj).astype(jnp.float64)                # (chunk, M + P)
            loglik = -jnp.sum((f[:, :M] - Yj[None, :]) ** 2, axis=1) / (2 * noise)
            ft = f[:, M:]
            feats = jnp.concatenate([ft, (ft[:, :, None] * ft[:, None, :]).reshape(chunk, -1)], axis=1)
            return feats, jnp.exp(loglik)

        acc = BlockSums(K, P + P * P)
        acc.weights2 = np.zeros(K)
        block_of = (np.arange(samples, dtype=np.int64) * K) // samples
        for start in range(0, samples, chunk):
            count = min(chunk, samples - start)
            feats, w = (np.asarray(a)[:count] for a in step(start))
            if not (np.all(np.isfinite(feats)) and np.all(np.isfinite(w))):
                from nnft.errors import SamplingError
                raise SamplingError(f"a network in [{start}, {start + count}) gave a non-finite field value")
            b = block_of[start:start + count]
            np.add.at(acc.sums, b, feats * w[:, None])
            np.add.at(acc.weights, b, w)
            np.add.at(acc.weights2, b, w ** 2)
            acc.n += count

    def cov(m):
        mu = m[:P]
        return m[P:].reshape(P, P) - np.outer(mu, mu)

    mean = acc.jackknife(lambda m: m[:P], what="posterior mean")
    return SampledPosterior(mean=mean, cov=acc.jackknife(cov, what="posterior covariance"), ess=float(acc.ess),
                            noise=float(noise))
