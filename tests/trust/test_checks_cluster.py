"""Cluster checker on degenerate and heavy-tailed configurations (issue 9, item 6), against the
closed forms of Gauss-net (TASI eq. 60-64) and Cos-net (TASI eq. 68-71)."""

import numpy as np
import pytest

import nnft
from nnft.checks import FAIL, INCONCLUSIVE, PASS, check_cluster, check_symmetry, linear
from nnft.checks.cluster import default_base

SW0, SB0, SW1, N, R = 1.0, 0.3, 1.0, 16, 3.0          # shipped gauss_net (d = 1), Gaussian readout: r = 3


def E(v, d=1):
    return np.exp(-SW0 ** 2 * np.sum(np.asarray(v) ** 2, axis=-1) / (2 * d))


def gauss_g4c(x, d=1):
    """G_c⁽⁴⁾ of Gauss-net, (σ_w1⁴/4N)[r e^{4σ_b²} e^{σ_w0²/(2d)(|S|² − 2Σ|xᵢ|²)} − (E12E34 + E13E24 + E14E23)]."""
    x = np.asarray(x, float)
    S = x.sum(0)
    first = R * np.exp(4 * SB0 ** 2) * np.exp(SW0 ** 2 / (2 * d) * (S @ S - 2 * np.sum(x * x)))
    e = lambda i, j: E(x[i] - x[j], d)  # noqa: E731
    return SW1 ** 4 / (4 * N) * (first - (e(0, 1) * e(2, 3) + e(0, 2) * e(1, 3) + e(0, 3) * e(1, 2)))


def gauss_pair_limit(x, a_hat, d=1):
    """|a| → ∞ limit of G_c⁽⁴⁾(x1, x2, x3 + a, x4 + a): the exponent gains 2σ_w0² a·(x1+x2)/d exactly
    (|a|² cancels) and the cross pairings vanish, so G_c → (σ_w1⁴/4N)[r e^{4σ_b²} e^{σ_w0²(|S|²−2Σ|xᵢ|²)/(2d)}
    e^{2σ_w0² a·(x1+x2)/d} − E12E34]: a non-zero constant for a ⊥ (x1 + x2), growing or tending to
    −(σ_w1⁴/4N)E12E34 otherwise. Returned here for a ⊥ (x1+x2) and for the symmetric separation
    (x1,2 − a/2, x3,4 + a/2), where the first term decays as e^{−σ_w0²|a|²/d}: −(σ_w1⁴/4N)E12E34."""
    return -SW1 ** 4 / (4 * N) * E(x[0] - x[1], d) * E(x[2] - x[3], d)


def test_gauss_net_pair_limit_closed_form():
    x = np.array([[0.3, -0.2], [0.1, 0.4], [-0.5, 0.2], [0.2, 0.1]])
    d = 2
    u = np.array([1.0, -1.0]) / np.sqrt(2)
    perp = np.array([-(x[0] + x[1])[1], (x[0] + x[1])[0]])
    perp /= np.linalg.norm(perp)
    S, sq = x.sum(0), np.sum(x * x)
    const = SW1 ** 4 / (4 * N) * (R * np.exp(4 * SB0 ** 2) * np.exp(SW0 ** 2 / (2 * d) * (S @ S - 2 * sq))
                                  - E(x[0] - x[1], d) * E(x[2] - x[3], d))
    for a in (20.0, 40.0):
        y = x.copy()
        y[2:] += a * perp                                   # a ⊥ (x1 + x2): a non-zero constant
        assert gauss_g4c(y, d) == pytest.approx(const, rel=1e-12)
        z = x.copy()
        z[:2] -= a / 2 * u
        z[2:] += a / 2 * u                                  # symmetric separation: −σ⁴E12E34/(4N)
        assert gauss_g4c(z, d) == pytest.approx(gauss_pair_limit(x, u, d), rel=1e-12)
    assert const != 0 and gauss_pair_limit(x, u, d) < 0
    # along x1 + x2 it grows like e^{2σ_w0² a·(x1+x2)/d}
    w = (x[0] + x[1]) / np.linalg.norm(x[0] + x[1])
    h = [4 * N / SW1 ** 4 * gauss_g4c(np.vstack([x[:2], x[2:] + a * w]), d) + E(x[0] - x[1], d) * E(x[2] - x[3], d)
         for a in (8.0, 12.0)]
    assert h[1] / h[0] == pytest.approx(np.exp(2 * SW0 ** 2 * 4.0 * w @ (x[0] + x[1]) / d), rel=1e-6)


