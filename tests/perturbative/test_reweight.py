"""The one reweighter, the one ESS and the one z convention (nnft.sample.reweight, nnft.stats)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nnft.sample.reweight import MultiLambda, importance_weights
from nnft.stats import BlockSums, Estimate, kish_ess, zscore


def test_kish_ess_is_blocksums_ess_and_scale_free():
    w = np.array([1.0, 0.5, 0.25, 0.0])
    assert kish_ess(w.sum(), (w * w).sum()) == pytest.approx(1.75 ** 2 / 1.3125, rel=1e-15)
    assert kish_ess(3 * w.sum(), 9 * (w * w).sum()) == pytest.approx(kish_ess(w.sum(), (w * w).sum()), rel=1e-15)
    assert kish_ess(0.0, 0.0) == 0.0
    acc = BlockSums(2, 1)
    acc.add(np.zeros((2, 1)), np.array([w[:2].sum(), w[2:].sum()]), 4,
            weights2=np.array([(w[:2] ** 2).sum(), (w[2:] ** 2).sum()]))
    assert acc.ess == kish_ess(w.sum(), (w * w).sum())
    np.testing.assert_array_equal(kish_ess(np.array([2.0, 1.0]), np.array([2.0, 0.0])), [2.0, 0.0])


def test_zscore_one_convention():
    e = Estimate(np.array([1.0, 2.0, 3.0, 3.0]), np.array([0.5, 0.0, 0.0, 1.0]), 10)
    np.testing.assert_array_equal(zscore(e, [0.0, 2.0, 1.0, 0.0]), [2.0, 0.0, np.inf, 3.0])
    np.testing.assert_array_equal(zscore((e.mean, e.stderr), [0.0, 2.0, 1.0, 0.0]), e.z([0.0, 2.0, 1.0, 0.0]))
    assert float(zscore((3.0, 0.3), 0.0, reference_err=0.4)) == pytest.approx(6.0)    # σ = √(0.3² + 0.4²)
    assert float(e[3].z(0.0, reference_err=0.0)) == 3.0


def test_importance_weights_and_multi_lambda_layout():
    with jax.enable_x64(True):                                          # as in the sweep's stream
        _layout()


def _layout():
    lw = jnp.array([[-0.5, 0.0], [-2.0, -1.0], [0.0, -3.0]])           # (r = 3, L = 2), already shifted
    f = jnp.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])                # (r, F = 2)
    np.testing.assert_allclose(importance_weights(jnp.array([0.0, -1.0]), shift=1.0), np.exp([-1.0, -2.0]))
    lay = MultiLambda(2, 2)
    cols = np.asarray(lay.columns(f, lw))
    assert cols.shape == (3, lay.n_columns) == (3, 2 * 3 + 4)
    m = cols.mean(0)
    w = np.exp(np.asarray(lw))
    np.testing.assert_allclose(lay.free(m), np.asarray(f).mean(0))
    want = (np.asarray(f)[:, None, :] * w[:, :, None]).mean(0) / w.mean(0)[:, None]
    np.testing.assert_allclose(lay.reweighted(m), want, rtol=1e-14)
    acc = BlockSums(3, lay.n_columns)
    acc.add(cols, np.ones(3), 3)
    np.testing.assert_allclose(lay.ess(acc), w.sum(0) ** 2 / (w * w).sum(0), rtol=1e-14)
    np.testing.assert_array_equal(lay.tail_columns([1], 1), [1, 2 + 2 + 1, 2 * 3 + 1])
