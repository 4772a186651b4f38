"""What one chunk of an i.i.d. stream computes: networks ``start .. start+count−1`` of a run, all in one
jackknife block, reduced to their feature sums.

The driver (``nnft.sample.iid``) cuts the run into chunks that never cross a block boundary, so a
chunk's output is one (F,) sum and the block sums do not depend on how chunks are scheduled (on which
device, in which process). The step has a fixed shape (``chunk`` rows, one compilation); rows at and
beyond ``count`` are padding and are masked out exactly (they add 0.0).
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp

from nnft.graph.compile import Model

DTYPES = {"float32": jnp.float32, "float64": jnp.float64}


def chunk_step(model: Model, values: Callable, features: Callable, chunk: int, dtype: str,
               keep: bool = False) -> Callable:
    """The pure (not yet jitted) per-chunk function ``f(key, start, count)``.

    Args:
      values: θ-batch -> (chunk, R, P) field values.
      features: (rows, P) float64 -> (rows, F) features.
      chunk: rows of the fixed-shape batch (networks).
      keep: also return the per-row weighted contributions for the tail diagnostic.

    Returns:
      f(key, start: int64, count: int64) -> (sums (F,), w (), w2 (), n_bad (), first_bad (), contrib)
      where ``contrib`` is (chunk·R, F) with NaN in padding rows (or (0, 0) without ``keep``);
      ``first_bad`` is the index of the first network with a non-finite value (``start + count`` if none).
    """
    dt = DTYPES[dtype]
    from nnft.insertions import log_weight_shift
    shift = log_weight_shift(model.insertions)

    def step(key, start, count):
        theta = model.sample(key, chunk, start, dt)
        vals = values(theta)                                  # (chunk, R, P)
        rows = vals.shape[1]
        local = jnp.arange(chunk, dtype=jnp.int64)
        idx = start + local
        valid = local < count
        if model.insertions:                                  # importance weights e^{log_weight − c} ≤ 1
            lw = jax.vmap(model.log_weight)(theta).astype(jnp.float64)
            iw = jnp.exp(lw - shift)
        else:
            iw = jnp.ones(chunk, jnp.float64)
        iw = jnp.where(valid, iw, 0.0)
        feats = features(vals.reshape(chunk * rows, -1).astype(jnp.float64))
        wr = jnp.repeat(iw, rows)
        vrow = jnp.repeat(valid, rows)
        contrib = feats * wr[:, None]
        # a network is bad if any of its field values, features, weighted features or its weight is
        # non-finite; padded rows are not networks of the run and are dropped
        row_ok = jnp.all(jnp.isfinite(feats), axis=1) & jnp.all(jnp.isfinite(contrib), axis=1)
        finite = (jnp.all(jnp.isfinite(vals), axis=(1, 2)) & jnp.isfinite(iw)
                  & jnp.all(row_ok.reshape(chunk, rows), axis=1)) | ~valid
        contrib = jnp.where(vrow[:, None], contrib, 0.0)     # drops padding only (bad rows raise)
        sums = jnp.sum(contrib, axis=0)
        w = jnp.sum(wr)
        w2 = jnp.sum(wr ** 2)
        first_bad = jnp.min(jnp.where(finite, start + count, idx))
        c = jnp.where(vrow[:, None], contrib, jnp.nan) if keep else jnp.zeros((0, 0))
        return sums, w, w2, jnp.sum(~finite), first_bad, c

    return step


def tail_width(features, n_features: int) -> int:
    """T, the number of per-row tail columns the step returns for the k̂ diagnostic (the driver sizes the
    tail buffers from it)."""
    return int(n_features)
