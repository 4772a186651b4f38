"""What one chunk of an i.i.d. stream computes: networks ``start .. start+count−1`` of a run, all in one
jackknife block, reduced to their feature sums.

The driver (``nnft.sample.iid``) cuts the run into chunks that never cross a block boundary, so a
chunk's output is one (F,) sum and the block sums do not depend on how chunks are scheduled (on which
device, in which process). The step has a fixed shape (``chunk`` rows, one compilation); rows at and
beyond ``count`` are padding and are masked out exactly (they add 0.0).

Products of field values (:class:`Products`) are reduced without forming per-row features: a feature
Π_{i∈S} φ(xᵢ) is split into two half-monomials A·B (S = A ⊎ B), and Σ_r w_r f_r(S) is the (A, B) entry
of the weighted Gram matrix Zᵀ diag(w) Z of the half-monomials Z, one float64 matrix product per block
of half-degrees. The tail diagnostic then sees per-point powers w·|φ(x_p)|ᵐ instead of per-feature
contributions (see :class:`Products` for the bound this gives).
"""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from nnft.graph.compile import Model
from nnft.materialise import materialised

DTYPES = {"float32": jnp.float32, "float64": jnp.float64}

#: one gathered multiply per row costs about this many multiply-adds of a float64 matrix product
#: (XLA:CPU, measured by bench/bench_features.py); a Gram block whose (|A|·|B|) entries per row exceed
#: this many times the gathers its features need is computed by gathers instead
GATHER_COST = 8.0

#: products of at most this many float32 field values cannot overflow float64 ((2¹²⁸)⁷ = 2⁸⁹⁶ < 2¹⁰²⁴)
MAX_SAFE_DEGREE = 7


