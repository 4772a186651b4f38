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
    """neuron-level G_c4 of the Cos-net at several widths (exact in N from one neuron sample): the fit
    chooses order 1, y(∞) consistent with 0 and c₁ with N·G_c4 from nnft.exact; c₁ doubled fails."""
    m = nnft.compile(nnft.load("cos_net", N=4))
    t = [np.array([[0.0, 0.0], [0.0, 0.0], [0.5, 0.0], [0.5, 0.0]])]
    widths = [2, 4, 8, 16, 32]
    nl = nnft.neuron_measure(m, t, neurons=200_000, widths=widths, key=3)
    ex = nnft.extrapolate(widths, nl.connected[:, 0], criterion="lr")
    kappa = 4 * nnft.exact(m, t).connected[0, 0]
    assert ex.order <= 1 and abs(ex.value.z(0.0)) < Z_MAX
    if ex.order == 1:
        assert abs(ex.coefficients[1].z(kappa)) < Z_MAX and abs(ex.coefficients[1].z(2 * kappa)) > Z_MAX


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
    with pytest.raises(InputError, match="not widths"):
        sweep_limits(SimpleNamespace(name="act", values=["tanh", "relu"], reports=reports[:2]))
