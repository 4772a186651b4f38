"""Momentum-space design of the d = 1 Scalar-net (arXiv:2604.27050): every α ∈ {−1, −½, 0, ½} gives the same G2
(the cutoff free propagator, written here by quadrature) within |z| < 5, while a 20 % wrong m² is rejected; the
per-neuron moments nnft computes for a design agree with the same G2 exactly; the spectrum of the α = 0 net
(momenta drawn from the propagator, constant amplitude) is θ(Λ − |p|)/(p² + m²) too."""

import math

import numpy as np
import pytest
from scipy import integrate

import nnft
from helpers import Z_MAX
from nnft.analytic.scalar_design import ALPHAS, moment
from nnft.errors import InputError

M, LAM = 1.0, 5.0
R = np.array([0.0, 0.5, 1.5])


def g2(r, m2=M * M):
    """(1/π)∫₀^Λ cos(pr)/(p² + m²) dp."""
    return np.array([integrate.quad(lambda p: math.cos(p * x) / (p * p + m2), 0, LAM, limit=400)[0] for x in r]) / math.pi


@pytest.mark.filterwarnings("ignore::nnft.errors.TailWarning")    # tan/sinh of a uniform: moments undecided by the graph
@pytest.mark.parametrize("alpha", ALPHAS)
def test_same_two_point_function_at_every_alpha(alpha):
    model = nnft.compile(nnft.scalar_net_design(alpha, N=20))
    tuples = [np.array([[0.0], [x]]) for x in R]
    est = nnft.measure(model, tuples, samples=20_000, key=11).full
    z = est.z(g2(R))
    assert np.all(np.abs(z) < Z_MAX), (alpha, z)
    assert np.max(np.abs(est.z(g2(R, 1.2 * M * M)))) > Z_MAX


@pytest.mark.parametrize("alpha", ALPHAS)
def test_design_moments_give_the_propagator(alpha):
    for x in R:
        assert moment(alpha, [0.0, x]) == pytest.approx(g2([x])[0], rel=1e-8, abs=1e-12)


@pytest.mark.slow
def test_alpha0_spectrum_neuron_route():
    model = nnft.compile(nnft.scalar_net_design(0.0))
    p, h = np.array([[0.0], [1.0], [3.0]]), 0.1
    res = nnft.power_spectrum(model, p, window=h, neurons=100_000, key=5)
    th = np.array([integrate.quad(lambda q: 1 / (q * q + M * M), x - h, x + h)[0] / (2 * h) for x in p[:, 0]])
    assert np.all(np.abs(res.spectrum.z(th)) < Z_MAX)
    wrong = np.array([integrate.quad(lambda q: 1 / (q * q + 1.2 * M * M), x - h, x + h)[0] / (2 * h) for x in p[:, 0]])
    assert np.max(np.abs(res.spectrum.z(wrong))) > Z_MAX


def test_shipped_alpha0_spec_is_the_design():
    a = nnft.load("scalar_net_alpha0")
    b = nnft.scalar_net_design(0.0)
    assert a.field == b.field and a.params.keys() == b.params.keys()


def test_other_alpha_refused():
    with pytest.raises(InputError, match="alpha"):
        nnft.scalar_net_design(0.25)
