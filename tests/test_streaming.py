"""Streaming accumulation: chunk size does not change the numbers; float32 sampling does not bias
connected correlators; non-finite samples are reported, never averaged."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nnft
from nnft.estimators.npoint import Plan


@pytest.fixture(scope="module")
def model():
    return nnft.compile(nnft.load("cos_net", N=8))


PTS = [np.zeros((4, 2)), np.array([[0.0, 0.0], [0.3, 0.1]]), np.array([[0, 0], [0.3, 0.1], [0.5, 0], [1, 1.0]])]


@pytest.mark.parametrize("dtype,rtol", [("float64", 1e-12), ("float32", 1e-6)])
def test_chunk_size_does_not_change_the_numbers(model, dtype, rtol):
    """Network i is the same whatever the chunk. In float64 the numbers agree to summation order; in
    float32, XLA may compile a different batch size to differently vectorised code (e.g. jax 0.8), so
    the field values agree to float32 rounding."""
    runs = [nnft.measure(model, PTS, samples=5000, key=7, chunk=c, dtype=dtype) for c in (5000, 1024, 333)]
    for r in runs[1:]:
        np.testing.assert_allclose(r.full.mean, runs[0].full.mean, rtol=rtol)
        np.testing.assert_allclose(r.connected.mean, runs[0].connected.mean, rtol=rtol)
        np.testing.assert_allclose(r.connected.stderr, runs[0].connected.stderr, rtol=100 * rtol)


def test_chunk_size_does_not_change_neuron_level_numbers(model):
    a = nnft.neuron_measure(model, PTS, neurons=8000, widths=[4, 64], key=2, chunk=1000)
    b = nnft.neuron_measure(model, PTS, neurons=8000, widths=[4, 64], key=2, chunk=37)
    np.testing.assert_allclose(a.connected.mean, b.connected.mean, rtol=1e-12)


def test_seed_changes_the_numbers(model):
    a = nnft.measure(model, PTS, samples=2000, key=1)
    b = nnft.measure(model, PTS, samples=2000, key=2)
    assert not np.allclose(a.full.mean, b.full.mean)


def test_float32_sampling_does_not_bias_connected_correlators():
    """Same parameter draws evaluated in float32 and float64; G_c⁽⁴⁾ ~ G⁽⁴⁾/N at N = 256 is a small
    difference of large moments, and the float64 accumulation keeps the precision loss far below
    the statistical error."""
    m = nnft.compile(nnft.load("cos_net", N=256))
    plan = Plan(PTS[:1] + PTS[2:], m.d)
    with jax.enable_x64(True):
        theta = m.sample(jax.random.key(0), 20_000, dtype=jnp.float64)
        pts = jnp.asarray(plan.points)
        v64 = m.fields(theta, pts)
        v32 = m.fields(jax.tree.map(lambda a: a.astype(jnp.float32), theta), pts.astype(jnp.float32))
        f64 = np.asarray(plan.features(v64.astype(jnp.float64)))
        f32 = np.asarray(plan.features(v32.astype(jnp.float64)))
    c64, c32 = plan.connected(f64.mean(0)), plan.connected(f32.mean(0))
    stderr = nnft.measure(m, PTS[:1] + PTS[2:], samples=20_000, key=0).connected.stderr
    assert np.all(np.abs(c32 - c64) < 1e-3 * stderr), (c32 - c64) / stderr


def test_nan_is_reported_not_averaged():
    data = nnft.load("cos_net", N=4).model_dump()
    data["field"] = "sum_N(W1 * log(W0 @ x + b0))"     # log of negative numbers -> NaN
    model = nnft.compile(nnft.from_dict(data))
    with pytest.raises(nnft.SamplingError, match="non-finite"):
        nnft.measure(model, [np.array([[0.3, 0.2], [0.1, 0.0]])], samples=200, key=0)


def test_memory_is_bounded_by_blocks_and_features(model):
    from nnft.estimators.npoint import accumulate
    plan = Plan(PTS, 2)
    small = accumulate(model, plan, samples=1000, key=0, chunk=256)
    large = accumulate(model, plan, samples=20_000, key=0, chunk=256)
    assert small.sums.shape == large.sums.shape == (64, plan.n_features)


def test_correlated_differences_have_smaller_errors(model):
    """G(x,y) − G(x+a, y+a) from one ensemble: Cos-net is translation invariant, and the correlated
    difference has a far smaller error than independent estimates would."""
    a = np.array([0.7, -0.3])
    x = np.array([[0.0, 0.0], [0.5, 0.2]])
    ens = nnft.ensemble(model, [x, x + a], samples=20_000, key=3)
    diff = ens.derived(lambda full, conn: full[0] - full[1])
    g = ens.full()
    assert abs(diff.z(0.0)) < 5
    assert diff.stderr < 0.5 * np.hypot(*g.stderr)


@pytest.mark.parametrize("N", [40, 37])
def test_chunk_bound_holds_on_each_readout_route(N):
    """The float32 chunk bound of test_chunk_size_does_not_change_the_numbers for the readout folded into
    slabs (N = 40) and the plain matrix product (prime N = 37), whose summation orders differ from N = 8's."""
    m = nnft.compile(nnft.load("cos_net", N=N))
    runs = [nnft.measure(m, PTS[:2], samples=3000, key=7, chunk=c, dtype="float32") for c in (3000, 333)]
    np.testing.assert_allclose(runs[1].full.mean, runs[0].full.mean, rtol=1e-6)
    np.testing.assert_allclose(runs[1].connected.mean, runs[0].connected.mean, rtol=1e-6)
