"""Cos-net ensemble throughput: plain numpy vs ``nnft.measure`` (networks per second).

Workload (TASI eq. 68-71, docs/physics.md §2): d = 2, P = 8 fixed points, widths N = 64 and 512. Per network
we need φ at the 8 points and accumulate G⁽²⁾(xᵢ, xⱼ) (all 36 pairs i ≤ j) and G⁽⁴⁾(xᵢ,xᵢ,xᵢ,xᵢ) = ⟨φ(xᵢ)⁴⟩.

  (a) numpy: W0 ~ N(0, 1/d), b ~ U[−π, π], W1 ~ N(0, 1/N) drawn in chunks, φ = cos(x W0ᵀ + b) · W1,
      Σφᵢφⱼ and Σφ⁴ (and their squares, for i.i.d. standard errors) accumulated in float64.
  (b) nnft: ``nnft.measure(model, tuples, samples=S, key=0)`` on ``nnft.compile(nnft.load("cos_net", N=N))``.

``nnft.measure`` compiles its streaming step on the first call for a given model, point set, chunk
and dtype, and reuses it afterwards (the key and sample count are traced arguments). We report:
  first  = wall time of the first call (tracing + XLA compilation + sampling),
  warm   = wall time of a second, identical call (compiled code reused),
  steady = (warm wall time − compile time JAX reports for that call) -> networks/s of the compiled loop.
The ratio column is nnft/numpy networks per second, steady-state and end-to-end (warm wall time),
measured in the same run; numpy and nnft runs are interleaved and each timing is the best of ``--repeat``. Both sample in float32 (``--dtype``) and accumulate in float64.

A like-with-like check: the 36 G⁽²⁾ values of the two implementations must agree within their
combined standard errors (z = Δ/√(σ₁² + σ₂²)); both are also compared to the exact G⁽²⁾.

Run:  python bench/bench_cos_net.py [--quick] [--samples S] [--dtype float32|float64]
"""

from __future__ import annotations

import argparse
import os
import time

import jax
import numpy as np

import nnft

D, P = 2, 8
COMPILE_EVENTS = ("/jax/core/compile/jaxpr_trace_duration", "/jax/core/compile/jaxpr_to_mlir_module_duration",
                  "/jax/core/compile/backend_compile_duration")
_compile_secs = [0.0]


def _on_event(event: str, secs: float, **_):
    if event in COMPILE_EVENTS:
        _compile_secs[0] += secs


jax.monitoring.register_event_duration_secs_listener(_on_event)


def points() -> np.ndarray:
    return np.random.default_rng(1).uniform(-1.0, 1.0, size=(P, D))


def numpy_cos_net(pts, N: int, samples: int, seed: int = 0, chunk: int = 1024, dtype=np.float32):
    """G2 (pairs i ≤ j) and G4 (P,) as Estimates from ``samples`` Cos-nets."""
    rng = np.random.default_rng(seed)
    x = pts.astype(dtype)
    iu = np.triu_indices(len(pts))
    acc = np.zeros((4, len(iu[0])))                # Σ φᵢφⱼ, Σ (φᵢφⱼ)², Σ φ⁴, Σ φ⁸ (the last two on the diagonal)
    for start in range(0, samples, chunk):
        c = min(chunk, samples - start)
        W0 = rng.standard_normal((c, N, D), dtype=dtype) * dtype(1.0 / np.sqrt(D))
        b = rng.uniform(-np.pi, np.pi, size=(c, 1, N)).astype(dtype)
        W1 = rng.standard_normal((c, N), dtype=dtype) * dtype(1.0 / np.sqrt(N))
        pre = np.einsum("pd,cnd->cpn", x, W0, optimize=True) + b                 # (c, P, N)
        phi = np.einsum("cpn,cn->cp", np.cos(pre), W1, optimize=True).astype(np.float64)  # (c, P)
        pp = phi[:, iu[0]] * phi[:, iu[1]]                                      # (c, pairs)
        acc[0] += pp.sum(0)
        acc[1] += (pp ** 2).sum(0)
        acc[2, :P] += (phi ** 4).sum(0)
        acc[3, :P] += (phi ** 8).sum(0)
    out = []
    for s1, s2 in ((acc[0], acc[1]), (acc[2, :P], acc[3, :P])):
        mean = s1 / samples
        var = (s2 / samples - mean ** 2) / (samples - 1)                         # i.i.d. networks
        out.append(nnft.Estimate(mean, np.sqrt(np.maximum(var, 0.0)), samples))
    return out


def nnft_tuples(pts):
    pairs = [np.stack([pts[i], pts[j]]) for i in range(P) for j in range(i, P)]   # same order as triu_indices
    quads = [np.stack([p] * 4) for p in pts]
    return pairs + quads


