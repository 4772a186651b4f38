"""k̂ of streamed products from per-point powers (nnft.sample.step.Products, BlockSums.feature_khat): a
product of order m on points S gets max_{p∈S} k̂(w|φ(x_p)|ᵐ), an upper bound of its tail index by AM–GM
(|Π φ(x_i)| ≤ max_i |φ(x_i)|ᵐ). Heavy tails are flagged, light tails at order ≤ 4 are not, and the
neuron-level and reweighted paths keep their k̂."""

import warnings

import numpy as np
import pytest

import nnft
from nnft.errors import TailWarning
from nnft.tails import KHAT_FLAG, khat_from_top, tail_size
from nnft.stats import BlockSums

PTS4 = [np.array([[0.0, 0.0], [0.3, 0.0], [0.0, 0.4], [0.5, 0.5]])]


def _top(x):
    M = tail_size(len(x)) + 1
    return np.partition(x, len(x) - M)[-M:]


def test_power_bound_is_not_lighter_than_the_product():
    """Student-t(3) factors: |X|² has k = 2/3, the product X₁X₂ of independent ones k = 1/3; the
    bound's k̂ exceeds the product's k̂ by far more than their errors ((1 + k)/√M each)."""
    rng = np.random.default_rng(0)
    n = 200_000
    x = rng.standard_t(3, size=(n, 2))
    prod = x[:, 0] * x[:, 1]
    k_prod = max(khat_from_top(_top(prod)), khat_from_top(_top(-prod)))
    k_bound = max(khat_from_top(_top(np.abs(x[:, 0]) ** 2)), khat_from_top(_top(np.abs(x[:, 1]) ** 2)))
    se = 2 / np.sqrt(tail_size(n))
    assert abs(k_bound - 2 / 3) < 4 * se and abs(k_prod - 1 / 3) < 4 * se
    assert k_bound > k_prod + 2 * se


def test_feature_khat_is_the_worst_of_its_columns():
    rng = np.random.default_rng(1)
    M = tail_size(10_000) + 1
    light = _top(np.abs(rng.standard_normal(10_000)))
    heavy = _top(np.abs(rng.standard_cauchy(10_000)))
    acc = BlockSums(2, 3)
    acc.tail = (np.stack([light, heavy]), -np.stack([light, heavy])[:, ::-1])
    acc.tail_columns = [np.array([0]), np.array([1]), np.array([0, 1])]
    acc.tail_one_sided = True
    k = acc.feature_khat()
    assert k[0] < 0.5 and k[1] > KHAT_FLAG and k[2] == k[1]
    assert acc.tail[0].shape == (2, M)


def _cos_net_t(df, N):
    d = nnft.load("cos_net", N=N).model_dump()
    d["params"]["W1"]["density"] = {"student_t": {"df": df, "scale": "1/sqrt(N)"}}
    return nnft.compile(nnft.from_dict(d))


def test_heavy_tailed_products_at_distinct_points_are_flagged():
    """ν = 5, N = 2 readout: φ⁴ has tail index 5/4 (k = 0.8) at every point; G_c⁽⁴⁾ at four distinct
    points is flagged."""
    with pytest.warns(TailWarning):
        mc = nnft.measure(_cos_net_t(5, 2), PTS4, samples=20_000, key=1)
    assert np.all(mc.connected.khat > KHAT_FLAG)


def test_light_tailed_order_four_is_not_flagged():
    """Cos-net (light tails, all moments finite) at four distinct points: not flagged (the wrong answer,
    a heavy readout, is the test above)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", TailWarning)
        mc = nnft.measure(nnft.compile(nnft.load("cos_net")), PTS4, samples=20_000, key=2)
    assert np.all(mc.connected.khat < KHAT_FLAG) and np.all(mc.full.khat < KHAT_FLAG)


def test_neuron_level_estimates_keep_khat():
    model = nnft.compile(nnft.load("cos_net", N=16))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TailWarning)
        w = nnft.neuron_measure(model, PTS4, neurons=32_000, widths=[16, 64], key=3)
    assert w.connected.khat.shape == (2, 1) and np.all(np.isfinite(w.connected.khat))
    assert np.all(w.full.khat < KHAT_FLAG)


def test_reweighted_shifts_keep_khat():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cmp = nnft.compare(nnft.load("phi4_scalar_1d"), lambdas=[0.01], samples=4000, key=0)
    assert all(r.mc.khat is not None and np.all(np.isfinite(r.mc.khat)) for r in cmp.rows)
