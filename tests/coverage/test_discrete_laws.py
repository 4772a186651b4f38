"""Discrete parameter laws (``nnft.densities.discrete``): Rademacher ±scale and a finite discrete law.

Draws vs the exact law by χ² (a wrong law fails), exact moments vs the definition, the declared facts
(support, centre, tail), validation, the refused noise map, and a Gauss-net with a Rademacher readout:
still a neuron sum, with nnft.exact's G2 and G_c⁽⁴⁾ (E v⁴ = s⁴, not the normal's 3s⁴) against Monte
Carlo of whole networks by |z|, where the normal readout's G_c⁽⁴⁾ fails.
"""

import math

import jax
import numpy as np
import pytest
from scipy import stats

import nnft
from helpers import Z_MAX
from nnft.densities import DENSITIES, get_density
from nnft.errors import DensityArgError, NnftError

LAW = {"v1": -1.5, "p1": 0.25, "v2": 0.5, "p2": 0.5, "v3": 2.0, "p3": 0.25}     # p4 = 0: three atoms
P_MIN = 1e-4


def _chi2_p(x, values, probs):
    counts = np.array([np.sum(x == np.float32(v)) for v in values])
    assert counts.sum() == len(x)                               # nothing off the atoms
    return stats.chisquare(counts, len(x) * np.asarray(probs)).pvalue


def test_draws_follow_the_law_and_a_wrong_law_fails():
    n = 40_000
    x = np.asarray(get_density("discrete").sample(jax.random.key(1), (n,), LAW))
    assert _chi2_p(x, [-1.5, 0.5, 2.0], [0.25, 0.5, 0.25]) > P_MIN
    assert _chi2_p(x, [-1.5, 0.5, 2.0], [0.3, 0.45, 0.25]) < P_MIN                     # twin
    r = np.asarray(get_density("rademacher").sample(jax.random.key(2), (n,), {"scale": 0.75}))
    assert _chi2_p(r, [-0.75, 0.75], [0.5, 0.5]) > P_MIN
    assert _chi2_p(r, [-0.75, 0.75], [0.48, 0.52]) < P_MIN                               # twin


def test_network_blocks_are_a_function_of_the_network_index():
    d = get_density("rademacher")
    a = np.asarray(d.sample_networks(jax.random.key(3), 0, 6, (5,), {"scale": 1.0}))
    b = np.asarray(d.sample_networks(jax.random.key(3), 4, 2, (5,), {"scale": 1.0}))
    np.testing.assert_array_equal(a[4:], b)
    assert set(np.unique(a)) == {-1.0, 1.0}


def test_exact_moments_from_the_definition():
    d, r = get_density("discrete"), get_density("rademacher")
    for k in range(7):
        assert d.moment(k, LAW) == pytest.approx(0.25 * (-1.5) ** k + 0.5 * 0.5 ** k + 0.25 * 2.0 ** k, rel=1e-14)
        assert r.moment(k, {"scale": 0.75}) == (0.0 if k % 2 else 0.75 ** k)
    assert d.moment(4, LAW) != pytest.approx(3 * d.moment(2, LAW) ** 2)                 # not Gaussian
    n = 200_000
    x = np.asarray(d.sample(jax.random.key(4), (n,), LAW), dtype=np.float64)
    for k in (1, 2, 3, 4):
        z = (np.mean(x ** k) - d.moment(k, LAW)) / (np.std(x ** k) / math.sqrt(n))
        assert abs(z) < Z_MAX, (k, z)


def test_facts():
    d, r = get_density("discrete"), get_density("rademacher")
    assert d.discrete and r.discrete and not get_density("normal").discrete
    assert r.centre({"scale": 2.0}) == 0.0 and r.support({"scale": 2.0}).low == -2.0
    assert d.centre(LAW) is None                                      # 2c − v is not an atom
    assert d.centre({"v1": 0.0, "p1": 0.25, "v2": 1.0, "p2": 0.5, "v3": 2.0, "p3": 0.25}) == 1.0
    assert d.centre({"v1": 0.0, "p1": 0.3, "v2": 1.0, "p2": 0.5, "v3": 2.0, "p3": 0.2}) is None   # twin
    assert d.support(LAW).low == -1.5 and d.support(LAW).high == 2.0 and d.tail(LAW).bounded
    assert not r.isotropic({}) and r.gaussian({}) is None and r.affine_args == {"scale"}
    v, p = d.atoms(LAW)
    assert list(v) == [-1.5, 0.5, 2.0] and list(p) == [0.25, 0.5, 0.25]
    lp = np.asarray(d.log_prob(np.array([-1.5, 0.5, 2.0, 0.0]), LAW))
    np.testing.assert_allclose(lp[:3], np.log([0.25, 0.5, 0.25]), rtol=1e-6)
    assert lp[3] == -np.inf


