"""``nnft.compare``: reweighted MC beside first-order perturbation theory over a λ sweep (docs/physics.md §7).

At a fixed seed:
  * at small λ the MC shift δG⁽²⁾ agrees with the exact finite-N λ·c1(N) (|z| < Z_MAX), and is
    decisive: 2·c1(N) and the N = ∞ tadpole formula (which differ from c1(N) at N = 50) are rejected;
  * at large λ first order fails and the row is flagged;
  * the connected 4-point shift agrees with the exact finite-N first order where the reference has
    the order-8 moments it needs (Cos-net), and is reported unavailable, not failed, where it does not
    (Scalar-net stops at order 6);
  * the one-pass sweep gives the numbers of ``nnft.ensemble`` per λ + ``jackknife_joint``.
"""

import numpy as np
import pytest

import nnft
from helpers import Z_MAX
from nnft.analytic.closed_forms import scalar_net_g2
from nnft.analytic.perturbative import delta_g2_gaussian
from nnft.stats import jackknife_joint

PAIR = np.array([[0.0], [0.5]])
QUAD = np.zeros((4, 1))
SMALL, LARGE = 0.01, 3.0


@pytest.fixture(scope="module")
def sweep():
    # 100k networks: σ(δG/λ) ≈ 1.6e-3 against c1(N) − c1(∞) ≈ −0.0166 (expected |z| ≈ 10 for the N = ∞ formula)
    return nnft.compare("phi4_scalar_1d", [PAIR, QUAD], lambdas=(SMALL, LARGE), samples=100_000, key=0)


def _row(table, series, lam):
    (row,) = [r for r in table.series(series) if r.lam == lam]
    return row


def test_small_lambda_agrees_with_finite_n_first_order(sweep):
    r = _row(sweep, 0, SMALL)
    assert r.observable == "δG" and r.first_order is not None
    assert abs(r.z) < Z_MAX, sweep
    assert abs(r.first_order) > 20 * float(r.mc.stderr)          # the agreement is not trivial
    assert r.first_order == pytest.approx(SMALL * sweep.unit[0], rel=1e-12)
    assert not r.breaks and not r.ess_low and r.ess > 0.99 * sweep.samples


def test_wrong_coefficients_are_rejected(sweep):
    r = _row(sweep, 0, SMALL)
    assert abs(float(r.mc.z(2 * r.first_order))) > Z_MAX          # a factor-2 error in c1
    # the textbook N = ∞ tadpole (docs/physics.md §7), independently from the closed-form propagator
    ins = nnft.compile(nnft.load("phi4_scalar_1d")).insertions[0]
    c1_inf = delta_g2_gaussian(lambda x, y: scalar_net_g2(x, y, mass=1.0, cutoff=5.0, d=1), PAIR[0], PAIR[1],
                               ins.points, ins.weights)
    assert r.gaussian == pytest.approx(SMALL * c1_inf, rel=1e-9)
    assert abs(sweep.unit_gaussian[0] - sweep.unit[0]) > 0.2 * abs(sweep.unit[0])   # N = 50 is not Gaussian
    assert abs(r.z_gaussian) > Z_MAX, sweep


def test_flag_fires_at_large_lambda(sweep):
    r = _row(sweep, 0, LARGE)
    assert r.breaks and abs(r.z) > Z_MAX and r.ratio < 0.8
    assert sweep.breakdown()[0] == LARGE
    text = str(sweep)
    assert "breaks" in text and "c1(N) = " in text and "ESS" in text


def test_missing_order_is_reported_not_failed(sweep):
    r = _row(sweep, 1, SMALL)
    assert r.observable == "δG_c" and r.first_order is None and r.z is None and r.breaks is None
    assert "order 8" in r.reason
    assert r.gaussian is not None and np.isfinite(float(r.mc.stderr))
    assert "first order unavailable" in sweep.table()


def test_one_pass_equals_per_lambda_ensembles():
    """The sweep's estimator is nnft.ensemble on the λ-theory (same key) + jackknife_joint with the free one."""
    lam, n = 0.7, 4000
    table = nnft.compare("phi4_scalar_1d", [PAIR, QUAD], lambdas=(lam,), samples=n, key=3)
    model = nnft.compile(nnft.load("phi4_scalar_1d"))
    data = model.theory.model_dump()
    data["constants"]["lam"] = lam
    a = nnft.ensemble(model.free(), [PAIR, QUAD], samples=n, key=3)
    b = nnft.ensemble(nnft.compile(nnft.from_dict(data)), [PAIR, QUAD], samples=n, key=3)
    ref = jackknife_joint([a.sums, b.sums], lambda m0, m1: np.array(
        [a.plan.full(m1)[0] - a.plan.full(m0)[0], a.plan.connected(m1)[1] - a.plan.connected(m0)[1]]))
    got = [table.series(i)[0] for i in (0, 1)]
    for i, r in enumerate(got):
        assert abs(float(r.mc.mean) - ref.mean[i]) < 1e-4 * ref.stderr[i]
        assert float(r.mc.stderr) == pytest.approx(ref.stderr[i], rel=1e-4)
        assert r.ess == pytest.approx(ref.ess, rel=1e-6)


