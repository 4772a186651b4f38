"""Langevin noise (``train.temperature``): √(2ηr_pT)·ξ per step in the trained coordinates, key-explicit and
chunk-independent; with weight decay = T in ntk coordinates the stationary law is the Bayesian posterior,
at large width the NNGP posterior (``nnft.nngp_posterior``)."""

import numpy as np
import pytest

import nnft
from helpers import Z_MAX
from nnft.bayes.gp import nngp_posterior
from nnft.errors import SpecError
from train.test_training import erf_spec

#: the readout-only (random-feature) erf net: the hidden layer frozen by c = 4 (rate n^-4), the readout in
#: ntk coordinates, so f is linear in the trained coordinates and its posterior is a GP's
READOUT_ONLY = {"params": {"W0": {"c": 4}, "b0": {"c": 4}, "W1": {"a": 0.5}, "b1": {}}}


def langevin_spec(N, T, **train):
    return erf_spec(N, inputs={"list": [[-1.0], [1.0]]}, test={"list": [[-0.5], [0.3], [1.5]]}, linearised=False,
                    parameterisation="abcd", abcd=READOUT_ONLY, temperature=T, weight_decay=T, **train)


def test_langevin_noise_is_the_same_for_any_chunk():
    model = nnft.compile(nnft.from_dict(erf_spec(16, networks=12, steps=3, record=[0, 3], temperature=0.1,
                                                 weight_decay=0.1, linearised=False)))
    a = nnft.train(model, chunk=8)
    b = nnft.train(model, chunk=4)
    for name in ("mean", "cov", "ntk", "loss"):
        np.testing.assert_array_equal(getattr(a, name).mean, getattr(b, name).mean)
    hot = nnft.train(model, chunk=8, temperature=0.4)                        # T is traced: the same program
    np.testing.assert_array_equal(a.mean.mean[0], hot.mean.mean[0])          # the same start
    assert not np.array_equal(a.mean.mean[-1], hot.mean.mean[-1])            # the noise moved the networks
    assert len([k for k in model.jit_cache if k[0] == "train"]) == 2
    assert a.theory is None and "Langevin" in a.theory_note


@pytest.mark.parametrize("train, field", [({"temperature": -1}, "train.temperature"),
                                          ({"temperature": 0.1, "optimizer": "adam"}, "train.temperature"),
                                          ({"temperature": "T"}, "train.temperature")])
def test_bad_temperatures_are_located(train, field):
    with pytest.raises(SpecError) as err:
        nnft.train(nnft.compile(nnft.from_dict(erf_spec(8, networks=4, steps=1, record=[0, 1], **train))))
    assert err.value.field == field


@pytest.mark.slow
def test_stationary_langevin_ensemble_is_the_nngp_posterior():
    """Readout-only Langevin at T = 0.05 with weight decay T (the prior N(0, 1) of the ntk coordinates),
    η = 0.02, N = 256, 256 networks: after 500 and 1000 steps the mean and variance on three test points
    agree with the NNGP posterior at noise variance T/c = T (|z| < Z_MAX with the allowance (|μ| + √Σ)/n of
    finite width and ηλ_max/2 · Σ of the discrete steps, Welling & Teh 2011). The posterior at noise 2T fails
    the same comparison (measured: |z| ≤ 1.2 against T; up to 8.5 against 2T)."""
    N, T, eta = 256, 0.05, 0.02
    model = nnft.compile(nnft.from_dict(langevin_spec(N, T, networks=256, steps=1000, record=[0, 500, 1000], lr=eta)))
    r = nnft.train(model)
    lam = 2.0 / r.eta_crit_empirical                            # λ_max of the (rate-weighted) NTK, c = 1

    def worst(noise):
        post = nngp_posterior(model, r.X, r.Y, r.test, noise)
        var = np.diag(post.cov)
        allow_m = (np.abs(post.mean) + np.sqrt(var)) / N
        allow_v = (var + np.abs(post.mean) * np.sqrt(var)) / N + 0.5 * eta * lam * var
        zm = r.mean.z(post.mean[None], allow_m[None])[1:]
        zv = r.var.z(var[None], allow_v[None])[1:]
        return float(np.max(np.abs(zm))), float(np.max(np.abs(zv)))

    zm, zv = worst(T)
    assert zm < Z_MAX and zv < Z_MAX, (zm, zv)
    assert max(worst(2 * T)) > Z_MAX
