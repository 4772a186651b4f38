"""Known-answer benchmark of the axiom checkers (TASI §3.3, §5.1) at fixed seeds."""

import numpy as np
import pytest

import nnft
from nnft.analytic import cos_net_g2, scalar_net_g2
from nnft.checks import (FAIL, INCONCLUSIVE, PASS, CheckResult, check_cluster, check_reflection_positivity,
                         check_symmetry, linear, positive_time_points, rp_analytic, table)
from nnft.graph.symmetry import static_symmetries


@pytest.fixture(scope="module")
def cos1():
    return nnft.compile(nnft.load("cos_net", N=2, d=1))


@pytest.fixture(scope="module")
def gauss2():
    return nnft.compile(nnft.load("gauss_net", N=2))


def scalar(L):
    d = nnft.load("scalar_net").model_dump()
    d["constants"]["Lambda"] = float(L)
    return nnft.compile(nnft.from_dict(d))


# ------------------------------------------------------------------ static analysis
@pytest.mark.parametrize("spec,proven,absent", [
    ("cos_net", {"translation", "rotation", "z2", "permutation"}, set()),
    ("cos_net_skewed", {"translation", "z2"}, set()),
    ("gauss_net", {"rotation", "z2"}, {"translation"}),
    ("gauss_net_skewed", {"rotation"}, {"translation", "z2"}),
    ("scalar_net", {"translation", "rotation", "z2"}, set()),
    ("rp_scalar_2d", {"translation", "z2"}, {"rotation"}),
])
def test_static_symmetries(spec, proven, absent):
    s = static_symmetries(nnft.compile(nnft.load(spec)).graph)
    assert proven <= set(s.proven) and not (absent & set(s.proven))
    if "translation" in proven:
        assert "b0" in s.proven["translation"]


@pytest.mark.parametrize("N", [2, 64, 4096])
def test_cos_net_translation_by_construction_at_every_N(N):
    r = check_symmetry(nnft.compile(nnft.load("cos_net", N=N)), "translation", statistical=False)
    assert r.verdict == PASS and r.basis.startswith("by construction") and r.samples == 0


# ------------------------------------------------------------------ symmetries
def test_translation_cos_pass_gauss_fail(cos1, gauss2):
    r = check_symmetry(cos1, "translation", orders=(2,), samples=50_000, key=1)
    assert r.verdict == PASS, r
    r4 = check_symmetry(cos1, "translation", orders=(4,), configs=4, samples=100_000, key=2, radius=0.5)
    assert r4.verdict != FAIL
    g = check_symmetry(gauss2, nnft.checks.symmetry.translation(0.5), orders=(4,), configs=4, samples=100_000,
                       key=3, radius=0.5)
    assert g.verdict == FAIL and g.statistic > g.threshold
    assert g.evidence[0]["significant"] and "gx" in g.evidence[0]
    g2 = check_symmetry(gauss2, "translation", orders=(2,), samples=50_000, key=4, radius=0.5)
    assert g2.verdict != FAIL                       # G2 of the Gauss-net is translation invariant (heavy tails)


def test_reflection_and_user_map(gauss2, cos1):
    assert check_symmetry(gauss2, "reflection", orders=(2,), samples=50_000, key=5, radius=0.5).verdict == PASS
    # x -> 2x is not a symmetry of G2
    r = check_symmetry(cos1, linear([[2.0]], name="dilation"), orders=(2,), samples=50_000, key=6)
    assert r.verdict == FAIL


def test_rotation_d2():
    m = nnft.compile(nnft.load("cos_net", N=4))
    r = check_symmetry(m, "rotation", orders=(2,), samples=50_000, key=7)
    assert r.verdict == PASS and "by construction" in r.basis
    rp = nnft.compile(nnft.load("rp_scalar_2d", N=8))     # time and space are different: not SO(2)
    r2 = check_symmetry(rp, "rotation", orders=(2,), samples=100_000, key=8, radius=2.0)
    assert r2.verdict == FAIL and r2.basis == "statistical"


def test_permutation_is_exact(cos1):
    r = check_symmetry(cos1, "permutation", orders=(4,), configs=3, samples=5_000)
    assert r.verdict == PASS and r.statistic == 0


def test_z2_skewed_readout():
    g = nnft.compile(nnft.load("gauss_net_skewed"))
    c = nnft.compile(nnft.load("cos_net_skewed"))
    rg = check_symmetry(g, "z2", orders=(1, 3), samples=50_000, key=9, radius=0.5)
    rc = check_symmetry(c, "z2", orders=(1, 3), samples=50_000, key=9, radius=0.5)
    assert rg.verdict == FAIL and rg.basis == "statistical"
    assert rc.verdict == PASS and rc.basis.startswith("by construction: b0")


def test_insufficient_samples_inconclusive(cos1):
    """A user-given shift (not proven from the graph) with too few samples: INCONCLUSIVE + needed n."""
    from nnft.checks import linear
    shift = linear([[1.0]], [0.7], name="shift by 0.7")
    r = check_symmetry(cos1, shift, orders=(4,), samples=2_000, key=10)
    assert r.verdict == INCONCLUSIVE and r.needed_samples > 2_000
    assert "samples would decide" in r.message


