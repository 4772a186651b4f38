"""N → ∞ extrapolation in 1/N with the order chosen by the data: synthetic data with known coefficients
recovered by |z|, a wrong (too low) order detected, and a width sweep of a neuron sum (G_c4 = κ/N
exactly: order 1, y(∞) = 0, c₁ = N·G_c4)."""

import numpy as np
import pytest

import nnft
from nnft.errors import InputError
from helpers import Z_MAX

WIDTHS = np.array([2, 3, 4, 6, 8, 12, 16, 32, 64, 128])


def synthetic(coefs, sigma, seed):
    rng = np.random.default_rng(seed)
    u = 1.0 / WIDTHS
    y = sum(c * u ** k for k, c in enumerate(coefs))
    return y + sigma * rng.normal(size=len(u)), np.full(len(u), sigma)


@pytest.mark.parametrize("criterion", ["aic", "lr"])
def test_known_coefficients_recovered(criterion):
    coefs = (1.5, -2.0, 3.0)
    y, s = synthetic(coefs, 0.01, seed=4)
    ex = nnft.extrapolate(WIDTHS, y, s, criterion=criterion)
    assert ex.order == 2 and not ex.flagged
    assert np.all(np.abs(ex.coefficients.z(np.array(coefs))) < Z_MAX)
    assert abs(ex.value.z(coefs[0])) < Z_MAX and abs(ex.value.z(coefs[0] + 0.1)) > Z_MAX


def test_wrong_order_is_detected():
    y, s = synthetic((1.0, -1.0, 4.0), 0.005, seed=7)
    forced = nnft.extrapolate(WIDTHS, y, s, max_order=1)
    assert forced.flagged and forced.chosen.p_value < 1e-3              # order 1 cannot describe it
    free = nnft.extrapolate(WIDTHS, y, s)
    assert free.order == 2 and not free.flagged
    # a constant is not promoted to a higher order (nested tests at level 0.01, the default)
    for seed in range(8, 13):
        c, sc = synthetic((0.7,), 0.01, seed=seed)
        assert nnft.extrapolate(WIDTHS, c, sc).order == 0


def test_neuron_sum_g4c_is_exactly_one_over_width():
    """neuron-level G_c4 of the Cos-net at widths 2 … 32, each width from its OWN neuron sample (independent
    values): the fit chooses order ≤ 1, y(∞) consistent with 0 and c₁ with N·G_c4 from nnft.exact; c₁ doubled
    fails. From one sample at all widths the values are κ̂/N exactly (fully correlated): refused, as is their
    singular covariance."""
    m = nnft.compile(nnft.load("cos_net", N=4))
    t = [np.array([[0.0, 0.0], [0.0, 0.0], [0.5, 0.0], [0.5, 0.0]])]
    widths = [2, 4, 8, 16, 32]
    kappa = 4 * nnft.exact(m, t).connected[0, 0]
    vals = [nnft.neuron_measure(m, t, neurons=16_384, widths=[N], key=N).connected[0, 0] for N in widths]
    ex = nnft.extrapolate(widths, [v.mean for v in vals], [v.stderr for v in vals], criterion="lr")
    assert ex.order <= 1 and abs(ex.value.z(0.0)) < Z_MAX and abs(ex.averaged.z(0.0)) < Z_MAX
    if ex.order == 1:
        assert abs(ex.coefficients[1].z(kappa)) < Z_MAX and abs(ex.coefficients[1].z(2 * kappa)) > Z_MAX
    one = nnft.neuron_measure(m, t, neurons=16_384, widths=widths, key=3).connected[:, 0]
    with pytest.raises(InputError, match="exactly on a polynomial"):
        nnft.extrapolate(widths, one)
    e = one.stderr
    with pytest.raises(InputError, match="singular"):
        nnft.extrapolate(widths, one.mean, covariance=np.outer(e, e))


def test_correlated_values_by_generalised_least_squares():
    """Values with a known covariance (a shared offset of variance τ²): GLS recovers the coefficients by |z| with
    errors that include the shared offset; the independent-errors fit of the same data under-states c₀'s error."""
    rng = np.random.default_rng(5)
    u = 1.0 / WIDTHS
    sig, tau = 0.01, 0.02
    C = sig ** 2 * np.eye(len(u)) + tau ** 2
    truth = (0.5, 1.0)
    zs, zi = [], []
    for seed in range(200):
        y = truth[0] + truth[1] * u + np.linalg.cholesky(C) @ rng.normal(size=len(u))
        g = nnft.extrapolate(WIDTHS, y, covariance=C, max_order=1)
        i = nnft.extrapolate(WIDTHS, y, np.sqrt(np.diag(C)), max_order=1)
        zs.append(g.value.z(truth[0]))
        zi.append(i.value.z(truth[0]))
    assert 0.8 < np.std(zs) < 1.2                       # GLS: unit z spread (binomial-free check, 200 draws)
    assert np.std(zi) > 1.4                             # independent errors: c₀'s error too small
    with pytest.raises(InputError, match="covariance must be"):
        nnft.extrapolate(WIDTHS, np.zeros(len(u)), covariance=np.eye(3))


