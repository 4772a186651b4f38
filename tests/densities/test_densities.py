"""Tests of nnft.densities against scipy.stats, table-driven (one row per density + args).

Monte Carlo checks use fixed keys and thresholds |z| < 5 (two-sided ~6e-7) or KS p > 1e-4, so
a correct implementation fails a given check with probability <= TEST_FAILURE_RATE.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from nnft.densities import DENSITIES, Density, DensityArgError, get_density

TEST_FAILURE_RATE = 1e-4  # per Monte Carlo check (KS p-value threshold; |z| < 5 is far stricter)
Z_MAX = 5.0
N_MOMENTS = 200_000
N_KS = 20_000

# (density name, args, scipy twin, tail index: moments E|X|^k are finite iff k < tail)
CASES = [
    ("normal", {"std": 1.3, "mean": 0.4}, stats.norm(loc=0.4, scale=1.3), math.inf),
    ("normal", {"std": 0.7}, stats.norm(scale=0.7), math.inf),
    ("uniform", {"low": -1.0, "high": 2.5}, stats.uniform(loc=-1.0, scale=3.5), math.inf),
    ("cauchy", {"scale": 2.0, "loc": 0.5}, stats.cauchy(loc=0.5, scale=2.0), 1.0),
    ("cauchy", {"scale": 0.3}, stats.cauchy(scale=0.3), 1.0),
    ("student_t", {"df": 9.5, "scale": 1.5, "loc": -0.3}, stats.t(9.5, loc=-0.3, scale=1.5), 9.5),
    ("student_t", {"df": 5.0}, stats.t(5.0), 5.0),
    ("student_t", {"df": 2.5, "loc": 1.0}, stats.t(2.5, loc=1.0), 2.5),
    ("laplace", {"scale": 0.8, "loc": 0.2}, stats.laplace(loc=0.2, scale=0.8), math.inf),
    ("exponential", {"rate": 2.0, "loc": -0.5}, stats.expon(loc=-0.5, scale=0.5), math.inf),
    ("exponential", {"rate": 0.5}, stats.expon(scale=2.0), math.inf),
]
IDS = [f"{n}-{'-'.join(f'{k}={v:g}' for k, v in a.items())}" for n, a, _, _ in CASES]


def _key(i: int = 0):
    return jax.random.key(20240 + i)


@pytest.fixture(scope="module")
def moment_samples():
    """float64 numpy copies of N_MOMENTS float32 draws per case (drawn once)."""
    out = {}
    for i, (name, args, _, _) in enumerate(CASES):
        x = get_density(name).sample(_key(i), (N_MOMENTS,), args)
        assert x.dtype == jnp.float32 and x.shape == (N_MOMENTS,)
        out[IDS[i]] = np.asarray(x, dtype=np.float64)
    return out


# ---------------------------------------------------------------- registry / metadata
def test_registry():
    assert set(DENSITIES) == {"normal", "uniform", "uniform_ball", "cauchy", "student_t",
                              "laplace", "exponential", "rademacher", "discrete",
                              "haar_orthogonal"}                      # the last three: tests/coverage
    for name, d in DENSITIES.items():
        assert isinstance(d, Density) and d.name == name and get_density(name) is d
        assert set(d.args.values()) <= {"real", "positive", "nonnegative"}
        assert set(d.defaults) <= set(d.args)
        assert d.event_dims == {"uniform_ball": 1, "haar_orthogonal": 2}.get(name, 0)
        assert d.doc and "\n" not in d.doc
    assert DENSITIES["normal"].defaults == {"mean": 0.0}
    assert DENSITIES["student_t"].defaults == {"scale": 1.0, "loc": 0.0}
    with pytest.raises(KeyError, match="norml.*normal"):
        get_density("norml")


# ---------------------------------------------------------------- moments
@pytest.mark.parametrize("name,args,dist,tail", CASES, ids=IDS)
def test_moment_matches_scipy(name, args, dist, tail):
    d = get_density(name)
    assert d.moment(0, args) == 1.0
    for k in range(1, 7):
        if k < tail:
            # scipy's moments k <= 4 are closed forms (from .stats()); k >= 5 are often numerical
            # integrals good to ~1e-9, so they get a looser tolerance
            exact = float(dist.moment(k))
            rel = 1e-10 if k <= 4 else 1e-7
            assert d.moment(k, args) == pytest.approx(exact, rel=rel, abs=1e-12), k
        else:
            with pytest.raises(ValueError, match=f"moment {k} of {name} does not exist"):
                d.moment(k, args)


@pytest.mark.parametrize("name,args,dist,tail", CASES, ids=IDS)
def test_sample_moments(name, args, dist, tail, moment_samples):
    """Raw moments k = 1..4 and the variance vs moment(), by z using the MC standard error.

    Only where the standard error itself is finite (E[X^{2k}] finite, i.e. 2k < tail).
    """
    d = get_density(name)
    x = moment_samples[IDS[CASES.index((name, args, dist, tail))]]
    n = x.size
    tested = 0
    for k in (1, 2, 3, 4):
        if 2 * k >= tail:
            continue
        xk = x ** k
        z = (xk.mean() - d.moment(k, args)) / (xk.std() / math.sqrt(n))
        assert abs(z) < Z_MAX, (k, z)
        tested += 1
    if 4 < tail:  # variance: SE of the sample variance is sqrt((mu4 - var^2) / n)
        var = d.moment(2, args) - d.moment(1, args) ** 2
        c = x - x.mean()
        se = math.sqrt((np.mean(c ** 4) - np.mean(c ** 2) ** 2) / n)
        z = (x.var() - var) / se
        assert abs(z) < Z_MAX, ("var", z)
        assert var == pytest.approx(dist.var(), rel=1e-10)
    if tail == 1.0:  # cauchy: no moments, check the median and interquartile range instead
        for q in (0.25, 0.5, 0.75):
            frac = np.mean(x < dist.ppf(q))
            assert abs(frac - q) / math.sqrt(q * (1 - q) / n) < Z_MAX
    elif tail > 2:
        assert tested >= 1


# ---------------------------------------------------------------- KS
@pytest.mark.parametrize("name,args,dist,tail", CASES, ids=IDS)
def test_ks_vs_scipy(name, args, dist, tail, moment_samples):
    # the first N_KS draws of the moment sample (re-using it avoids recompiling the samplers)
    x = moment_samples[IDS[CASES.index((name, args, dist, tail))]][:N_KS]
    p = stats.kstest(x, dist.cdf).pvalue
    assert p > TEST_FAILURE_RATE, p


# ---------------------------------------------------------------- log_prob
@pytest.mark.parametrize("name,args,dist,tail", CASES, ids=IDS)
def test_log_prob_vs_scipy(name, args, dist, tail):
    d = get_density(name)
    q = np.concatenate([np.linspace(1e-3, 1 - 1e-3, 41), [1e-6, 1 - 1e-6]])
    x = np.asarray(dist.ppf(q), dtype=np.float32)
    lp = d.log_prob(jnp.asarray(x), args)
    assert lp.dtype == jnp.float32 and lp.shape == x.shape
    np.testing.assert_allclose(np.asarray(lp), dist.logpdf(x.astype(np.float64)),
                               rtol=1e-5, atol=1e-6)
    # outside the support (if bounded) -> -inf
    lo, hi = dist.support()
    out = [v for v in (lo - 1.0, lo - 1e-3, hi + 1e-3, hi + 1.0) if np.isfinite(v)]
    if out:
        assert np.all(np.asarray(d.log_prob(jnp.asarray(out, jnp.float32), args)) == -np.inf)
        assert np.all(dist.logpdf(out) == -np.inf)


def test_log_prob_per_element_args():
    scale = jnp.array([0.5, 1.0, 2.0])
    x = jnp.array([[0.1, -2.0, 5.0], [1.0, 0.0, -0.3]])
    lp = get_density("laplace").log_prob(x, {"scale": scale, "loc": 0.1})
    np.testing.assert_allclose(np.asarray(lp), stats.laplace(0.1, np.asarray(scale)).logpdf(np.asarray(x)),
                               rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- uniform_ball
@pytest.mark.parametrize("dim", [1, 2, 3])
def test_uniform_ball(dim):
    d, R, n = get_density("uniform_ball"), 1.7, 20_000
    w = d.sample(_key(300 + dim), (n, dim), {"radius": R})
    assert w.shape == (n, dim) and w.dtype == jnp.float32
    w = np.asarray(w, dtype=np.float64)
    r = np.linalg.norm(w, axis=-1)
    assert r.max() <= R * (1 + 1e-6)
    # radius CDF: P(|w| < r) = (r / R)^d
    p = stats.kstest(r / R, lambda t: np.clip(t, 0, 1) ** dim).pvalue
    assert p > TEST_FAILURE_RATE, p
    # isotropy: the unit vector has mean 0 and second moment I/d
    u = w / r[:, None]
    z = u.mean(0) / (u.std(0) / math.sqrt(n))
    assert np.all(np.abs(z) < Z_MAX), z
    if dim > 1:
        uu = u[:, :, None] * u[:, None, :]
        z2 = (uu.mean(0) - np.eye(dim) / dim) / (uu.std(0) / math.sqrt(n))
        assert np.all(np.abs(z2) < Z_MAX), z2
    # log_prob: -log vol(B_R^d) inside, -inf outside, one value per vector
    log_vol = 0.5 * dim * math.log(math.pi) - math.lgamma(dim / 2 + 1) + dim * math.log(R)
    lp = np.asarray(d.log_prob(jnp.asarray(w[:100], jnp.float32), {"radius": R}))
    assert lp.shape == (100,)
    np.testing.assert_allclose(lp, -log_vol, rtol=1e-6)
    outside = np.full((3, dim), 1.01 * R / math.sqrt(dim))
    assert np.all(np.asarray(d.log_prob(jnp.asarray(outside), {"radius": R})) == -np.inf)
    if dim == 1:  # the 1-ball is uniform(-R, R)
        np.testing.assert_allclose(lp, stats.uniform(-R, 2 * R).logpdf(w[:100, 0]), rtol=1e-6)
        assert stats.kstest(w[:, 0], stats.uniform(-R, 2 * R).cdf).pvalue > TEST_FAILURE_RATE


def test_uniform_ball_per_row_radius():
    radius = jnp.array([0.5, 1.0, 3.0])
    w = get_density("uniform_ball").sample(_key(7), (2000, 3, 4), {"radius": radius})
    r = np.linalg.norm(np.asarray(w, np.float64), axis=-1)  # (2000, 3)
    assert np.all(r <= np.asarray(radius) * (1 + 1e-6))
    for j in range(3):
        assert stats.kstest(r[:, j] / float(radius[j]), lambda t: np.clip(t, 0, 1) ** 4).pvalue \
            > TEST_FAILURE_RATE
    lp = get_density("uniform_ball").log_prob(w[:5], {"radius": radius})
    assert lp.shape == (5, 3)
    assert np.all(np.isfinite(np.asarray(lp)))
    with pytest.raises(ValueError, match="moment"):
        get_density("uniform_ball").moment(2, {"radius": 1.0})


# ---------------------------------------------------------------- broadcasting of args
def test_cauchy_per_element_scale():
    """scale of shape (N,) against sample shape (M, N): column j has scale[j] (median |X| = scale)."""
    scale = jnp.array([0.01, 0.5, 1.0, 2.0, 30.0])
    M = 20_000
    x = np.asarray(get_density("cauchy").sample(_key(11), (M, 5), {"scale": scale}), np.float64)
    frac = np.mean(np.abs(x) < np.asarray(scale, np.float64), axis=0)
    z = (frac - 0.5) / math.sqrt(0.25 / M)
    assert np.all(np.abs(z) < Z_MAX), z
    for j in range(5):
        assert stats.kstest(x[:, j], stats.cauchy(scale=float(scale[j])).cdf).pvalue > TEST_FAILURE_RATE


def test_normal_per_row_std_and_mean():
    """std of shape (N, 1) against shape (N, d): rows have their own std; mean per column."""
    std = jnp.array([[0.1], [1.0], [5.0]])
    mean = jnp.array([-1.0, 0.0, 2.0, 4.0])
    n = 4000
    x = np.asarray(get_density("normal").sample(_key(12), (n, 3, 4), {"std": std, "mean": mean}),
                   np.float64)
    m = x.mean(0)
    z = (m - np.asarray(mean)[None, :]) / (np.asarray(std) / math.sqrt(n))
    assert np.all(np.abs(z) < Z_MAX), z
    v = x.var(0)
    z = (v - np.asarray(std) ** 2) / (np.asarray(std) ** 2 * math.sqrt(2 / n))
    assert np.all(np.abs(z) < Z_MAX), z


def test_args_not_broadcastable():
    with pytest.raises(ValueError, match="std.*broadcast"):
        get_density("normal").sample(_key(), (3, 4), {"std": jnp.ones(3)})


def test_jit_and_vmap():
    d = get_density("laplace")

    shape = (N_MOMENTS,)  # as in the moment fixture: the eager sampler is already compiled

    @jax.jit
    def draw(key, loc, scale):
        return d.sample(key, shape, {"loc": loc, "scale": scale})

    loc, scale = jnp.array(3.0), jnp.array(2.0)
    x = draw(_key(1), loc, scale)
    assert x.shape == shape
    np.testing.assert_allclose(np.asarray(x), np.asarray(d.sample(_key(1), shape,
                                                                  {"loc": loc, "scale": scale})),
                               rtol=1e-6)
    keys = jax.random.split(_key(2), 4)
    xs = jax.vmap(draw, in_axes=(0, None, None))(keys, loc, scale)
    assert xs.shape == (4,) + shape
    np.testing.assert_allclose(np.asarray(xs[2]), np.asarray(draw(keys[2], loc, scale)), rtol=1e-6)
    # vmap over an argument as well
    scales = jnp.array([1.0, 2.0])
    ys = jax.vmap(lambda s: d.sample(_key(3), (10,), {"scale": s}))(scales)
    np.testing.assert_allclose(np.asarray(ys[1]), 2 * np.asarray(ys[0]), rtol=1e-6)
    lp = jax.jit(lambda v, s: d.log_prob(v, {"scale": s}))(ys[0], 1.0)
    np.testing.assert_allclose(np.asarray(lp), stats.laplace().logpdf(np.asarray(ys[0])),
                               rtol=1e-5, atol=1e-6)
    # an event density under jit + vmap over keys
    ball = jax.jit(jax.vmap(lambda k: get_density("uniform_ball").sample(k, (5, 3), {"radius": 2.0})))
    assert ball(keys).shape == (4, 5, 3)


def test_jit_student_t_per_element_df():
    """student_t's sampler is costly to compile: one jit, df varying per element."""
    d = get_density("student_t")
    df = jnp.linspace(2.5, 30.0, 8)
    x = jax.jit(lambda k, df: d.sample(k, (2500, 8), {"df": df, "scale": 0.5}))(_key(4), df)
    assert x.shape == (2500, 8)
    x = np.asarray(x, np.float64)
    for j in (0, 7):
        p = stats.kstest(x[:, j], stats.t(float(df[j]), scale=0.5).cdf).pvalue
        assert p > TEST_FAILURE_RATE, (j, p)


