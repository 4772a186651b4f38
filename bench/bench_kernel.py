"""Infinite-width kernel throughput: nnft's graph-read NNGP/NTK vs a hand-written JAX closed form.

Workload (issue 3): a 1000 × 1000 Gram matrix (NNGP and NTK) of a depth-10 ReLU MLP (C_W = 2, C_b = 0.1)
on random inputs in d = 16. nnft reads the recursion off the spec's graph (``nnft.kernels``, numpy closed
forms per op); the baseline is the same recursion written directly in ``jax.numpy`` and jitted (what a
JAX-native closed form can do), timed after a warm-up call. Both results are compared (max |Δ|).

Run:  python bench/bench_kernel.py [--points 1000] [--depth 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

import nnft


def baseline(X, depth, C_W, C_b):
    K = C_b + C_W * X @ X.T / X.shape[1]
    T = K
    for _ in range(depth):
        d = jnp.sqrt(jnp.diag(K))
        c = jnp.clip(K / jnp.outer(d, d), -1.0, 1.0)
        th = jnp.arccos(c)
        F = jnp.outer(d, d) / (2 * jnp.pi) * (jnp.sin(th) + (jnp.pi - th) * c)
        dF = (jnp.pi - th) / (2 * jnp.pi)
        K, T = C_b + C_W * F, C_b + C_W * F + C_W * dF * T
    return K, T


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=1000)
    ap.add_argument("--depth", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    C_W, C_b, d = 2.0, 0.1, 16
    model = nnft.compile(nnft.from_dict({
        "nnft": 1, "name": "bench", "dims": {"d": d, "N": 512}, "constants": {"C_W": C_W, "C_b": C_b},
        "mlp": {"depth": a.depth, "width": "N", "activation": "relu", "weight_var": "C_W / fan_in",
                "bias_var": "C_b"}}))
    X = np.random.default_rng(0).normal(size=(a.points, d))
    with jax.enable_x64(True):
        f = jax.jit(baseline, static_argnums=(1,))
        Xj = jnp.asarray(X)
        jax.block_until_ready(f(Xj, a.depth, C_W, C_b))
        tb = min(_time(lambda: jax.block_until_ready(f(Xj, a.depth, C_W, C_b))) for _ in range(a.repeat))
        Kb, Tb = (np.asarray(v) for v in f(Xj, a.depth, C_W, C_b))
    tn = min(_time(lambda: nnft.kernels(model, X)) for _ in range(a.repeat))
    k = nnft.kernels(model, X)
    print(f"{a.points}×{a.points} Gram, depth {a.depth} ReLU MLP, NNGP + NTK (best of {a.repeat})")
    print(f"  jax.jit closed form (baseline): {tb:8.3f} s")
    print(f"  nnft.kernels (from the graph):  {tn:8.3f} s")
    print(f"  ratio nnft / baseline time:     {tn / tb:8.2f}   (>1: nnft slower)")
    print(f"  max |ΔK| = {np.max(np.abs(k.nngp - Kb)):.2e}, max |ΔΘ| = {np.max(np.abs(k.ntk - Tb)):.2e}")


def _time(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