def test_proven_symmetry_with_undecided_statistics_passes_by_construction(cos1):
    r = check_symmetry(cos1, "translation", orders=(4,), samples=2_000, key=10)
    assert r.verdict == PASS and r.basis.startswith("by construction") and "not decisive" in r.basis


# ------------------------------------------------------------------ reflection positivity
def test_rp_gaussian_kernel_fails(cos1, gauss2):
    for m in (cos1, gauss2):
        r = check_reflection_positivity(m, samples=200_000, key=11)
        assert r.verdict == FAIL, r
        assert r.evidence[0]["lambda_min"] < 0 and len(r.evidence[1]["eigenvector"]) == 6
    assert rp_analytic(lambda x, y: cos_net_g2(x, y, 1.0, 1.0), positive_time_points(1)).verdict == FAIL


def test_rp_cauchy_free_scalar_passes():
    m = nnft.compile(nnft.load("cauchy_scalar_1d", N=8))
    r = check_reflection_positivity(m, samples=1_000_000, key=12)
    assert r.verdict == PASS, r
    rp = check_reflection_positivity(m, family="pairs", points=positive_time_points(1, times=(0.5, 1.0)),
                                     samples=100_000, key=13, estimator="ensemble")
    assert rp.verdict != FAIL
    assert rp_exact_ok(m)


def rp_exact_ok(m):
    from nnft.checks import rp_exact
    w = rp_exact(m, positive_time_points(1))
    return w[0] >= -1e-9 * w[-1]


def test_rp_scalar_net_small_violation_shrinking_with_cutoff():
    pts = positive_time_points(1, times=(2.0, 3.0, 4.0, 5.0, 6.0))
    r = check_reflection_positivity(scalar(2.0), pts, samples=400_000, key=14)
    assert r.verdict == FAIL and "small violation" in r.message
    rel = [rp_analytic(lambda x, y, L=L: scalar_net_g2(x, y, 1.0, L), pts).evidence[0]["lambda_min"]
           / scalar_net_g2(np.zeros(1), np.zeros(1), 1.0, L) for L in (2.0, 5.0, 10.0)]
    assert rel[0] < rel[1] < rel[2] < 0                  # violation shrinks as Λ grows


# ------------------------------------------------------------------ cluster decomposition
def test_cluster_cos_net_pair_fails_point_passes(cos1):
    pair = check_cluster(cos1, moved=(2, 3), widths=[2, 8, 32], samples=200_000, key=16)
    assert pair.verdict == FAIL
    tail = pair.evidence[0]["tail"]
    assert abs(tail - 2 / (4 * 2)) < 5 * pair.evidence[0]["stderr"]       # σ⁴(r−1)/(4N), r = 3
    scal = [e for e in pair.evidence if "violation_vs_N" in e][0]["violation_vs_N"]
    assert abs(scal["exponent"] + 1) < 0.05                                # violation ∝ 1/N
    point = check_cluster(cos1, moved=(3,), samples=200_000, key=17)
    assert point.verdict == PASS


def test_cluster_gauss_and_scalar_pair_fail(gauss2):
    # inside the correlation length (|a| ≤ 1.5: fixed–moved correlation ≥ 0.3) a non-zero G_c is not a failure
    assert check_cluster(gauss2, moved=(2, 3), distances=(0, 0.5, 1.0, 1.5), samples=200_000, key=18).verdict != FAIL
    assert check_cluster(gauss2, moved=(2, 3), samples=500_000, key=18).verdict == FAIL
    s = scalar(5.0)
    assert check_cluster(s, moved=(2, 3), samples=200_000, key=19).verdict == FAIL
    assert check_cluster(s, moved=(3,), samples=200_000, key=20).verdict == PASS


# ------------------------------------------------------------------ reports, false-FAIL rate
def test_result_table_and_validation():
    r = CheckResult("x", PASS, 1.0, 2.0, 10)
    assert "x" in table([r]) and "PASS" in str(r)
    with pytest.raises(ValueError):
        CheckResult("x", "MAYBE", 1.0, 2.0, 10)


def test_false_fail_rate_matches_alpha(cos1):
    """Z2 on the Cos-net (true): over 80 seeds at α = 0.05 the FAIL count is Binomial(80, ≤ 0.05)."""
    fails = sum(check_symmetry(cos1, "z2", orders=(1, 3), configs=4, samples=4_000, key=100 + s, alpha=0.05).failed
                for s in range(80))
    assert fails <= 10          # P(Binom(80, 0.05) > 10) < 0.3 %


def test_cli_check():
    from click.testing import CliRunner
    from nnft.cli import main
    res = CliRunner().invoke(main, ["check", "cos_net", "--set", "N=2", "--set", "d=1", "--only", "z2,permutation",
                                    "--samples", "5000"])
    assert res.exit_code == 0, res.output
    assert "z2" in res.output and "permutation" in res.output
    bad = CliRunner().invoke(main, ["check", "cos_net", "--only", "nonsense"])
    assert bad.exit_code == 2 and "nonsense" in bad.output and "Traceback" not in bad.output


def test_spec_declares_checks():
    d = nnft.load("cos_net", N=2, d=1).model_dump()
    d["study"]["checks"] = ["permutation"]
    res = nnft.check(nnft.from_dict(d), samples=1000)
    assert [r.check.split()[0] for r in res] == ["permutation"]
