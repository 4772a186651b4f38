"""Monte Carlo statistics: :class:`Estimate` and streaming block sums with jackknife errors.

Samples are streamed in chunks; each sample's features (products of field values) are added into
one of ``K`` contiguous blocks chosen by the sample's *global* index (``block = i·K // n``), so the
sums, and every number derived from them, do not depend on the chunk size. Memory is O(K·F) for F
features, whatever the number of samples.

Errors of non-linear functions of means (connected correlators, ratios) come from the delete-one-
block jackknife: with f̂_k = f(mean without block k),
    Var f̂ ≈ (K'−1)/K' Σ_k (f̂_k − mean_k f̂_k)²,     K' = number of non-empty blocks,
which for a linear f is the batch-means variance of the mean. Contiguous blocks also absorb
short autocorrelations of Markov chains (one estimator path for i.i.d. and MCMC ensembles).

One convention each (issue 12): every z-score in nnft is :func:`zscore` ((mean − reference)/σ, σ the
estimate's standard error, with the reference's own error added in quadrature when it has one), and
every importance-sampling effective sample size is :func:`kish_ess` ((Σw)²/Σw²).

Nothing non-finite or unfounded becomes a number: an estimate or error that comes out NaN/inf, or
fewer than 2 non-empty blocks, raise :class:`~nnft.errors.EstimatorError` ("not estimable"); so does
:func:`require_ess` (importance weights collapsed below :data:`ESS_NOT_ESTIMABLE`), which the
study tables apply. Every estimate from streamed block
sums carries the Pareto k̂ of its largest per-sample contributions (``nnft.tails``), with a
:class:`~nnft.errors.TailWarning` above 0.7; for streamed products of field values the k̂ of a product
on points S of order m is the bound max_{p∈S} k̂(w|φ(x_p)|ᵐ) (AM–GM, :meth:`BlockSums.feature_khat`).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from nnft.errors import InputError, EstimatorError, TailWarning


#: below this Kish effective sample size an importance-weighted estimate is not estimable (an error, not a row)
ESS_NOT_ESTIMABLE = 10.0


def format_value(mean: float, err: float) -> str:
    """``0.12345 ± 0.00067`` with two significant digits of the error.

    Args:
      mean: the value.
      err: its standard error (a non-finite or non-positive one is printed with ``.2g``).

    Returns:
      The text, in the units of ``mean``; scientific notation for very large or small values.

    Raises:
      TypeError: non-numeric arguments (from the float formatting).

    Source: not from a paper: formatting.
    """
    if not math.isfinite(err) or err <= 0:
        return f"{mean:.6g} ± {err:.2g}"
    digits = max(0, 1 - int(math.floor(math.log10(err))))
    if digits > 12 or abs(mean) >= 1e6 or (abs(mean) < 1e-4 and mean != 0):
        return f"{mean:.4e} ± {err:.2e}"
    return f"{mean:.{digits}f} ± {err:.{digits}f}"


def _error_digits(err: float) -> tuple[int, int]:
    """(digits, p): the error rounded to the physics convention as the integer ``digits`` times 10^p."""
    from decimal import ROUND_HALF_UP, Decimal
    d = Decimal(repr(float(err)))
    k = d.adjusted()                                     # exponent of the leading digit
    lead = int(d.scaleb(-k))                             # 1..9
    p = k - (1 if lead in (1, 2) else 0)                 # keep 2 digits for a leading 1 or 2, else 1
    digits = int(d.scaleb(-p).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if len(str(digits)) > len(str(int(d.scaleb(-p)))):   # 0.0996 -> 0.10: round again with the new leading digit
        return _error_digits(digits * 10.0 ** p)
    return digits, p


def format_paren(mean: float, stderr: float) -> str:
    """An estimate in physics notation: ``0.4989(15)`` means 0.4989 ± 0.0015.

    The rule: the standard error keeps 2 significant digits when its leading digit is 1 or 2 and 1
    otherwise (0.0015 -> (15), 0.0036 -> (4), 0.0996 -> (10) as 0.10); the value is rounded half up to
    the error's last digit. The digits in parentheses count units of that last digit. When the last
    digit lies left of the units (the error is ≥ 10 after rounding: 1234 ± 56 has its last digit at
    10) or further right than 10⁻⁶, the estimate is written with a power of ten, ``1.23(6)e3``
    (1230 ± 60), ``1.234(15)e-7``. Without an error bar to round to: ``0.5(0)`` for a zero error
    (the value with 6 significant digits), ``0.5(nan)`` / ``0.5(inf)`` for a non-finite one, and a
    non-finite value prints as ``nan`` / ``inf`` / ``-inf`` followed by its error in parentheses.

    Args:
      mean: the value.
      stderr: its standard error, ≥ 0.

    Returns:
      The text, e.g. ``0.4989(15)`` or ``1.23(6)e3``.

    Raises:
      InputError: a negative standard error.

    Source: not from a paper: the physics convention for error digits.
    """
    mean, err = float(mean), float(stderr)
    if err < 0:
        raise InputError(f"a standard error is ≥ 0, got {err!r}")
    if not math.isfinite(mean):
        return f"{mean}({err:.2g})"
    if err == 0 or not math.isfinite(err):
        return f"{mean:.6g}({0 if err == 0 else err})"
    digits, p = _error_digits(err)
    from decimal import ROUND_HALF_UP, Decimal
    value = Decimal(repr(mean)).scaleb(-p).quantize(Decimal(1), rounding=ROUND_HALF_UP)   # units of 10^p
    if -6 <= p <= 0:
        return f"{value.scaleb(p):.{-p}f}({digits})"
    # a power of ten: the exponent of the value's leading digit (or the error's, if larger)
    e = max(value.adjusted() + p if value else p, p + len(str(digits)) - 1)
    return f"{value.scaleb(p - e):.{e - p}f}({digits})e{e}"


@dataclass(frozen=True)
class Estimate:
    """A Monte Carlo estimate: mean and standard error (arrays of one shape), and the sample size.

    Attributes:
      mean: the estimate.
      stderr: its standard error.
      n: number of networks summed (neurons drawn, for neuron-level estimators).
      ess: the Kish effective sample size (Σw)²/Σw² of importance-weighted samples (:func:`kish_ess`),
        None when the samples are unweighted. (The autocorrelation ESS of a Markov chain is a chain
        diagnostic, ``nnft.sample.diagnostics.bulk_ess``, not stored here.)
      khat: per entry (shape of ``mean``), the Pareto tail shape k̂ of the largest per-sample
        contributions to the features the entry is computed from (``nnft.tails``; PSIS,
        arXiv:1507.02646): > 0.7 the estimate is unreliable, ≥ 1 the mean does not exist; NaN
        where it could not be computed; None when not tracked. For streamed correlators a product
        of order m on points S counts with the upper bound max_{p∈S} k̂(w|φ(x_p)|ᵐ)
        (:meth:`BlockSums.feature_khat`).
      notes: findings about the estimate that no number shows (e.g. a moment whose finiteness
        the graph analysis could not decide), printed beside it.
    """

    mean: np.ndarray
    stderr: np.ndarray
    n: int
    ess: float | None = None
    khat: np.ndarray | None = None
    notes: tuple[str, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "mean", np.asarray(self.mean, dtype=np.float64))
        object.__setattr__(self, "stderr", np.asarray(self.stderr, dtype=np.float64))
        if self.khat is not None:
            object.__setattr__(self, "khat", np.broadcast_to(np.asarray(self.khat, dtype=np.float64),
                                                             self.mean.shape).copy())

    @property
    def flagged(self) -> np.ndarray:
        """Per entry: whether the tail diagnostic flags it (k̂ > 0.7, ``nnft.tails.KHAT_FLAG``)."""
        from nnft.tails import KHAT_FLAG
        if self.khat is None:
            return np.zeros(self.mean.shape, dtype=bool)
        return np.nan_to_num(self.khat, nan=-np.inf) > KHAT_FLAG

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of ``mean`` (and ``stderr``)."""
        return self.mean.shape

    def __getitem__(self, index) -> "Estimate":
        return Estimate(self.mean[index], self.stderr[index], self.n, self.ess,
                        None if self.khat is None else self.khat[index], self.notes)

    def __len__(self) -> int:
        return len(self.mean)

    def z(self, reference, reference_err=0.0) -> np.ndarray:
        """z-score against ``reference`` (array-broadcast): :func:`zscore`, (mean − reference)/stderr for an
        exact reference, √(stderr² + reference_err²) in the denominator for one with its own error."""
        return zscore(self, reference, reference_err=reference_err)

    def __repr__(self) -> str:
        flag = ""
        if self.flagged.any():
            flag = f" [heavy tail: k̂ up to {float(np.nanmax(self.khat)):.2f} > 0.7]"
        if self.mean.ndim == 0:
            return format_value(float(self.mean), float(self.stderr)) + flag
        flat = [format_value(m, e) for m, e in zip(self.mean.ravel()[:6], self.stderr.ravel()[:6])]
        more = ", ..." if self.mean.size > 6 else ""
        return f"Estimate(shape={self.shape}, n={self.n}: [{', '.join(flat)}{more}]){flag}"