def test_connected_four_point_against_exact_finite_n():
    """Cos-net (d = 1, N = 10) has moments to order 16, so the φ⁴ shift of G_c⁽⁴⁾ has an exact c1(N)."""
    data = nnft.load("cos_net", N=10, d=1).model_dump()
    data["constants"]["g"] = 0.1
    data["insertions"] = [{"potential": {"phi4": {"coupling": "g"}},
                           "domain": {"box": [[-1.0, 1.0]], "lattice": 8}}]
    table = nnft.compare(nnft.from_dict(data), [PAIR, QUAD], lambdas=(0.03,), samples=60_000, key=1)
    assert table.coupling == "g"                                     # detected from the φ⁴ coupling
    for r in table.rows:
        assert r.first_order is not None and abs(r.z) < Z_MAX, table
        assert abs(r.first_order) > 5 * float(r.mc.stderr)


def test_bad_inputs_are_spec_errors(tmp_path):
    with pytest.raises(nnft.SpecError, match="insertion"):
        nnft.compare("cos_net", lambdas=(0.1,), samples=100)
    data = nnft.load("phi4_scalar_1d").model_dump()
    with pytest.raises(nnft.SpecError, match="not a constant"):
        nnft.compare(nnft.from_dict(data), coupling="mu", samples=100)
    data["insertions"][0]["potential"] = {"phi4": {"coupling": 0.5}}
    with pytest.raises(nnft.SpecError, match="coupling="):
        nnft.compare(nnft.from_dict(data), samples=100)


def test_collapsed_weights_give_no_number():
    """λ = 10⁵: the importance weights collapse onto ~1 network; the row says 'not estimable' and has no
    z-score or ratio (a number there would read as agreement or disagreement with theory)."""
    with pytest.warns(nnft.ReweightingWarning):
        cmp = nnft.compare(nnft.load("phi4_scalar_1d"), lambdas=[0.01, 1e5], samples=4000, key=0)
    bad = [r for r in cmp.rows if r.lam == 1e5]
    good = [r for r in cmp.rows if r.lam == 0.01]
    assert bad and all(not r.estimable and r.z is None and r.ratio is None for r in bad)
    assert all(r.estimable for r in good)
    assert "not estimable" in cmp.table()


def test_shifts_carry_the_tail_diagnostic():
    """Every reweighted shift carries Pareto k̂ (free features, weighted features and weights): light for
    the shipped φ⁴ theory, flagged when the free readout is Student-t(3) (E φ⁴ = ∞ for the free part)."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cmp = nnft.compare(nnft.load("phi4_scalar_1d"), lambdas=[0.01], samples=4000, key=0)
    assert all(r.mc.khat is not None and np.all(r.mc.khat < 0.7) for r in cmp.rows)
    d = nnft.load("phi4_cos_1d").model_dump()
    d["params"]["W1"]["density"] = {"student_t": {"df": 3, "scale": "1/sqrt(N)"}}
    with pytest.warns(nnft.errors.TailWarning):
        heavy = nnft.compare(nnft.from_dict(d), lambdas=[1e-4], samples=4000, key=0, orders=(4,))
    assert any(bool(r.mc.flagged) for r in heavy.rows) and "HEAVY TAIL" in heavy.table()


def test_ratio_carries_the_propagated_error(sweep):
    """MC/PT ± se/|PT|: (ratio − 1)/se_ratio is the row's z up to the sign of PT (PT is exact)."""
    for lam in (SMALL, LARGE):
        r = _row(sweep, 0, lam)
        assert r.ratio_stderr > 0
        assert abs((r.ratio - 1) / r.ratio_stderr) == pytest.approx(abs(r.z), rel=1e-9)
        assert abs(float(r.mc.stderr) / r.ratio_stderr - 1) > 0.01      # the unscaled MC error would fail
    assert "MC/PT: MC over first order, ±" in str(sweep)
