"""The i.i.d. stream computes several steps at once on a CPU (``iid.step_threads``: a pool of dispatching
threads) and the step keeps its float64 field values in memory (``nnft.materialise``, not fused into each
product column). Neither changes a bit: block sums, weights and tail buffers are those of one thread and
of the fused step; another key is not."""

from itertools import combinations_with_replacement

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nnft
from nnft.estimators import npoint
from nnft.sample import iid
from nnft.sample import step as step_mod

X = np.array([[-1.0], [0.2], [1.0]])
TUPLES = [X[list(ix)] for n in (2, 4, 6) for ix in combinations_with_replacement(range(3), n)]


def _stream(model, plan, key, threads, monkeypatch, **kw):
    monkeypatch.setattr(iid, "step_threads", lambda devices: threads)
    pts = np.asarray(plan.points)
    values = lambda th: model.fields(th, jnp.asarray(pts, th["W1"].dtype))[:, None, :]      # noqa: E731
    acc = plan.stream(model, key, 600, values, chunk=32, n_blocks=8, points=len(pts),
                      cache_key=("threads test", threads), **kw)
    return [acc.sums, acc.weights, acc.tail[0]]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_threads_change_no_bit(dtype, monkeypatch):
    model = nnft.compile(nnft.load("erf_net", N=5))
    plan = npoint.plan_for(TUPLES, 1)
    one = _stream(model, plan, 1, 1, monkeypatch, dtype=dtype)
    for threads in (2, 3):
        many = _stream(model, plan, 1, threads, monkeypatch, dtype=dtype)
        for a, b in zip(one, many):
            np.testing.assert_array_equal(a.view(np.uint8), b.view(np.uint8))
    other = _stream(model, plan, 2, 2, monkeypatch, dtype=dtype)
    assert not np.array_equal(one[0], other[0])


def test_a_failure_is_found_with_threads(monkeypatch):
    """A non-finite network is reported (the first one, as with one thread), and the pool is shut down."""
    d = nnft.load("erf_net", N=3).model_dump()
    d["field"] = "sum_N(W1 * log(W0 @ x + b0))"            # log of negative numbers -> NaN
    model = nnft.compile(nnft.from_dict(d))
    plan = npoint.plan_for(TUPLES[:3], 1)
    msgs = []
    for threads in (1, 2):
        with pytest.raises(nnft.SamplingError, match="non-finite") as err:
            _stream(model, plan, 1, threads, monkeypatch)
        msgs.append(str(err.value))
    assert msgs[0] == msgs[1]


def test_threads_only_on_cpu_and_bounded():
    cpu = jax.local_devices()
    assert 1 <= iid.step_threads(cpu) <= iid.MAX_THREADS
    assert iid.step_threads([type("Gpu", (), {"platform": "gpu"})()]) == 1


def test_step_values_in_memory_change_no_bit(monkeypatch):
    """The step's float64 values stored once (``materialised``) or left to XLA to fuse into every product
    (an ``optimization_barrier``, which XLA:CPU removes): bitwise the same outputs."""
    model = nnft.compile(nnft.load("erf_net", N=4))
    plan = npoint.plan_for(TUPLES, 1)
    pts = jnp.asarray(plan.points, jnp.float32)
    values = lambda th: model.fields(th, pts)[:, None, :]           # noqa: E731

    def outputs(key):
        st = step_mod.chunk_step(model, values, plan.products, 64, "float32", keep=True)
        with jax.enable_x64(True):
            return [np.asarray(a) for a in jax.jit(st)(jax.random.key(key), jnp.int64(10), jnp.int64(60))]

    stored = outputs(3)
    monkeypatch.setattr(step_mod, "materialised", lambda compute, anchor, out=None:
                        jax.lax.optimization_barrier(compute()))
    fused = outputs(3)
    for a, b in zip(stored, fused):
        np.testing.assert_array_equal(np.atleast_1d(a).view(np.uint8), np.atleast_1d(b).view(np.uint8))
    assert not np.array_equal(stored[0], outputs(4)[0])
