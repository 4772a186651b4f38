"""Counter-based and jitted draws shared by every density (the random-number plumbing, no law).

* :func:`sample_jit`: one compiled sampling computation per (density, shape, dtype, argument
  shapes), inlined under an outer ``jit``/``vmap``;
* :func:`uniform_blocks`: uniform numbers in [0, 1) made of threefry2x32 bits of (key, network index,
  counter), so network ``i``'s parameters depend on ``(key, i)`` only (see
  :meth:`nnft.densities.Density.sample_networks` for the bit layout); the cipher is
  :func:`nnft.densities.threefry.threefry2x32`, bit for bit ``jax.extend.random.threefry_2x32`` and ≈ 7×
  faster on CPU;
* :func:`network_draws`: an elementwise density's draws of many networks, the uniforms and their
  inverse-CDF transform each computed once into memory;
* ``materialised`` (from :mod:`nnft.materialise`): a draw computed once into memory (not fused into,
  and recomputed by, its consumers);
* :func:`open_interval`: the clamp ``jax.random`` applies before an inverse-CDF transform.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp

from nnft.densities.threefry import threefry2x32
from nnft.materialise import materialised


def typed_key(key: jax.Array) -> jax.Array:
    """A new-style typed PRNG key from ``key`` (a legacy ``uint32[2]`` key is wrapped)."""
    key = jnp.asarray(key)
    if not jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        key = jax.random.wrap_key_data(key)
    return key


@partial(jax.jit, static_argnums=(0, 3, 4))
def sample_jit(density, key, args: dict[str, Any], shape: tuple[int, ...], dtype):
    """``density._sample`` with the arguments broadcast to the batch shape (plus size-1 event axes)."""
    batch = shape[:len(shape) - density.event_dims]
    expand = (...,) + (None,) * density.event_dims
    a = {k: jnp.broadcast_to(jnp.asarray(v, dtype=dtype), batch)[expand] for k, v in args.items()}
    return density._sample(key, shape, a, dtype)


# jitted: one compiled cipher per (size, dtype, shapes), so an eager caller (Model.sample_one of a depth-1000
# net: 1000 parameters) does not dispatch the cipher's ~100 operations one by one (inlined under an outer jit)
@partial(jax.jit, static_argnums=(2, 3))
def uniform_blocks(key: jax.Array, idx: jax.Array, size: int, dtype) -> jax.Array:
    """(len(idx), size) uniform numbers in [0, 1): row i from threefry2x32(key, (idx[i] mod 2³², counter)).

    float32 takes the top 23 bits of each output word (words of counter ``c`` fill elements ``2c``,
    ``2c+1``); float64 the top 52 bits of the two words of counter ``c = e`` as one 64-bit integer.
    The result is :func:`~nnft.materialise.materialised` (computed once, not fused into each consumer)."""
    return materialised(lambda: _uniform_bits(key, idx, size, dtype), key, ((idx.shape[0], size), dtype))


# jitted for the same reason as uniform_blocks, on the flattened block: parameters of one density and one
# block size (W0 (N, 1), b0 (N,), W1 (N,)) share one trace; the density is static (hashable, frozen)
@partial(jax.jit, static_argnums=(0, 3, 4))
def network_draws(density, key: jax.Array, idx: jax.Array, size: int, dtype,
                  args: dict[str, jax.Array]) -> jax.Array:
    """(len(idx), size) draws of an elementwise density: ``density._from_uniform`` of the uniforms of
    :func:`uniform_blocks` (row i from network ``idx[i]``, the block flattened row-major), with ``args``
    of shape (len(idx), size).

    The uniforms and then the transformed draw are :func:`~nnft.materialise.materialised`: the cipher and
    the transform each run once per number, in two loops, and the consumers (e.g. a (networks, points, N)
    pre-activation, its non-finite checks) read the parameter from memory instead of recomputing the
    transform once per point (measured in one process, CPU time, load 8: the HMS erf / Gauss-net sampled
    field at N = 1000 in 38 / 43 µs per network against 53 / 65 µs with the transform fused into the
    field). Two loops rather than one: the cipher and ``erf_inv`` fused in one loop measured ≈ 15 %
    slower (register pressure)."""
    shape = ((idx.shape[0], size), dtype)
    u = materialised(lambda: _uniform_bits(key, idx, size, dtype), key, shape)
    return materialised(lambda: density._from_uniform(u, args), key, shape)


def _uniform_bits(key: jax.Array, idx: jax.Array, size: int, dtype) -> jax.Array:
    kd = jax.random.key_data(key).astype(jnp.uint32)
    rows = idx.astype(jnp.uint32)[:, None]
    if dtype == jnp.float32:
        # element e takes word e mod 2 of counter e // 2. Computed per element (the cipher twice per
        # counter, branch-free, 8 uint32 lanes per vector) rather than as two word arrays interleaved
        # afterwards: XLA:CPU evaluates each of the two words in a fusion of its own (the cipher twice
        # anyway) and an interleave of fused producers does not vectorise (≈ 1.5–2× slower, measured).
        e = jax.lax.broadcasted_iota(jnp.uint32, (1, size), 1)
        w0, w1 = threefry2x32(kd[0], kd[1], rows, e >> 1)
        bits = jnp.where((e & 1) == 0, w0, w1)
        one = jax.lax.bitcast_convert_type((bits >> 9) | jnp.uint32(0x3F800000), jnp.float32)
        return one - jnp.float32(1.0)
    w0, w1 = threefry2x32(kd[0], kd[1], rows, jax.lax.broadcasted_iota(jnp.uint32, (1, size), 1))
    bits = (w0.astype(jnp.uint64) << 32) | w1.astype(jnp.uint64)
    one = jax.lax.bitcast_convert_type((bits >> 12) | jnp.uint64(0x3FF0000000000000), jnp.float64)
    return one - 1.0


def open_interval(u, low, dtype):
    """u in [0, 1) -> [low, 1) as jax.random.uniform(minval=low, maxval=1) does."""
    low = jnp.asarray(low, dtype)
    return jnp.maximum(low, u * (jnp.asarray(1.0, dtype) - low) + low)
