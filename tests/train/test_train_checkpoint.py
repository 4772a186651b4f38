"""Checkpoint and resume of a training (``nnft.train(checkpoint=...)``, ``nnft train --checkpoint``): a run
killed with SIGKILL after its checkpoint appeared, then resumed on another number of devices, gives bitwise
the statistics of a run never interrupted; Ctrl-C on the command line saves the checkpoint, prints one line
and exits 130, and the file is then resumed; a checkpoint of another run, an existing file without
resume, and resume without a checkpoint are refused in one line naming what is wrong."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

import nnft
from nnft import checkpoint as checkpoints
from nnft import runtime
from nnft.cli import main
from nnft.errors import CheckpointError
from tests.speed import _runs

#: a small erf net; its ensemble trains in many small chunks, so a kill lands between checkpoints
SPEC = {"nnft": 1, "name": "erf-train", "dims": {"d": 1, "N": 8},
        "constants": {"sigma_w": 1.0, "sigma_b": 0.5},
        "params": {"W0": {"shape": ["N", "d"], "density": {"normal": {"std": "sigma_w / sqrt(d)"}}},
                   "b0": {"shape": ["N"], "density": {"normal": {"std": "sigma_b"}}},
                   "W1": {"shape": ["N"], "density": {"normal": {"std": "sigma_w / sqrt(N)"}}}},
        "field": "sum_N(W1 * erf(W0 @ x + b0))",
        "train": {"inputs": {"list": [[-1.0], [1.0]]}, "targets": [-0.5, 0.5], "test": {"list": [[0.3], [0.8]]},
                  "lr": 0.3, "steps": 2, "record": [0, 2], "networks": 768, "chunk": 4}}
N_NETS = SPEC["train"]["networks"]
PARTS = ("mean", "cov", "kappa4", "ntk", "dntk", "dntk_rms", "loss", "lin_dist")

#: the child: train SPEC_PATH [checkpoint|- fresh|resume OUT DEVICES], save every statistic's bits
TRAIN = """
import sys
runtime.enable_compile_cache()
spec, ck, mode, out, devices = sys.argv[1:6]
model = nnft.compile(nnft.load(spec))
r = nnft.train(model, checkpoint=None if ck == "-" else ck, resume=mode == "resume", devices=int(devices))
np.savez(out, **{f"{k}.{p}": getattr(getattr(r, k), p) for k in %r for p in ("mean", "stderr")}, n=r.mean.n)
""" % (PARTS,)


def _bits(r) -> dict:
    out = {f"{k}.{p}": getattr(getattr(r, k), p) for k in PARTS for p in ("mean", "stderr")}
    out["n"] = np.asarray(r.mean.n)
    return out


def _same_bits(got: dict, want: dict) -> None:
    assert set(got) == set(want)
    for k in want:
        assert np.asarray(got[k]).tobytes() == np.asarray(want[k]).tobytes(), k


def _progress(path) -> int | None:
    """Networks done in the first section of the checkpoint at ``path`` (None while there is none)."""
    try:
        return checkpoints._read(str(path))[0]["next"]
    except (FileNotFoundError, CheckpointError, KeyError):
        return None


def _wait_for_progress(path, proc, timeout=300.0) -> int:
    t0 = time.monotonic()
    while True:
        done = _progress(path)
        if done:
            return done
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.monotonic() - t0 < timeout, "no checkpoint with progress appeared"
        time.sleep(0.01)


def _child(tmp, *args, devices=1) -> list[str]:
    return [sys.executable, "-c", _runs.script(TRAIN), *map(str, args), str(devices)]


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("train_ck")
    path = tmp / "erf_train.yaml"
    path.write_text(yaml.safe_dump(SPEC))
    return tmp, path


@pytest.fixture(scope="module")
def plain(spec_file):
    """The uninterrupted training (a child process, as the runs it is compared with)."""
    tmp, path = spec_file
    res = subprocess.run(_child(tmp, path, "-", "fresh", "plain.npz"), env=_runs.env(tmp), cwd=tmp,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    return dict(np.load(tmp / "plain.npz"))


def test_killed_then_resumed_on_two_devices_is_bitwise_an_uninterrupted_run(spec_file, plain, tmp_path):
    _, path = spec_file
    ck = tmp_path / "train.ck"
    env = _runs.env(spec_file[0], NNFT_CHECKPOINT_SECONDS="0")          # a checkpoint after every chunk
    status, *_ = _runs.signalled(_child(tmp_path, path, ck, "fresh", "out.npz"), env, tmp_path,
                                 lambda proc: _wait_for_progress(ck, proc), signal.SIGKILL, timeout=60)
    assert status == -signal.SIGKILL
    saved = checkpoints._read(str(ck))[0]
    assert 0 < saved["next"] < N_NETS and saved["next"] % 4 == 0, "the kill did not land mid-run"
    assert saved["n"] == saved["next"] and saved["fingerprint"]["stream"] == "training"
    assert not (tmp_path / "out.npz").exists()
    # resumed with two devices (chunk j on device j mod 2): the device count is not in the fingerprint
    env2 = _runs.env(spec_file[0], XLA_FLAGS="--xla_force_host_platform_device_count=2")   # saves every 5 s
    res = subprocess.run(_child(tmp_path, path, ck, "resume", "out.npz", devices=2), env=env2, cwd=tmp_path,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    got = dict(np.load(tmp_path / "out.npz"))
    _same_bits(got, plain)
    assert checkpoints._read(str(ck))[0]["next"] == N_NETS              # the finished run is saved
    # the comparison can fail: one ulp in one statistic is seen
    bumped = dict(got)
    bumped["cov.mean"] = got["cov.mean"].copy()
    bumped["cov.mean"].flat[0] = np.nextafter(bumped["cov.mean"].flat[0], np.inf)
    with pytest.raises(AssertionError, match="cov.mean"):
        _same_bits(bumped, plain)


def test_cli_ctrl_c_saves_one_line_status_130_and_the_checkpoint_resumes(spec_file, plain, tmp_path):
    _, path = spec_file
    ck = tmp_path / "cli.ck"
    env = _runs.env(spec_file[0], NNFT_CHECKPOINT_SECONDS="0")
    status, out, err, lines = _runs.signalled(
        [sys.executable, "-m", "nnft.cli", "train", str(path), "--checkpoint", ck.name, "--quiet"], env, tmp_path,
        lambda proc: _wait_for_progress(ck, proc), signal.SIGINT)
    assert status == 130, err[-3000:]
    assert lines == [f"interrupted; checkpoint saved to {ck.name}, resume with --resume"], err[-3000:]
    assert out.strip() == ""                                            # no table of a partial ensemble
    done = checkpoints._read(str(ck))[0]["next"]
    assert 0 < done < N_NETS, "the interrupt did not land mid-run"
    # the file the command line wrote is continued from Python (the same theory, dynamics gd, no overrides)
    r = nnft.train(nnft.compile(nnft.load(str(path))), checkpoint=ck, resume=True)
    _same_bits(_bits(r), plain)
    # refusals on the command line: one line, status 2, before any training
    runner = CliRunner()
    for args, needle in ((["--checkpoint", str(ck), "--resume", "--seed", "1"],
                          "is of a different run: train.seed is 1 here but 0 in the file"),
                         (["--checkpoint", str(ck)], "already exists: continue it with --resume"),
                         (["--resume"], "--resume needs --checkpoint")):
        res = runner.invoke(main, ["train", str(path), "--quiet", *args])
        lines = [ln for ln in res.output.splitlines() if ln.strip()]
        assert res.exit_code == 2 and len(lines) == 1 and lines[0].startswith("error: "), res.output
        assert needle in lines[0], lines[0]


# ----------------------------------------------------------------------------- in-process: a tiny ensemble

TINY = {**SPEC, "train": {**SPEC["train"], "networks": 16}}


@pytest.fixture(scope="module")
def tiny():
    model = nnft.compile(nnft.from_dict(TINY))
    return model, _bits(nnft.train(model))


def test_ctrl_c_saves_at_the_chunk_end_and_resume_is_bitwise(tiny, tmp_path, monkeypatch):
    model, want = tiny
    monkeypatch.setattr(checkpoints, "INTERVAL", 0.0)
    real_save, writes = checkpoints.Checkpoint.save, []

    def save_then_ctrl_c(self, *args):              # Ctrl-C arrives after the second chunk's write
        real_save(self, *args)
        writes.append(args[2]["next"])
        if len(writes) == 2:
            os.kill(os.getpid(), signal.SIGINT)
    monkeypatch.setattr(checkpoints.Checkpoint, "save", save_then_ctrl_c)
    ck = tmp_path / "tiny.ck"
    with pytest.raises(KeyboardInterrupt):
        nnft.train(model, checkpoint=ck)
    assert writes == [4, 8]                          # stopped at the safe point after the write
    monkeypatch.setattr(checkpoints.Checkpoint, "save", real_save)
    assert checkpoints._read(str(ck))[0]["next"] == 8
    from nnft.training import dynamics
    real_step, starts = dynamics.chunk_step, []

    def counting(*args, **kw):                       # the chunks the resumed run trains
        step = real_step(*args, **kw)

        def run(key, start):
            starts.append(int(start))
            return step(key, start)
        return run
    monkeypatch.setattr(dynamics, "chunk_step", counting)
    with np.load(ck) as z:                           # the twin: a copy whose saved sums are changed
        data = {k: z[k] for k in z.files}
    data["s0.sums"] = data["s0.sums"] + 1.0
    np.savez(tmp_path / "changed.npz", **data)
    _same_bits(_bits(nnft.train(model, checkpoint=ck, resume=True)), want)
    assert starts == [8, 12]                         # only the networks after the checkpoint were trained
    changed = _bits(nnft.train(model, checkpoint=tmp_path / "changed.npz", resume=True))
    assert changed["mean.mean"].tobytes() != want["mean.mean"].tobytes()     # the saved sums are the ones used


def test_runtime_settings_sections_and_a_finished_file_trains_nothing(tiny, tmp_path, monkeypatch):
    model, want = tiny
    ck = tmp_path / "two.ck"
    with runtime.settings(checkpoint=ck):            # as nnft run: each training is the next section
        a = nnft.train(model)
        b = nnft.train(model, seed=1)
    assert sorted(checkpoints._read(str(ck))) == [0, 1]
    _same_bits(_bits(a), want)
    from nnft.training import dynamics

    def no_training(*args, **kw):
        raise AssertionError("a finished checkpoint trained again")
    monkeypatch.setattr(dynamics, "chunk_step", lambda *a, **k: no_training)
    with runtime.settings(checkpoint=ck, resume=True):
        _same_bits(_bits(nnft.train(model)), want)
        _same_bits(_bits(nnft.train(model, seed=1)), _bits(b))
    with pytest.raises(CheckpointError, match="resume=True, but the checkpoint of nnft.runtime.settings"), \
            runtime.settings(checkpoint=tmp_path / "new.ck"):
        nnft.train(model, resume=True)


def test_refusals_name_what_is_wrong_in_one_line(tiny, tmp_path):
    model, _ = tiny
    ck = tmp_path / "ck"
    nnft.train(model, checkpoint=ck)
    before = ck.read_bytes()
    with pytest.raises(CheckpointError, match="resume=True needs checkpoint=FILE"):
        nnft.train(model, resume=True)
    with pytest.raises(CheckpointError, match="already exists: continue it with --resume"):
        nnft.train(model, checkpoint=ck)
    assert ck.read_bytes() == before                 # never overwritten
    for over, field in (({"networks": 24}, "train.networks is 24 here but 16 in the file"),
                        ({"dtype": "float64"}, "train.dtype is 'float64' here but 'float32'"),
                        ({"chunk": 8}, "train.chunk is 8 here but 4"),
                        ({"lr": 0.2}, "lr is '0.2' here but '0.3'")):
        with pytest.raises(CheckpointError, match="is of a different run") as info:
            nnft.train(model, checkpoint=ck, resume=True, **over)
        msg = str(info.value)
        assert "\n" not in msg and field in msg, msg
        assert "train.seed" not in msg and "theory" not in msg      # only what differs is named
    with pytest.raises(CheckpointError, match="dynamics is 'flow' here but 'gd'"):
        nnft.train(model, checkpoint=ck, resume=True, dynamics="flow")
    other = nnft.compile(nnft.from_dict({**TINY, "constants": {"sigma_w": 1.5, "sigma_b": 0.5}}))
    with pytest.raises(CheckpointError, match="theory is 'erf-train #"):
        nnft.train(other, checkpoint=ck, resume=True)
    wider = nnft.compile(nnft.from_dict({**TINY, "dims": {"d": 1, "N": 16}}))
    with pytest.raises(CheckpointError, match="dims.N is 16 here but 8"):          # a size is named, not just hashed
        nnft.train(wider, checkpoint=ck, resume=True)
    unrecorded = nnft.compile(nnft.from_dict({**TINY, "train": {**TINY["train"], "record": None}}))
    with pytest.raises(CheckpointError, match=r"train.record is '\[0,1,2\]' here but '\[0,2\]'"):
        nnft.train(unrecorded, checkpoint=ck, resume=True)          # the resolved steps, not the spec's null
    with np.load(ck) as z:                           # a position off the chunk grid: damaged, refused
        data = {k: z[k] for k in z.files}
    data["s0.next"] = np.array(6)
    np.savez(tmp_path / "cut.npz", **data)
    with pytest.raises(CheckpointError, match="damaged: its position 6"):
        nnft.train(model, checkpoint=tmp_path / "cut.npz", resume=True)


def test_cli_sweep_is_one_file_and_its_resume_prints_the_same_tables(tmp_path):
    spec = {**TINY, "constants": {**TINY["constants"], "lr": 0.3}, "train": {**TINY["train"], "lr": "lr"}}
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(spec))
    ck = tmp_path / "sweep.ck"
    runner = CliRunner()
    cmd = ["train", str(path), "--set", "lr=0.2,0.3", "--checkpoint", str(ck), "--quiet"]
    first = runner.invoke(main, cmd)
    assert first.exit_code == 0, first.output
    assert sorted(checkpoints._read(str(ck))) == [0, 1]                 # one section per value
    again = runner.invoke(main, [*cmd, "--resume"])
    assert again.exit_code == 0 and again.stdout == first.stdout, again.output
    other = runner.invoke(main, ["train", str(path), "--set", "lr=0.2,0.4", "--checkpoint", str(ck), "--resume"])
    lines = [ln for ln in other.stderr.splitlines() if ln.strip()]
    assert other.exit_code == 2 and len(lines) == 1, other.stderr
    assert lines[0].startswith("error: at lr=0.4: checkpoint") and "lr is '0.4' here but '0.3'" in lines[0], lines
