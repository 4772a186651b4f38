"""Run a bench script's worker in a fresh process (own peak RSS, own JAX state) and read the JSON it
prints on its last line."""

from __future__ import annotations

import json
import subprocess
import sys
import time


def run_worker(script: str, *args) -> dict:
    """``python script --worker args...``; its last stdout line as a dict, plus ``process_seconds``.

    Raises:
      RuntimeError: the worker failed (its stderr's end is in the message)."""
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, script, "--worker", *map(str, args)], capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"worker {script} {' '.join(map(str, args))} failed:\n{proc.stderr[-3000:]}")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res["process_seconds"] = time.perf_counter() - t
    return res
