"""The Halverson–Maiti–Stoner width grid (arXiv:2008.08601, §4 experiments): time and memory of nnft.

Three one-hidden-layer architectures, d_in = 1, as in the paper (σ_w, σ_b the weight and bias scales):
  Gauss-net  φ(x) = Σᵢ W1ᵢ exp(W0ᵢx + b0ᵢ)/√exp(2(σ_b² + σ_w²x²/d)) + b1,  σ_w = σ_b = 1,
             inputs 0.01 × {−1, −0.6, −0.2, 0.2, 0.6, 1};  G2 = σ_b² + σ_w² exp(−σ_w²|x−y|²/(2d)).
  Erf net    φ(x) = Σᵢ W1ᵢ erf(W0ᵢx + b0ᵢ) + b1,  σ_w = σ_b = 1,  inputs {−1, −0.6, −0.2, 0.2, 0.6, 1}.
  ReLU net   φ(x) = Σᵢ W1ᵢ relu(W0ᵢx),  σ_w = 1, σ_b = 0 (no biases),  inputs {0.2, 0.4, …, 1.2}.
W0 ~ N(0, σ_w²/d), W1 ~ N(0, σ_w²/N), b ~ N(0, σ_b²). The shipped erf_net.yaml / relu_net.yaml have this
parameterisation (σ_b is set to the paper's value through ``extends:``; σ_b = 0 is written without the
bias parameters, since a normal density needs std > 0). The shipped gauss_net.yaml is the TASI Gauss-net
(W1 ~ N(0, σ²/(2N)), no b1), so the paper's is written here as a spec dict with the same neuron
(``reference: gauss_net``).

Widths N ∈ {2, 3, 4, 5, 10, 20, 50, 100, 500, 1000}; G⁽²⁾, G⁽⁴⁾, G⁽⁶⁾ full and connected at every sorted
index tuple of the 6 inputs (21 + 126 + 462 = 609 tuples, 923 features), with jackknife errors.

Routes (each in a fresh subprocess, so its peak RSS — ``resource.getrusage`` ru_maxrss — is its own):
  brute   ``nnft.measure`` per width with S whole networks (the paper's method): 30 cells.
  neuron  ``nnft.neuron_measure(widths=all 10)``: one run of single-neuron samples per architecture gives
          all widths exactly in N (TASI eq. 39, 50-51).
  floor   only the random numbers: every parameter of S networks of each architecture at every width, drawn
          as the brute force draws them (``Model.sample``: counter-based threefry2x32 + the normal's inverse
          CDF, jitted, chunks of 4096) — the floor the brute force pays — and the same count of
          ``jax.random.normal`` numbers in the same process, for the ratio.
Checks: every MC value against ``nnft.exact`` (the neuron-sum theorem with the declared neuron law):
max |z| per architecture and route, for G and G_c.

Goals (issue 10, --full at 10⁶ networks per width): brute force ≤ 150 s and < 2 GB; neuron level all 30
cells ≤ 15 s.

Run:  python bench/bench_paper_grid.py          (quick: 10⁴ networks, widths 2 and 1000, 2·10⁴ neurons)
      python bench/bench_paper_grid.py --full   (10⁶ networks, all 10 widths)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
import warnings

from _worker import run_worker

import numpy as np

WIDTHS = (2, 3, 4, 5, 10, 20, 50, 100, 500, 1000)
QUICK_WIDTHS = (2, 1000)
INPUTS = np.array([-1.0, -0.6, -0.2, 0.2, 0.6, 1.0])
ARCHS = {
    "gauss": {"inputs": 0.01 * INPUTS, "spec": {
        "nnft": 1, "name": "gauss-net-hms", "dims": {"d": 1, "N": 16},
        "constants": {"sigma_w": 1.0, "sigma_b": 1.0},
        "params": {"W0": {"shape": ["N", "d"], "density": {"normal": {"std": "sigma_w / sqrt(d)"}}},
                   "b0": {"shape": ["N"], "density": {"normal": {"std": "sigma_b"}}},
                   "W1": {"shape": ["N"], "density": {"normal": {"std": "sigma_w / sqrt(N)"}}},
                   "b1": {"shape": [], "density": {"normal": {"std": "sigma_b"}}}},
        "field": "sum_N(W1 * exp(W0 @ x + b0 - sigma_b**2 - sigma_w**2 * norm(x)**2 / d)) + b1",
        "reference": {"gauss_net": {"sigma_w0": "sigma_w", "sigma_b0": "sigma_b"}}}},
    "erf": {"inputs": INPUTS, "spec": {
        "nnft": 1, "name": "erf-net-hms", "extends": "erf_net", "constants": {"sigma_w": 1.0, "sigma_b": 1.0}}},
    "relu": {"inputs": np.arange(1, 7) * 0.2, "spec": {
        "nnft": 1, "name": "relu-net-hms", "dims": {"d": 1, "N": 16}, "constants": {"sigma_w": 1.0},
        "params": {"W0": {"shape": ["N", "d"], "density": {"normal": {"std": "sigma_w / sqrt(d)"}}},
                   "W1": {"shape": ["N"], "density": {"normal": {"std": "sigma_w / sqrt(N)"}}}},
        "field": "sum_N(W1 * relu(W0 @ x))",
        "reference": {"relu_layer": {"weight_std": "sigma_w / sqrt(d)", "bias_std": 0.0}}}},
}


def tuples_for(inputs: np.ndarray) -> list[np.ndarray]:
    """Every sorted index tuple (i₁ ≤ … ≤ iₙ) of the 6 inputs for n = 2, 4, 6, as (n, 1) arrays."""
    from itertools import combinations_with_replacement
    return [inputs[list(ix)][:, None] for n in (2, 4, 6) for ix in combinations_with_replacement(range(6), n)]


def _load() -> str:
    """The load average (1, 5, 15 min): timings on a shared machine are read next to it."""
    return "load average " + " ".join(f"{v:.1f}" for v in os.getloadavg())


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0     # Linux: KiB


def _max_z(est, exact) -> float:
    """max |z| over the entries whose error bar can be trusted: k̂ ≤ KHAT_FLAG (``nnft.tails``). The
    Gauss-net's lognormal neurons at N = 2 give k̂ ≈ 1.7 at n = 6 (MC 3.3e4 vs exact 6.13e5, z ≈ −26:
    the exact value is right, the sample mean of a heavy tail undershoots); such rows are counted in
    ``flagged`` by :func:`z_by_order`, never folded into the printed max |z|."""
    from nnft.tails import KHAT_FLAG
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (est.mean - exact) / est.stderr
    if est.khat is not None:
        z = np.where(np.asarray(est.khat) > KHAT_FLAG, np.nan, z)
    z = z[np.isfinite(z)]
    return float(np.max(np.abs(z))) if z.size else float("nan")


def z_by_order(nnft, model, tuples, full, conn, widths) -> dict:
    """max |z| of G and G_c against ``nnft.exact`` per order n = 2, 4, 6 (NaN where the declared neuron
    reference has no moments of that order; relu_layer and erf_layer give n = 6 since issue 13)."""
    from nnft.tails import KHAT_FLAG
    out = {"full": {}, "connected": {}, "flagged": {}}
    for n in (2, 4, 6):
        ix = [i for i, t in enumerate(tuples) if len(t) == n]
        try:
            ex = nnft.exact(model, [tuples[i] for i in ix], widths=widths)
        except nnft.EstimatorError:
            out["full"][n] = out["connected"][n] = float("nan")
            continue
        pick = (lambda e: e[ix]) if widths is None else (lambda e: e[:, ix])
        out["flagged"][n] = 0
        for kind, est, exv in (("full", full, ex.full), ("connected", conn, ex.connected)):
            kh = None if est.khat is None else pick(np.broadcast_to(est.khat, np.shape(est.mean)))
            sub = nnft.Estimate(pick(est.mean), pick(est.stderr), est.n, khat=kh)
            out["flagged"][n] += 0 if kh is None else int(np.sum(np.asarray(kh) > KHAT_FLAG))
            out[kind][n] = _max_z(sub, exv if widths is not None else exv[0])
    return out


# ------------------------------------------------------------------------------------------- workers
def worker(route: str, arch: str, samples: int, widths: tuple[int, ...], neurons: int) -> dict:
    import jax
    import nnft
    warnings.simplefilter("ignore")              # tail warnings (lognormal Gauss-net neurons) are counted, not printed
    spec, inputs = (ARCHS[arch]["spec"], ARCHS[arch]["inputs"]) if arch in ARCHS else (None, None)
    tuples = tuples_for(inputs) if arch in ARCHS else None
    out = {"route": route, "arch": arch, "cells": {}, "z": {}}
    t0 = time.perf_counter()
    if route == "brute":
        zs = []
        compile_s = [0.0]
        events = ("/jax/core/compile/jaxpr_trace_duration", "/jax/core/compile/jaxpr_to_mlir_module_duration",
                  "/jax/core/compile/backend_compile_duration")
        jax.monitoring.register_event_duration_secs_listener(
            lambda e, secs, **_: compile_s.__setitem__(0, compile_s[0] + secs) if e in events else None)
        out["compile"] = {}
        out["cpu"] = {}
        for N in widths:
            model = nnft.compile(nnft.from_dict(spec, dims={"N": N}))
            t = time.perf_counter()
            cpu = time.process_time()
            c0 = compile_s[0]
            res = nnft.measure(model, tuples, samples=samples, key=N)
            out["cells"][N] = time.perf_counter() - t
            out["cpu"][N] = time.process_time() - cpu       # all threads: steadier than wall time under load
            out["compile"][N] = compile_s[0] - c0          # tracing + lowering + XLA, as JAX reports it
            zs.append(z_by_order(nnft, model, tuples, res.full, res.connected, None))
        out["z"] = {kind: {n: (sum if kind == "flagged" else max)(z[kind][n] for z in zs) for n in zs[0][kind]}
                    for kind in ("full", "connected", "flagged")}
    elif route == "neuron":
        model = nnft.compile(nnft.from_dict(spec, dims={"N": 1000}))
        t = time.perf_counter()
        res = nnft.neuron_measure(model, tuples, neurons=neurons, widths=widths, key=0)
        out["cells"]["all"] = time.perf_counter() - t
        out["z"] = z_by_order(nnft, model, tuples, res.full, res.connected, widths)
    elif route == "floor":
        import jax.numpy as jnp
        chunk = 1 << 12
        # nnft's draws as the brute force pays them: Model.sample of every architecture at every width
        # (counter-based threefry2x32 + the normal's inverse CDF, traced start, x64 on as in the stream);
        # then the same count of jax.random.normal numbers (its own key per chunk), in this process
        models = {(a, N): nnft.compile(nnft.from_dict(ARCHS[a]["spec"], dims={"N": N})) for a in ARCHS for N in widths}

        def total(theta):
            return sum(jnp.sum(v) for v in theta.values())

        with jax.enable_x64(True):
            draw = {c: jax.jit(lambda k, s, m=m: total(m.sample(k, chunk, s, jnp.float32))) for c, m in models.items()}
            sizes = {c: sum(v.size for v in jax.eval_shape(lambda k, m=m: m.sample(k, chunk, 0, jnp.float32), jax.random.key(0)).values())
                     for c, m in models.items()}
            ref = {c: jax.jit(lambda k, n=sizes[c]: jnp.sum(jax.random.normal(k, (n,), jnp.float32))) for c in models}
            for c in models:                      # compile first: the floor is the drawing, not XLA
                draw[c](jax.random.key(0), jnp.int64(0)).block_until_ready()
                ref[c](jax.random.key(0)).block_until_ready()
            n_chunks = -(-samples // chunk)
            for name, run in (("nnft", lambda c, i: draw[c](jax.random.key(c[1]), jnp.int64(i * chunk))),
                              ("jax.random", lambda c, i: ref[c](jax.random.fold_in(jax.random.key(c[1]), i)))):
                t = time.perf_counter()
                for c in models:
                    acc = 0.0
                    for i in range(n_chunks):
                        acc = acc + run(c, i)
                    jax.block_until_ready(acc)
                out["cells"][name] = time.perf_counter() - t
        out["numbers"] = n_chunks * sum(sizes.values())       # sizes are per chunk
        out["per_network_full"] = {      # numbers per network of every cell of the full grid (shapes only)
            f"{a}:{N}": sum(v.size for v in jax.eval_shape(
                nnft.compile(nnft.from_dict(ARCHS[a]["spec"], dims={"N": N})).sample_one, jax.random.key(0)).values())
            for a in ARCHS for N in WIDTHS}
    out["seconds"] = time.perf_counter() - t0
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def run_route(route, arch, samples, widths, neurons) -> dict:
    return run_worker(__file__, route, arch, samples, neurons, *widths)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--worker":
        route, arch, samples, neurons, *ws = argv[1:]
        print(json.dumps(worker(route, arch, int(samples), tuple(int(w) for w in ws), int(neurons))))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="10⁶ networks per width, all 10 widths")
    ap.add_argument("--samples", type=int, default=None, help="networks per width (brute force and floor)")
    ap.add_argument("--neurons", type=int, default=None,
                    help="single-neuron samples per architecture (drawn as whole width-1000 networks: at least 2000, "
                         "better 64000 for all 64 jackknife blocks)")
    ap.add_argument("--routes", nargs="+", default=["brute", "neuron", "floor"])
    args = ap.parse_args(argv)
    if args.neurons is not None and args.neurons < 2000 and "neuron" in args.routes:
        ap.error("--neurons must be at least 2000: the neuron route draws whole width-1000 networks, "
                 "and an error bar needs 2 jackknife blocks")
    widths = WIDTHS if args.full else QUICK_WIDTHS
    S = args.samples or (1_000_000 if args.full else 10_000)
    M = args.neurons or (1_000_000 if args.full else 20_000)
    print(f"HMS grid (arXiv:2008.08601): 3 architectures × widths {list(widths)}; {S} networks per width "
          f"(brute), {M} neurons per architecture (neuron level); 609 tuples (G2/G4/G6, full + connected); "
          f"cores={os.cpu_count()}", flush=True)
    results = []
    for route in args.routes:
        for arch in (ARCHS if route != "floor" else ["all"]):
            r = run_route(route, arch, S, widths, M)
            results.append(r)
            z = r.get("z", {})
            zs = ("  max|z| vs exact G/G_c: " + ", ".join(f"n={n}: {z['full'][n]:.1f}/{z['connected'][n]:.1f}"
                                                        for n in z["full"])) if z else ""
            if z and any(z.get("flagged", {}).values()):
                zs += "  (k̂ > 0.7, heavy tails, not in max|z|: " + ", ".join(
                    f"n={n}: {c}" for n, c in z["flagged"].items() if c) + " estimates)"
            print(f"  {route:6s} {arch if route != 'floor' else 'params':6s}: {sum(r['cells'].values()):7.2f} s "
                  f"sampling+estimating (process {r['process_seconds']:6.2f} s), peak RSS {r['peak_rss_mb']:7.0f} MB"
                  f"{zs}; {_load()}", flush=True)

    print("\nsummary")
    for route in args.routes:
        rs = [r for r in results if r["route"] == route]
        t = sum(sum(r["cells"].values()) for r in rs)
        tp = sum(r["process_seconds"] for r in rs)
        mem = max(r["peak_rss_mb"] for r in rs)
        if route == "brute":
            n_cells = len(rs) * len(widths)
            cpu = sum(sum(r["cpu"].values()) for r in rs)
            print(f"  brute force: {n_cells} cells in {t:.1f} s (with process start and compile: {tp:.1f} s), "
                  f"peak RSS {mem:.0f} MB; {S * n_cells / t:,.0f} networks/s over the grid; CPU time in the cells "
                  f"{cpu:.1f} s (all threads; {cpu / t:.2f} cores busy on average)"
                  + (f"; goal ≤ 150 s and < 2 GB: {'MET' if t <= 150 and mem < 2048 else 'NOT MET'}" if args.full
                     else f"; at 10⁶ networks × {len(WIDTHS)} widths, at these per-cell rates: "
                          f"~{t * (1e6 / S) * len(WIDTHS) / len(widths):.0f} s (goal ≤ 150 s)"))
            for r in rs:
                print("     " + r["arch"] + ": " + ", ".join(f"N={N}: {S / s:,.0f}/s" for N, s in r["cells"].items())
                      + "; without compile: " + ", ".join(f"N={N}: {S / max(s - r['compile'][N], 1e-9):,.0f}/s "
                                                        f"(compile {r['compile'][N]:.1f} s)"
                                                        for N, s in r["cells"].items()))
            if not args.full and len(widths) >= 2:
                # seconds per network linear in N (sampling and the field are), fitted per architecture to the
                # steady rates of the quick widths, summed over the 10 widths at 10⁶ networks; + compile per cell
                total_s = total_c = 0.0
                for r in rs:
                    ns = np.array([int(N) for N in r["cells"]], dtype=float)
                    per = np.array([(s - r["compile"][N]) / S for N, s in r["cells"].items()])
                    slope, icpt = np.polyfit(ns, per, 1)
                    total_s += 1e6 * sum(max(icpt + slope * w, per.min()) for w in WIDTHS)
                    total_c += np.mean(list(r["compile"].values())) * len(WIDTHS)
                print(f"  full grid extrapolated from these steady rates (linear in N): sampling+estimating "
                      f"~{total_s:.0f} s + compile ~{total_c:.0f} s (goal ≤ 150 s)")
        elif route == "neuron":
            print(f"  neuron level: {len(rs) * len(widths)} cells in {t:.1f} s ({tp:.1f} s with process start), "
                  f"peak RSS {mem:.0f} MB, {M} neurons per architecture"
                  + (f"; goal ≤ 15 s: {'MET' if t <= 15 else 'NOT MET'}" if args.full else ""))
        elif route == "floor":
            r = rs[0]
            tn, tj = r["cells"]["nnft"], r["cells"]["jax.random"]
            full = 1_000_000 * sum(r["per_network_full"].values())
            print(f"  random-number floor: {r['numbers']:.3g} normal draws (every parameter of {S} networks of the 3 "
                  f"architectures at widths {list(widths)}): nnft (Model.sample) {tn:.2f} s = "
                  f"{r['numbers'] / tn / 1e9:.3f} G/s, jax.random.normal {tj:.2f} s = {r['numbers'] / tj / 1e9:.3f} G/s "
                  f"(nnft/jax.random speed {tj / tn:.2f}); peak RSS {mem:.0f} MB\n"
                  f"    full grid (10⁶ networks × {len(WIDTHS)} widths × 3 architectures = {full:.3g} numbers) at this "
                  f"rate: {full / (r['numbers'] / tn):.0f} s (jax.random.normal: {full / (r['numbers'] / tj):.0f} s)")

if __name__ == "__main__":
    main()
