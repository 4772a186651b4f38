"""dtype="float64" reaches every array the step touches (points included), and float32 refuses
points it cannot tell apart. Cos-net is exactly translation invariant, so G2(a, a + 0.5) at
a = 10⁷ equals the closed form (σ_w1²/2) exp(−σ_w0² 0.5²/(2d)) (nnft.exact); float32 has spacing 1
there, so a + 0.5 rounds onto a (the run the issue reported as z ≈ +27 with float64 requested)."""

import math

import numpy as np
import pytest

import nnft

A = 1e7


@pytest.fixture(scope="module")
def model():
    return nnft.compile(nnft.load("cos_net", N=4))


def _pair(a):
    return np.array([[a, 0.0], [a + 0.5, 0.0]])


def test_float64_reaches_the_points(model):
    ex = nnft.exact(model, [_pair(0.0)]).full[0, 0]
    np.testing.assert_allclose(ex, 0.5 * math.exp(-0.25 / 4), rtol=1e-12)
    mc = nnft.measure(model, [_pair(A)], samples=40_000, key=1, dtype="float64").full
    assert abs(mc.z(ex)[0]) < 4
    # the wrong answer of points rounded to float32 — G2 at coincident points, σ_w1²/2 — is rejected
    wrong = nnft.exact(model, [np.zeros((2, 2))]).full[0, 0]
    assert abs(mc.z(wrong)[0]) > 4


def test_float32_refuses_points_it_cannot_represent(model):
    for estimator, kw in ((nnft.measure, {"samples": 100}), (nnft.neuron_measure, {"neurons": 400})):
        with pytest.raises(nnft.EstimatorError, match="equal in float32.*float64"):
            estimator(model, [_pair(A)], key=0, dtype="float32", **kw)
