"""Finite-width posterior correlators beside the NNGP posterior.

The posterior mean and covariance of the field at test points,

    μ_a = ⟨φ(x*_a)⟩_D,     Σ_ab = ⟨φ(x*_a) φ(x*_b)⟩_D − μ_a μ_b,

under P(θ | D) ∝ P(θ) e^{−Σ_i (φ_θ(x_i) − y_i)²/(2σ_ε²)} (the likelihood insertion,
``nnft.bayes.likelihood``), estimated with standard errors by

- ``method="reweight"``: prior networks weighted by e^{−S} (``nnft.ensemble`` on the conditioned
  model; the Kish ESS is reported and a degenerate ensemble, ESS below
  ``nnft.sample.reweight.ess_floor``, is refused with an EstimatorError), or
- ``method="nuts"``: BlackJAX NUTS on P(θ | D) (``nnft.mcmc_ensemble``; R̂ and bulk ESS reported),

and set beside the NNGP posterior (``nnft.bayes.gp.nngp_posterior``; Lee et al. arXiv:1711.00165
eq. 3-4; LH arXiv:2309.01592 eq. 32). Σ_ab is the joint cumulant of the two field values, so the
mean is subtracted inside the jackknife.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from nnft.errors import EstimatorError, InputError, ReweightingWarning
from nnft.bayes.gp import GPPosterior, nngp_posterior
from nnft.bayes.likelihood import condition
from nnft.sample.reweight import ess_floor
from nnft.stats import Estimate
from nnft.tables import TextTable

__all__ = ["MAX_TEST", "Posterior", "posterior"]

#: most test points (the covariance needs m(m+1)/2 pairs)
MAX_TEST = 64


@dataclass(frozen=True)
class Posterior(TextTable):
    """Finite-width posterior correlators at test points, with the NNGP posterior beside them.

    Attributes:
      x_test: (m, d) test points.
      mean: :class:`~nnft.stats.Estimate` (m,), ⟨φ(x*_a)⟩ under P(θ | D) (units of φ).
      cov: :class:`~nnft.stats.Estimate` (m, m), the posterior covariance (units of φ²).
      nngp: the :class:`~nnft.bayes.gp.GPPosterior` at the same points (None if not asked or no NNGP).
      method: "reweight" or "nuts".
      ess: Kish ESS of the importance weights (reweight) or the smallest bulk ESS of the chains (nuts).
      rhat: largest R̂ of the chains' observables (nuts; None for reweight).
      samples: networks (reweight) or kept draws (nuts).
      width: the spec's N (None when it has no N).
      x_train (n, d), y_train (n,), noise_var: the data and σ_ε².
      log_evidence: :class:`~nnft.stats.Estimate` (scalar) of log p(y | X) = log E_P(θ)[Π_i N(y_i; φ_θ(x_i), σ_ε²)]
        from the mean importance weight (reweight only; None for nuts), delete-one-block jackknife error.
      diagnostics: the chains' ``nnft.sample.diagnostics.Diagnostics`` (nuts; None for reweight).
    """

    x_test: np.ndarray
    mean: Estimate
    cov: Estimate
    nngp: GPPosterior | None
    method: str
    ess: float
    rhat: float | None
    samples: int
    width: int | None = None
    x_train: np.ndarray | None = None
    y_train: np.ndarray | None = None
    noise_var: float = float("nan")
    log_evidence: Estimate | None = None
    diagnostics: object = None

    def table(self) -> str:
        """Per test point: the posterior mean and variance with errors, the NNGP ones and the z-scores."""
        from nnft.tables import estimate, render
        var, var_err = np.diag(self.cov.mean), np.diag(self.cov.stderr)
        rows = []
        for a, x in enumerate(self.x_test):
            row = [", ".join(f"{c:g}" for c in x), estimate(self.mean.mean[a], self.mean.stderr[a]),
                   estimate(var[a], var_err[a])]
            if self.nngp is not None:
                row += [f"{self.nngp.mean[a]:.6g}", f"{self.nngp.var[a]:.6g}", f"{self.z_mean()[a]:+.2f}",
                        f"{self.z_var()[a]:+.2f}"]
            rows.append(row)
        header = ["x*", "mean", "variance"] + (["NNGP mean", "NNGP variance", "z mean", "z var"]
                                               if self.nngp is not None else [])
        what = (f"Kish ESS {self.ess:.0f} of {self.samples} networks" if self.method == "reweight" else
                f"NUTS, {self.samples} draws, min bulk ESS {self.ess:.0f}, max R̂ {self.rhat:.3f}")
        head = (f"posterior at N = {self.width if self.width is not None else '-'}, {len(self.x_train)} training "
                f"points, σ_ε² = {self.noise_var:g} ({self.method}: {what})")
        tail = ("" if self.log_evidence is None else
                f"\nlog evidence {estimate(float(self.log_evidence.mean), float(self.log_evidence.stderr))}")
        tail += ("" if self.nngp is None else
                 f"\nNNGP log evidence {self.nngp.log_evidence:.6g} (jitter {self.nngp.jitter:.3g}, {self.nngp.source})")
        if self.nngp is not None:
            tail += "\n" + self.width_note()
        return head + "\n" + "\n".join(render(header, rows, align=["<"] + [">"] * (len(header) - 1))) + tail

    def width_note(self) -> str:
        """The table note on z against the NNGP: a finite-width posterior differs from the NNGP (N = ∞) one by
        O(1/N) (the prior's connected 4-point function is O(1/N), arXiv:2408.00082 eq. 39, 50-51), so z measures
        that shift plus Monte Carlo noise (MC error only in the denominator), not a failure."""
        scale = "" if not self.width else f" (N = {self.width}; docs/posterior.md §3 measures the shift vs N)"
        return ("note: z (MC error only) is against the NNGP, the N = ∞ posterior; at finite N the posterior is "
                f"expected to differ from it by O(1/N){scale}, so a large |z| measures that finite-width shift plus "
                "noise, not a failure")

    def z_mean(self) -> np.ndarray:
        """(m,) z-scores of the posterior mean against the NNGP mean (MC error only)."""
        return self.mean.z(self.nngp.mean)

    def z_var(self) -> np.ndarray:
        """(m,) z-scores of the posterior variances against the NNGP variances (MC error only)."""
        return (np.diag(self.cov.mean) - self.nngp.var) / np.diag(self.cov.stderr)


def evidence(sums, n_train: int, noise_var: float) -> Estimate:
    """log p(y | X) = log(mean weight) − (n/2) log(2πσ_ε²) from the block sums of a reweighted ensemble of the
    conditioned model (weights e^{−S}, shift 0: the likelihood's V_min is 0), with the delete-one-block
    jackknife error over the contiguous blocks (``nnft.sample.iid.blocks_of``).

    Raises:
      EstimatorError: the mean weight is 0 (every network has underflowed weight).
    """
    from nnft.sample.iid import blocks_of
    W = np.asarray(sums.weights, dtype=np.float64)
    counts = np.array([hi - lo for lo, hi in blocks_of(int(sums.n), len(W))], dtype=np.float64)
    keep = counts > 0
    W, counts = W[keep], counts[keep]
    const = -0.5 * n_train * np.log(2 * np.pi * noise_var)
    if not W.sum() > 0:
        raise EstimatorError("every likelihood weight underflowed: no evidence estimate (larger noise_var)")
    full = np.log(W.sum() / counts.sum()) + const
    K = len(W)
    with np.errstate(divide="ignore"):
        loo = np.log((W.sum() - W) / (counts.sum() - counts)) + const
    se = float(np.sqrt((K - 1) / K * np.sum((loo - loo.mean()) ** 2))) if K > 1 else float("nan")
    return Estimate(np.asarray(full), np.asarray(se), int(sums.n), ess=sums.ess)


def _tuples(m: int, d: int, x_test: np.ndarray):
    pairs = [(a, b) for a in range(m) for b in range(a, m)]
    tuples = [x_test[[a]] for a in range(m)] + [x_test[[a, b]] for a, b in pairs]
    return tuples, pairs


def _split(est: Estimate, m: int, pairs) -> tuple[Estimate, Estimate]:
    mean = Estimate(est.mean[:m], est.stderr[:m], est.n, ess=est.ess, notes=est.notes)
    cm, cs = np.zeros((m, m)), np.zeros((m, m))
    for k, (a, b) in enumerate(pairs):
        cm[a, b] = cm[b, a] = est.mean[m + k]
        cs[a, b] = cs[b, a] = est.stderr[m + k]
    return mean, Estimate(cm, cs, est.n, ess=est.ess, notes=est.notes)


def posterior(model, x_train, y_train, x_test, noise_var: float, *, samples: int, method: str = "reweight",
              key=0, blocks: int = 64, chains: int = 4, warmup: int = 500, dtype: str = "float64",
              chunk: int = 4096, nngp: bool = True) -> Posterior:
    """Posterior mean and covariance of φ at test points under P(θ | D), with the NNGP posterior beside
    (Bayes' rule with a Gaussian likelihood, LH arXiv:2309.01592 eq. 32-33 at infinite width).

    Args:
      model: a compiled model (``nnft.compile``) without insertions.
      x_train: training inputs, (n, d).
      y_train: targets, (n,) (units of φ).
      x_test: test inputs, (m, d), m ≤ :data:`MAX_TEST`.
      noise_var: σ_ε² > 0 (units of φ²).
      samples: prior networks (reweight) or kept draws over all chains (nuts).
      method: "reweight" (importance weights e^{−S} of prior networks) or "nuts" (``nnft.mcmc_ensemble``).
      key: integer seed or JAX key.
      blocks: jackknife blocks.
      chains: NUTS chains (nuts only).
      warmup: NUTS warm-up steps per chain (nuts only).
      dtype: sampling precision (float64 default).
      chunk: networks per jitted step (reweight).
      nngp: also compute the NNGP posterior (skipped, with ``nngp=None``, when the model has no NNGP).

    Returns:
      :class:`Posterior`.

    Raises:
      InputError: malformed data, σ_ε² ≤ 0, too many test points, an unknown method, a model with insertions.
      EstimatorError: the reweighted ensemble is degenerate (Kish ESS below ``ess_floor(samples)``).
    Warns:
      ConvergenceWarning (nuts): R̂ > 1.01, low bulk ESS or divergences (``nnft.sample.diagnostics``).
    """
    from nnft.errors import KernelError
    from nnft.estimators.mcmc import mcmc_ensemble
    from nnft.estimators.npoint import ensemble

    if method not in ("reweight", "nuts"):
        raise InputError(f"method must be 'reweight' or 'nuts', got {method!r}")
    if model.insertions:
        raise InputError("the posterior takes a model without insertions (the prior P(θ)); got one with "
                         f"{len(model.insertions)}")
    Xs = np.atleast_2d(np.asarray(x_test, dtype=np.float64))
    if Xs.ndim != 2 or Xs.shape[1] != model.d or not 1 <= len(Xs) <= MAX_TEST:
        raise InputError(f"x_test must have shape (m, {model.d}) with 1 ≤ m ≤ {MAX_TEST}, got {Xs.shape}")
    cond = condition(model, x_train, y_train, noise_var)
    m = len(Xs)
    tuples, pairs = _tuples(m, model.d, Xs)

    def fn(full, conn):
        return np.concatenate([full[..., :m], conn[..., m:]], axis=-1)

    rhat, logev, diag = None, None, None
    if method == "reweight":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ReweightingWarning)        # refused below instead
            ens = ensemble(cond, tuples, samples=samples, key=key, blocks=blocks, chunk=chunk, dtype=dtype)
        ess = float(ens.sums.ess)
        if not ess >= ess_floor(samples):
            raise EstimatorError(f"the likelihood weights are degenerate: Kish ESS {ess:.1f} of {samples} prior "
                                 f"networks (need ≥ {ess_floor(samples):g}); use method='nuts', more samples, "
                                 "fewer training points or a larger noise_var")
        est = ens.derived(fn)
        est = Estimate(est.mean, est.stderr, est.n, ess=ess, khat=est.khat, notes=est.notes)
        if len(model.insertions) == 0:
            logev = evidence(ens.sums, len(cond.x_train), float(noise_var))
    else:
        ens, diag = mcmc_ensemble(cond, tuples, samples=samples, chains=chains, warmup=warmup, key=key,
                                  blocks=blocks, dtype=dtype)
        est = ens.derived(fn)
        ess = float(np.min(diag.ess)) if np.size(diag.ess) else float("nan")
        rhat = float(np.max(diag.rhat)) if np.size(diag.rhat) else float("nan")
    mean, cov = _split(est, m, pairs)
    gp = None
    if nngp:
        try:
            gp = nngp_posterior(model, cond.x_train, cond.y_train, Xs, noise_var)
        except KernelError:
            gp = None
    width = model.theory.dims.get("N")
    return Posterior(x_test=Xs, mean=mean, cov=cov, nngp=gp, method=method, ess=ess, rhat=rhat,
                     samples=int(samples), width=None if width is None else int(width),
                     x_train=cond.x_train, y_train=cond.y_train, noise_var=float(noise_var), log_evidence=logev,
                     diagnostics=diag)
