"""Estimate and the block jackknife."""

import numpy as np

from nnft.stats import BlockSums, Estimate, format_value, zscore


def test_jackknife_of_a_mean_is_the_standard_error():
    rng = np.random.default_rng(0)
    x = rng.normal(size=64_000)
    acc = BlockSums(64, 1)
    blk = np.arange(x.size) * 64 // x.size
    acc.add(np.bincount(blk, weights=x, minlength=64)[:, None], np.bincount(blk, minlength=64), x.size)
    est = acc.jackknife(lambda m: m[0])
    assert abs(est.mean - x.mean()) < 1e-12
    # the block estimate of the standard error has ~9% relative scatter with 64 blocks
    assert abs(est.stderr / (x.std() / np.sqrt(x.size)) - 1) < 0.4


def test_jackknife_of_a_nonlinear_function_is_calibrated():
    """Var estimate of mean² over many replicas matches the spread of the replicas."""
    rng = np.random.default_rng(1)
    vals, errs = [], []
    for _ in range(200):
        x = rng.normal(1.0, 1.0, size=2000)
        acc = BlockSums(20, 1)
        blk = np.arange(x.size) * 20 // x.size
        acc.add(np.bincount(blk, weights=x, minlength=20)[:, None], np.bincount(blk, minlength=20), x.size)
        e = acc.jackknife(lambda m: m[0] ** 2)
        vals.append(float(e.mean))
        errs.append(float(e.stderr))
    assert abs(np.std(vals) / np.mean(errs) - 1) < 0.15


def test_estimate_repr_and_z():
    e = Estimate(np.array([1.0, 2.0]), np.array([0.1, 0.0]), 10)
    assert "1.00 ± 0.10" in repr(e)
    z = zscore(e, np.array([1.2, 2.0]))
    assert np.allclose(z, [-2.0, 0.0])
    assert format_value(0.123456, 0.0012) == "0.1235 ± 0.0012"
    assert repr(e[0]) == "1.00 ± 0.10"
