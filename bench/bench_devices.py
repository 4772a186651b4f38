"""Throughput of the i.i.d. stream on 1, 2 and 4 devices, and bitwise equality of the block sums.

Workload: cos_net (TASI eq. 68-71, docs/physics.md §2), N = 64, d = 2, the connected 2- and 4-point
features of 4 points (G⁽²⁾, G_c⁽⁴⁾: 15 features per network), float32 sampling, float64 sums,
``chunk`` networks per work item. Each device count runs in its own subprocess (on a CPU the devices
are forced by ``XLA_FLAGS=--xla_force_host_platform_device_count=D``, set before JAX is imported), which
compiles once, then times a second, identical run (compiled code reused):

  networks/s = samples / warm wall time,   ratio = networks/s at D devices ÷ at 1 device.

The block sums (K × F float64), the weights and the tail buffers must be bitwise the same for every D
(``nnft.sample.iid.stream``: each work item runs the same per-device program and is added to its block
in work-list order); a mismatch is printed and the exit status is 1. On a machine with GPUs the same
comparison runs on 1 GPU and on all of them.

Forced host devices share the machine's cores: on a 2-core machine 4 "devices" cannot be faster than
2, and one device may already use both cores through XLA's own threads, so ratios near 1 are expected
there; the figure that matters on a CPU is that sharding costs nothing and changes no bit.

Run:  python bench/bench_devices.py [--samples 100000] [--chunk 4096]      (< 1 min on 2 cores)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CHILD = r"""
import json, os, sys, time
import numpy as np
import jax, jax.numpy as jnp
import nnft
from nnft.estimators.npoint import Plan
from nnft.sample.iid import stream

samples, chunk, devices, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
model = nnft.compile(nnft.load("cos_net", N=64))
pts = np.array([[0.0, 0.0], [0.5, 0.0], [1.0, 0.0], [0.0, 1.0]])
plan = Plan([pts[[0, 1]], pts[[0, 2]], pts, pts[[0, 0, 3, 3]]], model.d)
points = np.asarray(plan.points)

def values(theta):
    return model.fields(theta, jnp.asarray(points, dtype=next(iter(theta.values())).dtype))[:, None, :]

def once():
    t = time.perf_counter()
    acc = stream(model, 0, samples, values, plan.features, plan.n_features, chunk=chunk, n_blocks=64,
                 cache_key=("fields", plan.signature), points=len(points), devices=devices, progress=False)
    return acc, time.perf_counter() - t

_, first = once()
acc, warm = once()
np.savez(out, sums=acc.sums, weights=acc.weights, top_pos=acc.tail[0], top_neg=acc.tail[1])
print(json.dumps({"platform": jax.local_devices()[0].platform, "devices": devices, "first": first,
                  "warm": warm, "rate": samples / warm}))
"""


def run_child(samples: int, chunk: int, devices: int, out: str, force_cpu: int | None, cache: str) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("NNFT_COMPILE_CACHE", cache)
    if force_cpu:
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={force_cpu}"
        env["JAX_PLATFORMS"] = "cpu"
    res = subprocess.run([sys.executable, "-c", CHILD, str(samples), str(chunk), str(devices), out], env=env,
                         capture_output=True, text=True, timeout=600)
    if res.returncode:
        raise SystemExit(f"child with {devices} device(s) failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def same_bits(a: str, b: str) -> bool:
    import numpy as np
    with np.load(a) as x, np.load(b) as y:
        return all(x[k].tobytes() == y[k].tobytes() for k in x.files) and set(x.files) == set(y.files)


def table(rows: list[dict], files: list[str], label: str) -> bool:
    base = rows[0]["rate"]
    ok = True
    print(f"\n{label}: networks/s (warm) and ratio to 1 device; block sums bitwise equal to 1 device?")
    print(f"{'devices':>8} {'first s':>8} {'warm s':>8} {'networks/s':>12} {'ratio':>6}  bitwise")
    for r, f in zip(rows, files):
        eq = same_bits(files[0], f)
        ok &= eq
        print(f"{r['devices']:>8} {r['first']:>8.2f} {r['warm']:>8.2f} {r['rate']:>12.4g} {r['rate'] / base:>6.2f}  "
              f"{'yes' if eq else 'NO'}")
    return ok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", type=int, default=100_000)
    ap.add_argument("--chunk", type=int, default=4096)
    args = ap.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        cache = os.path.join(tmp, "jax-cache")
        files = [os.path.join(tmp, f"cpu{d}.npz") for d in (1, 2, 4)]
        rows = [run_child(args.samples, args.chunk, d, f, 4, cache) for d, f in zip((1, 2, 4), files)]
        ok &= table(rows, files, f"CPU, 4 forced host devices on {os.cpu_count()} cores, "
                                 f"{args.samples} networks, chunk {args.chunk}")
        try:
            import jax
            gpus = jax.devices("gpu")
        except RuntimeError:
            gpus = []
        if gpus:
            counts = sorted({1, len(gpus)})
            files = [os.path.join(tmp, f"gpu{d}.npz") for d in counts]
            rows = [run_child(10 * args.samples, args.chunk, d, f, None, cache) for d, f in zip(counts, files)]
            ok &= table(rows, files, f"GPU ({gpus[0].device_kind}), {10 * args.samples} networks")
        else:
            print("\nno GPU on this machine: the GPU comparison was not run")
    if not ok:
        print("\nFAIL: block sums differ between device counts")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
