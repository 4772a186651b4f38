"""Training across two local processes joined by ``jax.distributed`` (coordinator on 127.0.0.1): each
trains the networks of its whole jackknife blocks, and after the block sums are gathered every process
holds bitwise the single-process statistics, also when its per-process checkpoint (``FILE.<p>-of-2``)
is interrupted and resumed; a divergence in the networks of one process only is raised, the same, by
both (with a timeout: neither waits for the other forever); a checkpoint of another process count is
refused in one line."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import nnft
from nnft.errors import CheckpointError
from tests.speed import _runs
from tests.speed.test_processes import JOIN, _two_processes
from tests.train import test_train_checkpoint as checkpointed

#: erf net, 48 networks in chunks of 5: 24 blocks, process 0 trains networks 0..23, process 1 24..47, so
#: the chunk 20..24 is trained by both, each keeping its own networks
SPEC = {**checkpointed.SPEC, "train": {**checkpointed.SPEC["train"], "networks": 48, "chunk": 5}}
#: width 2 at lr 1.25 (η_crit of the theory 1.15), seed 1: some networks diverge, the first of them is
#: network 18 of 32, one of process 1's (16..31); process 0's all converge
DIVERGING = {"N": 2, "networks": 32, "chunk": 4, "steps": 60, "record": [0, 60], "lr": 1.25, "seed": 1,
             "test": {"list": [[0.3]]}}
PARTS = checkpointed.PARTS

#: the child (one process, or each of two): a plain training, one checkpointed training stopped right after
#: its second save and then resumed, a resume of another process count's file, and the diverging training
BODY = """
import jax
from nnft import checkpoint as checkpoints
from nnft.errors import CheckpointError, SamplingError
SPEC, DIVERGING, PARTS = %r, %r, %r
checkpoints.INTERVAL = 0.0                         # a save after every chunk
tag = f"p{jax.process_index()}" if jax.process_count() > 1 else "single"
model = nnft.compile(nnft.from_dict(SPEC))


def bits(prefix, r):
    return {f"{prefix}.{k}.{p}": getattr(getattr(r, k), p) for k in PARTS for p in ("mean", "stderr")}


out = bits("plain", nnft.train(model))


class Stop(Exception):
    pass


save, calls = checkpoints.Checkpoint.save, []


def stop_at_second_save(self, *args):
    save(self, *args)
    calls.append(1)
    if len(calls) == 2:
        raise Stop


checkpoints.Checkpoint.save = stop_at_second_save
try:
    nnft.train(model, checkpoint="train.ck")
except Stop:
    pass
checkpoints.Checkpoint.save = save
ck = "train.ck" if jax.process_count() == 1 else f"train.ck.{jax.process_index()}-of-{jax.process_count()}"
out["stopped_at"] = np.array(checkpoints._read(ck)[0]["next"])
out.update(bits("resumed", nnft.train(model, checkpoint="train.ck", resume=True)))
out["trained"] = np.array(checkpoints._read(ck)[0]["n"])      # the networks this process trained
np.savez(f"{tag}.npz", **out)
try:
    nnft.train(model, checkpoint="one.ck", resume=True)
    print("no error")
except CheckpointError as err:
    print("CheckpointError:", err)
diverging = nnft.compile(nnft.from_dict(dict(SPEC, dims={"d": 1, "N": DIVERGING["N"]})))
try:
    nnft.train(diverging, **{k: v for k, v in DIVERGING.items() if k != "N"})
    print("no error")
except SamplingError as err:
    print("SamplingError:", err)
""" % (SPEC, DIVERGING, PARTS)


def _lines(out: str, start: tuple) -> list[str]:
    return [ln for ln in out.splitlines() if ln.startswith(start)]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("train_processes")
    (tmp / "one.ck").write_text("")                  # stands for the file of a one-process run
    single = _runs.run(_runs.script(BODY), tmp, timeout=240)
    assert single.returncode == 0, single.stderr[-3000:]
    pair = _two_processes(tmp, BODY, timeout=240)          # killed past the timeout: a hang fails the test
    for code, _, err in pair:
        assert code == 0, err[-3000:]
    return {"tmp": tmp, "single": (dict(np.load(tmp / "single.npz")), single.stdout),
            **{f"p{i}": (dict(np.load(tmp / f"p{i}.npz")), out) for i, (_, out, _) in enumerate(pair)}}


@pytest.mark.parametrize("process", ["p0", "p1"])
def test_every_process_returns_the_single_process_training_bitwise(runs, process):
    one, got = runs["single"][0], runs[process][0]
    for name in one:
        if name not in ("stopped_at", "trained"):
            assert got[name].tobytes() == one[name].tobytes(), name
    assert not np.array_equal(one["plain.mean.mean"][-1], one["plain.mean.mean"][0])   # trained: f moved


@pytest.mark.parametrize("process", ["p0", "p1"])
def test_a_stopped_per_process_checkpoint_resumes_bitwise(runs, process):
    one, got = runs["single"][0], runs[process][0]
    lo, hi = {"p0": (0, 24), "p1": (24, 48)}[process]
    assert lo < int(got["stopped_at"]) < hi               # stopped mid-way through the process's networks
    assert int(got["trained"]) == hi - lo and int(one["trained"]) == 48                 # each its own half
    for k in PARTS:
        for p in ("mean", "stderr"):
            assert got[f"resumed.{k}.{p}"].tobytes() == one[f"plain.{k}.{p}"].tobytes(), (k, p)


def test_a_divergence_in_one_process_is_raised_the_same_by_both(runs):
    expected = _lines(runs["single"][1], ("SamplingError", "no error"))
    assert len(expected) == 1 and expected[0].startswith("SamplingError: training diverged: network 18 "), expected
    for process in ("p0", "p1"):
        assert _lines(runs[process][1], ("SamplingError", "no error")) == expected, process


def test_resuming_a_checkpoint_of_another_process_count_is_refused_in_one_line(runs, tmp_path):
    for process in ("p0", "p1"):
        got = _lines(runs[process][1], ("CheckpointError", "no error"))
        assert len(got) == 1 and "one.ck was written by a run of 1 process, this one has 2" in got[0], got
    for i in (0, 1):                                       # the two processes' files, resumed by one process
        shutil.copy(runs["tmp"] / f"train.ck.{i}-of-2", tmp_path / f"train.ck.{i}-of-2")
    model = nnft.compile(nnft.from_dict(SPEC))
    with pytest.raises(CheckpointError, match=r"written by a run of 2 processes, this one has 1: resume it "
                                              r"with 2 processes \(--num-processes 2\)") as err:
        nnft.train(model, checkpoint=tmp_path / "train.ck", resume=True)
    assert "\n" not in str(err.value)


def test_the_cli_refuses_another_process_count_in_one_line(runs, tmp_path):
    import yaml
    from click.testing import CliRunner

    from nnft.cli import main
    for i in (0, 1):
        shutil.copy(runs["tmp"] / f"train.ck.{i}-of-2", tmp_path / f"train.ck.{i}-of-2")
    (tmp_path / "erf_train.yaml").write_text(yaml.safe_dump(SPEC))
    res = CliRunner().invoke(main, ["train", str(tmp_path / "erf_train.yaml"), "--checkpoint",
                                    str(tmp_path / "train.ck"), "--resume", "--quiet"])
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert res.exit_code == 2 and len(lines) == 1 and "--num-processes 2" in lines[0], res.output
