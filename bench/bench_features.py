"""Per-chunk feature reduction: Σ_rows w_r f_r by gathered per-row products (the old step) vs by float64
Gram matrices of half-monomials (``nnft.sample.step.Products``), and the tail diagnostic's per-row data
((rows, F) contributions shipped to the host and partitioned vs (rows, T) per-point powers).

Plans: (a) P = 64 points, G⁽²⁾ at all 2080 pairs + (i,i,j,j) quads for 8 hub points (full + connected:
F = 3588 features); (b) the 6-point grid of arXiv:2008.08601: every sorted tuple of orders 2, 4, 6
(full + connected: all 923 monomials of degree 1..6). Times are the best of a few jitted calls on one
chunk of 4096 rows in float64, in one process; the ratio gather/Gram > 1 means the Gram is faster.
Also prints the crossover used for :data:`nnft.sample.step.GATHER_COST` (a (2,2) block of n×n halves
vs gathering K of its features).

Run:  python bench/bench_features.py [--rows 4096]       (< 1 min on 2 cores)
"""

from __future__ import annotations

import argparse
import itertools
import time

import jax
import jax.numpy as jnp
import numpy as np

from nnft.estimators.npoint import Plan
from nnft.tails import tail_size
from nnft.sample.step import Products


def best(f, *args, repeat=3):
    jax.block_until_ready(f(*args))
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        jax.block_until_ready(f(*args))
        out.append(time.perf_counter() - t)
    return min(out)


def plans():
    rng = np.random.default_rng(0)
    P = 64
    pts = rng.normal(size=(P, 2))
    t = [np.stack([pts[i], pts[j]]) for i in range(P) for j in range(i, P)]
    t += [np.stack([pts[i], pts[i], pts[j], pts[j]]) for i in range(0, P, 8) for j in range(P)]
    yield "(a) P=64 pairs + (i,i,j,j) quads", Plan(t, 2)
    grid = rng.normal(size=(6, 2))
    t = [grid[list(c)] for n in (2, 4, 6) for c in itertools.combinations_with_replacement(range(6), n)]
    yield "(b) 2008.08601 grid, orders 2,4,6", Plan(t, 2)


def reduction(rows: int):
    rng = np.random.default_rng(1)
    for name, plan in plans():
        pr = plan.products
        v = jnp.asarray(rng.normal(size=(rows, len(plan.points))))
        w = jnp.asarray(rng.uniform(size=rows))
        gather = jax.jit(lambda v, w: jnp.sum(plan.features(v) * w[:, None], axis=0))
        gram = jax.jit(pr.sums)
        tg, tm = best(gather, v, w), best(gram, v, w)
        diff = float(jnp.max(jnp.abs(gather(v, w) - gram(v, w))))
        # tail data: old = (rows, F) contributions to the host + partition of the top M; new = (rows, T)
        M = tail_size(100 * rows) + 1
        old_tail = jax.jit(lambda v, w: plan.features(v) * w[:, None])
        new_tail = jax.jit(pr.tails)

        def host(f):
            def run(v, w):
                c = np.asarray(f(v, w)).T
                return np.partition(c, c.shape[1] - M, axis=1)[:, -M:]
            return run
        to, tn = best(host(old_tail), v, w, repeat=2), best(host(new_tail), v, w, repeat=2)
        blocks = ", ".join(f"{len(a)}×{len(b)}" for a, b, *_ in pr.gram_blocks)
        print(f"{name}: F={plan.n_features}, rows={rows}; Gram blocks [{blocks}], gathered "
              f"{sum(len(f) for _, f in pr.gather_groups)}")
        print(f"   sums: gather {tg * 1e3:8.2f} ms   Gram {tm * 1e3:8.2f} ms   ratio gather/Gram {tg / tm:6.1f}"
              f"   max|Δ| {diff:.1e}")
        print(f"   tail: per-feature (rows×{plan.n_features}) {to * 1e3:8.2f} ms   per-point powers "
              f"(rows×{pr.n_tails}) {tn * 1e3:8.2f} ms   ratio {to / tn:6.1f}", flush=True)


def crossover(rows: int, n: int = 64):
    """(2,2) block: n×n Gram vs gathering K of its degree-4 products; GATHER_COST ≈ n²/(4K*)."""
    rng = np.random.default_rng(2)
    v = jnp.asarray(rng.normal(size=(rows, n)))
    w = jnp.asarray(rng.uniform(size=rows))
    sq = np.stack([np.arange(n), np.arange(n)], 1)
    za = jax.jit(lambda v, w: jnp.dot((jnp.prod(v[:, sq], -1) * w[:, None]).T, jnp.prod(v[:, sq], -1)))
    tg = best(za, v, w)
    print(f"crossover: {n}×{n} Gram of squares {tg * 1e3:.2f} ms;", end=" ")
    for K in (64, 256, 1024):
        keys = np.stack([sq[rng.integers(0, n, K)], sq[rng.integers(0, n, K)]], 1).reshape(K, 4)
        ga = jax.jit(lambda v, w: jnp.dot(w, jnp.prod(v[:, keys], -1)))
        t = best(ga, v, w)
        print(f"gather K={K}: {t * 1e3:.2f} ms (cost per gathered multiply / Gram multiply-add "
              f"{t / (K * 4) / (tg / n ** 2):.1f})", end="; ")
    print()


def tail_merge(n: int = 40_000, width: int = 256):
    """Host-side tail buffers of one run: the previous chunk-by-chunk ``merge_top`` vs ``RunningTop``
    (thresholded, buffered), same kept values, for the chunk sizes of the Cos-net job at N = 16 and 1000."""
    import time
    from nnft.tails import RunningTop, merge_top
    keep = tail_size(n) + 1
    rng = np.random.default_rng(3)
    data = np.abs(rng.standard_normal((n, width))) ** rng.integers(1, 5, width)
    for rows in (640, 64):
        t = time.perf_counter()
        old = None
        for s in range(0, n, rows):
            old = merge_top(old, data[s:s + rows].T, keep)
        t_old = time.perf_counter() - t
        t = time.perf_counter()
        rt = RunningTop(width, keep)
        for s in range(0, n, rows):
            rt.add(data[s:s + rows])
        new = rt.result()
        t_new = time.perf_counter() - t
        same = np.sort(old, axis=1).tobytes() == np.sort(new, axis=1).tobytes()
        print(f"tail top-{keep} of {n} rows × {width} columns in chunks of {rows}: merge_top {t_old:.2f} s, "
              f"RunningTop {t_new:.2f} s (ratio {t_old / t_new:.1f}; same values: {same})")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=4096)
    a = ap.parse_args()
    with jax.enable_x64(True):
        reduction(a.rows)
        crossover(a.rows)
        tail_merge()
