"""Brute force at several widths vs the neuron-level (exact-in-N) estimate, and the 1/N law of G_c⁽⁴⁾
fitted from the brute-force ensembles themselves (the neuron-level slope is −1 by algebra)."""

import numpy as np

import nnft
from helpers import Z_MAX

WIDTHS = [2, 4, 8, 16, 32, 64]


def test_brute_force_agrees_with_neuron_level_and_scales_as_one_over_n():
    pts = [np.zeros((4, 2)), np.array([[0.0, 0.0], [0.0, 0.0], [0.7, 0.0], [0.7, 0.0]])]
    base = nnft.load("cos_net")
    nl = nnft.neuron_measure(nnft.compile(base), pts, neurons=400_000, widths=WIDTHS, key=1)
    brute = []
    for i, n in enumerate(WIDTHS):
        samples = 100_000 * max(1, n // 8)   # brute force needs ~N² more networks for a fixed relative error
        est = nnft.measure(nnft.compile(base.with_dims(N=n)), pts, samples=samples, key=100 + i).connected
        z = (est.mean - nl.connected.mean[i]) / np.hypot(est.stderr, nl.connected.stderr[i])
        assert np.all(np.abs(z) < Z_MAX), (n, z)
        brute.append(est)
    # weighted least squares of log G_c⁽⁴⁾(0,0,0,0) against log N, from brute force only
    g = np.array([b.mean[0] for b in brute])
    s = np.array([b.stderr[0] for b in brute])
    assert np.all(g > 3 * s), "every width must resolve G_c⁽⁴⁾ for a meaningful fit"
    x, y, w = np.log(WIDTHS), np.log(g), (g / s) ** 2
    X = np.stack([np.ones_like(x), x], 1)
    cov = np.linalg.inv(X.T @ (w[:, None] * X))
    slope, slope_err = (cov @ X.T @ (w * y))[1], np.sqrt(cov[1, 1])
    assert abs(slope + 1) < 4 * slope_err, (slope, slope_err)
    assert abs(slope + 0.5) > 4 * slope_err   # a 1/√N law would be rejected
    # the neuron-level relative error does not grow with N (brute force's does)
    rel_nl = nl.connected.stderr[:, 0] / np.abs(nl.connected.mean[:, 0])
    assert np.ptp(rel_nl) < 1e-9
    assert s[-1] / g[-1] > 3 * s[0] / g[0]


def test_neuron_level_error_bars_from_few_blocks_are_flagged():
    """2000 neurons of width-1000 networks are 2 networks, so 2 jackknife blocks: the error bar is a Student-t(1)
    quantity and must carry the flag; 32 networks (16 blocks) do not."""
    import nnft
    model = nnft.compile(nnft.load("gauss_net", N=100))
    few = nnft.neuron_measure(model, [((0.0,), (0.5,))], neurons=200, key=1)
    assert any(n.startswith("few blocks") and "1 degrees of freedom" in n for n in few.connected.notes)
    many = nnft.neuron_measure(model, [((0.0,), (0.5,))], neurons=3200, key=1)
    assert not any(n.startswith("few blocks") for n in many.connected.notes)