def test_refusals():
    with pytest.raises(InputError, match="errors"):
        nnft.extrapolate([2, 4], [1.0, 2.0])
    with pytest.raises(InputError, match="distinct"):
        nnft.extrapolate([2, 2], [1.0, 2.0], [0.1, 0.1])
    with pytest.raises(InputError, match="criterion"):
        nnft.extrapolate([2, 4], [1.0, 2.0], [0.1, 0.1], criterion="bic")


def test_sweep_limits_row_by_row():
    """A width sweep's rows extrapolated one by one (a Sweep's shape, built here with known 1/N data)."""
    from types import SimpleNamespace
    from nnft.extrapolation import sweep_limits
    rng = np.random.default_rng(1)
    widths = [2, 4, 8, 16, 32]
    truth = [(0.5, 0.0), (0.0, 0.75)]                      # G2: constant; G_c4: κ/N
    reports = [SimpleNamespace(rows=[SimpleNamespace(connected=(c0 + c1 / N + 0.01 * rng.normal(), 0.01))
                                     for c0, c1 in truth]) for N in widths]
    lim = sweep_limits(SimpleNamespace(name="N", values=widths, reports=reports))
    assert [e.order for e in lim] == [0, 1]
    assert all(abs(e.value.z(c0)) < Z_MAX for e, (c0, _) in zip(lim, truth))
    assert abs(lim[1].coefficients[1].z(0.75)) < Z_MAX and abs(lim[1].coefficients[1].z(1.5)) > Z_MAX
    zero = [SimpleNamespace(rows=[SimpleNamespace(connected=(0.0, 0.0))]) for N in widths]   # φ ≡ 0 at a point
    with pytest.raises(InputError, match="row 0.*errors must be finite and > 0"):
        sweep_limits(SimpleNamespace(name="N", values=widths, reports=zero))
    with pytest.raises(InputError, match="not widths"):
        sweep_limits(SimpleNamespace(name="act", values=["tanh", "relu"], reports=reports[:2]))


@pytest.mark.parametrize("args, kw, match", [
    (([2], [1.0], [0.1]), {}, "W ≥ 2"),
    (([2, 4], [1.0, 2.0], [0.0, 0.1]), {}, "errors must be finite and > 0"),
    (([2, 4], [1.0, float("nan")], [0.1, 0.1]), {}, "values must be finite"),
    (([2, 4, 8], [1.0, 2.0, 3.0], [0.1, 0.1]), {}, "one per width"),
    (([2, 4, 8], ["a", "b", "c"], [0.1] * 3), {}, "values must be numbers"),
    (([2, 4, 8], [1.0, 2.0, 3.0], [0.1] * 3), {"alpha": 0}, "alpha"),
    (([2, 4, 8], [1.0, 2.0, 3.0], [0.1] * 3), {"alpha": 1.5}, "alpha"),
    (([2, 4, 8], [1.0, 2.0, 3.0], [0.1] * 3), {"max_order": "a"}, "max_order"),
    (([2, 4, 8], [1.0, 2.0, 3.0], [0.1] * 3), {"max_order": -1}, "max_order"),
    (([-2, 4], [1.0, 2.0], [0.1, 0.1]), {}, "widths must be"),
])
def test_edge_inputs_refused(args, kw, match):
    with pytest.raises(InputError, match=match):
        nnft.extrapolate(*args, **kw)


def test_huge_widths_are_fitted():
    """1/N columns scaled before the fit: widths ~10³⁰⁰ give the constant, not a singular matrix."""
    ex = nnft.extrapolate([1e300, 2e300, 4e300], [1.0, 1.01, 0.99], [0.01] * 3)
    assert abs(ex.value.z(1.0)) < Z_MAX


def test_model_average_covers_where_the_chosen_order_does_not():
    """y = 1 − 1/N + 0.2/N², σ = 0.01: the 1/N² term is marginal, the LR test often keeps order 1, and the chosen
    order's c₀ under-covers (its error omits the order choice); the Akaike-weighted average over the orders
    (arXiv:2008.01069) covers. 400 synthetic draws: coverage of |z| < 2 (nominal 0.954, binomial σ ≈ 0.011)."""
    hits_sel = hits_avg = 0
    draws = 400
    for seed in range(draws):
        y, s = synthetic((1.0, -1.0, 0.2), 0.01, seed=100 + seed)
        ex = nnft.extrapolate(WIDTHS, y, s)
        hits_sel += abs(ex.value.z(1.0)) < 2
        hits_avg += abs(ex.averaged.z(1.0)) < 2
    assert hits_sel / draws < 0.90                       # measured 0.81 over 2000 draws
    assert hits_avg / draws > 0.92                       # measured 0.954
    ex = nnft.extrapolate(WIDTHS, *synthetic((1.0, -1.0, 0.2), 0.01, seed=1))
    assert np.isclose(ex.weights.sum(), 1.0) and "model average" in ex.table()
