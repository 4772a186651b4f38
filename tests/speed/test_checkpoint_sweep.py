"""Checkpoint and resume of sweeps (``nnft run SPEC --set N=2,4 --checkpoint FILE``, ``nnft.run_sweep``):
one file, one section per (value, stream) in the order they run. A sweep killed with SIGKILL in its
second value, then resumed, prints bitwise the table of a sweep never interrupted (the finished value
is read back, not sampled); a file of another sweep is refused in one line with exit status 2."""

from __future__ import annotations

import signal
import subprocess
import sys

import numpy as np
import pytest

from . import _runs

SWEEP = ["run", "cos_net", "--set", "N=2,4", "--samples", "8000", "--seed", "3", "--chunk", "256",
         "--neurons", "0", "--points", "0,0;0.5,0", "--quiet"]

#: the CLI in a child that SIGKILLs itself once the second value's stream is saved part-way
KILLED = """
import os, signal, sys
from nnft import checkpoint as _ck
_save = _ck.Checkpoint.save

def save(self, section, *args):
    _save(self, section, *args)
    n = self.sections[section]["n"]
    if section == 1 and 0 < n < 8000:
        os.kill(os.getpid(), signal.SIGKILL)
_ck.Checkpoint.save = save
from nnft.cli import main
main(sys.argv[1:])
"""


def _cli(*args) -> list[str]:
    return [sys.executable, "-m", "nnft.cli", *SWEEP, *map(str, args)]


def _sections(path) -> dict:
    from nnft.checkpoint import _read
    return _read(str(path))


@pytest.mark.slow
def test_a_killed_sweep_resumed_prints_the_uninterrupted_table(tmp_path):
    env = _runs.env(tmp_path, NNFT_CHECKPOINT_SECONDS="0", NO_COLOR="1")
    ck = tmp_path / "sweep.ck.npz"
    killed = subprocess.run([sys.executable, "-c", KILLED, *SWEEP, "--checkpoint", ck.name], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=600)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    saved = _sections(ck)
    assert sorted(saved) == [0, 1] and saved[0]["n"] == 8000 and 0 < saved[1]["n"] < 8000, \
        {k: v["n"] for k, v in saved.items()}
    first = saved[0]["sums"].copy()
    res = subprocess.run(_cli("--checkpoint", ck.name, "--resume"), env=env, cwd=tmp_path, capture_output=True,
                         text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    plain = subprocess.run(_cli(), env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert plain.returncode == 0, plain.stderr[-3000:]
    assert res.stdout == plain.stdout and "sweep over N: 2, 4" in plain.stdout
    done = _sections(ck)
    assert [done[i]["n"] for i in range(2)] == [8000] * 2
    assert done[0]["sums"].tobytes() == first.tobytes()          # the finished value was not sampled again
    # the same file with the values in another order: the first section is of N=2, not N=4
    from click.testing import CliRunner
    from nnft.cli import main
    other = CliRunner().invoke(main, [a if a != "N=2,4" else "N=4,2" for a in SWEEP]
                               + ["--checkpoint", str(ck), "--resume"])
    lines = [ln for ln in other.output.splitlines() if ln.strip()]
    assert other.exit_code == 2 and len(lines) == 1, other.output[-3000:]
    assert lines[0].startswith("error: at N=4: checkpoint")
    assert "(stream 0) is of a different run: theory is" in lines[0] and "here but" in lines[0]


def test_run_sweep_in_python_resumes_a_finished_sweep_bitwise(tmp_path):
    """nnft.run_sweep(checkpoint=, resume=): the saved sweep read back gives the same numbers; another seed
    is refused naming the key; resume without a checkpoint is refused."""
    import nnft
    from nnft.errors import CheckpointError, InputError
    ck = tmp_path / "sw.ck.npz"
    kw = dict(samples=2000, seed=1, neurons=0, points=[[0.0, 0.0], [0.5, 0.0]], orders=[2])
    a = nnft.run_sweep("cos_net", "N", [2, 4], checkpoint=ck, **kw)
    assert sorted(_sections(ck)) == [0, 1]
    b = nnft.run_sweep("cos_net", "N", [2, 4], checkpoint=ck, resume=True, **kw)
    for ra, rb in zip(a.reports, b.reports):
        assert [r.full for r in ra.rows] == [r.full for r in rb.rows]
        assert [r.connected for r in ra.rows] == [r.connected for r in rb.rows]
    with pytest.raises(CheckpointError, match="key is"):
        nnft.run_sweep("cos_net", "N", [2, 4], checkpoint=ck, resume=True, **{**kw, "seed": 2})
    with pytest.raises(InputError, match="needs checkpoint"):
        nnft.run_sweep("cos_net", "N", [2, 4], resume=True, **kw)
    assert np.isfinite(a.reports[0].rows[0].full[0])
