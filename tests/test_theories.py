"""Every shipped theory with a closed form: Monte Carlo vs analytic G⁽²⁾ and G_c⁽⁴⁾ (|z| < 5), from whole
networks and from the neuron-level estimator; and a deliberately wrong formula fails."""

import numpy as np
import pytest

import nnft
from helpers import Z_MAX, tuples_for

# spec, overrides, networks, point scale (lognormal Gauss-net: stay near the origin)
THEORIES = [
    ("cos_net", {"N": 8}, 60_000, 0.6),
    ("gauss_net", {"N": 8}, 60_000, 0.3),
    ("scalar_net", {"N": 20}, 60_000, 0.6),
    ("shaped_net", {"N": 8}, 60_000, 0.6),
    ("cauchy_scalar_1d", {"N": 8}, 60_000, 0.6),
    ("rp_scalar_2d", {"N": 8}, 60_000, 0.6),
    ("relu_net", {"N": 8}, 60_000, 0.6),
    ("erf_net", {"N": 8}, 60_000, 0.6),
]




@pytest.mark.parametrize("name,dims,samples,scale", THEORIES, ids=[t[0] for t in THEORIES])
def test_whole_networks_match_closed_form(name, dims, samples, scale):
    model = nnft.compile(nnft.load(name, **dims))
    tuples = tuples_for(model.d, seed=1, scale=scale)
    ex = nnft.exact(model, tuples)
    mc = nnft.measure(model, tuples, samples=samples, key=11)
    assert np.all(np.abs(mc.full.z(ex.full[0])) < Z_MAX), mc.full.z(ex.full[0])
    assert np.all(np.abs(mc.connected.z(ex.connected[0])) < Z_MAX), mc.connected.z(ex.connected[0])
    # the connected 4-point function is resolved, not just consistent with zero
    g4c = [i for i, o in enumerate(mc.orders) if o == 4]
    assert np.max(np.abs(ex.connected[0, g4c]) / mc.connected.stderr[g4c]) > 3


@pytest.mark.parametrize("name,dims,samples,scale", THEORIES, ids=[t[0] for t in THEORIES])
def test_neuron_level_matches_closed_form_at_several_widths(name, dims, samples, scale):
    model = nnft.compile(nnft.load(name, **dims))
    tuples = tuples_for(model.d, seed=2, scale=scale)
    widths = [2, 16, 1000]
    ex = nnft.exact(model, tuples, widths=widths)
    nl = nnft.neuron_measure(model, tuples, neurons=200_000, widths=widths, key=5)
    z = nl.connected.z(ex.connected)
    assert np.all(np.abs(z) < Z_MAX), z
    # a factor 2 in the connected 4-point function is rejected
    four = [i for i, o in enumerate(nl.orders) if o == 4]
    assert np.max(np.abs(nl.connected[:, four].z(2 * ex.connected[:, four]))) > Z_MAX


def test_wrong_formulas_fail():
    """Seed erratum (TASI eq. 71 has σ_b² where σ_w0² belongs) and a factor 2 are both rejected."""
    from nnft.analytic import cos_net_g4c
    model = nnft.compile(nnft.load("cos_net", N=4, ))
    pts = np.array([[0.0, 0.0], [0.0, 0.0], [1.2, 0.0], [1.2, 0.0]])
    mc = nnft.measure(model, [pts], samples=100_000, key=3).connected
    right = cos_net_g4c(*pts, sigma_w0=1.0, sigma_w1=1.0, N=4, d=2)
    assert abs(mc.z(right)[0]) < Z_MAX
    assert abs(mc.z(2 * right)[0]) > Z_MAX
    assert abs(mc.z(0.5 * right)[0]) > Z_MAX


def test_any_readout_density_enters_through_r():
    """A uniform readout (r = μ4/μ2² = 9/5) changes G_c⁽⁴⁾; the reference follows the graph's readout."""
    base = nnft.load("cos_net", N=4)
    data = base.model_dump()
    half_width = "sigma_w1 * sqrt(3 / N)"
    data["params"]["W1"]["density"] = {"uniform": {"low": f"-{half_width}", "high": half_width}}
    model = nnft.compile(nnft.from_dict(data))
    pts = [np.zeros((4, 2)), np.array([[0, 0], [0, 0], [0.8, 0], [0.8, 0]])]
    ex = nnft.exact(model, pts)
    gauss = nnft.exact(nnft.compile(base), pts)
    mc = nnft.measure(model, pts, samples=100_000, key=4).connected
    assert np.all(np.abs(mc.z(ex.connected[0])) < Z_MAX)
    assert np.max(np.abs(mc.z(gauss.connected[0]))) > Z_MAX   # Gaussian-readout formula is wrong here


def test_six_point_connected_function_at_any_width():
    """G_c⁽⁶⁾ = O(1/N²) exactly (docs/physics.md §0): neuron-level estimate vs the closed-form moments."""
    model = nnft.compile(nnft.load("cos_net"))
    P = np.array([[0.0, 0.0], [0.4, 0.1], [0.0, 0.5]])
    tuples = [P[[0] * 6], P[[0, 0, 1, 1, 2, 2]], P[[0, 0, 0, 0, 1, 1]]]
    widths = [2, 8, 64]
    ex = nnft.exact(model, tuples, widths=widths)
    nl = nnft.neuron_measure(model, tuples, neurons=200_000, widths=widths, key=9)
    assert np.all(np.abs(nl.connected.z(ex.connected)) < Z_MAX)
    # exactly O(1/N²); at coincident points G_c⁽⁶⁾ vanishes for a Gaussian readout: m6 − 15 m4 m2 + 30 m2³ = 0
    np.testing.assert_allclose(ex.connected[0, 1:] / ex.connected[2, 1:], (64 / 2) ** 2, rtol=1e-10)
    assert abs(ex.connected[0, 0]) < 1e-14
    # brute force at N = 2 agrees too
    mc = nnft.measure(nnft.compile(nnft.load("cos_net", N=2)), tuples, samples=200_000, key=8).connected
    assert np.all(np.abs(mc.z(ex.connected[0])) < Z_MAX)
