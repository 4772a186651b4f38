"""nnft's Threefry-2x32 (``nnft.densities.threefry``, elementwise jnp) is JAX's ``threefry_2x32`` bit for
bit, and ``uniform_blocks`` built on it gives the same bits as the previous construction on JAX's cipher
(so no uniform number drawn anywhere in nnft changed when the cipher was swapped); every elementwise
density's draws are its transform of those uniforms."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.extend.random import threefry_2x32

from nnft.densities import draws
from nnft.densities.draws import uniform_blocks
from nnft.densities.registry import get_density
from nnft.densities.threefry import threefry2x32

EDGE = np.array([0, 1, 2**31 - 1, 2**31, 2**32 - 2, 2**32 - 1], dtype=np.uint64).astype(np.uint32)


def _jax_words(k, x0, x1):
    out = np.asarray(threefry_2x32(jnp.asarray(k, jnp.uint32), jnp.asarray(np.concatenate([x0, x1]))))
    return out[:len(x0)], out[len(x0):]


def _random_u32(rng, n):
    return rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32)


def test_cipher_equals_jax_for_random_and_edge_keys_and_counters():
    """Every pair of edge keys with every pair of edge counters, and random keys with random counters;
    jitted and not; a one-bit change of key or counter changes the output (it is not the identity)."""
    rng = np.random.default_rng(20260)
    e0, e1 = (a.ravel() for a in np.meshgrid(EDGE, EDGE))
    keys = [(a, b) for a in EDGE for b in EDGE] + [tuple(_random_u32(rng, 2)) for _ in range(16)]
    f = jax.jit(threefry2x32)
    for k in keys:
        x0 = np.concatenate([e0, _random_u32(rng, 300)])
        x1 = np.concatenate([e1, _random_u32(rng, 300)])
        r0, r1 = _jax_words(k, x0, x1)
        for impl in (threefry2x32, f):
            y0, y1 = impl(np.uint32(k[0]), np.uint32(k[1]), x0, x1)
            np.testing.assert_array_equal(np.asarray(y0), r0)
            np.testing.assert_array_equal(np.asarray(y1), r1)
    # the comparison can fail: flip one bit of the key, of a counter word
    k = keys[-1]
    y0, y1 = threefry2x32(np.uint32(k[0] ^ 1), np.uint32(k[1]), x0, x1)
    assert np.mean(np.asarray(y0) == r0) < 0.01 and np.mean(np.asarray(y1) == r1) < 0.01
    y0, _ = threefry2x32(np.uint32(k[0]), np.uint32(k[1]), x0, x1 ^ np.uint32(1 << 31))
    assert np.mean(np.asarray(y0) == r0) < 0.01


def test_cipher_broadcasts_and_batches():
    """(n, 1) rows against (1, m) counters, a traced key, and under vmap over keys: the broadcast values."""
    rng = np.random.default_rng(3)
    rows, cols = _random_u32(rng, 7), np.arange(5, dtype=np.uint32)
    keys = _random_u32(rng, 6).reshape(3, 2)
    b0, b1 = np.broadcast_arrays(rows[:, None], cols[None, :])
    got0, got1 = jax.vmap(lambda kk: threefry2x32(kk[0], kk[1], rows[:, None], cols[None, :]))(keys)
    for i, k in enumerate(keys):
        r0, r1 = _jax_words(k, b0.ravel(), b1.ravel())
        np.testing.assert_array_equal(np.asarray(got0[i]).ravel(), r0)
        np.testing.assert_array_equal(np.asarray(got1[i]).ravel(), r1)


def _uniform_blocks_reference(key, idx, size, dtype):
    """The construction nnft used before (JAX's cipher on concatenated counters), kept here as the oracle."""
    kd = jax.random.key_data(key).astype(jnp.uint32)
    n = idx.shape[0]
    cols = (size + 1) // 2 if dtype == jnp.float32 else size
    rows = jnp.broadcast_to(idx.astype(jnp.uint32)[:, None], (n, cols))
    ctr = jax.lax.broadcasted_iota(jnp.uint32, (n, cols), 1)
    out = threefry_2x32(kd, jnp.concatenate([rows.ravel(), ctr.ravel()]))
    w0, w1 = out[:n * cols].reshape(n, cols), out[n * cols:].reshape(n, cols)
    if dtype == jnp.float32:
        bits = jnp.stack([w0, w1], axis=-1).reshape(n, 2 * cols)[:, :size]
        one = jax.lax.bitcast_convert_type((bits >> 9) | jnp.uint32(0x3F800000), jnp.float32)
        return one - jnp.float32(1.0)
    bits = (w0.astype(jnp.uint64) << 32) | w1.astype(jnp.uint64)
    one = jax.lax.bitcast_convert_type((bits >> 12) | jnp.uint64(0x3FF0000000000000), jnp.float64)
    return one - 1.0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_uniform_blocks_bits_unchanged(dtype):
    """Odd and even block sizes, network indices at 0, near 2³² and beyond (taken mod 2³²), several keys:
    the same bits as the construction on JAX's cipher; jitted with a traced start too."""
    dt = jnp.dtype(dtype)
    new = jax.jit(uniform_blocks, static_argnums=(2, 3))
    old = jax.jit(_uniform_blocks_reference, static_argnums=(2, 3))
    with jax.enable_x64(True):
        idx = jnp.asarray(np.array([0, 1, 2, 1000, 2**32 - 1, 2**32, 2**32 + 5, 2**40 + 3], np.int64))
        for size in (1, 2, 3, 33):
            for seed in (0, 1, 123456789):
                key = jax.random.key(seed)
                got = np.asarray(new(key, idx, size, dt))
                ref = np.asarray(old(key, idx, size, dt))
                assert got.dtype == dt and got.shape == (len(idx), size)
                np.testing.assert_array_equal(got.view(np.uint8), ref.view(np.uint8))
        f = jax.jit(lambda k, s: uniform_blocks(k, s + jnp.arange(64, dtype=jnp.int64), 17, dt))
        got = np.asarray(f(jax.random.key(5), jnp.int64(2**32 - 30)))
        ref = np.asarray(old(jax.random.key(5), 2**32 - 30 + jnp.arange(64, dtype=jnp.int64), 17, dt))
        np.testing.assert_array_equal(got.view(np.uint8), ref.view(np.uint8))
        # the oracle can tell: a different key or a shifted row gives other bits
        other = np.asarray(old(jax.random.key(6), 2**32 - 30 + jnp.arange(64, dtype=jnp.int64), 17, dt))
        assert np.mean(got == other) < 0.01
        assert np.mean(got[1:] == ref[:-1]) < 0.01


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,args", [("normal", {"std": 0.5, "mean": 0.1}), ("uniform", {"low": -1.0, "high": 2.0}),
                                       ("cauchy", {"scale": 0.3}), ("laplace", {"scale": 0.7}),
                                       ("exponential", {"rate": 2.0})])
