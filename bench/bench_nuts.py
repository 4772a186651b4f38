"""NUTS on φ⁴ from the Scalar-net (``phi4_scalar_1d``; docs/physics.md §7): compile time vs sampling time.

``nnft.mcmc_ensemble`` (BlackJAX NUTS over the unconstrained noise, window adaptation per chain) on the
spec's insertion P̃(θ) ∝ P(θ)·exp(−(λ/4!)∫φ⁴), G⁽²⁾ and G⁽⁴⁾ at three points. Each run is a fresh
subprocess (cold process), doing three calls:
  cold   the first call: tracing + XLA compilation + adaptation + sampling,
  warm   a second call with a different sample count (nothing should compile: the sampler's shapes do
         not depend on it — ``tests/mcmc/test_compile_once.py``; the convergence diagnostics, whose trace
         length does, compile small functions),
  again  a third call identical to the second (no compilation at all).
compile = the compile time JAX reports (``jax.monitoring``: tracing, lowering, XLA backend compile), of
which (XLA) is the backend compile — the only part a persistent cache saves; sampling = wall − compile.

Three cold processes: without a persistent compilation cache, then twice with
``jax.config.update("jax_compilation_cache_dir", <temp dir>)`` (min compile time 0): the first fills the
cache, the second reads it — the cold-process start of a user who keeps the cache.

Run:  python bench/bench_nuts.py           (quick: N = 8, 1000 draws, warmup 100; ~1-2 min)
      python bench/bench_nuts.py --full    (the spec's N = 50, 20000 draws, warmup 500)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

from _worker import run_worker

COMPILE_EVENTS = ("/jax/core/compile/jaxpr_trace_duration", "/jax/core/compile/jaxpr_to_mlir_module_duration",
                  "/jax/core/compile/backend_compile_duration")


def worker(cache_dir: str, N: int, samples: int, warmup: int) -> dict:
    t_import = time.perf_counter()
    import jax
    import numpy as np
    if not cache_dir:                     # nnft turns on its default cache (~/.cache/nnft/jax) otherwise
        os.environ["NNFT_COMPILE_CACHE"] = "off"
    if cache_dir:
        jax.config.update("jax_compilation_cache_dir", cache_dir)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    import nnft
    t_import = time.perf_counter() - t_import
    compile_secs = [0.0]
    backend_secs = [0.0]
    hits = [0]

    def on_duration(event, secs, **_):
        if event in COMPILE_EVENTS:
            compile_secs[0] += secs
        if event == COMPILE_EVENTS[2]:
            backend_secs[0] += secs

    def on_event(event, **_):
        if event == "/jax/compilation_cache/cache_hits":
            hits[0] += 1

    jax.monitoring.register_event_duration_secs_listener(on_duration)
    jax.monitoring.register_event_listener(on_event)
    model = nnft.compile(nnft.load("phi4_scalar_1d", N=N))
    tuples = [np.array([[0.0], [0.5]]), np.array([[0.0], [1.0]]), np.array([[0.0], [0.0], [0.5], [0.5]])]
    out = {"import": t_import}
    for name, s in (("cold", samples), ("warm", samples + samples // 2), ("again", samples + samples // 2)):
        compile_secs[0], backend_secs[0], hits[0] = 0.0, 0.0, 0
        t = time.perf_counter()
        ens, diag = nnft.mcmc_ensemble(model, tuples, samples=s, warmup=warmup, key=0, warn=False)
        g2 = ens.full()
        wall = time.perf_counter() - t
        out[name] = {"samples": s, "wall": wall, "compile": compile_secs[0], "backend": backend_secs[0], "cache_hits": hits[0],
                     "rhat": diag.max_rhat, "G2": float(g2.mean[0]), "G2_err": float(g2.stderr[0])}
    return out


def run(cache_dir: str, N: int, samples: int, warmup: int) -> dict:
    res = run_worker(__file__, cache_dir or "-", N, samples, warmup)
    res["process"] = res.pop("process_seconds")
    return res


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--worker":
        cache, N, s, w = argv[1:]
        print(json.dumps(worker("" if cache == "-" else cache, int(N), int(s), int(w))))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="the spec's N = 50, 20000 draws, warmup 500")
    args = ap.parse_args(argv)
    N, samples, warmup = (50, 20_000, 500) if args.full else (8, 1000, 100)
    print(f"phi4_scalar_1d, N={N}: NUTS, 4 chains, warmup {warmup}, {samples} draws (then {samples * 3 // 2}); "
          f"cores={os.cpu_count()}", flush=True)
    rows = [("no persistent cache", run("", N, samples, warmup))]
    with tempfile.TemporaryDirectory(prefix="nnft-jax-cache-") as d:
        rows.append(("persistent cache, 1st process", run(d, N, samples, warmup)))
        rows.append(("persistent cache, 2nd process", run(d, N, samples, warmup)))
    print(f"\n{'process':<32}{'call':<7}{'draws':>7}{'wall s':>9}{'compile s':>11}{'(XLA)':>8}{'sampling s':>12}"
          f"{'cache hits':>12}{'max R̂':>8}")
    for label, r in rows:
        for call in ("cold", "warm", "again"):
            c = r[call]
            print(f"{label if call == 'cold' else '':<32}{call:<7}{c['samples']:>7}{c['wall']:>9.2f}{c['compile']:>11.2f}{c['backend']:>8.2f}"
                  f"{c['wall'] - c['compile']:>12.2f}{c['cache_hits']:>12}{c['rhat']:>8.3f}")
        print(f"{'':<32}(import nnft {r['import']:.2f} s, whole process {r['process']:.2f} s)")
    base, cached = rows[0][1]["cold"], rows[2][1]["cold"]
    print(f"\ncold call: {base['wall']:.2f} s without a cache, {cached['wall']:.2f} s from a warm persistent cache "
          f"({base['wall'] / cached['wall']:.1f}×); in-process warm call with a new sample count "
          f"{rows[0][1]['warm']['wall']:.2f} s (compile {rows[0][1]['warm']['compile']:.2f} s)")
    g = [r[1]["cold"] for r in rows]
    print(f"same key, same numbers in every process: G2(0, 0.5) = {g[0]['G2']:.6f} ± {g[0]['G2_err']:.6f} "
          f"({'identical' if len({x['G2'] for x in g}) == 1 else 'DIFFERENT'} across the 3 processes)")


if __name__ == "__main__":
    main()