def test_validation_and_refusals():
    d = get_density("discrete")
    with pytest.raises(DensityArgError, match="sum to 1"):
        d.check({"v1": 0.0, "p1": 0.5, "v2": 1.0, "p2": 0.4})
    with pytest.raises(DensityArgError, match="p2"):
        d.check({"p2": -0.1})
    with pytest.raises(DensityArgError, match="default: p1 = 0.5, p2 = 0.5"):   # {v1: 2, p1: 1}: p2 defaults to ½
        d.check({"v1": 2.0, "p1": 1.0})
    with pytest.raises(DensityArgError, match="noise map"):
        get_density("rademacher").noise_map(np.zeros(3), {})
    with pytest.raises(NnftError, match="sum to 1"):
        nnft.compile(nnft.from_dict(_spec({"discrete": {"v1": -1.0, "p1": 0.6, "v2": 1.0, "p2": 0.6}})))


def _spec(readout, N=2):
    return {"nnft": 1, "name": "gauss-rademacher", "dims": {"d": 1, "N": N},
            "constants": {"sigma_w0": 1.0, "sigma_b0": 0.3},
            "params": {"W0": {"shape": ["N", "d"], "density": {"normal": {"std": "sigma_w0 / sqrt(d)"}}},
                       "b0": {"shape": ["N"], "density": {"normal": {"std": "sigma_b0"}}},
                       "W1": {"shape": ["N"], "density": readout}},
            "field": "sum_N(W1 * exp(W0 @ x + b0 - sigma_b0**2 - sigma_w0**2 * norm(x)**2 / d))",
            "reference": {"gauss_net": {"sigma_w0": "sigma_w0", "sigma_b0": "sigma_b0"}}}


def test_gauss_net_with_rademacher_readout_is_a_neuron_sum_with_exact_g2_g4():
    s = 1 / math.sqrt(2 * 2)
    m = nnft.compile(nnft.from_dict(_spec({"rademacher": {"scale": s}})))
    ns = m.structure.neuron_sum
    assert ns is not None and ns.readout == "W1"
    pts = np.array([[-0.3], [0.2]])
    tuples = [pts[[0, 1]], pts[[0, 0, 0, 0]], pts[[0, 0, 1, 1]]]
    ex = nnft.exact(m, tuples)
    mc = nnft.measure(m, tuples, samples=40_000, key=5)
    assert np.all(np.abs(mc.full.z(ex.full[0])) < Z_MAX), mc.full.z(ex.full[0])
    assert np.all(np.abs(mc.connected.z(ex.connected[0])) < Z_MAX), mc.connected.z(ex.connected[0])
    normal = nnft.compile(nnft.from_dict(_spec({"normal": {"std": s}})))
    wrong = nnft.exact(normal, tuples)                       # same G2, G_c⁽⁴⁾ with E v⁴ = 3s⁴
    np.testing.assert_allclose(wrong.full[0][0], ex.full[0][0], rtol=1e-12)
    assert np.max(np.abs(mc.connected.z(wrong.connected[0])[1:])) > Z_MAX


def test_every_registered_discrete_law_is_covered_here():
    assert {n for n, d in DENSITIES.items() if d.discrete} == {"rademacher", "discrete"}


def test_a_sign_readout_points_to_rademacher_which_gives_its_exact_correlators():
    """sum_N(sign(a) * ψ) with a ~ N(0, 1) is not recognised as a neuron sum (the readout is an
    operation, not a parameter), and the analysis says how to declare it; the declared Rademacher
    readout has the same law, so its exact G2/G_c⁽⁴⁾ match Monte Carlo of the sign(a) network."""
    def spec(readout, field):
        return {"nnft": 1, "name": "sign-readout", "dims": {"d": 1, "N": 2},
                "params": {"W0": {"shape": ["N", "d"], "density": {"normal": {"std": 1.0}}},
                           "b0": {"shape": ["N"], "density": {"normal": {"std": 0.5}}},
                           "a": {"shape": ["N"], "density": readout}},
                "field": field, "reference": {"erf_layer": {"weight_std": 1.0, "bias_std": 0.5}}}
    signed = nnft.compile(nnft.from_dict(spec({"normal": {"std": 1.0}}, "sum_N(sign(a) * erf(W0 @ x + b0))")))
    assert signed.structure.neuron_sum is None
    assert "rademacher" in " ".join(signed.structure.notes)
    rad = nnft.compile(nnft.from_dict(spec({"rademacher": {}}, "sum_N(a * erf(W0 @ x + b0))")))
    pts = np.array([[-0.4], [0.7]])
    tuples = [pts[[0, 1]], pts[[0, 0, 1, 1]], pts[[1, 1, 1, 1]]]
    ex = nnft.exact(rad, tuples)
    mc = nnft.measure(signed, tuples, samples=30_000, key=9)
    assert np.all(np.abs(mc.full.z(ex.full[0])) < Z_MAX), mc.full.z(ex.full[0])
    assert np.all(np.abs(mc.connected.z(ex.connected[0])) < Z_MAX), mc.connected.z(ex.connected[0])
    wrong = nnft.exact(nnft.compile(nnft.from_dict(spec({"normal": {"std": 1.0}}, "sum_N(a * erf(W0 @ x + b0))"))),
                       tuples)                                  # a Gaussian readout: E v⁴ = 3, not 1
    assert np.max(np.abs(mc.connected.z(wrong.connected[0])[1:])) > Z_MAX
