"""Monte Carlo statistics: :class:`Estimate` and streaming block sums with jackknife errors.

Samples are streamed in chunks; each sample's features (products of field values) are added into
one of ``K`` contiguous blocks chosen by the sample's *global* index (``block = i·K // n``), so the
sums, and every number derived from them, do not depend on the chunk size. Memory is O(K·F) for F
features, whatever the number of samples.

Errors of non-linear functions of means (connected correlators, ratios) come from the delete-one-
block jackknife: with f̂_k = f(mean without block k),
    Var f̂ ≈ (K'−1)/K' Σ_k (f̂_k − mean_k f̂_k)²,     K' = number of non-empty blocks,
which for a linear f is the batch-means variance of the mean. Contiguous blocks also absorb
short autocorrelations of Markov chains (the "one estimator path" of DESIGN.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np


def format_value(mean: float, err: float) -> str:
    """``0.12345 ± 0.00067`` with two significant digits of the error."""
    if not math.isfinite(err) or err <= 0:
        return f"{mean:.6g} ± {err:.2g}"
    digits = max(0, 1 - int(math.floor(math.log10(err))))
    if digits > 12 or abs(mean) >= 1e6 or (abs(mean) < 1e-4 and mean != 0):
        return f"{mean:.4e} ± {err:.2e}"
    return f"{mean:.{digits}f} ± {err:.{digits}f}"


@dataclass(frozen=True)
class Estimate:
    """A Monte Carlo estimate: mean and standard error (arrays of one shape), and the sample size.

    Attributes:
      mean: the estimate.
      stderr: its standard error.
      n: number of samples (networks, or neurons for neuron-level estimators).
      ess: effective sample size where it differs from ``n`` (weighted or correlated samples).
    """

    mean: np.ndarray
    stderr: np.ndarray
    n: int
    ess: float | None = None

    def __post_init__(self):
        object.__setattr__(self, "mean", np.asarray(self.mean, dtype=np.float64))
        object.__setattr__(self, "stderr", np.asarray(self.stderr, dtype=np.float64))

    @property
    def shape(self) -> tuple[int, ...]:
        return self.mean.shape

    def __getitem__(self, index) -> "Estimate":
        return Estimate(self.mean[index], self.stderr[index], self.n, self.ess)

    def __len__(self) -> int:
        return len(self.mean)

    def z(self, reference) -> np.ndarray:
        """z-score (mean − reference)/stderr against an exact value (array-broadcast)."""
        return zscore(self, reference)

    def __repr__(self) -> str:
        if self.mean.ndim == 0:
            return format_value(float(self.mean), float(self.stderr))
        flat = [format_value(m, e) for m, e in zip(self.mean.ravel()[:6], self.stderr.ravel()[:6])]
        more = ", ..." if self.mean.size > 6 else ""
        return f"Estimate(shape={self.shape}, n={self.n}: [{', '.join(flat)}{more}])"


def zscore(est: Estimate, reference) -> np.ndarray:
    """(mean − reference)/stderr; a zero error with a different value is ±inf, equal is 0."""
    ref = np.asarray(reference, dtype=np.float64)
    diff = est.mean - ref
    with np.errstate(divide="ignore", invalid="ignore"):
        z = diff / est.stderr
    return np.where((est.stderr == 0) & (diff == 0), 0.0, z)


class BlockSums:
    """Per-block sums of features and weights, added chunk by chunk.

    Args:
      n_blocks: K, the number of contiguous blocks (jackknife resolution).
      n_features: F, features per sample.
    """

    def __init__(self, n_blocks: int, n_features: int):
        self.sums = np.zeros((n_blocks, n_features), dtype=np.float64)
        self.weights = np.zeros(n_blocks, dtype=np.float64)
        self.weights2: np.ndarray | None = None
        self.n = 0

    def add(self, sums: np.ndarray, weights: np.ndarray, count: int, weights2: np.ndarray | None = None) -> None:
        """Add a chunk: per-block Σ w·f, Σ w (and Σ w² for importance weights)."""
        self.sums += np.asarray(sums, dtype=np.float64)
        self.weights += np.asarray(weights, dtype=np.float64)
        if weights2 is not None:
            self.weights2 = (0.0 if self.weights2 is None else self.weights2) + np.asarray(weights2, dtype=np.float64)
        self.n += int(count)

    @property
    def ess(self) -> float | None:
        """Kish effective sample size (Σw)²/Σw² of importance-weighted samples (None if unweighted)."""
        if self.weights2 is None:
            return None
        w2 = float(self.weights2.sum())
        return float(self.weights.sum()) ** 2 / w2 if w2 > 0 else 0.0

    def mean(self) -> np.ndarray:
        return self.sums.sum(0) / self.weights.sum()

    def jackknife(self, fn: Callable[[np.ndarray], np.ndarray]) -> Estimate:
        """Estimate of ``fn(feature means)`` with a delete-one-block jackknife standard error."""
        total, wtot = self.sums.sum(0), self.weights.sum()
        full = np.asarray(fn(total / wtot), dtype=np.float64)
        keep = np.nonzero(self.weights > 0)[0]
        k = len(keep)
        if k < 2:
            return Estimate(full, np.full_like(full, np.inf), self.n, self.ess)
        loo = np.stack([np.asarray(fn((total - self.sums[b]) / (wtot - self.weights[b])), dtype=np.float64)
                        for b in keep])
        var = (k - 1) / k * np.sum((loo - loo.mean(0)) ** 2, axis=0)
        return Estimate(full, np.sqrt(var), self.n, self.ess)


def jackknife_joint(accumulators: list[BlockSums], fn: Callable[..., np.ndarray]) -> Estimate:
    """Jackknife of ``fn(means_1, means_2, …)`` over several accumulators that share their block
    structure (e.g. the same networks with and without an insertion's weights): leaving block b out of
    all of them at once keeps their correlation, so differences get correlated-difference errors."""
    K = len(accumulators[0].weights)
    if any(len(a.weights) != K for a in accumulators):
        raise ValueError("accumulators must have the same number of blocks")
    totals = [(a.sums.sum(0), a.weights.sum()) for a in accumulators]
    full = np.asarray(fn(*(t / w for t, w in totals)), dtype=np.float64)
    keep = [b for b in range(K) if all(a.weights[b] > 0 for a in accumulators)]
    loo = np.stack([np.asarray(fn(*((t - a.sums[b]) / (w - a.weights[b]) for a, (t, w) in zip(accumulators, totals))),
                               dtype=np.float64) for b in keep])
    k = len(keep)
    var = (k - 1) / k * np.sum((loo - loo.mean(0)) ** 2, axis=0)
    return Estimate(full, np.sqrt(var), accumulators[0].n, accumulators[-1].ess)
