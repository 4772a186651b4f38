"""Start-up cost of the CLI and the library: wall time of whole processes (best of ``--repeat``).

  import       ``python -c "import nnft"``
  help         ``nnft --help``
  run cold     ``nnft run cos_net --samples 1000`` (its default also runs the 10⁶-neuron exact-in-N estimate;
               ``--neurons 0`` here skips it) with an empty persistent JAX compilation
               cache (``JAX_COMPILATION_CACHE_DIR`` set to a fresh temporary directory, min compile time 0):
               start-up + tracing + XLA compile + sampling,
  run warm     the same command again with that cache directory filled by the cold run,
  run default  the same command in the default environment (whatever cache the installed nnft sets up).

``nnft`` is the console script next to this Python (else ``python -m nnft.cli``); set PYTHONPATH to the
checkout to time. The script only times commands: what they do is up to the installed nnft.

Run:  python bench/bench_startup.py [--repeat 5] [--samples 1000] [--neurons 0]   (~1-2 min)
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def nnft_command() -> list[str]:
    script = Path(sys.executable).with_name("nnft")
    if script.exists():
        return [str(script)]
    found = shutil.which("nnft")
    return [found] if found else [sys.executable, "-m", "nnft.cli"]


def wall(cmd: list[str], env: dict | None = None) -> float:
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    dt = time.perf_counter() - t
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return dt


def best(cmd, repeat, env=None) -> float:
    return min(wall(cmd, env) for _ in range(repeat))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="import/help timings are the best of this many")
    ap.add_argument("--run-repeat", type=int, default=2, help="warm/default run timings are the best of this many")
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--neurons", type=int, default=None,
                    help="pass --neurons to nnft run (default: the CLI's own, i.e. the command exactly as a user types it)")
    args = ap.parse_args(argv)
    nnft = nnft_command()
    run = nnft + ["run", "cos_net", "--samples", str(args.samples)]
    run += ["--neurons", str(args.neurons)] if args.neurons is not None else []
    tag = f"nnft run cos_net --samples {args.samples}" + (f" --neurons {args.neurons}" if args.neurons is not None else "")
    print(f"{' '.join(nnft)}; python {sys.version.split()[0]}; cores={os.cpu_count()}; best of {args.repeat} "
          f"(runs: best of {args.run_repeat})", flush=True)
    rows = [("python -c 'import nnft'", best([sys.executable, "-c", "import nnft"], args.repeat)),
            ("python -c 'import jax'", best([sys.executable, "-c", "import jax"], args.repeat)),
            ("nnft --help", best(nnft + ["--help"], args.repeat))]
    with tempfile.TemporaryDirectory(prefix="nnft-jax-cache-") as d:
        env = {**os.environ, "JAX_COMPILATION_CACHE_DIR": d, "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
               "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "-1"}
        rows.append((f"{tag}: cold cache", wall(run, env)))
        rows.append((f"{tag}: warm cache", best(run, args.run_repeat, env)))
        n_files = sum(1 for _ in Path(d).rglob("*") if _.is_file())
    rows.append((f"{tag}: default env", best(run, args.run_repeat)))
    for label, t in rows:
        print(f"  {label:<62}{t:7.2f} s")
    print(f"  (the cold run wrote {n_files} files to the cache directory; warm/cold = {rows[4][1] / rows[3][1]:.2f})")


if __name__ == "__main__":
    main()
