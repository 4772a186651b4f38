"""Constants of a spec are runtime (traced) arguments of the compiled i.i.d. step (issue 10 item 2,
issue 11 item 2): a sweep over a constant traces and compiles the step once, gives bitwise the numbers
of separate runs of edited specs, and a constant passed as an argument gives bitwise the numbers of
the same constant compiled in as a Python float (float32 and float64), except where XLA folds
products of compiled-in numbers (scalar_net: bounded below).

Compilations are counted by the traces JAX reports (``jax.monitoring`` jaxpr-trace events of the
step, by function name: a hit in the persistent compilation cache still traces), not by time.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nnft
from helpers import jax_events
from nnft.sample import iid

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

RUN = dict(samples=64, points=[[0.0], [0.7]], orders=[2], neurons=0)
STEP = "per_device"                       # the jitted per-chunk program of nnft.sample.iid

EVENTS = jax_events()
_traces = EVENTS.traces


def _numbers(report):
    return [(r.full, r.connected) for r in report.rows]


@pytest.fixture
def fresh(monkeypatch):
    """No compiled step shared from earlier tests."""
    monkeypatch.setattr(iid, "_SHARED", {})
    EVENTS.clear()


@pytest.mark.parametrize("dtype", ["float32"])
def test_constant_sweep_compiles_the_step_once_and_equals_separate_runs(fresh, dtype):
    over = {"N": 3, "d": 1}
    per_value = []
    sw = None
    for i in range(3):                   # trace counts value by value
        before = _traces[STEP]
        if i == 2:
            sw = nnft.run_sweep("cos_net", "sigma_w0", [0.5, 1.0, 1.5], overrides=over, dtype=dtype, **RUN)
        else:
            nnft.run_sweep("cos_net", "sigma_w0", [[0.5, 1.0][i]], overrides=over, dtype=dtype, **RUN)
        per_value.append(_traces[STEP] - before)
    # the first value traces the step, the second reuses it, the whole 3-value sweep traces nothing new
    assert per_value == [1, 0, 0], per_value
    sep = [nnft.run(nnft.load("cos_net", **over, sigma_w0=v), dtype=dtype, **RUN) for v in (0.5, 1.0, 1.5)]
    assert _traces[STEP] == 1
    for rep, alone in zip(sw.reports, sep):
        assert _numbers(rep) == _numbers(alone)
    # the values differ (the constant reached the compiled step): G(0, 0.7) falls with sigma_w0
    g = [rep.rows[1].full[0] for rep in sw.reports]
    assert g[0] > g[1] > g[2], g


def test_a_size_sweep_does_trace_again(fresh):
    """The counter sees traces at all: another width is another program."""
    nnft.run_sweep("cos_net", "N", [3, 5], overrides={"d": 1}, **RUN)
    assert _traces[STEP] == 2


def _jitted(model, pts, dtype, traced: bool):
    def f(key, consts):
        def body():
            theta = model.sample(key, 16, 0, dtype)
            return theta, model.fields(theta, jnp.asarray(pts, dtype))
        if not traced:
            return body()
        with model.traced_constants(consts):
            return body()
    return jax.jit(f)


@pytest.mark.parametrize("spec,over,dtype", [
    ("cos_net", {"sigma_w0": 0.7, "sigma_w1": 1.3, "N": 4}, jnp.float32),
    ("cos_net", {"sigma_w0": 0.7, "sigma_w1": 1.3, "N": 4}, jnp.float64),
    ("tanh_mlp", {"C_W": 1.1, "C_b": 0.2, "N": 4, "L": 2}, jnp.float32)])
def test_constant_as_argument_is_bitwise_the_constant_compiled_in(spec, over, dtype):
    with jax.enable_x64(True):
        model = nnft.compile(nnft.load(spec, **over))
        assert model.tunable_constants, spec
        rng = np.random.default_rng(0)
        pts = rng.normal(size=(3, model.d))
        key = jax.random.key(3)
        consts = model.constant_values()
        assert all(c.dtype == jnp.float64 and c.weak_type for c in consts)
        th0, phi0 = _jitted(model, pts, dtype, traced=False)(key, consts)
        th1, phi1 = _jitted(model, pts, dtype, traced=True)(key, consts)
        for k in th0:
            np.testing.assert_array_equal(th0[k], th1[k])
        np.testing.assert_array_equal(phi0, phi1)
        # and the argument is used: other values give other numbers
        _, phi2 = _jitted(model, pts, dtype, traced=True)(key, tuple(c * 1.25 for c in consts))
        assert not np.array_equal(phi1, phi2)


def test_step_key_ignores_constants_not_sizes():
    a = nnft.compile(nnft.load("tanh_mlp", C_W=0.9, L=2))
    b = nnft.compile(nnft.load("tanh_mlp", C_W=1.1, L=2))
    c = nnft.compile(nnft.load("tanh_mlp", N=7, L=2))
    assert a.step_key == b.step_key and a.step_key != c.step_key
    assert a.tunable_constants == b.tunable_constants
    assert [float(v) for v in a.constant_values()] != [float(v) for v in b.constant_values()]


def test_the_chunk_step_with_constants_as_arguments_is_bitwise_the_compiled_in_one():
    """The whole per-chunk program (sampling, field, float64 feature sums by matrix products)."""
    from nnft.sample.step import Products, chunk_step
    with jax.enable_x64(True):
        model = nnft.compile(nnft.load("tanh_mlp", C_W=1.3, C_b=0.1, N=4, L=2))
        pts = np.array([[0.1, 0.2, 0.3], [-0.5, 0.4, 1.0]])
        feats = Products([(0,), (0, 1), (1, 1), (0, 0, 1, 1)], 2)

        def values(theta):
            return model.fields(theta, jnp.asarray(pts, jnp.float32))[:, None, :]

        step = chunk_step(model, values, feats, 32, "float32")
        start, count = jnp.int64(64), jnp.int64(30)
        baked = jax.jit(lambda k: step(k, start, count))(jax.random.key(2))
        traced = jax.jit(lambda k, c: step(k, start, count, c))(jax.random.key(2), model.constant_values())
        for a, b in zip(baked, traced):
            np.testing.assert_array_equal(a, b)
        assert int(baked[3]) == 0 and np.all(np.isfinite(baked[0]))


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_where_xla_reassociates_compiled_in_constants_the_difference_is_bounded(dtype):
    """Not always bitwise: with the numbers compiled in, XLA folds (z·c₁)·c₂ into z·(c₁c₂) (scalar_net:
    W1 = (σ_w1/√N)·z, then W1·A), which an argument cannot be. The traced step computes φ as written
    (θ rounded to the dtype, then ·A); per term the two differ by ≤ 3u relative (u = unit roundoff), so
    |Δφ| ≤ (3 + N)·u·Σᵢ|termᵢ| (the sum over the N neurons adds its own rounding to both). θ is bitwise equal."""
    with jax.enable_x64(True):
        model = nnft.compile(nnft.load("scalar_net", N=16))
        pts = np.linspace(-1.0, 1.0, 5)[:, None]
        consts = model.constant_values()
        (th0, phi0), (th1, phi1) = (_jitted(model, pts, dtype, traced=t)(jax.random.key(1), consts) for t in (False, True))
        for k in th0:
            np.testing.assert_array_equal(th0[k], th1[k])
        c = [(model.graph.nodes[n]["field"], float(v)) for n, v in zip(model.tunable_constants, consts)]
        A = [v for f, v in c if f == "field" and v != 1.0][0]          # the amplitude (m² = 1 is the other)
        w0, b0, w1 = (np.asarray(th1[k], np.float64) for k in ("W0", "b0", "W1"))
        terms = w1[:, None, :] * A * np.cos(w0[:, None, :, 0] * pts[None, :, 0, None] + b0[:, None, :]) \
            / np.sqrt(w0[:, None, :, 0] ** 2 + 1.0)                      # (n, P, N), m = 1
        np.testing.assert_allclose(np.asarray(phi1, np.float64), terms.sum(-1), rtol=0,
                                   atol=float(np.max(np.abs(terms).sum(-1))) * 64 * float(jnp.finfo(dtype).eps))
        u = float(jnp.finfo(dtype).eps) / 2
        bound = (3 + 16) * u * np.abs(terms).sum(-1)
        diff = np.abs(np.asarray(phi0, np.float64) - np.asarray(phi1, np.float64))
        assert np.all(diff <= bound), float(np.max(diff / bound))