def test_elementwise_draws_are_the_transform_of_the_reference_uniforms(name, args, dtype):
    """Every elementwise density's network draws, jitted as in ``Model.sample``, are its inverse-CDF
    transform of the reference uniforms (the arguments traced on both sides: XLA folds and contracts
    literal arguments differently). The transform's own accuracy is tests/densities/test_draw_transforms.py."""
    dens, dt = get_density(name), jnp.dtype(dtype)
    full = dens.with_defaults(args)
    shape = (3, 5)
    with jax.enable_x64(True):
        a = {k: jnp.full((6,) + shape, v, dt) for k, v in full.items()}
        new = jax.jit(lambda k, s, a: dens.sample_networks(k, s, 6, shape, a, dt))
        old = jax.jit(lambda k, s, a: dens._from_uniform(
            _uniform_blocks_reference(k, s + jnp.arange(6, dtype=jnp.int64), 15, dt).reshape((6,) + shape), a))
        key = jax.random.key(9)
        got, ref = np.asarray(new(key, jnp.int64(40), a)), np.asarray(old(key, jnp.int64(40), a))
        other = np.asarray(old(jax.random.key(10), jnp.int64(40), a))
    np.testing.assert_array_equal(got.view(np.uint8), ref.view(np.uint8))
    assert np.mean(got == other) < 0.1                 # the oracle can tell another key


def test_draws_are_computed_once_not_in_each_consumer(monkeypatch):
    """The cipher is integer arithmetic XLA counts as cheap, and the normal's erf⁻¹ polynomial would be
    recomputed per point inside a (networks, points, N) consumer: ``network_draws`` computes both once
    (``draws.materialised``). Compiled with such a consumer and a second use, the cipher's xor operations
    appear once (20 rounds + the key schedule), and one loop holds the whole transform (its ``log`` and
    ``sqrt``) with the draw's own shape as output."""
    dens = get_density("normal")
    pts = jnp.linspace(-1.0, 1.0, 6, dtype=jnp.float32)

    def compiled():
        def step(k, s):                                  # a new function each time: traced anew
            w = dens.sample_networks(k, s, 64, (10,), {"std": 1.0}, jnp.float32)
            z = w[:, None, :] * pts[None, :, None]
            return jnp.sum(jnp.cos(z), axis=-1), jnp.all(jnp.isfinite(w), axis=-1)

        with jax.enable_x64(True):
            text = jax.jit(step).lower(jax.random.key(0), jnp.int64(0)).compile().as_text()
        with_log = [c for c in re.split(r"\n(?=\S)", text) if " log(" in c]
        one_pass = (len(with_log) == 1 and " sqrt(" in with_log[0] and " cosine(" not in with_log[0]
                    and "-> f32[64,10]" in with_log[0].splitlines()[0])
        return text.count(" xor("), one_pass

    xors, one_pass = compiled()
    assert 20 <= xors < 40 and one_pass
    monkeypatch.setattr(draws, "materialised", lambda draw, key, out=None: draw())     # the twin: fused into each consumer
    draws.network_draws.clear_cache()                                      # (network_draws is jitted: retrace)
    try:
        xors, one_pass = compiled()
        assert xors >= 40 and not one_pass
    finally:
        monkeypatch.undo()
        draws.network_draws.clear_cache()


def test_draws_under_vmap_over_keys():
    """Batched keys (the materialising conditional becomes a select): each key's draw equals its own call."""
    dens = get_density("normal")
    keys = jax.random.split(jax.random.key(2), 3)
    with jax.enable_x64(True):
        f = jax.jit(lambda k: dens.sample_networks(k, jnp.int64(5), 4, (7,), {"std": 2.0}, jnp.float32))
        batched = np.asarray(jax.vmap(f)(keys))
        single = np.stack([np.asarray(f(k)) for k in keys])
    np.testing.assert_array_equal(batched.view(np.uint32), single.view(np.uint32))
    assert np.mean(batched[0] == batched[1]) < 0.1                  # and the keys do differ
