"""Helpers of the scaling tests: a Python run in a fresh subprocess (so XLA_FLAGS, jax.distributed and
kills act on it alone), its arrays saved to an .npz the test reads back."""

from __future__ import annotations

import os
import pathlib
import socket
import subprocess
import sys
import textwrap

ROOT = pathlib.Path(__file__).resolve().parents[2]

#: the runs every scaling test compares: arrays of block sums, tails and estimates, saved by name
MEASURE = """
import numpy as np
import nnft
from nnft import runtime


def arrays(prefix, ens_or_corr):
    out = {}
    for part in ("full", "connected"):
        est = getattr(ens_or_corr, part)
        est = est() if callable(est) else est
        out[f"{prefix}.{part}.mean"] = est.mean
        out[f"{prefix}.{part}.stderr"] = est.stderr
        if est.khat is not None:
            out[f"{prefix}.{part}.khat"] = est.khat
    sums = getattr(ens_or_corr, "sums", None)
    if sums is not None:
        out[f"{prefix}.sums"] = sums.sums
        out[f"{prefix}.weights"] = sums.weights
        if sums.weights2 is not None:
            out[f"{prefix}.weights2"] = sums.weights2
        if sums.tail is not None:
            out[f"{prefix}.top_pos"], out[f"{prefix}.top_neg"] = sums.tail
        out[f"{prefix}.n"] = np.array(sums.n)
    return out


COS_TUPLES = [[[0.0, 0.0], [0.3, 0.1]], [[0.0, 0.0], [0.3, 0.1], [0.5, 0.0], [1.0, 1.0]],
              [[0.2, 0.2]] * 4]
PHI4_TUPLES = [[[0.0], [0.5]], [[0.0]] * 4]


def measure_all(key=3, samples=3000, chunk=128, blocks=12, neurons=True):
    out = {}
    cos = nnft.compile(nnft.load("cos_net", N=8))
    out.update(arrays("cos", nnft.ensemble(cos, COS_TUPLES, samples=samples, key=key, chunk=chunk, blocks=blocks)))
    phi4 = nnft.compile(nnft.load("phi4_cos_1d"))
    out.update(arrays("phi4", nnft.ensemble(phi4, PHI4_TUPLES, samples=samples, key=key, chunk=chunk,
                                            blocks=blocks)))
    if neurons:
        out.update(arrays("neuron", nnft.neuron_measure(cos, COS_TUPLES, neurons=4 * samples, widths=[4, 64],
                                                        key=key, chunk=chunk, blocks=blocks)))
    return out
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env(tmp_path, **extra) -> dict:
    """The environment of a child run: this worktree first on the path, the compilation cache in tmp."""
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT) + (os.pathsep + e["PYTHONPATH"] if e.get("PYTHONPATH") else "")
    e["NNFT_COMPILE_CACHE"] = str(tmp_path / "jax-cache")
    e.pop("XLA_FLAGS", None)
    e.update({k: str(v) for k, v in extra.items()})
    return e


def script(body: str, header: str = "") -> str:
    """A child program: ``header`` (run before jax is imported), the MEASURE helpers, then ``body``."""
    return textwrap.dedent(header) + "\n" + MEASURE + "\n" + textwrap.dedent(body)


def run(code: str, tmp_path, timeout: float = 900, **extra) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], env=env(tmp_path, **extra), cwd=tmp_path,
                          capture_output=True, text=True, timeout=timeout)


def start(code: str, tmp_path, **extra) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code], env=env(tmp_path, **extra), cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def signalled(cmd: list[str], env: dict, cwd, under_way, sig: int, timeout: float = 120) -> tuple[int, str, str, list[str]]:
    """Start ``cmd``, wait with ``under_way(proc)`` until the run is under way (e.g. its checkpoint has
    appeared), send ``sig`` and collect the process: (status, stdout, stderr, non-blank stderr lines)."""
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        under_way(proc)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, out, err, [ln for ln in err.splitlines() if ln.strip()]
