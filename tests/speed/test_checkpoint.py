"""Checkpoint and resume: a run killed with SIGKILL after its checkpoint appeared, then resumed, gives
bitwise the result of a run never interrupted; a checkpoint of another run is refused in one line
naming what differs; Ctrl-C on the command line saves the checkpoint, prints one line and exits 130."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from . import _runs

#: a run long enough to be killed in the middle: many small work items, a checkpoint after each few
RUN = """
import sys
from nnft import checkpoint as _ck
samples = int(sys.argv[1]) if len(sys.argv) > 1 else 120_000
ck = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] != "-" else None
resume = len(sys.argv) > 3 and sys.argv[3] == "resume"
cos = nnft.compile(nnft.load("cos_net", N=8))
phi4 = nnft.compile(nnft.load("phi4_cos_1d"))
with runtime.settings(checkpoint=ck, resume=resume):
    out = arrays("cos", nnft.ensemble(cos, COS_TUPLES, samples=samples, key=5, chunk=64, blocks=16))
    out.update(arrays("phi4", nnft.ensemble(phi4, PHI4_TUPLES, samples=samples // 4, key=5, chunk=64, blocks=16)))
np.savez(sys.argv[4] if len(sys.argv) > 4 else "out.npz", **out)
"""


def _argv(*args) -> list[str]:
    return [sys.executable, "-c", _runs.script(RUN), *map(str, args)]


def _wait_for(path, proc, timeout=300.0) -> None:
    t0 = time.monotonic()
    while not os.path.exists(path):
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.monotonic() - t0 < timeout, "no checkpoint appeared"
        time.sleep(0.01)


def _sections(path) -> dict:
    from nnft.checkpoint import _read
    return _read(str(path))


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("uninterrupted")
    res = subprocess.run(_argv(120_000, "-", "fresh", "plain.npz"), env=_runs.env(tmp), cwd=tmp,
                         capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    return dict(np.load(tmp / "plain.npz")), tmp


def test_killed_then_resumed_is_bitwise_an_uninterrupted_run(uninterrupted, tmp_path):
    plain, _ = uninterrupted
    ck = tmp_path / "run.ck.npz"
    env = _runs.env(tmp_path, NNFT_CHECKPOINT_SECONDS="0.2")

    def under_way(proc):
        _wait_for(ck, proc)
        time.sleep(0.3)
    status, *_ = _runs.signalled(_argv(120_000, ck, "fresh", "out.npz"), env, tmp_path, under_way, signal.SIGKILL,
                                 timeout=60)
    assert status == -signal.SIGKILL
    saved = _sections(ck)
    assert 0 < saved[0]["n"] < 120_000, "the kill did not land mid-run"       # part of the first stream done
    assert not (tmp_path / "out.npz").exists()
    res = subprocess.run(_argv(120_000, ck, "resume", "out.npz"), env=env, cwd=tmp_path, capture_output=True,
                         text=True, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    got = dict(np.load(tmp_path / "out.npz"))
    assert set(got) == set(plain) and "phi4.weights2" in got and "cos.top_pos" in got
    for name in plain:
        assert got[name].tobytes() == plain[name].tobytes(), name
    # a finished checkpoint is the result: resuming it again samples nothing and gives the same bits
    done = _sections(ck)
    assert [s["n"] for s in done.values()] == [120_000, 30_000]
    res = subprocess.run(_argv(120_000, ck, "resume", "again.npz"), env=env, cwd=tmp_path, capture_output=True,
                         text=True, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    again = dict(np.load(tmp_path / "again.npz"))
    assert all(again[k].tobytes() == plain[k].tobytes() for k in plain)


def test_a_damaged_resume_would_be_seen(uninterrupted):
    """The comparison above can fail: the same run with a block sum changed by one ulp differs."""
    plain, _ = uninterrupted
    sums = plain["cos.sums"].copy()
    sums[3, 0] = np.nextafter(sums[3, 0], np.inf)
    assert sums.tobytes() != plain["cos.sums"].tobytes()


def _stream_once(path, *, samples=2000, key=0, resume=False, dtype="float32"):
    import nnft
    from nnft.estimators.npoint import Plan, accumulate  # noqa: F401
    from nnft.sample.iid import stream
    import jax.numpy as jnp
    model = nnft.compile(nnft.load("cos_net", N=4))
    plan = Plan([np.zeros((2, 2))], model.d)
    pts = np.asarray(plan.points)

    def values(theta):
        return model.fields(theta, jnp.asarray(pts, dtype=next(iter(theta.values())).dtype))[:, None, :]

    return stream(model, key, samples, values, plan.features, plan.n_features, chunk=256, n_blocks=8, dtype=dtype,
                  cache_key=("fields", plan.signature), points=len(pts), checkpoint=path, resume=resume)


def test_a_checkpoint_of_another_run_is_refused_naming_what_differs(tmp_path):
    from nnft.errors import CheckpointError
    ck = tmp_path / "ck.npz"
    first = _stream_once(ck)
    assert ck.exists()
    again = _stream_once(ck, resume=True)                       # the finished run, read back
    assert again.sums.tobytes() == first.sums.tobytes() and again.n == first.n
    with pytest.raises(CheckpointError) as info:
        _stream_once(ck, samples=3000, key=1, resume=True)
    msg = str(info.value)
    assert "\n" not in msg and "n_samples is 3000 here but 2000 in the file" in msg and "key is" in msg
    assert "dtype" not in msg and "chunk" not in msg          # only what differs is named
    with pytest.raises(CheckpointError, match="dtype is 'float64' here but 'float32'"):
        _stream_once(ck, dtype="float64", resume=True)


def test_an_existing_checkpoint_is_never_overwritten_without_resume(tmp_path):
    from nnft.errors import CheckpointError
    ck = tmp_path / "ck.npz"
    _stream_once(ck)
    before = ck.read_bytes()
    with pytest.raises(CheckpointError, match="already exists"):
        _stream_once(ck)
    assert ck.read_bytes() == before


def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path):
    from nnft.errors import CheckpointError
    bad = tmp_path / "bad.npz"
    np.savez(bad, x=np.zeros(3))
    with pytest.raises(CheckpointError, match="not an nnft checkpoint"):
        _stream_once(bad, resume=True)
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(CheckpointError, match="not a readable nnft checkpoint"):
        _stream_once(tmp_path / "junk.npz", resume=True)


def test_the_checkpoint_holds_no_pickled_objects(tmp_path):
    ck = tmp_path / "ck.npz"
    _stream_once(ck)
    with np.load(ck, allow_pickle=False) as z:                   # would raise on an object array
        assert all(z[k].dtype != object for k in z.files)


def _cli(tmp_path, *args, **env):
    return [sys.executable, "-m", "nnft.cli", "run", "cos_net", "--samples", "300000", "--seed", "3", "--chunk", "256",
            "--neurons", "0", "--points", "0,0;0.5,0", *args]


def test_ctrl_c_saves_the_checkpoint_and_exits_130_then_resume_gives_the_same_table(tmp_path):
    env = _runs.env(tmp_path, NNFT_CHECKPOINT_SECONDS="0.2")
    plain = subprocess.run(_cli(tmp_path), env=env, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert plain.returncode == 0, plain.stderr[-3000:]
    ck = tmp_path / "cli.ck.npz"
    status, out, err, lines = _runs.signalled(_cli(tmp_path, "--checkpoint", ck.name), env, tmp_path,
                                              lambda proc: _wait_for(ck, proc), signal.SIGINT)
    assert status == 130, err[-3000:]
    assert lines == [f"interrupted; checkpoint saved to {ck.name}, resume with --resume"], err[-3000:]
    assert _sections(ck)[0]["n"] < 300_000, "the interrupt did not land mid-run"
    res = subprocess.run(_cli(tmp_path, "--checkpoint", ck.name, "--resume"), env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout == plain.stdout


@pytest.mark.slow
def test_repeated_ctrl_c_while_exiting_is_still_one_line(tmp_path):
    """Ctrl-C pressed three times within 0.1 s: status 130 and one line, never "Exception ignored in
    atexit callback" (further Ctrl-C are ignored once the first has been handled)."""
    env = _runs.env(tmp_path, NNFT_CHECKPOINT_SECONDS="0.2")
    ck = tmp_path / "twice.ck.npz"
    proc = subprocess.Popen(_cli(tmp_path, "--checkpoint", ck.name), env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(ck, proc)
        for _ in range(3):
            proc.send_signal(signal.SIGINT)
            time.sleep(0.04)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert proc.returncode == 130 and len(lines) == 1 and lines[0].startswith("interrupted"), err[-3000:]


@pytest.mark.parametrize("args,needle", [
    (["--resume"], "--resume needs --checkpoint"),
    (["--devices", "0"], "--devices"),
    (["--devices", "64"], "devices = 64"),
])
def test_cli_options_are_checked_in_one_line(tmp_path, args, needle):
    res = subprocess.run(_cli(tmp_path, *args), env=_runs.env(tmp_path), cwd=tmp_path, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 2
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], res.stderr[-2000:]


def test_cli_refuses_an_existing_checkpoint_without_resume(tmp_path):
    ck = tmp_path / "x.npz"
    _stream_once(ck)
    res = subprocess.run(_cli(tmp_path, "--checkpoint", ck.name), env=_runs.env(tmp_path), cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and "already exists" in res.stderr, res.stderr


PROGRESS = """
import sys
from nnft.estimators.npoint import Plan
from nnft.sample.iid import stream
import jax.numpy as jnp
mode = {"auto": None, "off": False, "on": True}[sys.argv[1]]
runtime.PROGRESS_DELAY = 0.0          # the bar waits for nothing (normally it shows after 2 s of a run)
model = nnft.compile(nnft.load("cos_net", N=8))
plan = Plan([np.zeros((2, 2))], model.d)
pts = np.asarray(plan.points)

def values(theta):
    return model.fields(theta, jnp.asarray(pts, dtype=next(iter(theta.values())).dtype))[:, None, :]

stream(model, 0, int(sys.argv[2]), values, plan.features, plan.n_features, chunk=64, n_blocks=8,
       cache_key=("fields", plan.signature), points=len(pts), progress=mode)
print("done")
"""


def _on_a_terminal(tmp_path, mode: str, samples: int) -> str:
    """Run the PROGRESS child with stderr on a pseudo-terminal; what it wrote there."""
    import fcntl
    import pty
    import struct
    import termios
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))     # a 100-column terminal
    try:
        proc = subprocess.Popen([sys.executable, "-c", _runs.script(PROGRESS), mode, str(samples)],
                                env=_runs.env(tmp_path), cwd=tmp_path, stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        proc.wait(timeout=600)
    finally:
        os.close(master)
    assert proc.returncode == 0, b"".join(chunks)[-2000:]
    return b"".join(chunks).decode(errors="replace")


def test_progress_is_shown_on_a_terminal_for_a_long_run_and_not_when_off(tmp_path):
    shown = _on_a_terminal(tmp_path, "auto", 20_000)
    assert "net/s" in shown or "net]" in shown, shown[-2000:]
    assert "cos" in shown                                    # the bar names the theory
    assert _on_a_terminal(tmp_path, "off", 20_000).strip() == ""


def test_no_progress_when_stderr_is_not_a_terminal(tmp_path):
    res = subprocess.run([sys.executable, "-c", _runs.script(PROGRESS), "auto", "20000"], env=_runs.env(tmp_path),
                         cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0 and res.stderr.strip() == "", res.stderr[-2000:]


def test_a_checkpoint_with_damaged_arrays_is_refused(tmp_path):
    from nnft.errors import CheckpointError
    ck = tmp_path / "ck.npz"
    _stream_once(ck)
    with np.load(ck) as z:
        data = {k: z[k] for k in z.files}
    data["s0.sums"] = data["s0.sums"][:, :1]
    np.savez(ck, **data)
    with pytest.raises(CheckpointError, match="damaged: sums has shape"):
        _stream_once(ck, resume=True)


JOIN_FROM_ENV = """
from nnft import runtime as _rt
_rt.init_distributed()           # NNFT_COORDINATOR, NNFT_NUM_PROCESSES, NNFT_PROCESS_ID
"""


def _two(tmp_path, port, *args):
    code = _runs.script(RUN, JOIN_FROM_ENV)
    return [subprocess.Popen([sys.executable, "-c", code, *map(str, args[:3]), f"out{i}.npz"],
                             env=_runs.env(tmp_path, NNFT_CHECKPOINT_SECONDS="0.2",
                                           NNFT_COORDINATOR=f"127.0.0.1:{port}", NNFT_NUM_PROCESSES=2,
                                           NNFT_PROCESS_ID=i),
                             cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in (0, 1)]


@pytest.mark.slow
def test_two_processes_killed_then_resumed_are_bitwise_an_uninterrupted_run(uninterrupted, tmp_path):
    """Each process checkpoints its own blocks (FILE.<process>-of-2); both killed with SIGKILL, both
    resumed: every process returns the single-process result bit for bit. The line gloo prints when the
    processes connect stays off stdout."""
    plain, _ = uninterrupted
    ck = tmp_path / "run.ck.npz"
    procs = _two(tmp_path, _runs.free_port(), 120_000, ck, "fresh")
    try:
        for i, p in enumerate(procs):
            _wait_for(f"{ck}.{i}-of-2", p)
        time.sleep(0.3)
        for p in procs:
            p.send_signal(signal.SIGKILL)
            p.communicate(timeout=60)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert [p.returncode for p in procs] == [-signal.SIGKILL] * 2
    saved = [_sections(f"{ck}.{i}-of-2")[0]["n"] for i in (0, 1)]
    assert 0 < min(saved) and sum(saved) < 120_000, ("the kill did not land mid-run", saved)
    procs = _two(tmp_path, _runs.free_port(), 120_000, ck, "resume")
    results = [p.communicate(timeout=900) for p in procs]
    for p, (out, err) in zip(procs, results):
        assert p.returncode == 0, err[-3000:]
        assert "[Gloo]" not in out, out[-2000:]
    for i in (0, 1):
        got = dict(np.load(tmp_path / f"out{i}.npz"))
        assert set(got) == set(plain)
        for name in plain:
            assert got[name].tobytes() == plain[name].tobytes(), (i, name)


@pytest.mark.parametrize("process", [0, 1])
def test_a_missing_peer_is_one_line_and_status_2_after_the_timeout(tmp_path, process):
    """Process 0 (the coordinator) waiting for a peer that never comes, and process 1 with no
    coordinator to reach: JAX would abort after its own deadline with a C++ stack trace."""
    res = subprocess.run([sys.executable, "-m", "nnft.cli", "--coordinator", f"127.0.0.1:{_runs.free_port()}",
                          "--num-processes", "2", "--process-id", str(process), "specs"],
                         env=_runs.env(tmp_path, NNFT_DISTRIBUTED_TIMEOUT="2"), cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert res.returncode == 2, res.stderr[-2000:]
    assert len(lines) == 1 and lines[0].startswith("error: ") and f"process {process} of 2" in lines[0], lines
    assert "NNFT_DISTRIBUTED_TIMEOUT" in lines[0]


def test_the_join_timeout_is_checked():
    from nnft import runtime
    from nnft.errors import InputError
    assert runtime.join_timeout(5) == 5.0
    for bad in (0, -1, 1e9, "5", True):
        with pytest.raises(InputError, match="seconds"):
            runtime.join_timeout(bad)