@pytest.fixture(scope="module")
def gauss():
    return nnft.compile(nnft.load("gauss_net"))


def test_gauss_net_cluster_fails_with_the_closed_form_tail(gauss):
    r, = nnft.check(gauss, only=["cluster"], samples=50_000)              # 500 000 neurons, the spec's seed
    assert r.verdict == FAIL and not r.unexpected, r
    ev = r.evidence[0]
    a = ev["a"]
    X = default_base(gauss)
    Y = X.copy()
    Y[:2] -= a / 2
    Y[2:] += a / 2
    exact = gauss_g4c(Y)
    assert abs(ev["tail"] - exact) < 5 * ev["stderr"]                       # |z| < 5 against the closed form
    assert abs(ev["tail"] - 0.0) > 5 * ev["stderr"]                         # clustering (tail → 0) is rejected
    assert abs(ev["tail"] + exact) > 5 * ev["stderr"]                       # so is the wrong sign of the limit
    assert abs(exact - gauss_pair_limit(Y, None)) < 0.1 * abs(exact)         # already near the limit
    assert r.data["cross_correlation"][0, list(r.data["distances"]).index(a)] <= 0.2


def test_gauss_net_far_configurations_are_not_used(gauss):
    """The old verdict (origin base, |a| up to 8: lognormal neurons the samples never reach, tail
    ~1e-29) must not PASS: those configurations are degenerate or carried by a few samples."""
    r = check_cluster(gauss, base=np.zeros((4, 1)), moved=(2, 3), samples=300_000, key=19)
    assert r.verdict != PASS
    usable = r.data["usable"][0]
    assert not usable[-1] and not usable[-2]
    assert "unusable" in r.message
    point = check_cluster(gauss, moved=(3,), samples=300_000, key=20)     # clusters, but far points unreachable
    assert point.verdict == INCONCLUSIVE, point


def test_cos_net_point_passes_pair_fails_with_closed_form():
    cos = nnft.compile(nnft.load("cos_net", N=2, d=1))
    pair = check_cluster(cos, moved=(2, 3), samples=200_000, key=21)
    assert pair.verdict == FAIL
    assert abs(pair.evidence[0]["tail"] - (R - 1) / (4 * 2)) < 5 * pair.evidence[0]["stderr"]   # σ⁴(r−1)/(4N)
    point = check_cluster(cos, moved=(3,), samples=200_000, key=22)
    assert point.verdict == PASS


def test_origin_of_bias_free_net_is_degenerate_not_pass():
    m = nnft.compile(nnft.load("deep_linear"))
    r = check_cluster(m, base=np.zeros((4, 2)), moved=(2, 3), samples=4_000, key=23, distances=(0.0, 1.0))
    assert r.verdict == INCONCLUSIVE and r.degenerate, r
    assert "zero variance" in r.message
    assert np.linalg.norm(default_base(m)) > 0
    # a symmetry test at the origin compares 0 with 0: degenerate, never PASS
    s = check_symmetry(m, linear(2 * np.eye(2), name="dilation"), orders=(2,), configs=0,
                       points=[np.zeros((2, 2))], samples=2_000, key=24)
    assert s.verdict == INCONCLUSIVE and s.degenerate and "zero variance" in s.message


def test_rp_on_a_field_that_vanishes_at_positive_time_is_degenerate():
    from nnft.checks import check_reflection_positivity
    t = nnft.from_dict({"nnft": 1, "name": "half", "dims": {"d": 1, "N": 4},
                        "params": {"W0": {"shape": ["N", "d"], "density": {"normal": {"std": 1.0}}},
                                   "b0": {"shape": ["N"], "density": {"uniform": {"low": -3.141592653589793,
                                                                                  "high": 3.141592653589793}}},
                                   "W1": {"shape": ["N"], "density": {"normal": {"std": 0.5}}}},
                        "field": "sum_N(W1 * cos(W0 @ x + b0) * relu(-x[0]))"})
    r = check_reflection_positivity(nnft.compile(t), samples=2_000, key=25, estimator="ensemble")
    assert r.verdict == INCONCLUSIVE and r.degenerate and "⟨φ(x)²⟩ = 0" in r.message
