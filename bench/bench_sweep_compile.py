"""How much of a constant sweep is compiling: ``nnft.run_sweep(SPEC, NAME, VALUES)`` with the XLA
compilations of the sampling step counted and timed by ``jax.monitoring`` events (backend compile of
``jit(per_device)``, the i.i.d. step of ``nnft.sample.iid``), beside the sweep's wall time.

Usage: ``python bench/bench_sweep_compile.py [SPEC NAME V1,V2,... SAMPLES]`` (default: tanh_mlp C_W
0.9,1.0,1.1 10000). Run with ``NNFT_COMPILE_CACHE=off`` so the persistent cache does not hide compiles.
Since the constants are traced arguments of the step, a 3-value constant sweep compiles it once.
"""

from __future__ import annotations

import collections
import sys
import time


def main(spec: str = "tanh_mlp", name: str = "C_W", values: str = "0.9,1.0,1.1", samples: str = "10000") -> dict:
    import jax

    import nnft
    count: collections.Counter = collections.Counter()
    secs: collections.Counter = collections.Counter()

    def on(event, s, fun_name=None, **_):
        if event == "/jax/core/compile/backend_compile_duration":
            count[fun_name] += 1
            secs[fun_name] += s

    jax.monitoring.register_event_duration_secs_listener(on)
    vals = [float(v) for v in values.split(",")]
    t = time.perf_counter()
    nnft.run_sweep(spec, name, vals, samples=int(samples), neurons=0)
    wall = time.perf_counter() - t
    step = "jit(per_device)"
    out = {"spec": spec, "name": name, "values": vals, "samples": int(samples), "wall_s": round(wall, 2),
           "step_compiles": count[step], "step_compile_s": round(secs[step], 2),
           "all_compile_s": round(sum(secs.values()), 2)}
    out["compile_share"] = round(out["all_compile_s"] / wall, 3)
    return out


if __name__ == "__main__":
    print(main(*sys.argv[1:]))