def timed(fn):
    _compile_secs[0] = 0.0
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t, _compile_secs[0]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sample counts (< 60 s on 2 cores)")
    ap.add_argument("--samples", type=int, default=None, help="networks per implementation and width")
    ap.add_argument("--widths", type=int, nargs="+", default=[64, 512])
    ap.add_argument("--repeat", type=int, default=None, help="timings are the best of this many (default 3, quick 1)")
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    args = ap.parse_args(argv)
    S = args.samples or (20_000 if args.quick else 200_000)
    R = args.repeat or (1 if args.quick else 3)
    np_dtype = np.float32 if args.dtype == "float32" else np.float64
    pts = points()
    tuples = nnft_tuples(pts)
    n_pairs = P * (P + 1) // 2
    print(f"Cos-net d={D}, P={P} points, {n_pairs} G2 pairs + {P} G4 points, {S} networks per run, "
          f"best of {R}, dtype={args.dtype}, cores={os.cpu_count()}, jax {jax.__version__} on {jax.default_backend()}")

    rows, checks = [], []
    for N in args.widths:
        model = nnft.compile(nnft.load("cos_net", N=N))
        _, t_first, c_first = timed(lambda: nnft.measure(model, tuples, samples=S, key=0, dtype=args.dtype))
        t_np = t_warm = t_steady = c_warm = np.inf
        for rep in range(R):                     # interleaved, best of R (the machine may be shared)
            (g2_np, g4_np), t, _ = timed(lambda: numpy_cos_net(pts, N, S, seed=rep, dtype=np_dtype))
            t_np = min(t_np, t)
            res, t, c = timed(lambda: nnft.measure(model, tuples, samples=S, key=1 + rep, dtype=args.dtype))
            if t < t_warm:
                t_warm, c_warm = t, c
            t_steady = min(t_steady, max(t - c, 1e-9))
        rows.append((N, S / t_np, S / t_first, S / t_warm, S / t_steady, t_np, t_first, c_first, t_warm, c_warm))

        g2_nn, g4_nn = res.full[:n_pairs], res.full[n_pairs:]
        z2 = (g2_nn.mean - g2_np.mean) / np.hypot(g2_nn.stderr, g2_np.stderr)
        z4 = (g4_nn.mean - g4_np.mean) / np.hypot(g4_nn.stderr, g4_np.stderr)
        ex = nnft.exact(model, tuples).full[0]
        checks.append((N, z2, z4, g2_np.z(ex[:n_pairs]), g2_nn.z(ex[:n_pairs])))

    print(f"\nwall times [s]: numpy | nnft first call (compile) | nnft warm call (compile)   [best of {R}]")
    for N, *_, t_np, t_first, c_first, t_warm, c_warm in rows:
        print(f"  N={N:4d}: {t_np:6.2f} | {t_first:6.2f} ({c_first:4.2f}) | {t_warm:6.2f} ({c_warm:4.2f})")

    print(f"\n{'impl':<22}{'N':>6}{'networks/s':>14}")
    for N, r_np, r_first, r_warm, r_steady, *_ in rows:
        print(f"{'numpy':<22}{N:>6}{r_np:>14,.0f}")
        print(f"{'nnft first call':<22}{N:>6}{r_first:>14,.0f}")
        print(f"{'nnft warm call':<22}{N:>6}{r_warm:>14,.0f}")
        print(f"{'nnft steady (no jit)':<22}{N:>6}{r_steady:>14,.0f}")
    print("\nratio nnft/numpy (networks/s, same run; >1 means nnft is faster)")
    for N, r_np, r_first, r_warm, r_steady, *_ in rows:
        print(f"  N={N:4d}: steady {r_steady / r_np:5.2f}   warm call {r_warm / r_np:5.2f}   first call {r_first / r_np:5.2f}")

    print("\nlike-with-like: z = (nnft − numpy)/sqrt(σ²_nnft + σ²_numpy); and each vs exact G2")
    for N, z2, z4, zx_np, zx_nn in checks:
        print(f"  N={N:4d}: G2 max|z| {np.max(np.abs(z2)):4.2f} (rms {np.sqrt(np.mean(z2**2)):4.2f}, {len(z2)} pairs)"
              f"   G4 max|z| {np.max(np.abs(z4)):4.2f}   vs exact: numpy {np.max(np.abs(zx_np)):4.2f},"
              f" nnft {np.max(np.abs(zx_nn)):4.2f}")
    worst = max(np.max(np.abs(c[1])) for c in checks)
    print(f"  G2 agreement: {'OK' if worst < 4.5 else 'SUSPICIOUS'} (max |z| = {worst:.2f} over "
          f"{sum(len(c[1]) for c in checks)} correlated comparisons)")


if __name__ == "__main__":
    main()