def few_blocks_note(networks: int, what: str = "the error bars", where: str = "here") -> str | None:
    """The table note for an ensemble of ``networks`` whose jackknife has fewer than 64 blocks
    (``min(64, max(2, networks // 2))``, as the i.i.d. stream and training use), else None.

    Args:
      networks: ensemble size.  what: the subject of the sentence.  where: its last word.

    Returns:
      one line (no indent) saying that z follows a Student-t with blocks − 1 degrees of freedom, or None.

    Raises:
      nothing.

    Source: not from a paper: the jackknife's t law with K − 1 degrees of freedom.
    """
    blocks = min(64, max(2, int(networks) // 2))
    if blocks >= 64:
        return None
    return (f"few networks: {what} come from {blocks} jackknife blocks, so z follows a Student-t with {blocks - 1} "
            f"degrees of freedom, not a normal law: |z| of 4-7 is not decisive {where}")


def zscore(est, reference=0.0, *, reference_err=0.0) -> np.ndarray:
    """The one z-score convention of nnft: (mean − reference)/σ, σ = √(stderr² + reference_err²).

    ``reference_err`` is the reference's own standard error or stated accuracy, independent of the
    estimate (errors added in quadrature); 0 (the default) for an exact value. A zero σ with a different
    value gives ±inf; a zero σ with the same value gives 0 (an exact zero difference, e.g. a symmetry
    of the estimator itself). Tables that print "no z" for an exactly known value decide that before
    calling (``nnft.study.Row``, ``ComparisonRow``); the number is never computed another way.

    Args:
      est: an :class:`Estimate`, or a ``(mean, stderr)`` pair of arrays (broadcasting).
      reference: the value to compare with (array-broadcast; default 0: the significance of ``mean``).
      reference_err: its standard error (array-broadcast, ≥ 0).

    Returns:
      z, float64, the broadcast shape of mean, stderr, reference and reference_err (dimensionless).

    Raises:
      ValueError: the shapes do not broadcast (NumPy's error).

    Source: not from a paper: the standard score of a difference with independent errors.
    """
    mean, stderr = (est.mean, est.stderr) if isinstance(est, Estimate) else est
    mean = np.asarray(mean, dtype=np.float64)
    sigma = np.asarray(stderr, dtype=np.float64)
    rerr = np.asarray(reference_err, dtype=np.float64)
    if np.any(rerr != 0):
        sigma = np.sqrt(sigma ** 2 + rerr ** 2)
    diff = mean - np.asarray(reference, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = diff / sigma
    return np.where((sigma == 0) & (diff == 0), 0.0, z)


def kish_ess(sum_w, sum_w2):
    """Kish effective sample size (Σw)²/Σw² of importance-weighted samples (L. Kish, *Survey Sampling*,
    Wiley 1965; the ESS of reweighting, distinct from the autocorrelation ESS of a Markov chain,
    ``nnft.sample.diagnostics.bulk_ess``).

    Args:
      sum_w: Σ_i w_i (a scalar or a broadcasting array, e.g. one per λ); any common factor of the
        weights cancels, so sums of e^{ℓ−c} and means (Σ/n, then times n) give the same.
      sum_w2: Σ_i w_i², the same shape.

    Returns:
      the ESS, in samples (float, or float64 array); 0 where Σw² = 0 (no weight at all).

    Raises:
      ValueError: the two shapes do not broadcast (NumPy's error).

    Source: not from a paper: Kish's survey-sampling formula (1965).
    """
    a = np.asarray(sum_w, dtype=np.float64)
    b = np.asarray(sum_w2, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(b > 0, a * a / np.where(b > 0, b, 1.0), 0.0)
    return float(out) if out.ndim == 0 else out


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
        #: (top, bottom): per tail column the largest values and the largest of their negatives,
        #: (T, M+1) each, or None (see ``nnft.tails``)
        self.tail: tuple[np.ndarray, np.ndarray] | None = None
        #: per feature the tail columns whose worst k̂ is its k̂ (None: column f is feature f's own
        #: per-sample contribution); streamed products use per-point powers w·|φ(x_p)|ᵐ, an upper
        #: bound of the product's tail (``nnft.sample.step.Products``)
        self.tail_columns: Sequence[np.ndarray] | None = None
        #: the tail columns are non-negative: only their upper tail is fitted
        self.tail_one_sided = False

    def add(self, sums: np.ndarray, weights: np.ndarray, count: int, weights2: np.ndarray | None = None) -> None:
        """Add a chunk: per-block Σ w·f, Σ w (and Σ w² for importance weights)."""
        self.sums += np.asarray(sums, dtype=np.float64)
        self.weights += np.asarray(weights, dtype=np.float64)
        if weights2 is not None:
            self.weights2 = (0.0 if self.weights2 is None else self.weights2) + np.asarray(weights2, dtype=np.float64)
        self.n += int(count)

    def add_block(self, block: int, sums: np.ndarray, weight: float, count: int, weight2: float | None = None) -> None:
        """Add one chunk that lies in ``block``: Σ w·f (F,), Σ w (and Σ w² for importance weights)."""
        self.sums[block] += np.asarray(sums, dtype=np.float64)
        self.weights[block] += weight
        if weight2 is not None:
            if self.weights2 is None:
                self.weights2 = np.zeros_like(self.weights)
            self.weights2[block] += weight2
        self.n += int(count)

    @property
    def ess(self) -> float | None:
        """Kish effective sample size (Σw)²/Σw² of importance-weighted samples (None if unweighted)."""
        if self.weights2 is None:
            return None
        return kish_ess(float(self.weights.sum()), float(self.weights2.sum()))

    def mean(self) -> np.ndarray:
        """(F,) weighted feature means Σ w·f / Σ w over all blocks."""
        return self.sums.sum(0) / self.weights.sum()

    def feature_khat(self) -> np.ndarray | None:
        """Per feature, the Pareto k̂ of its tail, or None if not kept.

        Without ``tail_columns``: the k̂ of the feature's largest per-sample contributions (both
        tails). With them: the largest k̂ over the feature's tail columns; for products of field
        values on points S of order m these are w·|φ(x_p)|ᵐ, p ∈ S, and since |Π_{i≤m} φ(x_i)| ≤
        max_i |φ(x_i)|ᵐ (AM–GM) this is an upper bound of the product's tail index (conservative:
        finite samples of a power look heavier than those of a product of distinct points).
        """
        if self.tail is None:
            return None
        if getattr(self, "_khat", None) is None:
            from nnft.tails import khat_one_sided, khat_two_sided
            col = khat_one_sided(self.tail[0]) if self.tail_one_sided else khat_two_sided(*self.tail)
            if self.tail_columns is None:
                self._khat = col
            else:
                self._khat = segment_nanmax(col, self.tail_columns)
        return self._khat

    def entry_khat(self, shape: tuple[int, ...], uses: Sequence | None) -> np.ndarray | None:
        """k̂ per entry of an estimate of ``shape``: the largest k̂ over the features the entry uses.

        Args:
          uses: per entry along the LAST axis of ``shape``, the feature columns it is computed from
            (the same for every leading index); None: k̂ is not attributed (returns None).
        """
        fk = self.feature_khat()
        if fk is None or uses is None:
            return None
        if not shape or shape[-1] != len(uses):      # entries mix tuples: the worst over all of them
            return np.full(shape, segment_nanmax(fk, [np.concatenate([np.asarray(c, dtype=int) for c in uses])])[0])
        return np.broadcast_to(segment_nanmax(fk, uses), shape).copy()

    def jackknife(self, fn: Callable[[np.ndarray], np.ndarray], uses: Sequence | None = None,
                  what: str = "estimate", batched: bool = False) -> Estimate:
        """Estimate of ``fn(feature means)`` with a delete-one-block jackknife standard error.

        Args:
          uses: per output entry (last axis), the feature columns it depends on, for the k̂ tail
            diagnostic (``Estimate.khat``); a :class:`~nnft.errors.TailWarning` is issued when an
            entry has k̂ > 0.7.
          what: a name for messages.
          batched: ``fn`` maps (k, F) means to (k, …) row by row with elementwise operations only, so the
            k leave-one-out estimates are one call (the same floats as k calls).

        Raises:
          EstimatorError: fewer than 2 non-empty blocks (no error bar can be formed), importance
            weights collapsed (Kish ESS < :data:`ESS_NOT_ESTIMABLE`), or a non-finite estimate or
            error: "not estimable".
        """
        total, wtot = self.sums.sum(0), self.weights.sum()
        keep = np.nonzero(self.weights > 0)[0]
        k = len(keep)
        if k < 2:
            raise EstimatorError(f"{what} not estimable: {k} non-empty jackknife block(s) from {self.n} samples; "
                                 "an error bar needs at least 2 (increase the number of samples)")
        if not wtot > 0 or not np.isfinite(wtot):
            raise EstimatorError(f"{what} not estimable: the sum of the sample weights is {wtot!r} "
                                 f"(effective sample size {self.ess}); the importance weights collapsed "
                                 "(lower the coupling or the box, or sample P̃ by MCMC)")
        ess = self.ess
        if ess is not None and not ess >= ESS_NOT_ESTIMABLE:
            raise EstimatorError(f"{what} not estimable: the importance weights collapsed onto {ess:.3g} effective "
                                 f"samples of {self.n} (fewer than {ESS_NOT_ESTIMABLE:g}); neither the estimate nor "
                                 "its error bar means anything (lower the coupling or the box, or sample P̃ by MCMC)")
        with np.errstate(all="ignore"):
            full = np.asarray(fn(total / wtot), dtype=np.float64)
            if batched:
                loo = np.asarray(fn((total[None] - self.sums[keep]) / (wtot - self.weights[keep])[:, None]),
                                 dtype=np.float64)
            else:
                loo = np.stack([np.asarray(fn((total - self.sums[b]) / (wtot - self.weights[b])), dtype=np.float64)
                                for b in keep])
            var = (k - 1) / k * np.sum((loo - loo.mean(0)) ** 2, axis=0)
        _require_finite(full, var, what, self.ess, self.n)
        khat = self.entry_khat(full.shape, uses)
        est = Estimate(full, np.sqrt(var), self.n, self.ess, khat)
        warn_tails(est, what)
        return est


def segment_nanmax(values: np.ndarray, segments: Sequence) -> np.ndarray:
    """Per segment (an array of indices into ``values``), the largest value ignoring NaN; NaN for an
    empty or all-NaN segment (``np.nanmax`` per segment, in one pass)."""
    lengths = np.fromiter((len(c) for c in segments), dtype=np.int64, count=len(segments))
    out = np.full(len(segments), np.nan)
    if not lengths.sum():
        return out
    flat = np.asarray(values, dtype=np.float64)[np.concatenate([np.asarray(c, dtype=np.int64) for c in segments])]
    starts = np.cumsum(lengths) - lengths
    full = lengths > 0
    out[full] = np.fmax.reduceat(flat, starts[full])        # fmax skips NaN; NaN only if all are
    return out


def jackknife_joint(accumulators: list[BlockSums], fn: Callable[..., np.ndarray]) -> Estimate:
    """Jackknife of ``fn(means_1, means_2, …)`` over several accumulators that share their block
    structure (e.g. the same networks with and without an insertion's weights): leaving block b out of
    all of them at once keeps their correlation, so differences get correlated-difference errors.

    Args:
      accumulators: the :class:`BlockSums` to combine, all with the same number of blocks.
      fn: ``fn(means_1, means_2, …) -> array``, one block-mean array per accumulator.

    Returns:
      :class:`Estimate` of ``fn``'s output shape, with the jackknife standard error over the blocks
      that are non-empty in every accumulator (n of the first, ESS of the last).

    Raises:
      InputError: the accumulators have different numbers of blocks.
      EstimatorError: fewer than 2 blocks non-empty in every accumulator, or a non-finite estimate
        or error.

    Source: not from a paper: the delete-one-block jackknife (Quenouille 1956; Efron 1982).
    """
    K = len(accumulators[0].weights)
    if any(len(a.weights) != K for a in accumulators):
        raise InputError("accumulators must have the same number of blocks")
    totals = [(a.sums.sum(0), a.weights.sum()) for a in accumulators]
    keep = [b for b in range(K) if all(a.weights[b] > 0 for a in accumulators)]
    k = len(keep)
    if k < 2:
        raise EstimatorError(f"not estimable: {k} jackknife block(s) non-empty in every ensemble; an error bar "
                             "needs at least 2 (increase the number of samples)")
    with np.errstate(all="ignore"):
        full = np.asarray(fn(*(t / w for t, w in totals)), dtype=np.float64)
        loo = np.stack([np.asarray(fn(*((t - a.sums[b]) / (w - a.weights[b]) for a, (t, w) in zip(accumulators, totals))),
                                   dtype=np.float64) for b in keep])
        var = (k - 1) / k * np.sum((loo - loo.mean(0)) ** 2, axis=0)
    _require_finite(full, var, "estimate", accumulators[-1].ess, accumulators[0].n)
    return Estimate(full, np.sqrt(var), accumulators[0].n, accumulators[-1].ess)


def require_ess(est: Estimate, what: str = "the estimate") -> None:
    """Refuse an importance-weighted estimate whose weights collapsed (Kish ESS < :data:`ESS_NOT_ESTIMABLE`).

    Args:
      est: the estimate (its ``ess`` is None for an unweighted ensemble: nothing to check).
      what: what it is, for the message.

    Returns:
      None.

    Raises:
      EstimatorError: "not estimable", with the ESS and the fixes.

    Source: not from a paper: the Kish effective sample size (1965) with a floor.
    """
    if est.ess is not None and not est.ess >= ESS_NOT_ESTIMABLE:
        raise EstimatorError(f"{what} not estimable: the importance weights collapsed onto {est.ess:.3g} effective "
                             f"samples of {est.n} (fewer than {ESS_NOT_ESTIMABLE:g}); the estimate and its error bar "
                             "would be those of a handful of networks. Lower the coupling or the box volume, or "
                             "sample P̃ by MCMC (nnft.mcmc_ensemble)")


def _require_finite(full: np.ndarray, var: np.ndarray, what: str, ess, n: int) -> None:
    """A NaN/inf estimate or error is never returned as a number: EstimatorError ("not estimable")."""
    bad = ~(np.isfinite(full) & np.isfinite(var))
    if np.any(bad):
        i = np.argwhere(bad)[0] if full.ndim else ()
        hint = (f"; effective sample size {ess:.3g} of {n}: the importance weights collapsed (lower the coupling "
                "or the box, or sample P̃ by MCMC)" if ess is not None else
                "; the moments it needs are not representable (overflow), or do not exist")
        raise EstimatorError(f"{what} not estimable: {int(bad.sum())} of {bad.size} entries came out non-finite "
                             f"(first at index {tuple(int(j) for j in i)}: value {float(full[tuple(i)])!r}, "
                             f"error {math.sqrt(float(var[tuple(i)])) if var[tuple(i)] >= 0 else float('nan')!r})"
                             + hint)


def warn_tails(est: Estimate, what: str = "estimate") -> None:
    """Issue a :class:`~nnft.errors.TailWarning` when some entry has k̂ > 0.7 (``nnft.tails``).

    Args:
      est: the estimate (its ``khat`` is None when not computed: nothing to check).
      what: what it is, for the message.

    Returns:
      None.

    Raises:
      Nothing: it warns, never raises.

    Source: the Pareto k̂ > 0.7 threshold of PSIS, arXiv:1507.02646 §3.
    """
    if est.khat is None or not np.any(est.flagged):
        return
    kmax = float(np.nanmax(est.khat))
    meaning = ("this suggests the mean does not exist (k̂ ≥ 1)" if kmax >= 1 else
               "the mean may be finite but the sample mean and its error bar are unreliable")
    warnings.warn(f"{what}: {int(est.flagged.sum())} of {est.flagged.size} entries have a heavy tail of per-sample "
                  f"contributions, Pareto k̂ up to {kmax:.2f} > 0.7: {meaning} (PSIS diagnostic, arXiv:1507.02646). "
                  "A genuinely heavy tail is not cured by more samples (a pre-asymptotic one is); see Estimate.khat", TailWarning, stacklevel=3)
