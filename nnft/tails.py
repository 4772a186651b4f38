"""Tail diagnostic of Monte Carlo means: the generalized-Pareto shape k̂ of the largest contributions.

A Monte Carlo mean (1/n) Σ fᵢ is only trustworthy when the distribution of the per-sample
contributions fᵢ has a light enough tail. Following Pareto-smoothed importance sampling (PSIS;
Vehtari, Simpson, Gelman, Yao, Gabry, arXiv:1507.02646, §3), the M largest |fᵢ| (exceedances over
the (M+1)-th largest) are fitted by a generalized Pareto distribution; its shape k̂ estimates the
tail index: E|f|^p < ∞ only for p < 1/k. Hence

* k̂ < 0.5: the variance exists, the central limit theorem and the error bar hold;
* 0.5 ≤ k̂ < 0.7: finite mean but (if the tail is asymptotic) infinite variance: for these plain,
  unsmoothed means the jackknife error bar is optimistic (PSIS §3.2's "usable" applies to smoothed
  weights, not here); not flagged, because finite samples of light tails reach this range too;
* k̂ > 0.7: the estimate is unreliable although the mean may be finite; :data:`KHAT_FLAG`;
* k̂ ≥ 1: the mean itself does not exist.

M = min(0.2 n, 3√n) as in PSIS. The shape is fitted by the empirical-Bayes method of Zhang &
Stephens (Technometrics 51, 316 (2009)) with the weakly informative prior of PSIS (weight 10
towards k = 0.5, arXiv:1507.02646 §3), the same estimator ArviZ and the loo R package use.

Both tails are examined (the largest fᵢ and the largest −fᵢ), since a contribution may be
heavy on either side; a feature's k̂ is the larger of the two.

Streamed products of field values are not kept per feature (that would ship every per-row product
off the step): a product of order m on points S gets the bound k̂_S = max_{p∈S} k̂(w|φ(x_p)|ᵐ) of
one-sided per-point powers (``nnft.sample.step.Products``). By AM–GM |Π_{i≤m} φ(x_i)| ≤
(1/m) Σ_i |φ(x_i)|ᵐ ≤ max_i |φ(x_i)|ᵐ, so asymptotically no product's tail is heavier than the heaviest
such power: a heavy-tailed product is always flagged. The bound is conservative for light tails at
high order and few samples (Gaussian |φ|⁸: k̂ ≈ 0.9 at 10⁴ samples, ≈ 0.6 at 10⁵, ≈ 0.5 at 10⁶;
|φ|⁶: ≈ 0.55, 0.4, 0.35; |φ|⁴ ≤ 0.4), where such flags are pre-asymptotic.
"""

from __future__ import annotations

from nnft.errors import InputError

import math

import numpy as np

#: k̂ above this flags an estimate (PSIS, arXiv:1507.02646 §3.2)
KHAT_FLAG = 0.7
#: at least this many exceedances are needed for a fit; fewer -> k̂ is NaN ("not computed")
MIN_TAIL = 5


def tail_size(n: int) -> int:
    """M = ⌈min(0.2 n, 3√n)⌉, the number of largest samples fitted (PSIS, arXiv:1507.02646 §3)."""
    return int(math.ceil(min(0.2 * n, 3.0 * math.sqrt(n)))) if n > 0 else 0


def gpd_fit(exceedances) -> tuple[float, float]:
    """Generalized-Pareto (shape k, scale σ) of positive exceedances over a threshold.

    Zhang & Stephens (2009) empirical-Bayes estimate with the PSIS prior on k (weight 10 towards
    0.5; arXiv:1507.02646 §3): ``k = (m·k_ZS + 10·0.5)/(m + 10)`` for m exceedances.

    Args:
      exceedances: 1-D array of x − u > 0 (any order); at least :data:`MIN_TAIL` values.

    Returns:
      (k, sigma). k > 0 is a heavy (power-law) tail with E xᵖ < ∞ iff p < 1/k.

    Raises:
      ValueError: fewer than MIN_TAIL values, or values that are not finite and positive.
    """
    x = np.sort(np.asarray(exceedances, dtype=np.float64).ravel())
    n = len(x)
    if n < MIN_TAIL or not np.all(np.isfinite(x)) or x[0] <= 0:
        raise InputError(f"need at least {MIN_TAIL} finite positive exceedances, got {n} values")
    m = 30 + int(math.sqrt(n))
    b = 1.0 - np.sqrt(m / (np.arange(1, m + 1) - 0.5))
    b /= 3.0 * x[int(n / 4 + 0.5) - 1]
    b += 1.0 / x[-1]
    k = np.log1p(-b[:, None] * x).mean(axis=1)                     # profile estimate of −shape per b
    with np.errstate(divide="ignore", invalid="ignore"):
        ll = n * (np.log(-(b / k)) - k - 1.0)                      # profile log-likelihood
    ok = np.isfinite(ll)
    b, ll = b[ok], ll[ok]
    w = np.exp(ll - ll.max())                                      # posterior weights of b
    b_post = float(np.sum(b * w) / np.sum(w))
    k_post = float(np.log1p(-b_post * x).mean())
    sigma = -k_post / b_post
    k_post = (n * k_post + 10 * 0.5) / (n + 10)
    return k_post, sigma


