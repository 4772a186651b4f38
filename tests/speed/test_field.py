"""The batched field evaluation (``Model.fields``: one graph evaluation on (networks, points) arrays) and the
parameter draws (``Model.sample``): same values as the per-network, per-point evaluation; the non-finite rule
per (network, point) — never masked — including the exact fallback of the fast float32 cos; network i
bit-identical whatever the call's size and start."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import nnft

SPECS = ["cos_net", "gauss_net", "rp_scalar_2d", "deep_linear", "relu_mlp", "tanh_mlp", "erf_net"]

#: one parameter of every density family (and one whose argument depends on another parameter)
ALL_DENSITIES = {
    "nnft": 1, "name": "all-densities", "dims": {"d": 2, "N": 5},
    "params": {
        "a": {"shape": ["N"], "density": {"normal": {"std": 0.5, "mean": 0.1}}},
        "b": {"shape": ["N"], "density": {"uniform": {"low": -1.0, "high": 2.0}}},
        "c": {"shape": ["N"], "density": {"cauchy": {"scale": 0.3}}},
        "t": {"shape": ["N"], "density": {"student_t": {"df": 3.0}}},
        "l": {"shape": ["N"], "density": {"laplace": {"scale": 0.7}}},
        "ex": {"shape": ["N"], "density": {"exponential": {"rate": 2.0}}},
        "B": {"shape": ["N", "d"], "density": {"uniform_ball": {"radius": 1.5}}},
        "s": {"shape": ["N"], "density": {"normal": {"std": "1 + b * b"}}},
    },
    "field": "sum_N(a + b + c + t + l + ex + s + B @ x)",
}


def _model(name: str):
    if name == "all_densities":
        return nnft.compile(nnft.from_dict(ALL_DENSITIES))
    return nnft.compile(nnft.load(name))


def _bits(tree) -> dict:
    return {k: np.asarray(v).view(np.uint8) for k, v in tree.items()}


# ------------------------------------------------------------------------------ random numbers
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["cos_net", "gauss_net", "rp_scalar_2d", "deep_linear", "all_densities"])
def test_network_i_is_bit_identical_whatever_the_call(name, dtype):
    """Networks 0..99 in one call and in calls of 7, 13, 80 networks (traced start, as in the streaming
    step): bitwise equal; a different key or a shifted start gives different bits."""
    m = _model(name)
    dt = jnp.dtype(dtype)
    key = jax.random.key(11)
    with jax.enable_x64(True):
        draw = {n: jax.jit(lambda k, s, n=n: m.sample(k, n, s, dt)) for n in (100, 7, 13, 80)}
        whole = _bits(draw[100](key, jnp.int64(0)))
        start, parts = 0, []
        for n in (7, 13, 80):
            parts.append(_bits(draw[n](key, jnp.int64(start))))
            start += n
        other_key = _bits(draw[7](jax.random.key(12), jnp.int64(0)))
        shifted = _bits(draw[7](key, jnp.int64(1)))
    for k, v in whole.items():
        assert v.dtype == np.uint8
        np.testing.assert_array_equal(np.concatenate([p[k] for p in parts]), v)
        assert not np.array_equal(other_key[k], v[:7])
        assert not np.array_equal(shifted[k], v[:7])


# ------------------------------------------------------------------------------ batched = per point
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", SPECS)
def test_fields_equal_the_per_point_field(name, dtype):
    m = _model(name)
    with jax.enable_x64(True):
        dt = jnp.dtype(dtype)
        th = m.sample(jax.random.key(0), 16, 0, dt)
        pts = jax.random.normal(jax.random.key(1), (5, m.d), dt)
        batched = np.asarray(jax.jit(m.fields)(th, pts), np.float64)
        one = np.asarray(jax.jit(jax.vmap(jax.vmap(m.field, (None, 0)), (0, None)))(th, pts), np.float64)
        exact = np.asarray(jax.jit(m.fields)(jax.tree.map(lambda a: a.astype(jnp.float64), th),
                                             pts.astype(jnp.float64)))
    assert batched.shape == (16, 5)
    tol = 1e-5 if dtype == "float32" else 1e-12
    scale = np.max(np.abs(exact)) + 1e-30
    assert np.all(np.isfinite(batched))
    assert np.max(np.abs(batched - one)) <= tol * scale
    assert np.max(np.abs(batched - exact)) <= tol * scale


def test_cos_net_fields_match_the_hand_written_field():
    m = nnft.compile(nnft.load("cos_net", N=100))
    th = m.sample(jax.random.key(2), 64, 0, jnp.float32)
    pts = jax.random.normal(jax.random.key(3), (32, 2), jnp.float32) * 3
    got = np.asarray(jax.jit(m.fields)(th, pts), np.float64)
    W0, b0, W1, x = (np.asarray(a, np.float64) for a in (th["W0"], th["b0"], th["W1"], pts))
    want = np.einsum("bn,bpn->bp", W1, np.cos(np.einsum("bnd,pd->bpn", W0, x) + b0[:, None, :]))
    np.testing.assert_allclose(got, want, atol=2e-6)
    # a field that is off by one neuron fails the same comparison
    assert not np.allclose(got - W1[:, None, 0] * np.cos(b0[:, None, 0] + W0[:, 0] @ x.T), want, atol=2e-6)


def test_neurons_and_field_agree():
    m = nnft.compile(nnft.load("cos_net", N=8))
    th = m.sample_one(jax.random.key(4), jnp.float32)
    x = jnp.array([0.3, -1.2], jnp.float32)
    psi = np.asarray(m.neurons(th, x), np.float64)
    np.testing.assert_allclose(np.sum(np.asarray(th["W1"], np.float64) * psi), float(m.field(th, x)), atol=1e-6)


# ------------------------------------------------------------------------------ non-finite values
def _theory(field: str):
    return nnft.compile(nnft.from_dict({
        "nnft": 1, "name": "t", "dims": {"d": 2, "N": 4},
        "params": {"W0": {"shape": ["N", "d"], "density": {"normal": {"std": 1.0}}},
                   "b0": {"shape": ["N"], "density": {"uniform": {"low": "-pi", "high": "pi"}}},
                   "W1": {"shape": ["N"], "density": {"normal": {"std": "1 / sqrt(N)"}}}},
        "field": field}))


#: fields whose elementwise operation swallows exp(W0·x) = inf (1/inf, maximum(−inf, −1), tanh(inf), erf(inf),
#: relu(−inf)), each with the plain jnp formula an unguarded evaluation would give (finite there)
SWALLOWING = {
    "sum_N(W1 / exp(W0 @ x))": lambda t, x: jnp.sum(t["W1"] / jnp.exp(t["W0"] @ x)),
    "sum_N(W1 * maximum(-exp(W0 @ x), -1))": lambda t, x: jnp.sum(t["W1"] * jnp.maximum(-jnp.exp(t["W0"] @ x), -1)),
    "sum_N(W1 * tanh(exp(W0 @ x)))": lambda t, x: jnp.sum(t["W1"] * jnp.tanh(jnp.exp(t["W0"] @ x))),
    "sum_N(W1 * erf(exp(W0 @ x)))": lambda t, x: jnp.sum(t["W1"] * jax.scipy.special.erf(jnp.exp(t["W0"] @ x))),
    "sum_N(W1 * relu(-exp(W0 @ x)))": lambda t, x: jnp.sum(t["W1"] * jax.nn.relu(-jnp.exp(t["W0"] @ x))),
    "sum_N(W1 * relu(W0 @ x - exp(W0 @ x)))":
        lambda t, x: jnp.sum(t["W1"] * jax.nn.relu(t["W0"] @ x - jnp.exp(t["W0"] @ x))),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("field", list(SWALLOWING))
def test_swallowed_overflow_gives_nan_at_that_network_and_point(field, dtype):
    """exp(W0·x) = inf for network 2 at point 0 only; the plain formula is finite there (the non-finite value
    swallowed: the comparison that must fail without the guard, ``Evaluator.guards``), yet φ must be NaN
    exactly there (never masked), and equal to the plain formula at every other (network, point); the
    single-network ``Model.field`` likewise."""
    m = _theory(field)
    with jax.enable_x64(True):
        dt = jnp.dtype(dtype)
        th = m.sample(jax.random.key(0), 4, 0, dt)
        th["W0"] = th["W0"].at[2, 1, 0].set(1e4)
        pts = jnp.asarray([[1.0, 0.0], [0.0, 0.5], [0.0, 0.0]], dt)
        got = np.asarray(jax.jit(m.fields)(th, pts))
        plain = np.asarray(jax.jit(jax.vmap(jax.vmap(SWALLOWING[field], (None, 0)), (0, None)))(th, pts))
        one = np.asarray(jax.jit(jax.vmap(lambda t: m.field(t, pts[0])))(th))
    bad = np.zeros(got.shape, bool)
    bad[2, 0] = True
    assert np.all(np.isfinite(plain))                   # the swallowed inf: what an unguarded field gives
    assert np.array_equal(np.isnan(got), bad)
    np.testing.assert_allclose(got[~bad], plain[~bad], rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-6)
    assert np.isnan(one[2]) and np.all(np.isfinite(np.delete(one, 2)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_non_finite_parameters_and_overflow_give_nan_not_inf(dtype):
    m = nnft.compile(nnft.load("cos_net", N=6))
    with jax.enable_x64(True):
        dt = jnp.dtype(dtype)
        th = m.sample(jax.random.key(0), 5, 0, dt)
        th["W0"] = th["W0"].at[1, 0, 0].set(jnp.inf)          # cos(inf) = NaN at every point with x₀ ≠ 0
        th["W1"] = th["W1"].at[3].set(jnp.finfo(dt).max)       # Σ max·cos(0) overflows to inf
        th["W0"] = th["W0"].at[3].set(0.0)
        th["b0"] = th["b0"].at[3].set(0.0)
        th["b0"] = th["b0"].at[4, 2].set(jnp.nan)
        pts = jnp.asarray([[1.0, 0.0], [0.5, 0.5]], dt)
        got = np.asarray(jax.jit(m.fields)(th, pts))
    assert np.all(np.isnan(got[[1, 3, 4]]))
    assert np.all(np.isfinite(got[[0, 2]]))


def test_huge_cos_arguments_fall_back_to_exact_float32_cos():
    """|W0·x + b| ≫ fastmath.TRIG_LIMIT: the fast path is left for JAX's exact cos of the same float32
    argument (the field is then as good as jnp's, not NaN)."""
    m = nnft.compile(nnft.load("cos_net", N=50))
    th = m.sample(jax.random.key(5), 8, 0, jnp.float32)
    pts = jnp.asarray([[1e6, 0.0], [0.0, 3e7], [0.1, 0.2]], jnp.float32)
    got = np.asarray(jax.jit(m.fields)(th, pts), np.float64)

    @jax.jit
    def ref(t):
        z = t["W0"][:, None, :, 0] * pts[None, :, None, 0] + t["W0"][:, None, :, 1] * pts[None, :, None, 1]
        return jnp.sum(t["W1"][:, None, :] * jnp.cos(z + t["b0"][:, None, :]), axis=-1)

    want = np.asarray(ref(th), np.float64)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_fields_span_every_network_and_point():
    """φ that does not depend on θ (or on x) still gives one value per (network, point), as vmap did."""
    for field, want in (("x[0] * x[1] + 0 * sum_N(W1)", lambda th, p: np.broadcast_to(p[:, 0] * p[:, 1], (3, 2))),
                        ("sum_N(W1)", lambda th, p: np.repeat(np.sum(th["W1"], 1)[:, None], 2, 1))):
        m = _theory(field)
        th = m.sample(jax.random.key(0), 3, 0, jnp.float32)
        pts = jnp.asarray([[1.0, 2.0], [3.0, 4.0]], jnp.float32)
        got = np.asarray(m.fields(th, pts))
        assert got.shape == (3, 2)
        np.testing.assert_allclose(got, want({k: np.asarray(v) for k, v in th.items()}, np.asarray(pts)), rtol=1e-6)


KS_ARGS = {"normal": ({"mean": 0.3, "std": 2.0}, lambda a: stats.norm(a["mean"], a["std"])),
           "uniform": ({"low": -1.0, "high": 3.0}, lambda a: stats.uniform(a["low"], a["high"] - a["low"])),
           "cauchy": ({"loc": 0.5, "scale": 2.0}, lambda a: stats.cauchy(a["loc"], a["scale"])),
           "laplace": ({"loc": 1.0, "scale": 0.5}, lambda a: stats.laplace(a["loc"], a["scale"])),
           "exponential": ({"rate": 2.0, "loc": 0.1}, lambda a: stats.expon(a["loc"], 1 / a["rate"]))}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(KS_ARGS))
