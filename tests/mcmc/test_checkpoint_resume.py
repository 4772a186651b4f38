"""Ctrl-C during an MCMC run with a checkpoint: the run stops at the end of a segment with the chains
saved there (KeyboardInterrupt after the write); resumed, it gives bitwise the block sums, tails, R̂
and ESS of a run never interrupted, and it may be resumed with another segment length."""

import os
import signal

import numpy as np
import pytest

import nnft
from nnft import checkpoint as checkpoints
from nnft import runtime
from nnft.errors import CheckpointError
from nnft.estimators.mcmc import mcmc_ensemble

TUPLES = [np.array([[0.0], [0.5]]), np.array([[0.2]] * 4)]
CFG = dict(samples=160, chains=2, warmup=30, blocks=8, key=2, algorithm="hmc", integration_steps=4, warn=False)


def _bits(ens, diag) -> dict:
    return {"sums": ens.sums.sums, "weights": ens.sums.weights, "n": np.array(ens.sums.n),
            "top": ens.sums.tail[0], "bottom": ens.sums.tail[1], "rhat": diag.rhat, "ess": diag.ess,
            "acceptance": diag.acceptance, "G": ens.full().mean, "G_err": ens.connected().stderr}


def test_ctrl_c_stops_at_a_segment_end_and_the_resumed_run_is_bitwise_uninterrupted(tmp_path, monkeypatch):
    model = nnft.compile(nnft.load("phi4_cos_1d"))
    plain = _bits(*mcmc_ensemble(model, TUPLES, chunk=16, **CFG))
    monkeypatch.setattr(checkpoints, "INTERVAL", 0.0)
    real_save, writes = checkpoints.Checkpoint.save, []

    def save_then_ctrl_c(self, *args):              # Ctrl-C arrives after the first segment's write
        real_save(self, *args)
        writes.append(args[2]["next"])
        if len(writes) == 2:
            os.kill(os.getpid(), signal.SIGINT)
    monkeypatch.setattr(checkpoints.Checkpoint, "save", save_then_ctrl_c)
    ck = tmp_path / "chains.ck.npz"
    with pytest.raises(KeyboardInterrupt), runtime.settings(checkpoint=ck):
        mcmc_ensemble(model, TUPLES, chunk=16, **CFG)
    assert writes == [0, 16]                          # after warmup, then after the first segment: stopped there
    monkeypatch.setattr(checkpoints.Checkpoint, "save", real_save)
    assert checkpoints._read(str(ck))[0]["next"] == 16
    with np.load(ck) as z:                            # a copy with the chains' state cut short is refused
        data = {k: z[k] for k in z.files}
    data["s0.chain"] = data["s0.chain"][:, :-1]
    np.savez(tmp_path / "cut.npz", **data)
    with pytest.raises(CheckpointError, match="damaged: the chains' state has shape"), \
            runtime.settings(checkpoint=tmp_path / "cut.npz", resume=True):
        mcmc_ensemble(model, TUPLES, chunk=16, **CFG)
    with runtime.settings(checkpoint=ck, resume=True):
        got = _bits(*mcmc_ensemble(model, TUPLES, chunk=32, **CFG))   # another segment length: same numbers
    for name in plain:
        assert got[name].tobytes() == plain[name].tobytes(), name
    bumped = plain["sums"].copy()                      # (R̂ is inf here: these short HMC chains barely move)
    bumped.flat[0] = np.nextafter(bumped.flat[0], np.inf)
    assert bumped.tobytes() != got["sums"].tobytes()   # the comparison sees one ulp