def khat_from_top(top: np.ndarray) -> float:
    """k̂ of one tail from its M+1 largest values (any order): exceedances over the smallest.

    NaN when fewer than :data:`MIN_TAIL` exceedances are positive and finite and the tail is not
    degenerate; −inf when all values are equal (a contribution that does not vary has no tail).
    """
    top = np.sort(np.asarray(top, dtype=np.float64))
    if len(top) < MIN_TAIL + 1 or not np.all(np.isfinite(top)):
        return float("nan")
    exc = top[1:] - top[0]
    if np.all(exc == 0):
        return float("-inf")
    exc = exc[exc > 0]
    if len(exc) < MIN_TAIL:
        return float("-inf")                  # an atom at the threshold: no continuous tail above it
    return gpd_fit(exc)[0]


#: elements of the (columns, grid, exceedances) array one batched fit may hold (:func:`khat_rows`)
FIT_ELEMENTS = 1 << 17


def khat_rows(top: np.ndarray) -> np.ndarray:
    """:func:`khat_from_top` of every row of a (T, M+1) array, bit for bit, the fits batched.

    Rows whose exceedances are all positive and finite (the usual case) are fitted together, in
    batches of at most :data:`FIT_ELEMENTS` grid values, with exactly the operations of :func:`gpd_fit`
    along the last axis (so each row's k̂ is the same float); the other rows go through
    :func:`khat_from_top` one by one.
    """
    top = np.sort(np.asarray(top, dtype=np.float64).reshape(len(top), -1), axis=1)
    out = np.full(len(top), np.nan)
    width = top.shape[1]
    if width < MIN_TAIL + 1:
        return out
    exc = top[:, 1:] - top[:, :1]
    easy = np.all(np.isfinite(top), axis=1) & np.all(exc > 0, axis=1)
    for r in np.flatnonzero(~easy):
        out[r] = khat_from_top(top[r])
    rows = np.flatnonzero(easy)
    n = width - 1
    m = 30 + int(math.sqrt(n))
    grid = 1.0 - np.sqrt(m / (np.arange(1, m + 1) - 0.5))
    step = max(1, FIT_ELEMENTS // (m * n))
    for lo in range(0, len(rows), step):
        sel = rows[lo:lo + step]
        x = exc[sel]                                                   # (C, n), ascending
        b = grid[None, :] / (3.0 * x[:, int(n / 4 + 0.5) - 1])[:, None]
        b += (1.0 / x[:, -1])[:, None]
        k = np.log1p(-b[:, :, None] * x[:, None, :]).mean(axis=2)      # (C, m)
        with np.errstate(divide="ignore", invalid="ignore"):
            ll = n * (np.log(-(b / k)) - k - 1.0)
        ok = np.all(np.isfinite(ll), axis=1)
        for j in np.flatnonzero(~ok):            # some grid points drop out: gpd_fit's posterior step per row
            fin = np.isfinite(ll[j])
            bj, lj = b[j][fin], ll[j][fin]
            wj = np.exp(lj - lj.max())
            kj = float(np.log1p(-float(np.sum(bj * wj) / np.sum(wj)) * x[j]).mean())
            out[sel[j]] = (n * kj + 10 * 0.5) / (n + 10)
        sel, b, ll, x = sel[ok], b[ok], ll[ok], x[ok]
        w = np.exp(ll - ll.max(axis=1)[:, None])
        b_post = np.sum(b * w, axis=1) / np.sum(w, axis=1)
        k_post = np.log1p(-b_post[:, None] * x).mean(axis=1)
        out[sel] = (n * k_post + 10 * 0.5) / (n + 10)
    return out


def khat_one_sided(top: np.ndarray) -> np.ndarray:
    """Per column of non-negative values, the k̂ of the upper tail (T,) from the (T, M+1) largest."""
    return khat_rows(top).reshape(len(top))


def khat_two_sided(top_pos: np.ndarray, top_neg: np.ndarray) -> np.ndarray:
    """Per feature, the larger k̂ of the two tails.

    Args:
      top_pos: (F, M+1) largest values of the contributions f.
      top_neg: (F, M+1) largest values of −f.

    Returns:
      (F,) k̂ (NaN where no fit was possible).

    Raises:
      Nothing: no check of its own; the two arrays must have the same length F (with a shorter
        ``top_neg`` the later entries would be left unset).

    Source: Pareto k̂ of PSIS, arXiv:1507.02646 §3.
    """
    return np.fmax(khat_rows(top_pos), khat_rows(top_neg)[:len(top_pos)])


def merge_top(old: np.ndarray | None, new: np.ndarray, keep: int) -> np.ndarray:
    """The ``keep`` largest values per row of two (F, ·) arrays (chunking does not change the result:
    the kept set is the exact top-``keep`` of everything merged so far; order within a row is not
    meaningful). Once ``old`` is full, only the new values above a row's current ``keep``-th largest can
    enter, and only those rows are re-selected (a run's later chunks rarely change the tail)."""
    if old is None or old.shape[1] < keep:
        both = new if old is None else np.concatenate([old, new], axis=1)
        if both.shape[1] <= keep:
            return both
        return np.partition(both, both.shape[1] - keep, axis=1)[:, -keep:]
    hit = new > old.min(axis=1)[:, None]
    rr, cc = np.nonzero(hit)
    if not len(rr):
        return old
    vals = new[rr, cc]
    out = old.copy()
    bounds = np.flatnonzero(np.diff(rr)) + 1
    for seg_rows, seg_vals in zip(np.split(rr, bounds), np.split(vals, bounds)):
        r = seg_rows[0]
        both = np.concatenate([old[r], seg_vals])
        out[r] = np.partition(both, len(both) - keep)[-keep:]
    return out


#: :class:`RunningTop` merges an added block at once (one dense partition) when more than 1/this of
#: its values pass the threshold, else buffers the values that pass
DENSE_MERGE = 8


class RunningTop:
    """The exact ``keep`` largest values per column of a stream of (rows, T) arrays.

    Each added array is only compared with a per-column threshold (the smallest kept value at the last
    merge, −inf before ``keep`` values were seen); the values above it are buffered, and merged into the
    kept set once the buffer holds about as many values as the set (``merge``). A threshold that is
    stale is only lower than the current one, so nothing that belongs to the top ``keep`` is dropped;
    a value equal to the threshold changes no kept value. The kept multiset is therefore exactly that of
    :func:`merge_top` chunk by chunk, whatever the chunking, at O(rows·T) comparisons per added array
    plus an O(T·keep) merge per T·keep buffered values.

    Args:
      width: T, the number of columns.
      keep: values kept per column.
      start: (T, m ≤ keep) values kept before (a restored checkpoint), or None.
    """

    def __init__(self, width: int, keep: int, start: np.ndarray | None = None):
        self.keep = int(keep)
        self.top = np.full((int(width), self.keep), -np.inf)
        self.seen = 0
        if start is not None and start.shape[1]:
            self.top[:, self.keep - start.shape[1]:] = start
            self.seen = start.shape[1]
        self.threshold = self.top.min(axis=1) if self.keep else np.zeros(int(width))
        self._cols: list[np.ndarray] = []
        self._vals: list[np.ndarray] = []
        self._pending = 0

    def add(self, values: np.ndarray) -> None:
        """Add a (rows, T) array (finite values)."""
        hit = values > self.threshold
        self.seen += values.shape[0]
        n_hit = int(np.count_nonzero(hit))
        if not n_hit:
            return
        if DENSE_MERGE * n_hit > hit.size:       # most values may enter: one partition of the whole block
            self.merge()
            both = np.concatenate([self.top, values.T], axis=1)
            self.top = np.partition(both, values.shape[0], axis=1)[:, values.shape[0]:]
            self.threshold = self.top.min(axis=1)
            return
        rows, cols = np.nonzero(hit)
        self._cols.append(cols)
        self._vals.append(values[rows, cols])
        self._pending += len(cols)
        if 2 * self._pending >= self.top.size:
            self.merge()

    def merge(self) -> None:
        """Merge the buffered values into the kept set (and raise the thresholds)."""
        if not self._pending:
            return
        c = np.concatenate(self._cols)
        v = np.concatenate(self._vals)
        self._cols, self._vals, self._pending = [], [], 0
        counts = np.bincount(c, minlength=len(self.top))
        cols = np.flatnonzero(counts)
        h = int(counts.max())
        if len(cols) * h > 4 * self.top.size:      # very uneven columns: keep ≤ keep values of each first
            order = np.lexsort((v, c))
            c, v = c[order], v[order]
            rank = np.cumsum(counts)[c] - 1 - np.arange(len(c))      # 0: the largest of its column
            sel = rank < self.keep
            c, v, rank = c[sel], v[sel], rank[sel]
            h = min(h, self.keep)
        else:                                       # slot within its column, in arrival order
            order = np.argsort(c.astype(np.int32), kind="stable")
            c, v = c[order], v[order]
            rank = np.arange(len(c)) - (np.cumsum(counts) - counts)[c]
        slot = np.zeros(len(self.top), dtype=np.int64)
        slot[cols] = np.arange(len(cols))
        cand = np.full((len(cols), h), -np.inf)
        cand[slot[c], rank] = v
        both = np.concatenate([self.top[cols], cand], axis=1)
        self.top[cols] = np.partition(both, h, axis=1)[:, h:]
        self.threshold = self.top.min(axis=1)

    def result(self) -> np.ndarray:
        """(T, min(keep, values seen per column)): the kept values (order not meaningful)."""
        self.merge()
        return self.top[:, self.keep - min(self.keep, self.seen):].copy()
