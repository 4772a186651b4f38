"""Sweeps (``nnft.run_sweep``, ``nnft run --set NAME=v1,v2,...``): one study per value with the same
seed, so a sweep equals separate runs of specs edited by hand, bitwise."""

import pytest
from click.testing import CliRunner

import nnft
from nnft.cli import main
from nnft.spec.load import read_mapping, resolve
from nnft.sweep import swept_value, theories

PTS = [[0.0, 0.0], [0.5, 0.0]]
RUN = dict(samples=200, points=PTS, orders=[2], neurons=0)


def _edited(sigma_w1):
    data = read_mapping(resolve("cos_net"))
    data["dims"] = {**data["dims"], "N": 4}
    data["constants"] = {**data["constants"], "sigma_w1": sigma_w1}
    return nnft.from_dict(data)


def _numbers(report):
    return [(r.full, r.connected, r.exact_full) for r in report.rows]


def test_sweep_equals_separate_runs_of_edited_specs():
    sw = nnft.run_sweep("cos_net", "sigma_w1", [0.5, 1.5], overrides={"N": 4}, **RUN)
    assert isinstance(sw, nnft.Sweep) and sw.values == [0.5, 1.5] and len(sw.reports) == 2
    for v, rep in sw:
        assert _numbers(rep) == _numbers(nnft.run(_edited(v), **RUN))    # bitwise: same seed per value
        assert rep.seed == 0 and rep.theory.constants["sigma_w1"] == v
    # the values differ as the theory says: G2(x, x) = σ_w1²/2, MC within |z| < 5; a wrong σ_w1 fails
    for v, rep in sw:
        (m, e) = rep.rows[0].full
        assert abs(m - v ** 2 / 2) / e < 5
        assert abs(m - (2.0 - v) ** 2 / 2) / e > 5
    table = sw.table()
    head = next(ln for ln in table.splitlines() if "G (MC)" in ln)
    assert head.split()[0] == "sigma_w1"                                   # the swept value is the first column
    assert [ln.split()[0] for ln in table.splitlines()[-4:]] == ["0.5", "1.5", "1.5", "1.5"]


def test_sweep_of_a_size_and_of_a_path():
    assert [t.dims["N"] for t in theories("cos_net", "N", [2, "3"])] == [2, 3]          # validated, not run
    assert [t.study.samples for t in theories("cos_net", "study.samples", ["1e3", 20])] == [1000, 20]
    assert [swept_value(t, "study.samples") for t in theories("cos_net", "study.samples", ["1e3"])] == [1000]
    sw = nnft.run_sweep(_edited(1.0), "study.seed", [0, 1], **RUN)
    assert [r.seed for r in sw.reports] == [0, 1]
    assert _numbers(sw.reports[0]) != _numbers(sw.reports[1])


@pytest.mark.parametrize("name, values, over, words", [
    ("sigma_w1", [], None, "at least one value"),
    ("sigma_w1", 0.9, None, "values are a list"),
    ("sigma_w1", "0.9,1.0", None, "values are a list"),
    ("sigma_w2", [0.9], None, "did you mean 'sigma_w1'"),
    ("sigma_w1", [0.9, "abc"], None, "must be a number"),
    ("N", [2, 2.5], None, "size N must be an integer"),
    ("N", [2], {"N": 3}, "both swept and overridden"),
])
def test_bad_sweeps_refused_before_running(name, values, over, words):
    with pytest.raises(nnft.SpecError, match=words):
        nnft.run_sweep("cos_net", name, values, overrides=over, **RUN)


ARGS = ["run", "cos_net", "--set", "N=4", "--samples", "200", "--neurons", "0", "--points", "0,0;0.5,0",
        "--orders", "2", "--quiet"]


def _rows(output):
    """The MC columns (G ± err, G_c ± err) of the table rows."""
    return [ln.split("   ")[0].split()[-3:] for ln in output.splitlines() if "±" in ln]


def test_cli_sweep_equals_separate_cli_runs():
    r = CliRunner().invoke(main, ARGS + ["--set", "sigma_w1=0.5,1.5"])
    assert r.exit_code == 0, r.output
    assert "sweep over sigma_w1: 0.5, 1.5" in r.output
    rows = [ln for ln in r.output.splitlines() if "±" in ln]
    assert [ln.split()[0] for ln in rows] == ["0.5", "0.5", "0.5", "1.5", "1.5", "1.5"]
    for v in ("0.5", "1.5"):
        one = CliRunner().invoke(main, ARGS + ["--set", f"sigma_w1={v}"])
        assert one.exit_code == 0, one.output
        mine = [ln.split(None, 1)[1].split() for ln in rows if ln.split()[0] == v]
        theirs = [ln.split() for ln in one.output.splitlines() if "±" in ln]
        assert [m[2:5] for m in mine] == [t[2:5] for t in theirs]         # G (MC) ± err, same digits


@pytest.mark.parametrize("extra, words", [
    (["--set", "sigma_w1=0.5,abc"], "sigma_w1 must be a number"),
    (["--set", "sigma_w1=0.5,"], "empty item"),
    (["--set", "sigma_w1=0.5,1", "--set", "sigma_w0=1,2"], "one sweep at a time"),
    (["--set", "sigma_w0=1,1e"], "sigma_w0 must be a number"),
    (["--set", "sigma_w2=0.5,1"], "did you mean 'sigma_w1'"),
    (["--set", "sigma_w1=0.5,1", "--resume"], "--resume needs --checkpoint"),
])
def test_cli_bad_sweep_is_one_line_exit_2(extra, words):
    r = CliRunner().invoke(main, ARGS + extra)
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and words in r.output, r.output
