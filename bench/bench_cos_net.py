"""Cos-net ensemble throughput: ``nnft.measure`` vs a hand-written numpy ensemble of the same job.

Workload (TASI eq. 68-71, docs/physics.md §2; issue 10): d = 2, P = 64 fixed points, widths N = 16, 1000, 10⁴.
Per network: φ at the 64 points; accumulated in float64 block sums (64 jackknife blocks):
  * G⁽²⁾(xᵢ, xⱼ) at all 2080 pairs i ≤ j,
  * the connected 4-point function G_c⁽⁴⁾(xᵢ, xᵢ, xⱼ, xⱼ) at all 2016 pairs i < j (which needs the
    products φᵢ, φᵢφⱼ, φᵢ²φⱼ, φᵢφⱼ², φᵢ²φⱼ²: 8192 features in nnft's plan).

  (a) numpy: W0 ~ N(0, 1/d), b ~ U[−π, π], W1 ~ N(0, 1/N) drawn in float32 chunks (numpy's Generator),
      φ = cos(x W0ᵀ + b) · W1 in float32, then in float64 the feature sums by matrix products (φᵀφ,
      (φ²)ᵀφ, (φ²)ᵀφ²) per block; G⁽²⁾ and G_c⁽⁴⁾ with delete-one-block jackknife errors. This is what a
      careful person writes by hand (BLAS products, no per-pair Python loop).
  (b) nnft: ``nnft.measure(nnft.compile(nnft.load("cos_net", N=N)), tuples, samples=S, key=k)`` — the
      2080 pair tuples and 2016 quad tuples, float32 sampling, float64 sums, jackknife errors, tail k̂.

Timing (same process, interleaved, best of ``--repeat``):
  first  = wall time of nnft's first call (tracing + XLA compilation + sampling),
  warm   = wall time of a later call with a new key (compiled code reused: end-to-end),
  steady = warm wall time − the compile time JAX reports for that call (``jax.monitoring``),
  ratio  = nnft networks/s ÷ numpy networks/s (> 1: nnft faster). Issue 10's goal: ≥ 20 at every N.

Checks: like-with-like z = (nnft − numpy)/√(σ²_nnft + σ²_numpy) for every G⁽²⁾ and G_c⁽⁴⁾, and each
against the exact Cos-net values (``nnft.exact``: G⁽²⁾ = (σ_w1²/2)·exp(−σ_w0²|x−y|²/(2d)), G_c⁽⁴⁾ exact in N).

Field stage: cos evaluations per second of the compiled field (``Model.fields`` jitted on a sampled batch,
n·P·N cosines) and of a bare ``jnp.cos``, vs single-thread numpy float32 ``np.cos`` (issue goal: nnft's
field ≥ 50 % of numpy's cos rate).

Run:  python bench/bench_cos_net.py            (quick: a few hundred to a few thousand networks per width, ~1-2 min)
      python bench/bench_cos_net.py --full     (10× the networks, best of 3)
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import jax
import jax.numpy as jnp
import numpy as np

import nnft
import nnft.errors

D, P, K = 2, 64, 64
COMPILE_EVENTS = ("/jax/core/compile/jaxpr_trace_duration", "/jax/core/compile/jaxpr_to_mlir_module_duration",
                  "/jax/core/compile/backend_compile_duration")
_compile_secs = [0.0]


def _on_event(event: str, secs: float, **_):
    if event in COMPILE_EVENTS:
        _compile_secs[0] += secs


jax.monitoring.register_event_duration_secs_listener(_on_event)


def points() -> np.ndarray:
    return np.random.default_rng(1).uniform(-1.0, 1.0, size=(P, D))


IU = np.triu_indices(P)          # 2080 pairs i <= j
IU1 = np.triu_indices(P, 1)      # 2016 pairs i < j


# --------------------------------------------------------------------------------------- numpy side
def numpy_cos_net(pts, N: int, samples: int, seed: int = 0, max_elements: int = 1 << 20):
    """(G2 (2080,), G4c (2016,)) as nnft.Estimate with delete-one-block jackknife errors, from
    ``samples`` Cos-nets sampled and evaluated in float32, accumulated in float64 by matrix products."""
    rng = np.random.default_rng(seed)
    x = pts.astype(np.float32)
    chunk = max(1, min(1024, max_elements // (P * N)))
    F = P + 3 * P * P
    block_sums = np.zeros((K, F))
    counts = np.zeros(K)
    edges = [(b * samples) // K for b in range(K + 1)]
    for b in range(K):
        for start in range(edges[b], edges[b + 1], chunk):
            c = min(chunk, edges[b + 1] - start)
            W0 = rng.standard_normal((c, N, D), dtype=np.float32) * np.float32(1.0 / np.sqrt(D))
            b0 = rng.uniform(-np.pi, np.pi, size=(c, 1, N)).astype(np.float32)
            W1 = rng.standard_normal((c, N, 1), dtype=np.float32) * np.float32(1.0 / np.sqrt(N))
            Wt = np.ascontiguousarray(W0.transpose(0, 2, 1))                      # (c, d, N)
            pre = x[None, :, 0, None] * Wt[:, None, 0, :]                         # (c, P, N): x·W0 by
            for k in range(1, D):                                                 # broadcasting (d = 2 is
                pre += x[None, :, k, None] * Wt[:, None, k, :]                    # too thin for BLAS)
            pre += b0
            np.cos(pre, out=pre)
            phi = np.matmul(pre, W1)[:, :, 0].astype(np.float64)                   # (c, P)
            phi2 = phi * phi
            block_sums[b, :P] += phi.sum(0)
            block_sums[b, P:P + P * P] += (phi.T @ phi).ravel()                   # Σ φi φj
            block_sums[b, P + P * P:P + 2 * P * P] += (phi2.T @ phi).ravel()      # Σ φi² φj
            block_sums[b, P + 2 * P * P:] += (phi2.T @ phi2).ravel()              # Σ φi² φj²
            counts[b] += c
    return jackknife(block_sums, counts)


def _estimates(means: np.ndarray):
    """(G2 pairs, G4c quads) from feature means (..., F)."""
    mu = means[..., :P]
    m2 = means[..., P:P + P * P].reshape(means.shape[:-1] + (P, P))
    m3 = means[..., P + P * P:P + 2 * P * P].reshape(m2.shape)         # m3[i, j] = E φi² φj
    m4 = means[..., P + 2 * P * P:].reshape(m2.shape)
    g2 = m2[..., IU[0], IU[1]]
    i, j = IU1
    a, b = mu[..., i], mu[..., j]
    # E[(φi−a)²(φj−b)²] from raw moments, then κ(φi, φi, φj, φj) = that − var_i var_j − 2 cov_ij²
    c22 = (m4[..., i, j] - 2 * b * m3[..., i, j] - 2 * a * m3[..., j, i] + b * b * m2[..., i, i]
           + a * a * m2[..., j, j] + 4 * a * b * m2[..., i, j] - 3 * a * a * b * b)
    var_i, var_j = m2[..., i, i] - a * a, m2[..., j, j] - b * b
    cov = m2[..., i, j] - a * b
    return g2, c22 - var_i * var_j - 2 * cov * cov


def jackknife(block_sums: np.ndarray, counts: np.ndarray):
    n = counts.sum()
    full = _estimates(block_sums.sum(0) / n)
    loo = _estimates((block_sums.sum(0)[None] - block_sums) / (n - counts)[:, None])
    out = []
    for f, l in zip(full, loo):
        err = np.sqrt((K - 1) / K * np.sum((l - l.mean(0)) ** 2, axis=0))
        out.append(nnft.Estimate(f, err, int(n)))
    return out


# ---------------------------------------------------------------------------------------- nnft side
def nnft_tuples(pts):
    pairs = [np.stack([pts[i], pts[j]]) for i, j in zip(*IU)]
    quads = [np.stack([pts[i], pts[i], pts[j], pts[j]]) for i, j in zip(*IU1)]
    return pairs + quads


_tail_warnings = [0]


def measure(model, tuples, samples, key):
    """nnft.measure, counting (not printing) its TailWarnings: few networks at large N give pre-asymptotic
    tails of the per-network products (a diagnostic, not an error)."""
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always", nnft.errors.TailWarning)
        out = nnft.measure(model, tuples, samples=samples, key=key)
    _tail_warnings[0] += sum(issubclass(x.category, nnft.errors.TailWarning) for x in w)
    return out


def timed(fn):
    _compile_secs[0] = 0.0
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t, _compile_secs[0]


def best_rate(fn, elements: int, repeat: int = 5) -> float:
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return elements / best


def cos_throughput(N: int, elements: int = 1 << 22) -> tuple[float, float, float]:
    """(numpy single-thread float32 cos, bare jnp.cos, nnft field stage) in cosines per second, on
    about ``elements`` cosines (n = elements/(P·N) networks for the field)."""
    n = max(1, elements // (P * N))
    m = n * P * N
    a = np.random.default_rng(0).uniform(-4, 4, size=m).astype(np.float32)
    out = np.empty_like(a)
    r_np = best_rate(lambda: np.cos(a, out=out), m, 3)
    ja = jnp.asarray(a)
    jcos = jax.jit(jnp.cos)
    jcos(ja).block_until_ready()
    r_jnp = best_rate(lambda: jcos(ja).block_until_ready(), m, 3)
    model = nnft.compile(nnft.load("cos_net", N=N))
    theta = model.sample(jax.random.key(0), n, 0, jnp.float32)
    x = jnp.asarray(points(), jnp.float32)
    field = jax.jit(model.fields)
    field(theta, x).block_until_ready()
    r_field = best_rate(lambda: field(theta, x).block_until_ready(), n * P * N, 3)
    return r_np, r_jnp, r_field


def samples_for(N: int, full: bool) -> int:
    """Networks per run: about the same cos count at every width, a multiple of K (full: 4000..200000;
    quick: 128..2560, a smoke test whose ratios include per-call costs)."""
    s = int(4e7 / N) if full else int(6.4e5 / N)
    return max(62 * K if full else 2 * K, min(s, 200_000 if full else 40 * K)) // K * K


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="10x the networks and best of 3 (paper-scale timing)")
    ap.add_argument("--samples", type=int, default=None, help="networks per run at every width (default: by width)")
    ap.add_argument("--widths", type=int, nargs="+", default=[16, 1000, 10_000])
    ap.add_argument("--repeat", type=int, default=None, help="timings are the best of this many (quick 1, full 3)")
    args = ap.parse_args(argv)
    R = args.repeat or (3 if args.full else 1)
    pts = points()
    tuples = nnft_tuples(pts)
    n2 = len(IU[0])
    print(f"Cos-net d={D}, P={P} points: {n2} G2 pairs + {len(IU1[0])} G4c quads (i,i,j,j); float32 fields, float64 "
          f"sums, {K} jackknife blocks; best of {R}; cores={os.cpu_count()}, jax {jax.__version__} on "
          f"{jax.default_backend()}")

    rows, checks = [], []
    for N in args.widths:
        S = args.samples or samples_for(N, args.full)
        model = nnft.compile(nnft.load("cos_net", N=N))
        _, t_first, c_first = timed(lambda: measure(model, tuples, S, 0))
        t_np = t_warm = t_steady = c_warm = np.inf
        for rep in range(R):                     # interleaved, best of R (the machine may be shared)
            (g2_np, g4_np), t, _ = timed(lambda: numpy_cos_net(pts, N, S, seed=rep))
            t_np = min(t_np, t)
            res, t, c = timed(lambda: measure(model, tuples, S, 1 + rep))
            if t < t_warm:
                t_warm, c_warm = t, c
            t_steady = min(t_steady, max(t - c, 1e-9))
        rows.append((N, S, S / t_np, S / t_first, S / t_warm, S / t_steady, t_np, t_first, c_first, t_warm, c_warm))
        g2_nn, g4_nn = res.full[:n2], res.connected[n2:]
        z2 = (g2_nn.mean - g2_np.mean) / np.hypot(g2_nn.stderr, g2_np.stderr)
        z4 = (g4_nn.mean - g4_np.mean) / np.hypot(g4_nn.stderr, g4_np.stderr)
        t_ex = time.perf_counter()
        ex = nnft.exact(model, tuples)
        t_ex = time.perf_counter() - t_ex
        checks.append((N, S, z2, z4, g2_np.z(ex.full[0][:n2]), g2_nn.z(ex.full[0][:n2]),
                       g4_np.z(ex.connected[0][n2:]), g4_nn.z(ex.connected[0][n2:])))
        print(f"  N={N:5d}: {S} networks per run done (nnft.exact {t_ex:.1f} s; {_tail_warnings[0]} tail warnings so far)", flush=True)

    print(f"\nwall times [s]: numpy | nnft first call (compile) | nnft warm call (compile)   [best of {R}]")
    for N, S, *_, t_np, t_first, c_first, t_warm, c_warm in rows:
        print(f"  N={N:5d} ({S:6d} nets): {t_np:7.2f} | {t_first:7.2f} ({c_first:5.2f}) | {t_warm:7.2f} ({c_warm:4.2f})")
    print(f"\n{'N':>6}{'numpy nets/s':>14}{'nnft steady':>14}{'nnft warm':>12}{'nnft first':>12}"
          f"{'ratio steady':>14}{'ratio warm':>12}")
    for N, S, r_np, r_first, r_warm, r_steady, *_ in rows:
        print(f"{N:>6}{r_np:>14,.0f}{r_steady:>14,.0f}{r_warm:>12,.0f}{r_first:>12,.0f}"
              f"{r_steady / r_np:>14.2f}{r_warm / r_np:>12.2f}")
    worst = min(min(r[5] / r[2], r[4] / r[2]) for r in rows)
    print(f"ratio = nnft/numpy networks/s (same run); issue goal >= 20 at every N: "
          f"{'MET' if worst >= 20 else 'NOT MET'} (worst {worst:.2f})")

    print("\nlike-with-like z = (nnft − numpy)/sqrt(σ²_nnft + σ²_numpy); each vs exact (max |z| over tuples)")
    for N, S, z2, z4, x2np, x2nn, x4np, x4nn in checks:
        mx = lambda z: float(np.max(np.abs(z)))
        print(f"  N={N:5d}: G2 max|z| {mx(z2):4.2f} (rms {np.sqrt(np.mean(z2 ** 2)):4.2f})  G4c max|z| {mx(z4):4.2f} "
              f"(rms {np.sqrt(np.mean(z4 ** 2)):4.2f})  | vs exact G2: numpy {mx(x2np):4.2f} nnft {mx(x2nn):4.2f}"
              f"  G4c: numpy {mx(x4np):4.2f} nnft {mx(x4nn):4.2f}")
    worst_z = max(max(np.max(np.abs(c[2])), np.max(np.abs(c[3]))) for c in checks)
    print(f"  agreement: {'OK' if worst_z < 5 else 'SUSPICIOUS'} (max |z| = {worst_z:.2f} over "
          f"{sum(len(c[2]) + len(c[3]) for c in checks)} correlated comparisons; ~4.5 expected from chance)")

    print("\nfield stage, cosines per second (float32; numpy single-thread np.cos; nnft = jitted Model.fields "
          "incl. the matmul and the readout sum)")
    for N in args.widths:
        r_np, r_jnp, r_field = cos_throughput(N)
        print(f"  N={N:5d}: numpy cos {r_np / 1e9:5.3f} G/s | bare jnp.cos {r_jnp / 1e9:5.3f} G/s "
              f"({r_jnp / r_np:4.2f}×) | nnft field {r_field / 1e9:5.3f} G/s ({r_field / r_np:4.2f}× numpy; goal ≥ 0.5)")


if __name__ == "__main__":
    main()
