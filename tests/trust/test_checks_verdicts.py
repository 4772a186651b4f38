"""Degrees of freedom, PRNG streams and expected verdicts of the checkers (issue 9, item 6)."""

import textwrap

import numpy as np
import pytest
from click.testing import CliRunner

import nnft
from nnft.checks import FAIL, check, check_cluster, check_symmetry
from nnft.checks.result import critical_z
from nnft.cli import main
from nnft.errors import SpecError


@pytest.fixture(scope="module")
def cos1():
    return nnft.compile(nnft.load("cos_net", N=2, d=1))


def test_dof_from_the_blocks_actually_used(cos1):
    """40 networks fill 20 blocks, not the 64 requested: Student-t(19) thresholds, larger than t(63)."""
    r = check_symmetry(cos1, linear_shift(), orders=(2,), configs=4, samples=40, key=1, blocks=64)
    m = 4
    assert r.threshold == pytest.approx(critical_z(1e-3, m, dof=19))
    assert r.threshold > critical_z(1e-3, m, dof=63) + 0.5
    c = check_cluster(cos1, moved=(3,), samples=60, key=2, blocks=64, distances=(0.0, 8.0))
    assert c.threshold == pytest.approx(critical_z(1e-3, 1, dof=14))     # 30 networks of N = 2 → 15 blocks


def linear_shift():
    from nnft.checks import linear
    return linear([[1.0]], [0.7], name="shift")


def test_each_check_has_its_own_stream(cos1):
    alone = check(cos1, only=["z2"], samples=2_000)
    both = check(cos1, only=["translation", "z2"], samples=2_000)
    other = check(cos1, only=["z2"], samples=2_000, seed=1)
    z = lambda rs: [r for r in rs if r.name == "z2"][0].data["z"]  # noqa: E731
    np.testing.assert_array_equal(z(alone), z(both))
    assert not np.array_equal(z(alone), z(other))
    t = [r for r in both if r.name == "translation"][0].data["z"]
    assert not np.array_equal(t[:4], z(both)[:4])                   # streams differ between checks


def _spec(tmp_path, checks: str, name="s.yaml"):
    body = textwrap.dedent("""\
        nnft: 1
        name: cos-expect
        dims: {d: 1, N: 2}
        constants: {sigma_w0: 1.0, sigma_w1: 1.0}
        params:
          W0: {shape: [N, d], density: {normal: {std: sigma_w0 / sqrt(d)}}}
          b0: {shape: [N],    density: {uniform: {low: -pi, high: pi}}}
          W1: {shape: [N],    density: {normal: {std: sigma_w1 / sqrt(N)}}}
        field: sum_N(W1 * cos(W0 @ x + b0))
        study:
          checks:
        """) + textwrap.indent(textwrap.dedent(checks), "    ")
    p = tmp_path / name
    p.write_text(body)
    return str(p)


def test_expected_fail_exits_zero_with_reason(tmp_path):
    path = _spec(tmp_path, """\
        permutation: pass
        reflection_positivity: {expect: fail, reason: "Gaussian kernel: det M < 0"}
        """)
    res = CliRunner().invoke(main, ["check", path, "--samples", "5000"])
    assert res.exit_code == 0, res.output
    assert "FAIL (expected)" in res.output and "Gaussian kernel: det M < 0" in res.output


def test_undeclared_fail_and_missed_expectation_exit_one(tmp_path):
    res = CliRunner().invoke(main, ["check", _spec(tmp_path, "reflection_positivity: run\n"), "--samples", "5000"])
    assert res.exit_code == 1 and "UNEXPECTED FAIL" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(main, ["check", _spec(tmp_path, "permutation: fail\n", "p.yaml"), "--samples", "1000"])
    assert res.exit_code == 1 and "the spec expects FAIL" in res.output
    bad = CliRunner().invoke(main, ["check", _spec(tmp_path, "clustr: fail\n", "b.yaml")])
    assert bad.exit_code == 2 and "cluster" in bad.output and "Traceback" not in bad.output