def test_student_t_df_up_to_its_bound_is_accepted():
    """The twin of the df > 1e8 refusal: df = 1e8 itself is a Student-t nnft samples."""
    get_density("student_t").check({"df": 1e8})


# ---------------------------------------------------------------- check()
@pytest.mark.parametrize("name,args,pieces", [
    ("normal", {"std": -1.0}, ["std", "-1.0", "positive"]),
    ("normal", {"std": 0.0}, ["std", "0.0", "positive"]),
    ("normal", {"std": float("nan")}, ["std", "nan", "positive"]),
    ("normal", {"std": 1.0, "mean": float("inf")}, ["mean", "inf", "real"]),
    ("cauchy", {"scale": float("-inf")}, ["scale", "-inf", "positive"]),
    ("normal", {"std": np.array([1.0, -2.0])}, ["std", "-2.0", "positive"]),
    ("uniform", {"low": 1.0, "high": 1.0}, ["low", "high", "1.0", "<"]),
    ("uniform", {"low": 2.0, "high": -1.0}, ["low=2.0", "high=-1.0", "<"]),
    ("student_t", {"df": 0.0}, ["df", "0.0", "positive"]),
    ("student_t", {"df": -3.0}, ["df", "-3.0", "positive"]),
    ("student_t", {"df": 1e20}, ["df must be <= 1e+08", "use normal"]),     # a normal to float precision
    ("exponential", {"rate": -2.0}, ["rate", "-2.0", "positive"]),
    ("uniform_ball", {"radius": 0.0}, ["radius", "0.0", "positive"]),
    ("normal", {"std": 1.0, "sigma": 2.0}, ["sigma", "std", "mean"]),
    ("normal", {"mean": 1.0}, ["missing", "std", "mean"]),
    ("uniform", {"low": 0.0}, ["missing", "high", "low"]),
    ("normal", {"std": "abc"}, ["std", "abc", "number"]),
])
def test_check_rejects(name, args, pieces):
    with pytest.raises(ValueError) as exc:
        get_density(name).check(args)
    assert isinstance(exc.value, DensityArgError)
    msg = str(exc.value)
    for piece in pieces:
        assert piece in msg, (piece, msg)


