"""Misuses of public calls found by trying the API as a newcomer: each is one nnft error, not a raw
TypeError or a JAX reshape error from deep inside."""

import jax
import numpy as np
import pytest

import nnft
from nnft.checks import rp_analytic


def test_log_weight_and_log_prob_refuse_a_batch_and_accept_one_network():
    model = nnft.compile(nnft.load("phi4_scalar_1d"))
    batch = model.sample(jax.random.key(0), 3)
    for method in (model.log_weight, model.log_prob):
        with pytest.raises(nnft.InputError, match="one network.*jax.vmap"):
            method(batch)
    one = jax.tree.map(lambda a: a[1], batch)
    # the batched call through vmap is the one-network call, network by network
    assert float(jax.vmap(model.log_weight)(batch)[1]) == pytest.approx(float(model.log_weight(one)), rel=1e-6)
    assert np.isfinite(float(jax.jit(model.log_prob)(one)))


def test_rp_analytic_needs_a_callable_two_point_function():
    with pytest.raises(nnft.InputError, match="callable"):
        rp_analytic(np.eye(3), np.zeros((3, 1)))
    assert rp_analytic(lambda x, y: float(np.exp(-abs(x[0] - y[0]))), np.linspace(0.1, 2, 6)[:, None]).verdict == "PASS"
