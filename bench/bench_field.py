"""Field-evaluation throughput: cos alone, then the Cos-net field stage, nnft vs hand-written, in one process.

Workload (TASI eq. 68-71, docs/physics.md §2): φ(x) = Σᵢ W1ᵢ cos(W0ᵢ·x + bᵢ), d = 2, P = 64 random points.

  1. cos on 2²² float32 values in [−10, 10]: ``jnp.cos`` (XLA:CPU: one scalar libm call per element),
     ``nnft.fastmath.cos`` (vectorised, jitted) and numpy float32 ``np.cos``.
  2. the field stage for widths N = 16, 1000, 10⁴ (networks per chunk: 4096, 256, 32): φ at the P points
     for a chunk of networks already drawn, in float32 —
       nnft  : ``jax.jit(lambda th: model.fields(th, points))`` for ``nnft.compile(nnft.load("cos_net", N=N))``
               (with its per-(network, point) non-finite check and exact fallback),
       jnp   : the hand-written ``cos(einsum(W0, x) + b) @ W1`` (jnp.cos, jitted),
       numpy : the same in numpy float32.

  3. random numbers (``--draws``, on by default): normal draws of a (4096 networks × 1000) block per second,
     float32 and float64 — nnft's counter-based draw (``Density.sample_networks``: threefry2x32 written in
     jnp, then √2·erf⁻¹ of a uniform, what ``Model.sample`` runs) vs the same numbers on JAX's cipher
     (``jax.extend.random.threefry_2x32``, nnft's construction before; bit-identical) vs
     ``jax.random.normal`` vs numpy's ``Generator.standard_normal`` (single thread) — and, float32, the other elementwise families (nnft
     vs their ``jax.random`` function) and the bare uniforms (``uniform_blocks``), to show which
     transform limits.

  4. the grid nets' field stage (``--only grid``; arXiv:2008.08601 §4, bench_paper_grid.py): erf net, Gauss-net
     and ReLU net, d = 1, P = 6 points, N = 1000, 614 networks per call (the stream's chunk there) —
       nnft  : jitted ``Model.fields`` (guarded activation, readout as one matrix product),
       jnp   : the hand-written ``σ(W0 x + b0) @ W1 + b1`` (jitted; no non-finite rule),
       numpy : the same in numpy float32 (erf: ``scipy.special.erf``; readout by ``np.matmul``).

Throughput is G evaluations/s (one evaluation = one cos, i.e. one neuron at one point for the field).
Each timing is the best of ``--repeat`` runs after a warm-up (compile excluded). Timings are wall-clock on
a possibly shared machine: read the ratios printed in one run, not absolute numbers across runs.

Run:  python bench/bench_field.py [--repeat 3] [--widths 16,1000,10000] [--only cos|field|draws|grid ...]
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

import nnft
import nnft.fastmath as fastmath

D, P = 2, 64
CHUNKS = {16: 4096, 1000: 256, 10_000: 32}


def best(f, repeat: int) -> float:
    """Best wall time of ``repeat`` calls of f() (after one warm-up call)."""
    jax.block_until_ready(f())
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        jax.block_until_ready(f())
        times.append(time.perf_counter() - t)
    return min(times)


def bench_cos(repeat: int) -> None:
    n = 1 << 22
    x = np.random.default_rng(0).uniform(-10, 10, n).astype(np.float32)
    xj = jnp.asarray(x)
    f_jnp, f_fast = jax.jit(jnp.cos), jax.jit(fastmath.cos)
    t = {"jnp.cos": best(lambda: f_jnp(xj), repeat), "fastmath.cos": best(lambda: f_fast(xj), repeat),
         "numpy cos": best(lambda: np.cos(x), repeat)}
    err = float(np.max(np.abs(np.asarray(f_fast(xj), np.float64) - np.cos(x.astype(np.float64)))))
    print(f"cos, {n} float32 values in [-10, 10] (max |fastmath - exact| = {err:.2e})")
    for k, v in t.items():
        print(f"  {k:13s} {n / v / 1e9:6.3f} G/s   ratio to jnp.cos {t['jnp.cos'] / v:5.2f}")


def bench_field(N: int, repeat: int) -> None:
    chunk = CHUNKS.get(N, max(1, (1 << 20) // N))
    model = nnft.compile(nnft.load("cos_net", N=N))
    pts = jax.random.normal(jax.random.key(1), (P, D), jnp.float32)
    theta = jax.jit(lambda k: model.sample(k, chunk, 0, jnp.float32))(jax.random.key(0))
    f_nnft = jax.jit(lambda th: model.fields(th, pts))

    @jax.jit
    def f_jnp(th):
        z = jnp.einsum("bnd,pd->bpn", th["W0"], pts) + th["b0"][:, None, :]
        return jnp.einsum("bpn,bn->bp", jnp.cos(z), th["W1"])

    npt = {k: np.asarray(v) for k, v in theta.items()}
    npts = np.asarray(pts)

    def f_np():
        z = np.einsum("bnd,pd->bpn", npt["W0"], npts) + npt["b0"][:, None, :]
        return np.einsum("bpn,bn->bp", np.cos(z), npt["W1"])

    a, b, c = np.asarray(f_nnft(theta), np.float64), np.asarray(f_jnp(theta), np.float64), f_np().astype(np.float64)
    scale = float(np.max(np.abs(c)))
    t = {"nnft": best(lambda: f_nnft(theta), repeat), "jnp": best(lambda: f_jnp(theta), repeat),
         "numpy": best(f_np, repeat)}
    ev = chunk * P * N
    print(f"Cos-net field, N={N}, {chunk} networks x {P} points (max |nnft - numpy| / max|phi| = "
          f"{np.max(np.abs(a - c)) / scale:.1e}, jnp - numpy {np.max(np.abs(b - c)) / scale:.1e})")
    for k, v in t.items():
        print(f"  {k:6s} {ev / v / 1e9:6.3f} G evals/s   ratio nnft/{k} speed {v / t['nnft']:5.2f}")


GRID_INPUTS = np.array([-1.0, -0.6, -0.2, 0.2, 0.6, 1.0])


def _grid_spec(arch: str, N: int) -> dict:
    """The bench_paper_grid architectures (paper parameterisation, σ_w = σ_b = 1) at width N."""
    normal = lambda std: {"normal": {"std": std}}                                  # noqa: E731
    params = {"W0": {"shape": ["N", "d"], "density": normal("sigma_w / sqrt(d)")},
              "b0": {"shape": ["N"], "density": normal("sigma_b")},
              "W1": {"shape": ["N"], "density": normal("sigma_w / sqrt(N)")},
              "b1": {"shape": [], "density": normal("sigma_b")}}
    field = {"erf": "sum_N(W1 * erf(W0 @ x + b0)) + b1",
             "gauss": "sum_N(W1 * exp(W0 @ x + b0 - sigma_b**2 - sigma_w**2 * norm(x)**2 / d)) + b1",
             "relu": "sum_N(W1 * relu(W0 @ x))"}[arch]
    if arch == "relu":
        params = {k: params[k] for k in ("W0", "W1")}
    return {"nnft": 1, "name": f"{arch}-grid", "dims": {"d": 1, "N": N},
            "constants": {"sigma_w": 1.0, "sigma_b": 1.0}, "params": params, "field": field}


def bench_grid(repeat: int, N: int = 1000, chunk: int = 614) -> None:
    from scipy.special import erf as np_erf
    x = GRID_INPUTS
    print(f"grid nets' field stage (arXiv:2008.08601 §4), N={N}, {chunk} networks x {x.size} points, float32: "
          f"G activations/s")
    for arch in ("erf", "gauss", "relu"):
        inputs = {"erf": x, "gauss": 0.01 * x, "relu": (x + 1.2) / 2 + 0.1}[arch]     # relu: 0.2, 0.4, ..., 1.2
        pts = jnp.asarray(inputs[:, None], jnp.float32)
        model = nnft.compile(nnft.from_dict(_grid_spec(arch, N)))
        theta = jax.jit(lambda k, model=model: model.sample(k, chunk, 0, jnp.float32))(jax.random.key(0))
        npt = {k: np.asarray(v) for k, v in theta.items()}
        xs = np.asarray(pts)[:, 0]
        sig = {"erf": (jax.lax.erf, np_erf), "relu": (jax.nn.relu, lambda a: np.maximum(a, 0, out=a)),
               "gauss": (jnp.exp, np.exp)}[arch]

        def pre_np(arch=arch, xs=xs):
            a = npt["W0"][:, None, :, 0] * xs[None, :, None]
            if arch != "relu":
                a = a + npt["b0"][:, None, :]
            if arch == "gauss":
                a = a - np.float32(1.0) - (xs * xs)[None, :, None].astype(np.float32)
            return a.astype(np.float32)

        @jax.jit
        def f_jnp(th, arch=arch, pts=pts, sig=sig[0]):
            a = th["W0"][:, None, :, 0] * pts[None, :, 0, None]
            if arch != "relu":
                a = a + th["b0"][:, None, :]
            if arch == "gauss":
                a = a - 1.0 - (pts[:, 0] ** 2)[None, :, None]
            phi = jnp.einsum("bpn,bn->bp", sig(a), th["W1"])
            return phi if arch == "relu" else phi + th["b1"][:, None]

        def f_np(arch=arch, sig=sig[1]):
            phi = np.matmul(sig(pre_np()), npt["W1"][:, :, None])[:, :, 0]       # BLAS, not einsum's loop
            return phi if arch == "relu" else phi + npt["b1"][:, None]

        f_nnft = jax.jit(lambda th, model=model, pts=pts: model.fields(th, pts))
        a, c = np.asarray(f_nnft(theta), np.float64), f_np().astype(np.float64)
        t = {"nnft": [], "jnp": [], "numpy": []}
        for _ in range(2):                              # interleaved
            t["nnft"].append(best(lambda: f_nnft(theta), repeat))
            t["jnp"].append(best(lambda: f_jnp(theta), repeat))
            t["numpy"].append(best(f_np, repeat))
        t = {k: min(v) for k, v in t.items()}
        ev = chunk * x.size * N
        print(f"  {arch:5s} (max |nnft - numpy| / max|phi| = {np.max(np.abs(a - c)) / np.max(np.abs(c)):.1e}): "
              + "   ".join(f"{k} {ev / v / 1e9:6.3f} G/s ({v / chunk * 1e6:5.1f} us/net)" for k, v in t.items())
              + f"   | nnft/numpy {t['numpy'] / t['nnft']:5.2f}  nnft/jnp {t['jnp'] / t['nnft']:5.2f}")


def _uniform_on_jax_cipher(key, idx, size, dtype):
    """nnft's uniforms built on ``jax.extend.random.threefry_2x32`` (the construction before
    ``nnft.densities.threefry``): the same bits, JAX's CPU lowering of the cipher."""
    from jax.extend.random import threefry_2x32
    kd = jax.random.key_data(key).astype(jnp.uint32)
    n = idx.shape[0]
    cols = (size + 1) // 2 if dtype == jnp.float32 else size
    rows = jnp.broadcast_to(idx.astype(jnp.uint32)[:, None], (n, cols))
    ctr = jax.lax.broadcasted_iota(jnp.uint32, (n, cols), 1)
    out = threefry_2x32(kd, jnp.concatenate([rows.ravel(), ctr.ravel()]))
    w0, w1 = out[:n * cols].reshape(n, cols), out[n * cols:].reshape(n, cols)
    if dtype == jnp.float32:
        bits = jnp.stack([w0, w1], axis=-1).reshape(n, 2 * cols)[:, :size]
        return jax.lax.bitcast_convert_type((bits >> 9) | jnp.uint32(0x3F800000), jnp.float32) - jnp.float32(1.0)
    bits = (w0.astype(jnp.uint64) << 32) | w1.astype(jnp.uint64)
    return jax.lax.bitcast_convert_type((bits >> 12) | jnp.uint64(0x3FF0000000000000), jnp.float64) - 1.0