class Products:
    """Σ_rows w_r Π_{i∈S_f} φ_r(x_i) for a list of multisets S_f of point ids, by matrix products.

    Every S of size m ≥ 2 is split into half-monomials A (⌈m/2⌉ ids) and B (⌊m/2⌋ ids), chosen greedily
    so that few distinct halves are needed (a half shared by many features first); size 1 is (i)·().
    Features with the same half-degrees (a, b) form a block: Σ_r w_r Z_A Z_B for all of them is read off
    one (|A-set|, |B-set|) float64 matrix product Z_aᵀ diag(w) Z_b. A block whose matrix would cost more
    than gathering its products row by row (:data:`GATHER_COST`) is computed by gathers. Either way the
    sums are float64 and equal the row-by-row products to float64 rounding (|difference| ≤
    2γ_{rows+m+1} Σ_r |w_r f_r|, γ_k = k u/(1 − k u), u = 2⁻⁵³; Higham, Accuracy and Stability, §3–4).

    Tail columns for the Pareto-k̂ diagnostic (``nnft.tails``): one per point p and order m
    in use, the per-row value w·|φ(x_p)|ᵐ; feature S of size m on points {p} maps to the columns (p, m).
    By AM–GM, |Π_{i≤m} φ(x_i)| ≤ (1/m) Σ_i |φ(x_i)|ᵐ ≤ max_i |φ(x_i)|ᵐ, so no product's tail is heavier
    than the heaviest per-point power among its points: max_{p∈S} k(w|φ(x_p)|ᵐ) is an upper bound of the
    feature's tail index k (asymptotically; finite-sample k̂ of a power is larger than that of a product
    of distinct points, e.g. Gaussian |φ|⁸ from 10⁴ samples reaches k̂ ≈ 0.9).

    Args:
      keys: per feature, the sorted point ids (length 1..8, repeats allowed).
      n_points: P, columns of the field values.
      gram: False computes every block by gathers (the reference the matrix products are tested against).

    Attributes:
      tail_columns: per feature, the tail column indices its k̂ is the maximum over.
      n_tails: T, number of tail columns.
    """

    def __init__(self, keys: Sequence[Sequence[int]], n_points: int, gram: bool = True):
        self.keys = [tuple(sorted(int(i) for i in k)) for k in keys]
        self.n_points = int(n_points)
        if any(not k for k in self.keys) or any(i < 0 or i >= n_points for k in self.keys for i in k):
            from nnft.errors import InputError
            raise InputError(f"feature point ids must be non-empty and within 0..{n_points - 1}")
        cols: dict[tuple[int, int], int] = {}
        self.tail_columns = [np.asarray([cols.setdefault((p, len(k)), len(cols)) for p in sorted(set(k))])
                             for k in self.keys]
        self.tail_points = np.asarray([p for p, _ in cols], dtype=np.int32)
        self.tail_orders = np.asarray([m for _, m in cols], dtype=np.float64)
        self.n_tails = len(cols)
        splits = _splits(self.keys, self.n_points)
        blocks: dict[tuple[int, int], list[int]] = {}
        for f, (a, b) in enumerate(splits):
            blocks.setdefault((len(a), len(b)), []).append(f)
        self.gram_blocks = []          # (A-set (nA, a), B-set (nB, b), row in A-set, row in B-set, feature) per block
        gathered: list[int] = []
        for (da, db), feats in sorted(blocks.items()):
            if da == db:                   # orient each split so the more shared half is A: fewer rows
                seen = Counter(h for f in feats for h in splits[f])
                for f in feats:
                    a, b = splits[f]
                    if (seen[b], b) > (seen[a], a):
                        splits[f] = (b, a)
            aset = sorted({splits[f][0] for f in feats})
            bset = sorted({splits[f][1] for f in feats})
            gathers = len(feats) * (da + db)
            if gram and (db == 0 or len(aset) * len(bset) <= GATHER_COST * gathers):
                ai = {h: j for j, h in enumerate(aset)}
                bi = {h: j for j, h in enumerate(bset)}
                self.gram_blocks.append((np.asarray(aset, dtype=np.int32).reshape(len(aset), da),
                                         np.asarray(bset, dtype=np.int32).reshape(len(bset), db),
                                         np.asarray([ai[splits[f][0]] for f in feats]),
                                         np.asarray([bi[splits[f][1]] for f in feats]),
                                         np.asarray(feats)))
            else:
                gathered.extend(feats)
        by_size: dict[int, list[int]] = {}
        for f in gathered:
            by_size.setdefault(len(self.keys[f]), []).append(f)
        self.gather_groups = [(np.asarray([self.keys[f] for f in fs], dtype=np.int32), np.asarray(fs))
                              for _, fs in sorted(by_size.items())]
        order = [blk[-1] for blk in self.gram_blocks] + [fs for _, fs in self.gather_groups]
        self._perm = np.argsort(np.concatenate(order)) if order else np.zeros(0, dtype=int)

    @property
    def n_features(self) -> int:
        """F, the number of products whose sums :meth:`sums` returns (its output has shape (F,))."""
        return len(self.keys)

    def sums(self, values: jax.Array, weights: jax.Array) -> jax.Array:
        """(F,) Σ_r w_r f_r in float64 from (rows, P) float64 values and (rows,) weights (a row with
        weight 0 must have finite values to add exactly 0)."""
        parts = []
        for aset, bset, ia, ib, _ in self.gram_blocks:
            za = _monomials(values, aset)
            if bset.shape[1] == 0:
                g = jnp.dot(weights, za)                                  # (nA,)
                parts.append(g[ia])
            else:
                zb = _monomials(values, bset)
                g = jnp.dot((za * weights[:, None]).T, zb)                # (nA, nB)
                parts.append(g[ia, ib])
        for idx, _ in self.gather_groups:
            parts.append(jnp.dot(weights, jnp.prod(values[:, idx], axis=-1)))
        if not parts:
            return jnp.zeros(0, jnp.float64)
        return jnp.concatenate(parts)[self._perm]

    def rows(self, values: jax.Array) -> jax.Array:
        """(rows, F) per-row products (gathers), columns in ``keys`` order."""
        by_size: dict[int, list[int]] = {}
        for f, k in enumerate(self.keys):
            by_size.setdefault(len(k), []).append(f)
        parts, order = [], []
        for _, fs in sorted(by_size.items()):
            idx = np.asarray([self.keys[f] for f in fs], dtype=np.int32)
            parts.append(jnp.prod(values[:, idx], axis=-1))
            order.extend(fs)
        return jnp.concatenate(parts, axis=1)[:, np.argsort(order)]

    def tails(self, values: jax.Array, weights: jax.Array) -> jax.Array:
        """(rows, T) tail columns w·|φ(x_p)|ᵐ (non-negative); the integer power by multiplications
        (``lax.integer_pow``: ≤ 3 roundings for m ≤ 8, where a float ``pow`` costs ~10× more per value)."""
        parts, order = [], []
        for m in sorted(set(self.tail_orders.astype(int).tolist())):
            cols = np.flatnonzero(self.tail_orders == m)
            parts.append(jax.lax.integer_pow(jnp.abs(values[:, self.tail_points[cols]]), m))
            order.append(cols)
        if not parts:
            return jnp.zeros((values.shape[0], 0), values.dtype)
        out = parts[0] if len(parts) == 1 else jnp.concatenate(parts, axis=1)[:, np.argsort(np.concatenate(order))]
        return weights[:, None] * out