def test_counter_based_draws_have_the_density(name, dtype):
    """Density.sample_networks (threefry bits -> inverse CDF) against the exact CDF: KS p > 1e-4; the same
    test rejects the draws shifted by a tenth of a scale."""
    from nnft.densities import get_density
    args, dist = KS_ARGS[name]
    d = get_density(name)
    with jax.enable_x64(True):
        x = np.asarray(d.sample_networks(jax.random.key(3), jnp.int64(5), 4000, (5,), args, jnp.dtype(dtype)),
                       np.float64).ravel()
    assert np.all(np.isfinite(x))
    assert stats.kstest(x, dist(args).cdf).pvalue > 1e-4
    scale = args.get("std", args.get("scale", 1.0 / args.get("rate", 1.0)))
    assert stats.kstest(x + 0.1 * scale, dist(args).cdf).pvalue < 1e-4


def test_float32_refuses_periodic_fields_at_huge_coordinates():
    """Cos-net at x ≈ 3·10⁷ in float32: the rounding of w·x is a random phase (G2 came out 14σ off);
    refused with the float64 fix, while float64 and a non-periodic field are measured."""
    import nnft
    from nnft.errors import EstimatorError
    pts = [np.array([[3e7, 0.0], [3e7 + 2.0, 0.0]])]
    cos = nnft.compile(nnft.load("cos_net", N=4))
    with pytest.raises(EstimatorError, match="float64"):
        nnft.measure(cos, pts, samples=64, key=0)
    nnft.measure(cos, [np.array([[1e5, 0.0], [1e5 + 2.0, 0.0]])], samples=64, key=0)     # below 2^17
    est = nnft.measure(cos, pts, samples=4000, key=0, dtype="float64").full
    exact = 0.5 * np.exp(-4.0 / 4.0)
    assert abs(est.z(exact)[0]) < 5
