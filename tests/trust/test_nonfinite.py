"""Non-finite values are never masked: overflowing features or block sums raise SamplingError;
an estimate or error bar that would be NaN/inf, importance weights that collapsed, or a jackknife
over fewer than 2 blocks are "not estimable" (EstimatorError), never a number in a table."""

import warnings

import numpy as np
import pytest

import nnft
from nnft.errors import ReweightingWarning
from nnft.stats import BlockSums

PAIR = np.array([[0.0, 0.0], [0.5, 0.0]])


def _scaled_cos_net(scale: str):
    d = nnft.load("cos_net", N=16).model_dump()
    d["field"] = f"{scale} * sum_N(W1 * cos(W0 @ x + b0))"
    return nnft.compile(nnft.from_dict(d))


@pytest.mark.slow
def test_chaotic_deep_relu_overflow_raises():
    """The issue's case: a deep ReLU MLP far in the chaotic phase (L = 60, C_W = 64: the variance
    grows by C_W/2 = 32 per layer) overflows float32 inside the network; at the default chunk the
    NaN was swallowed by a later relu and every correlator printed 0 ± 0."""
    d = nnft.load("relu_mlp", L=60).model_dump()
    d["constants"]["C_W"] = 64.0
    model = nnft.compile(nnft.from_dict(d))
    with pytest.raises(nnft.SamplingError, match="non-finite"):
        nnft.measure(model, [np.array([[1.0, 0.0, 0.0], [0.6, 0.8, 0.0]])], samples=64, key=0)


def test_products_of_finite_field_values_that_overflow_raise():
    """φ ~ 1e160 is finite in float64, φ⁴ ~ 1e640 is not: the 4-point feature overflows."""
    model = _scaled_cos_net("1e160")
    with pytest.raises(nnft.SamplingError, match="non-finite"):
        nnft.measure(model, [np.zeros((4, 2))], samples=200, key=0, dtype="float64")


def test_block_sums_that_overflow_raise():
    """Every φ² ~ 1e306 is finite, their sum over a block of ~300 networks is not."""
    model = _scaled_cos_net("3e153")
    with pytest.raises(nnft.SamplingError, match="overflow"):
        nnft.measure(model, [np.zeros((2, 2))], samples=20_000, key=0, dtype="float64", blocks=64)


def test_collapsed_importance_weights_are_not_estimable():
    """φ⁴ coupling 1e6 (phi4_cos_1d; the issue's phi4_scalar_2d behaves alike): Kish ESS 1–3 of 5000
    (keys 0–2; at 1e5 it is 10–11, at the threshold), which printed nan or a number before."""
    d = nnft.load("phi4_cos_1d").model_dump()
    d["constants"]["lam"] = 1e6
    model = nnft.compile(nnft.from_dict(d))
    with pytest.warns(ReweightingWarning, match="effective sample size"), \
            pytest.raises(nnft.EstimatorError, match="not estimable.*collapsed"):
        nnft.measure(model, [np.zeros((2, 1))], samples=5000, key=0)    # no number from the API
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(nnft.EstimatorError, match="not estimable.*collapsed"):
            nnft.run(model.theory, samples=5000, neurons=0)   # and never a table row


@pytest.fixture(scope="module")
def small():
    return nnft.compile(nnft.load("cos_net", N=2))


def test_fewer_than_two_blocks_is_not_estimable(small):
    acc = BlockSums(4, 1)
    acc.add(np.array([[1.0], [0.0], [0.0], [0.0]]), np.array([3.0, 0.0, 0.0, 0.0]), 3)
    with pytest.raises(nnft.EstimatorError, match="not estimable: 1 non-empty"):
        acc.jackknife(lambda m: m)
    # through the API, fewer than 2 samples or blocks are refused at the door (no error bar can exist)
    for kw in ({"samples": 1}, {"samples": 100, "blocks": 1}):
        with pytest.raises(nnft.NnftError, match="samples|blocks"):
            nnft.measure(small, [PAIR], key=0, **kw)


def test_nan_estimate_is_not_estimable(small):
    model = small
    ens = nnft.ensemble(model, [PAIR], samples=500, key=0)
    with pytest.raises(nnft.EstimatorError, match="non-finite"):
        ens.derived(lambda full, conn: np.log(-np.abs(full)))
    # the same ensemble gives a finite estimate where one exists
    assert np.isfinite(ens.derived(lambda full, conn: full * 2).mean).all()
