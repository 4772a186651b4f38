"""Checkpoint and resume of MCMC chains (nnft.sample.chain_checkpoint): a NUTS/HMC run of an insertion
theory killed with SIGKILL mid-run, then resumed, gives bitwise the block sums, correlators, R̂ and ESS
of a run never interrupted; a checkpoint of another run (seed, samples) is refused naming what differs."""

from __future__ import annotations

import signal
import subprocess
import sys

import numpy as np
import pytest

from . import _runs

RUN = """
import os, signal, sys
samples, seed = int(sys.argv[1]), int(sys.argv[2])
ck = sys.argv[3] if sys.argv[3] != "-" else None
resume = sys.argv[4] == "resume"
kill_after = int(sys.argv[6]) if len(sys.argv) > 6 else 0
from nnft.estimators.mcmc import mcmc_ensemble
from nnft import checkpoint as _ck
if kill_after:                      # SIGKILL itself right after its kill_after-th checkpoint write
    _save, _count = _ck.Checkpoint.save, []

    def save(self, *args):
        _save(self, *args)
        _count.append(1)
        if len(_count) == kill_after:
            os.kill(os.getpid(), signal.SIGKILL)
    _ck.Checkpoint.save = save
model = nnft.compile(nnft.load("phi4_cos_1d"))
tuples = [np.array([[0.0], [0.5]]), np.array([[0.2]] * 4)]
with runtime.settings(checkpoint=ck, resume=resume):
    ens, diag = mcmc_ensemble(model, tuples, samples=samples, chains=2, warmup=50, chunk=16, blocks=8, key=seed,
                              algorithm="hmc", integration_steps=4, warn=False)
out = arrays("mcmc", ens)
out.update({"rhat": diag.rhat, "ess": diag.ess, "tau": diag.tau, "acceptance": diag.acceptance,
            "divergences": np.asarray(diag.divergences)})
np.savez(sys.argv[5], **out)
"""

SAMPLES = 400
#: the killed run stops after this many checkpoint writes: the warmed-up chains, then 3 segments of 16 draws
KILL_AFTER = 4
TUPLES = [np.array([[0.0], [0.5]]), np.array([[0.2]] * 4)]


def _argv(*args) -> list[str]:
    return [sys.executable, "-c", _runs.script(RUN), *map(str, args)]


def _section(path):
    from nnft.checkpoint import _read
    return _read(str(path))[0]


@pytest.mark.slow
def test_killed_mcmc_run_resumed_is_bitwise_an_uninterrupted_run(tmp_path):
    env = _runs.env(tmp_path, NNFT_CHECKPOINT_SECONDS="0")
    ck = tmp_path / "mcmc.ck.npz"
    killed = subprocess.run(_argv(SAMPLES, 3, ck, "fresh", "out.npz", KILL_AFTER), env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=600)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    saved = _section(ck)
    assert saved["next"] == 3 * 16 and saved["n"] == 2 * 3 * 16, "the kill did not land mid-run"
    assert saved["chain"].shape[0] == 2 and saved["trace"].shape[1] == 2
    assert not (tmp_path / "out.npz").exists()
    res = subprocess.run(_argv(SAMPLES, 3, ck, "resume", "out.npz"), env=env, cwd=tmp_path, capture_output=True,
                         text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    plain = subprocess.run(_argv(SAMPLES, 3, "-", "fresh", "plain.npz"), env=env, cwd=tmp_path, capture_output=True,
                           text=True, timeout=600)
    assert plain.returncode == 0, plain.stderr[-3000:]
    plain, got = dict(np.load(tmp_path / "plain.npz")), dict(np.load(tmp_path / "out.npz"))
    assert set(got) == set(plain) and "mcmc.top_pos" in got and "rhat" in got
    for name in plain:
        assert got[name].tobytes() == plain[name].tobytes(), name
    # the comparison can fail: one ulp in one block sum is seen
    bumped = plain["mcmc.sums"].copy()
    bumped[1, 0] = np.nextafter(bumped[1, 0], np.inf)
    assert bumped.tobytes() != got["mcmc.sums"].tobytes()
    assert _section(ck)["next"] == SAMPLES // 2                 # the finished run is the checkpoint

    # another seed and sample count: refused before any sampling, naming what differs
    import nnft
    from nnft import runtime
    from nnft.errors import CheckpointError
    from nnft.estimators.mcmc import mcmc_ensemble
    model = nnft.compile(nnft.load("phi4_cos_1d"))
    with pytest.raises(CheckpointError) as info, runtime.settings(checkpoint=ck, resume=True):
        mcmc_ensemble(model, TUPLES, samples=SAMPLES + 2, chains=2, warmup=50, chunk=16, blocks=8, key=4,
                      algorithm="hmc", integration_steps=4, warn=False)
    msg = str(info.value)
    assert "\n" not in msg and f"samples is {SAMPLES + 2} here but {SAMPLES} in the file" in msg and "key is" in msg
    assert "chunk" not in msg and "warmup" not in msg                  # only what differs is named
