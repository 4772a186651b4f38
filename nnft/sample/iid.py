"""i.i.d. ensembles of networks, streamed in jitted, vmapped chunks.

Network ``i`` is drawn with ``fold_in(key, i)``; its features go to block ``i·K // n``. Chunks are
padded to a fixed size (one compilation) and padded rows are masked out. Non-finite field values
raise :class:`~nnft.errors.SamplingError`; they are never averaged.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

import warnings

from nnft.errors import ReweightingWarning, SamplingError
from nnft.graph.compile import Model
from nnft.stats import BlockSums

DTYPES = {"float32": jnp.float32, "float64": jnp.float64}
#: parameter elements (all networks of one chunk) a jitted step may hold; bounds memory per step
CHUNK_ELEMENTS = 1 << 24
#: below this effective sample size (absolute, or as a fraction of n) reweighted estimates are flagged
ESS_MIN, ESS_FRACTION = 100.0, 0.01


def as_key(key: int | jax.Array) -> jax.Array:
    """A JAX PRNG key from an integer seed or a key."""
    if isinstance(key, (int, np.integer)):
        return jax.random.key(int(key))
    return key


def stream(model: Model, key: int | jax.Array, n_samples: int, values: Callable, features: Callable,
           n_features: int, *, chunk: int = 4096, n_blocks: int = 64, dtype: str = "float32",
           cache_key: tuple | None = None) -> BlockSums:
    """Stream ``n_samples`` networks through ``values`` and ``features`` into :class:`BlockSums`.

    Args:
      values: θ-batch -> array (chunk, R, P) of field values (R rows per network: 1 for whole
        networks, the width for single neurons).
      features: (rows, P) float64 -> (rows, F) features.
      chunk: networks per jitted step (memory is O(chunk·R·P + K·F)).
      n_blocks: K, contiguous jackknife blocks.
      dtype: sampling precision; accumulation is always float64.
      cache_key: identifies (values, features) across calls; with it the compiled step is kept on
        the model and reused (the key, the start and the sample count are traced arguments).
    """
    if n_samples < 2 * n_blocks:
        n_blocks = max(2, n_samples // 2)
    per_network = max(1, model.param_elements)
    chunk = max(1, min(chunk, n_samples, CHUNK_ELEMENTS // per_network))
    key = as_key(key)
    acc = BlockSums(n_blocks, n_features)
    with jax.enable_x64(True):
        step = _step(model, values, features, chunk, n_blocks, dtype, cache_key)
        total = jnp.asarray(n_samples, jnp.int64)
        for start in range(0, n_samples, chunk):
            sums, w, w2, n_bad, first_bad = step(key, jnp.asarray(start, jnp.int64), total)
            if int(n_bad):
                raise SamplingError(f"{int(n_bad)} of the networks {start}..{min(start + chunk, n_samples) - 1} gave "
                                    f"non-finite field values (first: network {int(first_bad)}); they are not averaged. "
                                    "Check the densities (heavy tails, e.g. Cauchy into exp) or use dtype='float64'.")
            acc.add(np.asarray(sums), np.asarray(w), min(chunk, n_samples - start),
                    np.asarray(w2) if model.insertions else None)
    if model.insertions and acc.ess < max(ESS_MIN, ESS_FRACTION * n_samples):
        warnings.warn(f"importance weights of the insertion degenerated: effective sample size {acc.ess:.1f} of "
                      f"{n_samples} networks; estimates are not reliable (lower the coupling or the box volume, "
                      "or sample P̃ by MCMC)", ReweightingWarning, stacklevel=3)
    return acc


def _step(model: Model, values: Callable, features: Callable, chunk: int, n_blocks: int, dtype: str,
          cache_key: tuple | None) -> Callable:
    full_key = None if cache_key is None else (cache_key, chunk, n_blocks, dtype)
    if full_key is not None and full_key in model.jit_cache:
        return model.jit_cache[full_key]
    dt = DTYPES[dtype]
    from nnft.insertions import log_weight_shift
    shift = log_weight_shift(model.insertions)

    @jax.jit
    def step(key, start, n_samples):
        theta = model.sample(key, chunk, start, dt)
        vals = values(theta)                                  # (chunk, R, P)
        rows = vals.shape[1]
        idx = start + jnp.arange(chunk, dtype=jnp.int64)
        valid = idx < n_samples
        blk = jnp.where(valid, idx * n_blocks // n_samples, n_blocks)
        if model.insertions:                                  # importance weights e^{log_weight − c} ≤ 1
            lw = jax.vmap(model.log_weight)(theta).astype(jnp.float64)
            iw = jnp.exp(lw - shift)
        else:
            iw = jnp.ones(chunk, jnp.float64)
        finite = (jnp.all(jnp.isfinite(vals), axis=(1, 2)) & jnp.isfinite(iw)) | ~valid
        iw = jnp.where(valid, iw, 0.0)
        feats = features(vals.reshape(chunk * rows, -1).astype(jnp.float64))
        seg = jnp.repeat(blk, rows)
        wr = jnp.repeat(iw, rows)
        sums = jax.ops.segment_sum(jnp.where(jnp.isfinite(feats), feats * wr[:, None], 0.0), seg,
                                   n_blocks + 1)[:n_blocks]
        w = jax.ops.segment_sum(wr, seg, n_blocks + 1)[:n_blocks]
        w2 = jax.ops.segment_sum(wr ** 2, seg, n_blocks + 1)[:n_blocks]
        first_bad = jnp.min(jnp.where(finite, n_samples, idx))
        return sums, w, w2, jnp.sum(~finite), first_bad

    if full_key is not None:
        if len(model.jit_cache) >= 32:
            model.jit_cache.pop(next(iter(model.jit_cache)))
        model.jit_cache[full_key] = step
    return step