def test_check_message_exact():
    with pytest.raises(ValueError, match=r"std must be positive \(> 0\), got -1\.0"):
        get_density("normal").check({"std": -1.0})


@pytest.mark.parametrize("name,args,dist,tail", CASES, ids=IDS)
def test_check_accepts(name, args, dist, tail):
    assert get_density(name).check(args) is None
    assert get_density(name).check({k: np.full(3, v) for k, v in args.items()}) is None


# ---------------------------------------------------------------- moment() failures
def test_moment_nonexistent():
    with pytest.raises(ValueError, match="moment 1 of cauchy does not exist"):
        get_density("cauchy").moment(1, {"scale": 1.0})
    with pytest.raises(ValueError, match="moment 2 of cauchy does not exist"):
        get_density("cauchy").moment(2, {"scale": 1.0, "loc": 0.0})
    t = get_density("student_t")
    assert t.moment(2, {"df": 3.0}) == pytest.approx(3.0, rel=1e-12)
    for k in (3, 4):
        with pytest.raises(ValueError, match=f"moment {k} of student_t does not exist"):
            t.moment(k, {"df": 3.0})
    with pytest.raises(ValueError, match="moment 2 of student_t"):
        t.moment(2, {"df": 2.0})
    with pytest.raises(ValueError, match="integer"):
        get_density("normal").moment(-1, {"std": 1.0})
    with pytest.raises(ValueError, match="std must be positive"):
        get_density("normal").moment(2, {"std": -1.0})