@pytest.mark.parametrize("checks,msg", [
    ({"nonsense": "fail"}, "unknown check"),
    ({"z2": "maybe"}, "unknown verdict"),
    ({"z2": {"expect": "fail", "why": "x"}}, "why"),
    (["z2", "nonsense"], "unknown check"),
    (3, "list of check names or a mapping"),
    ({"z2": {"expect": "pass", "reason": "ok\x1b]0;title\x07"}}, "control character"),
])
def test_checks_grammar_refused(checks, msg):
    d = nnft.load("cos_net", N=2, d=1).model_dump()
    d["study"]["checks"] = checks
    with pytest.raises(SpecError, match=msg) as err:
        nnft.from_dict(d)
    assert "study.checks" in str(err.value)


def test_check_names_agree():
    from nnft.spec.models import CHECK_NAMES
    assert CHECK_NAMES == nnft.checks.CHECKS


def test_checks_grammar_forms():
    d = nnft.load("cos_net", N=2, d=1).model_dump()
    d["study"]["checks"] = {"z2": "PASS", "cluster": None, "reflection_positivity": {"expect": "fail", "reason": "r"}}
    c = nnft.from_dict(d).study.checks
    assert (c["z2"].expect, c["cluster"].expect, c["reflection_positivity"].reason) == ("pass", "run", "r")
    assert nnft.checks.expectations(nnft.from_dict(d)) == {"z2": ("PASS", None), "reflection_positivity": ("FAIL", "r")}


def test_shipped_specs_declare_known_failures():
    for spec in ("cos_net", "gauss_net"):
        exp = nnft.checks.expectations(nnft.load(spec))
        assert exp["reflection_positivity"][0] == FAIL and exp["cluster"][0] == FAIL
        assert exp["reflection_positivity"][1]


def _blocks(x: np.ndarray, K: int):
    from nnft.stats import BlockSums
    b = BlockSums(K, 1)
    b.add(x.reshape(K, -1).sum(1)[:, None], np.full(K, x.size // K, float), x.size)
    return b


def test_dominance_flags_few_sample_estimates_and_not_normal_ones():
    """Cochran's C of the jackknife: normal data are flagged at most at the declared level; a lognormal
    whose mean lives in the far tail (σ_log = 5, as a Gauss-net neuron at |x| ≈ 2.5) is flagged."""
    from nnft.checks.result import dominance, jackknife_blocks
    rng = np.random.default_rng(0)
    flags = 0
    for _ in range(200):
        b = _blocks(rng.normal(size=64 * 50), 64)
        C, c = dominance(jackknife_blocks(b, lambda m: m)[2], alpha=0.05)
        flags += int(C[0] > c)
    assert flags <= 3                                   # level ≤ 0.05/64 per block-share, floor ½: ~0 expected
    heavy = 0
    for _ in range(20):
        b = _blocks(np.exp(5 * rng.normal(size=64 * 50)), 64)
        C, c = dominance(jackknife_blocks(b, lambda m: m)[2], alpha=1e-3)
        heavy += int(C[0] > c)
    assert heavy >= 15


def test_inconclusive_contradicts_no_declared_verdict():
    """A declared PASS/FAIL that a run cannot decide is reported as not confirmed, not as a contradiction
    (exit 0); a decided verdict other than the declared one is a contradiction (exit 1)."""
    from nnft.checks.result import CheckResult, table
    r = CheckResult("cluster G4", "INCONCLUSIVE", 1.0, 3.0, 1000, name="cluster", expected="FAIL", reason="finite N")
    assert r.unconfirmed and not r.unexpected
    assert "not confirmed" in table([r]) and "finite N" in table([r])
    r = CheckResult("cluster G4", "PASS", 1.0, 3.0, 1000, name="cluster", expected="FAIL")
    assert r.unexpected and not r.unconfirmed
    r = CheckResult("z2", "INCONCLUSIVE", 1.0, 3.0, 1000, name="z2", expected="INCONCLUSIVE")
    assert not r.unexpected and not r.unconfirmed
    r = CheckResult("z2", "INCONCLUSIVE", 1.0, 3.0, 1000, name="z2")
    assert not r.unexpected


@pytest.mark.parametrize("only", [",", "", " , "])
def test_only_that_names_no_check_is_refused(only):
    res = CliRunner().invoke(main, ["check", "cos_net", "--only", only])
    assert res.exit_code == 2 and "--only" in res.output and "Traceback" not in res.output
