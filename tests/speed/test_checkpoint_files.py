"""Checkpoint file names and contents that cannot be used are refused in one line
(:class:`nnft.errors.CheckpointError`) before any sampling; a resume with no file warns."""

import numpy as np
import pytest

from nnft.checkpoint import Checkpoint
from nnft.errors import CheckpointError, CheckpointWarning


def test_unusable_names_are_refused_before_sampling(tmp_path):
    for bad, why in [(tmp_path / "missing" / "x.ck", "does not exist"), (tmp_path, "is a directory"),
                     ("", "file name"), (123, "file name")]:
        with pytest.raises(CheckpointError, match=why):
            Checkpoint(bad)
    with pytest.raises(CheckpointError, match="True or False"):
        Checkpoint(tmp_path / "x.ck", resume="yes")


def test_damaged_or_foreign_files_are_refused(tmp_path):
    good = tmp_path / "good.ck"
    ck = Checkpoint(good)
    ck.save(0, {"what": "test"}, {"sums": np.ones((2, 3)), "weights": np.ones(2), "n": 4, "next": 1})
    raw = good.read_bytes()
    cases = {"cut.ck": raw[: len(raw) // 2], "zeroed.ck": raw[:200] + bytes(50) + raw[250:],
             "empty.ck": b""}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(CheckpointError, match="checkpoint"):
            Checkpoint(tmp_path / name, resume=True)
    np.save(tmp_path / "array.npy", np.zeros(3))
    with pytest.raises(CheckpointError, match="not an nnft checkpoint"):
        Checkpoint(tmp_path / "array.npy", resume=True)
    bad = tmp_path / "strings.ck"
    with open(bad, "wb") as f:
        np.savez(f, **{"format": np.array("nnft-checkpoint/1"), "s0.fingerprint": np.array("{}"),
                          "s0.n": np.array(1), "s0.next": np.array(1), "s0.sums": np.array(["a", "b"]),
                          "s0.weights": np.ones(1)})
    with pytest.raises(CheckpointError, match="not floating-point"):
        Checkpoint(bad, resume=True)
    assert Checkpoint(good, resume=True).sections[0]["n"] == 4          # the good one still reads


def test_resume_without_a_file_warns_and_starts_afresh(tmp_path):
    with pytest.warns(CheckpointWarning, match="starting afresh"):
        ck = Checkpoint(tmp_path / "none.ck", resume=True)
    assert ck.sections == {}


def test_a_symbolic_link_is_written_through(tmp_path):
    (tmp_path / "real").mkdir()
    link = tmp_path / "link.ck"
    link.symlink_to(tmp_path / "real" / "t.ck")
    ck = Checkpoint(link)
    ck.save(0, {"what": "test"}, {"sums": np.ones((1, 1)), "weights": np.ones(1), "n": 1, "next": 1})
    assert link.is_symlink() and (tmp_path / "real" / "t.ck").exists()


def test_resume_of_another_process_count_is_refused_not_started_afresh(tmp_path):
    """Only a two-process run's files FILE.<p>-of-2 are there: a one-process --resume is refused in one
    line naming the count (it would otherwise warn and sample everything again); the twin, a file of
    an unrelated name beside it, still warns and starts afresh."""
    base = tmp_path / "run.ck"
    for p in (0, 1):
        (tmp_path / f"run.ck.{p}-of-2").write_bytes(b"")
    with pytest.raises(CheckpointError, match=r"run\.ck was written by a run of 2 processes, this one has 1: "
                                              r"resume it with 2 processes \(--num-processes 2\)"):
        Checkpoint(base, resume=True)
    (tmp_path / "other.ck.0-of-2x").write_bytes(b"")
    with pytest.warns(CheckpointWarning, match="starting afresh"):
        assert Checkpoint(tmp_path / "other.ck", resume=True).sections == {}