def test_zero_mean_skewed_readout():
    """exponential with loc = -1/rate: mean 0, third moment 2/rate^3 (a skewed zero-mean readout)."""
    e = get_density("exponential")
    a = {"rate": 4.0, "loc": -0.25}
    assert e.moment(1, a) == pytest.approx(0.0, abs=1e-15)
    assert e.moment(3, a) == pytest.approx(2 / 4.0 ** 3, rel=1e-12)


# ---------------------------------------------------------------- purity / dtypes / keys
@pytest.mark.parametrize("name", sorted(DENSITIES))
def test_pure_function_of_key(name):
    d = get_density(name)
    args = {a: 2.0 for a in d.required}
    if name == "uniform":
        args = {"low": -1.0, "high": 2.0}
    # shapes shared with other tests so that the samplers are not compiled again
    shape = (N_KS, 3) if d.event_dims else (N_MOMENTS,)
    a1 = d.sample(_key(5), shape, args)
    a2 = d.sample(_key(5), shape, args)
    b = d.sample(_key(6), shape, args)
    np.testing.assert_array_equal(np.asarray(a1), np.asarray(a2))
    assert not np.array_equal(np.asarray(a1), np.asarray(b))
    # legacy uint32 keys give the same numbers as the typed key with the same data
    legacy = jax.random.PRNGKey(20240 + 5)
    assert legacy.dtype == jnp.uint32
    np.testing.assert_array_equal(np.asarray(jax.random.key_data(_key(5))), np.asarray(legacy))
    np.testing.assert_array_equal(np.asarray(d.sample(legacy, shape, args)), np.asarray(a1))


@pytest.mark.parametrize("name,args,dist,tail", CASES, ids=IDS)
def test_float64(name, args, dist, tail):
    d = get_density(name)
    with jax.enable_x64(True):
        x = d.sample(_key(200), (2000,), args, dtype=jnp.float64)
        assert x.dtype == jnp.float64
        xn = np.asarray(x)
        assert np.all(np.isfinite(xn))
        assert len(np.unique(xn)) == xn.size
        lp = d.log_prob(x, args)
        assert lp.dtype == jnp.float64
        np.testing.assert_allclose(np.asarray(lp), dist.logpdf(xn), rtol=1e-10, atol=1e-12)
        assert stats.kstest(xn, dist.cdf).pvalue > TEST_FAILURE_RATE


def test_float64_uniform_ball():
    with jax.enable_x64(True):
        w = get_density("uniform_ball").sample(_key(201), (100, 3), {"radius": 2.0}, dtype=jnp.float64)
        assert w.dtype == jnp.float64
        lp = get_density("uniform_ball").log_prob(w, {"radius": 2.0})
        np.testing.assert_allclose(np.asarray(lp), -math.log(4 / 3 * math.pi * 8), rtol=1e-12)