def _monomials(values: jax.Array, ids: np.ndarray) -> jax.Array:
    """(rows, n) products of the columns ``ids`` (n, a) of values (rows, P); a = 1 is a plain gather."""
    if ids.shape[1] == 1:
        if ids.shape[0] == values.shape[1] and np.array_equal(ids[:, 0], np.arange(values.shape[1])):
            return values
        return values[:, ids[:, 0]]
    return jnp.prod(values[:, ids], axis=-1)


def _splits(keys: list[tuple[int, ...]], n_points: int) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Per multiset, a split (A, B) with |A| = ⌈m/2⌉, greedily reusing halves: each feature (largest
    first) takes the candidate split whose new halves of size ≥ 2 cost least, a new half costing
    1/(number of candidate splits it appears in), so halves many features can share come first; ties
    go to the first candidate (lexicographically smallest A)."""
    by_deg: dict[int, list[int]] = {}
    for f, k in enumerate(keys):
        by_deg.setdefault(len(k), []).append(f)
    cand: dict[int, tuple] = {}               # degree -> (features, A ids (n, C, h), B ids (n, C, m−h))
    for m, fs in by_deg.items():
        h = (m + 1) // 2
        combs = list(itertools.combinations(range(m), h))
        ca = np.asarray(combs, dtype=np.int64).reshape(len(combs), h)
        cb = np.asarray([[i for i in range(m) if i not in c] for c in combs], dtype=np.int64).reshape(len(combs), m - h)
        K = np.asarray([keys[f] for f in fs], dtype=np.int64).reshape(len(fs), m)
        cand[m] = (fs, K[:, ca], K[:, cb])
    # number every distinct half of size ≥ 2 (one id space over all sizes); -1: no such half
    parts: dict[int, list] = {}
    for m, (fs, A, B) in cand.items():
        for side, X in ((0, A), (1, B)):
            if X.shape[2] >= 2:
                parts.setdefault(X.shape[2], []).append((m, side, X))
    ids = {(m, side): np.full(X.shape[:2], -1, dtype=np.int64) for m, (fs, A, B) in cand.items()
           for side, X in ((0, A), (1, B))}
    offset = 0
    for L, items in parts.items():
        flat = np.concatenate([X.reshape(-1, L) for _, _, X in items])
        if n_points ** L < 2 ** 62:            # rows as integers: one fast sort
            code = flat @ (n_points ** np.arange(L, dtype=np.int64))
            _, inverse = np.unique(code, return_inverse=True)
        else:
            _, inverse = np.unique(flat, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        at = 0
        for m, side, X in items:
            n = X.shape[0] * X.shape[1]
            ids[(m, side)] = inverse[at:at + n].reshape(X.shape[:2]) + offset
            at += n
        offset += int(inverse.max()) + 1
    pop = np.zeros(offset + 1)                # last entry: the sentinel −1
    for a in ids.values():
        np.add.at(pop, a.ravel(), 1.0)
    inv = np.zeros_like(pop)
    inv[:-1] = 1.0 / np.maximum(pop[:-1], 1.0)
    have = np.zeros(len(pop), dtype=bool)
    have[-1] = True
    chosen: list = [None] * len(keys)
    for m in sorted(cand, reverse=True):
        fs, A, B = cand[m]
        ia, ib = ids[(m, 0)], ids[(m, 1)]
        pick = np.zeros(len(fs), dtype=np.int64)
        for r in np.lexsort(np.asarray([keys[f] for f in fs]).T[::-1]):
            a, b = ia[r], ib[r]
            cost = np.where(have[a], 0.0, inv[a]) + np.where(have[b] | (b == a), 0.0, inv[b])
            c = int(np.argmin(cost))
            have[a[c]] = have[b[c]] = True
            pick[r] = c
        rows = np.arange(len(fs))
        for f, a, b in zip(fs, A[rows, pick].tolist(), B[rows, pick].tolist()):
            chosen[f] = (tuple(a), tuple(b))
    return chosen


def chunk_step(model: Model, values: Callable, features, chunk: int, dtype: str,
               keep: bool = False) -> Callable:
    """The pure (not yet jitted) per-chunk function ``f(key, start, count, consts=())``.

    Args:
      values: θ-batch -> (chunk, R, P) field values.
      features: a :class:`Products` (sums by matrix products, tail columns w·|φ(x_p)|ᵐ), or any callable
        (rows, P) float64 -> (rows, F) features (per-row contributions are the tail columns).
      chunk: rows of the fixed-shape batch (networks).
      keep: also return the per-row tail columns for the k̂ diagnostic.

    Returns:
      f(key, start: int64, count: int64, consts) -> (sums (F,), w (), w2 (), n_bad (), first_bad (), tail)
      where ``tail`` is (chunk·R, T) float64 (T = :func:`tail_width`) with NaN in padding rows (or
      (0, 0) without ``keep``); ``consts`` are the values of ``model.tunable_constants`` (default: the
      graph's numbers), so one compiled step serves every value of the spec's constants; ``first_bad`` is the index of the first network with a non-finite
      field value, feature, weighted feature or weight (``start + count`` if none).
    """
    dt = DTYPES[dtype]
    from nnft.insertions import log_weight_shift
    from nnft.sample.reweight import importance_weights
    shift = log_weight_shift(model.insertions)
    products = isinstance(features, Products)
    # a product of m ≤ MAX_SAFE_DEGREE finite float32 values (|φ| < 2¹²⁸) is < 2^(128·m) ≤ 2⁸⁹⁶, finite in float64,
    # and without insertions every weight is 0 or 1: then a row's features are finite iff its field values
    # are, and the per-row check (a conditional whose branch XLA:CPU may evaluate anyway: ≈ 0.45 µs per
    # network of the HMS grid at N = 2, a quarter of the step) is not compiled
    rows_follow_values = (products and dtype == "float32" and not model.insertions
                          and max((len(k) for k in features.keys), default=0) <= MAX_SAFE_DEGREE)

    def step(key, start, count, consts=None):
        if consts is None:
            return _step(key, start, count)
        with model.traced_constants(consts):
            return _step(key, start, count)

    def _step(key, start, count):
        theta = model.sample(key, chunk, start, dt)
        vals = values(theta)                                  # (chunk, R, P)
        rows = vals.shape[1]
        local = jnp.arange(chunk, dtype=jnp.int64)
        idx = start + local
        valid = local < count
        if model.insertions:                                  # importance weights e^{log_weight − c} ≤ 1
            iw = importance_weights(jax.vmap(model.log_weight)(theta), shift)
        else:
            iw = jnp.ones(chunk, jnp.float64)
        iw = jnp.where(valid, iw, 0.0)
        v = vals.reshape(chunk * rows, -1).astype(jnp.float64)
        wr = jnp.repeat(iw, rows)
        vrow = jnp.repeat(valid, rows)
        if products:
            v = jnp.where(vrow[:, None], v, 0.0)              # padding: finite values, weight 0 → adds 0.0
            # computed once into memory: an optimization_barrier is removed by XLA:CPU before fusion, and
            # the field (at N ≤ 32 its whole readout loop) was fused into every half-monomial column of the
            # products, 2–3× the step's cost at N = 2–20 (bench/README.md); the same bits
            v = materialised(lambda: v, v)
            sums = features.sums(v, wr)

            def row_check(_):                                 # only when a sum is non-finite: which rows
                f = features.rows(v)
                return jnp.all(jnp.isfinite(f), axis=1) & jnp.all(jnp.isfinite(f * wr[:, None]), axis=1)

            # the argument needs float32 values: decided on the values' own dtype (a values function may
            # widen to float64 before the step, whose products of 2 can then overflow)
            row_ok = (jnp.ones(chunk * rows, bool) if rows_follow_values and vals.dtype == jnp.float32 else
                      jax.lax.cond(jnp.all(jnp.isfinite(sums)), lambda _: jnp.ones(chunk * rows, bool),
                                   row_check, None))
            tail = (jnp.where(vrow[:, None], features.tails(v, wr), jnp.nan) if keep
                    else jnp.zeros((0, 0)))
        else:
            feats = features(v)
            contrib = feats * wr[:, None]
            row_ok = jnp.all(jnp.isfinite(feats), axis=1) & jnp.all(jnp.isfinite(contrib), axis=1)
            contrib = jnp.where(vrow[:, None], contrib, 0.0)  # drops padding only (bad rows raise)
            sums = jnp.sum(contrib, axis=0)
            tail = jnp.where(vrow[:, None], contrib, jnp.nan) if keep else jnp.zeros((0, 0))
        # a network is bad if any of its field values, features, weighted features or its weight is
        # non-finite; padded rows are not networks of the run and are dropped
        finite = (jnp.all(jnp.isfinite(vals), axis=(1, 2)) & jnp.isfinite(iw)
                  & jnp.all(row_ok.reshape(chunk, rows), axis=1)) | ~valid
        w = jnp.sum(wr)
        w2 = jnp.sum(wr ** 2)
        first_bad = jnp.min(jnp.where(finite, start + count, idx))
        return sums, w, w2, jnp.sum(~finite), first_bad, tail

    return step


def tail_one_sided(features) -> bool:
    """Whether the tail columns are ≥ 0 (:class:`Products`: w·|φ(x_p)|ᵐ), so only their upper tail is kept."""
    return isinstance(features, Products)


def tail_width(features, n_features: int) -> int:
    """T, the number of per-row tail columns the step returns for the k̂ diagnostic (the driver sizes the
    tail buffers from it): P × orders in use for :class:`Products`, else F."""
    return features.n_tails if isinstance(features, Products) else int(n_features)


def row_elements(features, n_features: int) -> int:
    """Array elements per row the feature reduction holds (for the driver's memory estimate):
    the half-monomials and tail columns of :class:`Products`, else features and contributions."""
    if isinstance(features, Products):
        return sum(len(a) + len(b) for a, b, *_ in features.gram_blocks) + features.n_tails + sum(
            len(i) for i, _ in features.gather_groups)
    return 2 * int(n_features)
