"""Two local processes joined by ``jax.distributed`` (coordinator on 127.0.0.1) each take whole
jackknife blocks; after the block sums are gathered every process holds the same numbers, bitwise
equal to a single-process run. A failure in one process is raised, the same, in both."""

from __future__ import annotations

import numpy as np
import pytest

from . import _runs

JOIN = """
import sys
from nnft import runtime as _rt
_rt.init_distributed(sys.argv[1], 2, int(sys.argv[2]))
"""

BODY = """
import jax
assert jax.process_count() == 2
np.savez(f"p{jax.process_index()}.npz", **measure_all(neurons=False))
"""

SINGLE = """
np.savez("single.npz", **measure_all(neurons=False))
"""


def _two_processes(tmp, body: str, timeout: float = 600):
    import subprocess
    import sys
    port = _runs.free_port()
    code = _runs.script(body, JOIN)
    procs = [subprocess.Popen([sys.executable, "-c", code, f"127.0.0.1:{port}", str(i)], env=_runs.env(tmp),
                              cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in (0, 1)]
    outs = []
    try:
        for p in procs:
            outs.append(p.communicate(timeout=timeout))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    return [(p.returncode, o, e) for p, (o, e) in zip(procs, outs)]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("processes")
    res = _runs.run(_runs.script(SINGLE), tmp)
    assert res.returncode == 0, res.stderr[-3000:]
    for code, out, err in _two_processes(tmp, BODY):
        assert code == 0, err[-3000:]
    return {name: dict(np.load(tmp / f"{name}.npz")) for name in ("single", "p0", "p1")}


@pytest.mark.parametrize("process", ["p0", "p1"])
def test_every_process_returns_the_single_process_result_bitwise(runs, process):
    one, got = runs["single"], runs[process]
    assert set(got) == set(one) and "phi4.weights2" in one and "cos.top_neg" in one
    for name in one:
        assert got[name].tobytes() == one[name].tobytes(), name


def test_a_different_result_would_be_seen(runs):
    one = runs["single"]
    shifted = one["cos.sums"].copy()
    shifted[-1] = np.nextafter(shifted[-1], np.inf)       # one ulp in the last block
    assert shifted.tobytes() != runs["p1"]["cos.sums"].tobytes()


def test_a_non_finite_network_is_raised_by_both_processes(tmp_path):
    body = """
    import jax
    from nnft.errors import SamplingError
    d = nnft.load("cos_net", N=16).model_dump()
    d["field"] = "1e160 * sum_N(W1 * cos(W0 @ x + b0))"       # phi^4 ~ 1e640 overflows float64
    m = nnft.compile(nnft.from_dict(d))
    try:
        nnft.measure(m, [[[0.0, 0.0]] * 4], samples=2000, key=0, chunk=64, blocks=8, dtype="float64")
        print("no error")
    except SamplingError as err:
        print("SamplingError:", str(err).split(";")[0])
    """
    single = _runs.run(_runs.script(body), tmp_path)
    assert single.returncode == 0, single.stderr[-3000:]
    results = _two_processes(tmp_path, body)
    lines = [[ln for ln in out.splitlines() if ln.startswith(("SamplingError", "no error"))] for _, out, _ in results]
    expected = [ln for ln in single.stdout.splitlines() if ln.startswith(("SamplingError", "no error"))]
    assert all(code == 0 for code, _, _ in results), [e[-2000:] for _, _, e in results]
    assert lines[0] == lines[1] == expected and expected[0].startswith("SamplingError")


@pytest.mark.parametrize("args,env,needle", [
    (["--coordinator", "127.0.0.1:1"], {}, "together"),
    (["--coordinator", "nohost", "--num-processes", "2", "--process-id", "0"], {}, "host:port"),
    (["--coordinator", "127.0.0.1:1", "--num-processes", "2", "--process-id", "2"], {}, "process_id"),
    ([], {"NNFT_NUM_PROCESSES": "two"}, "NNFT_NUM_PROCESSES"),
])
def test_incomplete_or_malformed_process_options_are_one_line_errors(tmp_path, args, env, needle):
    import subprocess
    import sys
    res = subprocess.run([sys.executable, "-m", "nnft.cli", *args, "specs"], env=_runs.env(tmp_path, **env),
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert res.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], \
        res.stderr[-2000:]
