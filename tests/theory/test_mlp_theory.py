"""Theory beside Monte Carlo for mlp: nets: deep linear (exact at finite width), one-hidden-layer ReLU
(exact NNGP G2 and exact one-input G_c4), each with a wrong answer that must fail."""

import numpy as np
import pytest

import nnft
from nnft.errors import EstimatorError
from nnft.estimators.npoint import measure
from nnft.graph.compile import compile
from nnft.perturbation.couplings import with_constant
from nnft.reference_mlp import EXACT, NNGP, mlp_info, mlp_theory

Z = 5.0


def _z(mc, i, value, which="full"):
    est = getattr(mc, which)
    return (float(est.mean[i]) - value) / float(est.stderr[i])


@pytest.mark.filterwarnings("ignore::nnft.errors.TailWarning")
def test_deep_linear_exact_g2_g4c_vs_mc():
    # L = 2 hidden layers of width 4: G_c4 = [(1 + 2/4)² − 1]·(G G + 2 perms), far from the N = ∞ value 0
    m = compile(nnft.load("deep_linear", N=4, L=2))
    x, y = np.array([1.0, 0.0]), np.array([0.6, 0.8])
    tuples = [np.stack([x, y]), np.stack([x] * 4), np.stack([x, x, y, y])]
    ex = nnft.exact(m, tuples)
    assert ex.label == EXACT
    g_xy = 1.0 ** 3 * float(x @ y) / 2
    assert ex.full[0, 0] == pytest.approx(g_xy)
    assert ex.connected[0, 1] == pytest.approx(1.25 * 3 * 0.25)
    assert ex.connected[0, 2] == pytest.approx(1.25 * (0.25 + 2 * g_xy ** 2))
    mc = measure(m, tuples, samples=8000, key=3)
    for i in range(3):
        assert abs(_z(mc, i, ex.full[0, i])) < Z
        assert abs(_z(mc, i, ex.connected[0, i], "connected")) < Z
    # wrong answers: the infinite-width G_c4 = 0, and half the exact G2
    assert abs(_z(mc, 1, 0.0, "connected")) > Z
    assert abs(_z(mc, 0, 0.5 * g_xy)) > Z


def test_one_layer_relu_nngp_is_exact_vs_mc():
    m = compile(with_constant(nnft.load("relu_mlp", L=1, N=3), "C_b", 0.3))
    info = mlp_info(m)
    assert info.depth == 1 and info.activation == "relu" and info.C_b[0] == pytest.approx(0.3)
    x, y = np.array([1.0, 0.0, 0.0]), np.array([-0.6, 0.8, 0.0])
    tuples = [np.stack([x, y]), np.stack([x, x]), np.stack([x] * 4)]
    th = mlp_theory(m, tuples)
    assert th.kind_full == (EXACT, EXACT, EXACT)          # one hidden layer: the NNGP is exact at every width
    # arc-cosine kernel by hand: K = C_b + C_W x·y/d, G2 = C_b + C_W E[relu(u) relu(v)]
    Kxx, Kxy = 0.3 + 2 / 3, 0.3 + 2 * float(x @ y) / 3
    th_ = np.arccos(Kxy / Kxx)
    assert th.full[0] == pytest.approx(0.3 + 2 * Kxx / (2 * np.pi) * (np.sin(th_) + (np.pi - th_) * np.cos(th_)))
    mc = measure(m, tuples, samples=8000, key=5)
    for i in range(3):
        assert abs(_z(mc, i, th.full[i])) < Z
    assert abs(_z(mc, 2, th.connected[2], "connected")) < Z
    # wrong answers: the kernel without the angle (as if x = y), and G_c4 = 0 (infinite width)
    assert abs(_z(mc, 0, 0.3 + 2 * Kxx / 2)) > Z
    assert abs(_z(mc, 2, 0.0, "connected")) > Z


def test_deep_net_labels_and_refusals():
    m = compile(nnft.load("tanh_mlp", N=8, L=2))
    x, y = np.array([1.0, 0.0, 0.0]), np.array([0.6, 0.8, 0.0])
    ex = nnft.exact(m, [np.stack([x, y]), np.stack([x] * 4)])
    assert ex.kinds == (NNGP, "leading order")
    with pytest.raises(EstimatorError, match="four-point vertex") as e:
        nnft.exact(m, [np.stack([x, x, y, y])])
    assert "\n" not in str(e.value)
    with pytest.raises(EstimatorError, match="residual"):
        nnft.exact(compile(nnft.load("residual_relu", N=8, L=2)), [np.stack([x] * 4)])
    with pytest.raises(EstimatorError, match="insertion"):
        nnft.exact(compile(nnft.load("phi4_cos_1d")), [np.zeros((2, 1))])


@pytest.mark.slow
def test_tanh_leading_order_within_its_allowance():
    # chaotic tanh, two hidden layers of 16: E z² = K + δ and G_c4 = 3κ4 to O(1/n), compared with the
    # stated allowance (z~); the wrong twin is G_c4 of the wrong sign (−3κ4)
    th = with_constant(with_constant(nnft.load("tanh_mlp", N=16, L=2), "C_W", 2.0), "C_b", 0.05)
    m = compile(th)
    x = np.ones(3)
    tuples = [np.stack([x, x]), np.stack([x] * 4)]
    t = mlp_theory(m, tuples)
    assert t.kind_connected == ("leading order", "leading order") and t.allow_connected[1] > 0
    mc = measure(m, tuples, samples=40_000, key=1)

    def z(i, which, value):
        est = getattr(mc, which)
        return (float(est.mean[i]) - value) / np.hypot(float(est.stderr[i]), getattr(t, "allow_" + which)[i])

    assert abs(z(0, "full", t.full[0])) < Z
    assert abs(z(1, "full", t.full[1])) < Z
    assert abs(z(1, "connected", t.connected[1])) < Z
    assert abs(z(1, "connected", -t.connected[1])) > Z
