"""i.i.d. ensembles of networks, streamed in jitted, vmapped chunks.

Network ``i`` is drawn with ``fold_in(key, i)``; its features go to block ``i·K // n``. Chunks never
cross a block boundary (:func:`work_list`), so each chunk adds one (F,) sum to one block; chunks have a
fixed shape (one compilation per shape) and padded rows are masked out. Non-finite field values,
features, weights or block sums raise :class:`~nnft.errors.SamplingError`; they are never masked or
averaged. The step also keeps the largest per-network contributions of every feature (both signs,
``jax.lax.top_k``), merged on the host, for the Pareto-k̂ tail diagnostic of ``nnft.estimators.tails``.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

import warnings

from nnft.errors import ReweightingWarning, SamplingError
from nnft.graph.compile import Model
from nnft.sample.step import DTYPES, chunk_step, tail_width
from nnft.stats import BlockSums

#: array elements (all networks of one chunk) a jitted step may hold; bounds memory per step
CHUNK_ELEMENTS = 1 << 24
#: below this effective sample size (absolute, or as a fraction of n) reweighted estimates are flagged
ESS_MIN, ESS_FRACTION = 100.0, 0.01
#: largest tail buffer (features × kept values) for the k̂ diagnostic; beyond it fewer values are kept
TAIL_ELEMENTS = 1 << 22


def as_key(key: int | jax.Array) -> jax.Array:
    """A JAX PRNG key from an integer seed or a key."""
    if isinstance(key, (int, np.integer)):
        return jax.random.key(int(key))
    return key


def step_elements(model: Model, points: int, rows: int, n_features: int) -> int:
    """Array elements one network occupies in a streaming step (the chunk is sized from this).

    parameters + φ's intermediate values at every point the step evaluates (the estimator's ``points``
    and every insertion lattice, ``Model.point_elements`` each) + per row the field values, the
    features and their weighted contributions (which also leave the step for the tail diagnostic).
    The host-side tail buffers are per run, bounded by :data:`TAIL_ELEMENTS`.
    """
    lattice = sum(len(ins.points) for ins in model.insertions)
    return (max(1, model.param_elements) + (int(points) + lattice) * model.point_elements
            + int(rows) * (int(points) + 2 * int(n_features)))


def chunk_size(model: Model, requested: int, n_samples: int, points: int, rows: int = 1, n_features: int = 1) -> int:
    """Networks per jitted step: the requested chunk, capped so that the whole step's memory
    (:func:`step_elements` × chunk) stays within :data:`CHUNK_ELEMENTS`."""
    per_network = step_elements(model, points, rows, n_features)
    return max(1, min(int(requested), int(n_samples), CHUNK_ELEMENTS // per_network))


def blocks_of(n_samples: int, n_blocks: int) -> list[tuple[int, int]]:
    """[lo, hi) of each jackknife block: network ``i`` is in block ``i·K // n`` (contiguous, sizes differ by ≤ 1)."""
    return [(-(-b * n_samples // n_blocks), -(-(b + 1) * n_samples // n_blocks)) for b in range(n_blocks)]


def work_list(n_samples: int, n_blocks: int, chunk: int) -> list[tuple[int, int, int]]:
    """The run's chunks in order, as (block, start, count): each block is cut into chunks of ``chunk``
    networks from its first network on (the last one shorter), so no chunk crosses a block boundary and
    a block's sum is the same whatever device or process computes its chunks."""
    out = []
    for b, (lo, hi) in enumerate(blocks_of(n_samples, n_blocks)):
        for s in range(lo, hi, chunk):
            out.append((b, s, min(chunk, hi - s)))
    return out


def step_chunk(requested: int, n_samples: int, n_blocks: int) -> int:
    """The fixed batch shape of the step: ``requested`` (already capped for memory), or the next power of
    two ≥ the largest block when blocks are smaller, so small runs reuse a few compiled shapes."""
    largest = -(-n_samples // n_blocks)
    return max(1, min(int(requested), 1 << max(0, (largest - 1).bit_length())))


def stream(model: Model, key: int | jax.Array, n_samples: int, values: Callable, features: Callable,
           n_features: int, *, chunk: int = 4096, n_blocks: int = 64, dtype: str = "float32",
           cache_key: tuple | None = None, points: int = 1, rows: int = 1, tails: bool = True) -> BlockSums:
    """Stream ``n_samples`` networks through ``values`` and ``features`` into :class:`BlockSums`.

    Args:
      values: θ-batch -> array (chunk, R, P) of field values (R rows per network: 1 for whole
        networks, the width for single neurons).
      features: (rows, P) float64 -> (rows, F) features.
      chunk: networks per jitted step, capped by :func:`chunk_size` (memory O(chunk·step_elements)).
      n_blocks: K, contiguous jackknife blocks; network ``i`` is in block ``i·K // n``.
      dtype: sampling precision; accumulation is always float64. Everything the step computes
        (parameters, points, lattices) is in this precision.
      cache_key: identifies (values, features) across calls; with it the compiled step is kept on
        the model and reused (the key, the start and the count are traced arguments).
      points: field points ``values`` evaluates per network (for the memory estimate).
      rows: R (for the memory estimate and the tail size).
      tails: keep the largest contributions of every feature for the k̂ diagnostic (``nnft.estimators.tails``).

    Raises:
      SamplingError: a network gave a non-finite field value, feature or weight, or a block sum
        overflowed. Nothing is masked or averaged away.
    """
    if n_samples < 2 * n_blocks:
        n_blocks = max(2, n_samples // 2)
    from nnft.estimators.tails import MIN_TAIL, tail_size
    keep = 0
    if tails:
        keep = tail_size(n_samples * rows) + 1
        keep = min(keep, TAIL_ELEMENTS // max(1, tail_width(features, n_features)))
        if keep < MIN_TAIL + 1:
            keep = 0
    chunk = step_chunk(chunk_size(model, chunk, n_samples, points, rows, n_features), n_samples, n_blocks)
    key = as_key(key)
    acc = BlockSums(n_blocks, n_features)
    top_pos = top_neg = None
    with jax.enable_x64(True):
        step = _step(model, values, features, chunk, dtype, cache_key, keep > 0)
        for b, start, count in work_list(n_samples, n_blocks, chunk):
            sums, w, w2, n_bad, first_bad, contrib = step(key, jnp.asarray(start, jnp.int64),
                                                          jnp.asarray(count, jnp.int64))
            if int(n_bad):
                raise SamplingError(
                    f"{int(n_bad)} of the networks {start}..{start + count - 1} gave non-finite field "
                    f"values, features or weights (first: network {int(first_bad)}); they are never averaged or "
                    "masked. Causes: overflow (deep or strongly chaotic networks, huge scales; products of field "
                    "values overflow first), heavy-tailed densities (e.g. Cauchy into exp), or the function's "
                    "domain (log/sqrt of negatives). Fix: change the spec, or use dtype='float64'.")
            with np.errstate(over="ignore", invalid="ignore"):       # checked just below
                acc.add_block(b, np.asarray(sums), float(w), count, float(w2) if model.insertions else None)
            if not (np.all(np.isfinite(acc.sums[b])) and np.isfinite(acc.weights[b])):
                raise SamplingError(f"block sums overflowed at networks {start}..{start + count - 1}: "
                                    "the features are finite but their sums are not representable; the estimate "
                                    "does not exist in this precision (use dtype='float64' or rescale the field)")
            if keep:
                c = np.asarray(contrib)
                c = c[:count * (len(c) // chunk)].T          # (F, valid rows)
                top_pos = _merge_top(top_pos, c, keep)
                top_neg = _merge_top(top_neg, -c, keep)
    if keep:
        acc.tail = (top_pos, top_neg)
    if model.insertions and acc.ess < max(ESS_MIN, ESS_FRACTION * n_samples):
        warnings.warn(f"importance weights of the insertion degenerated: effective sample size {acc.ess:.1f} of "
                      f"{n_samples} networks; estimates are not reliable (lower the coupling or the box volume, "
                      "or sample P̃ by MCMC)", ReweightingWarning, stacklevel=3)
    return acc


def _merge_top(old: np.ndarray | None, new: np.ndarray, keep: int) -> np.ndarray:
    """The ``keep`` largest values per row of two (F, ·) arrays (chunking does not change the result)."""
    both = new if old is None else np.concatenate([old, new], axis=1)
    if both.shape[1] <= keep:
        return both
    return np.partition(both, both.shape[1] - keep, axis=1)[:, -keep:]


def _step(model: Model, values: Callable, features: Callable, chunk: int, dtype: str,
          cache_key: tuple | None, keep: bool = False) -> Callable:
    full_key = None if cache_key is None else (cache_key, chunk, dtype, keep)
    if full_key is not None and full_key in model.jit_cache:
        return model.jit_cache[full_key]
    step = jax.jit(chunk_step(model, values, features, chunk, dtype, keep))
    if full_key is not None:
        if len(model.jit_cache) >= 32:
            model.jit_cache.pop(next(iter(model.jit_cache)))
        model.jit_cache[full_key] = step
    return step