def bench_draws(repeat: int) -> None:
    from nnft.densities.draws import uniform_blocks
    from nnft.densities.registry import get_density

    n, N = 4096, 1000
    count = n * N
    rng = np.random.default_rng(0)
    key = jax.random.key(0)
    print(f"random numbers: a ({n} networks x {N}) block per call, G numbers/s (nnft: Density.sample_networks with "
          f"a traced start, as Model.sample; on JAX cipher: the same bits from jax.extend.random.threefry_2x32, "
          f"nnft's draw before; numpy: Generator, single thread)")
    with jax.enable_x64(True):                        # as in the stream (network indices are int64)
        start = jnp.int64(0)
        for dt, npdt in ((jnp.float32, np.float32), (jnp.float64, np.float64)):
            dens = get_density("normal")
            f_nnft = jax.jit(lambda k, s, dt=dt: dens.sample_networks(k, s, n, (N,), {"std": 1.0}, dt))
            f_jax = jax.jit(lambda k, dt=dt: jax.random.normal(k, (n, N), dt))
            f_old = jax.jit(lambda k, s, dt=dt: dens._from_uniform(
                _uniform_on_jax_cipher(k, s + jnp.arange(n, dtype=jnp.int64), N, dt), {"mean": 0.0, "std": 1.0}))
            t = {"nnft": best(lambda: f_nnft(key, start), repeat), "jax.random": best(lambda: f_jax(key), repeat),
                 "on JAX cipher": best(lambda: f_old(key, start), repeat),
                 "numpy": best(lambda: rng.standard_normal((n, N), dtype=npdt), repeat)}
            print(f"  normal {np.dtype(npdt).name}:  " + "   ".join(
                f"{k} {count / v / 1e9:6.3f}" for k, v in t.items())
                + f"   | nnft/jax.random {t['jax.random'] / t['nnft']:5.2f}  nnft/numpy {t['numpy'] / t['nnft']:5.2f}"
                  f"  nnft/on JAX cipher {t['on JAX cipher'] / t['nnft']:5.2f}")
        f_u = jax.jit(lambda k, s: uniform_blocks(k, s + jnp.arange(n, dtype=jnp.int64), N, jnp.float32))
        line = [f"uniform bits only (uniform_blocks) {count / best(lambda: f_u(key, start), repeat) / 1e9:6.3f}"]
        for name, args, ref in (("uniform", {"low": 0.0, "high": 1.0}, lambda k: jax.random.uniform(k, (n, N))),
                                ("cauchy", {"scale": 1.0}, lambda k: jax.random.cauchy(k, (n, N))),
                                ("laplace", {"scale": 1.0}, lambda k: jax.random.laplace(k, (n, N))),
                                ("exponential", {"rate": 1.0}, lambda k: jax.random.exponential(k, (n, N)))):
            dens = get_density(name)
            f_nnft = jax.jit(lambda k, s, dens=dens, args=args: dens.sample_networks(k, s, n, (N,), args, jnp.float32))
            f_jax = jax.jit(ref)
            tn, tj = best(lambda: f_nnft(key, start), repeat), best(lambda: f_jax(key), repeat)
            line.append(f"{name} {count / tn / 1e9:6.3f} (jax.random {count / tj / 1e9:6.3f})")
        print("  float32: " + "; ".join(line))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--widths", default="16,1000,10000")
    ap.add_argument("--only", nargs="+", choices=["cos", "field", "draws", "grid"],
                    default=["cos", "field", "grid", "draws"])
    args = ap.parse_args()
    print(f"jax {jax.__version__}, {jax.devices()[0].platform}, float32")
    if "cos" in args.only:
        bench_cos(args.repeat)
    if "field" in args.only:
        for N in (int(w) for w in args.widths.split(",")):
            bench_field(N, args.repeat)
    if "grid" in args.only:
        bench_grid(args.repeat)
    if "draws" in args.only:
        bench_draws(args.repeat)


if __name__ == "__main__":
    main()
