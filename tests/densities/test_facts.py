"""The facts a density declares (``nnft.densities.base``), each against independent numbers, with a
wrong-answer twin that the same check must reject.

* signatures: one home, ``nnft.spec.signatures.DENSITIES``;
* noise map ε → θ: scipy.stats' ppf at Φ(ε) on a grid (1e-6), and a KS test of pushed-forward
  normal draws against scipy's cdf (passes) and against a shifted law (fails);
* support: scipy's ``support()`` and where ``log_prob`` is finite;
* centre of symmetry: reflecting about it leaves ``log_prob`` exactly unchanged (dyadic grids, so
  c ± x is exact); a shifted centre does not;
* isotropy: the joint ``log_prob`` is invariant under a random rotation exactly when declared;
* Gaussianity: declared for the normal only, and then ``log_prob`` is scipy's normal logpdf;
* affine arguments and flatness: second differences of the noise map in an argument, and
  ``log_prob`` on the support.

Monte Carlo checks use fixed keys and KS p > 1e-4 (a correct implementation fails with probability
<= 1e-4 per check).
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from nnft.densities import DENSITIES, Density, Gaussian, Support, get_density
from nnft.densities.scalar import Normal
from nnft.errors import NnftError
from nnft.spec.signatures import DENSITIES as SIGNATURES

KS_P = 1e-4
N_KS = 20_000

# scalar densities: dyadic arguments (exact reflections), scipy twin
SCALAR = {
    "normal": ({"std": 1.25, "mean": 0.375}, lambda a: stats.norm(a["mean"], a["std"])),
    "uniform": ({"low": -1.0, "high": 2.5}, lambda a: stats.uniform(a["low"], a["high"] - a["low"])),
    "cauchy": ({"scale": 2.0, "loc": 0.5}, lambda a: stats.cauchy(a["loc"], a["scale"])),
    "student_t": ({"df": 3.5, "scale": 1.5, "loc": -0.25}, lambda a: stats.t(a["df"], a["loc"], a["scale"])),
    "laplace": ({"scale": 0.75, "loc": 0.25}, lambda a: stats.laplace(a["loc"], a["scale"])),
    "exponential": ({"rate": 2.0, "loc": -0.5}, lambda a: stats.expon(a["loc"], 1 / a["rate"])),
}


def _scipy(name, args):
    return SCALAR[name][1](args)


def _shifted(name, args):
    """The same family moved by a quarter of its interquartile range (a wrong law)."""
    dist = _scipy(name, args)
    iqr = dist.ppf(0.75) - dist.ppf(0.25)
    key = {"normal": "mean", "uniform": None}.get(name, "loc")
    if key is None:
        return _scipy(name, {"low": args["low"] + iqr / 4, "high": args["high"] + iqr / 4})
    return _scipy(name, {**args, key: args[key] + iqr / 4})


@functools.lru_cache(maxsize=None)
def _jitted_noise_map(d: Density):
    return jax.jit(d.noise_map)


def _noise_map(d: Density, eps, args):
    """``d.noise_map`` in float64, jitted (one compilation per density and shape)."""
    with jax.enable_x64(True):
        e = jnp.asarray(eps, jnp.float64)
        return np.asarray(_jitted_noise_map(d)(e, {k: jnp.asarray(v, jnp.float64) for k, v in args.items()}))


#: the continuous scalar and vector laws (the discrete ones and the matrix law are tested in tests/coverage)
CONTINUOUS = sorted(n for n, d in DENSITIES.items() if not d.discrete and d.event_dims <= 1)


def test_table_covers_every_density():
    assert set(SCALAR) | {"uniform_ball"} == set(CONTINUOUS)


# ---------------------------------------------------------------- signatures: one home
def test_signatures_come_from_the_spec_table():
    assert list(DENSITIES) == list(SIGNATURES)
    for name, d in DENSITIES.items():
        sig = SIGNATURES[name]
        assert d.signature is sig
        assert list(d.args.items()) == list(sig.args.items())
        assert dict(d.defaults) == dict(sig.defaults) and d.required == sig.required


def test_a_density_without_a_signature_is_refused():
    with pytest.raises(NnftError, match="gaussian"):
        Normal("gaussian", 0, "no signature under this name")


# ---------------------------------------------------------------- noise map
@pytest.mark.parametrize("name", sorted(SCALAR))
def test_noise_map_is_the_inverse_cdf_at_phi(name):
    args = SCALAR[name][0]
    eps = np.linspace(-4.5, 4.5, 181)
    got = _noise_map(get_density(name), eps, args)
    u = stats.norm.cdf(eps)
    np.testing.assert_allclose(got, _scipy(name, args).ppf(u), rtol=1e-6, atol=1e-9)
    assert not np.allclose(got, _shifted(name, args).ppf(u), rtol=1e-6, atol=1e-9)   # twin


@pytest.mark.parametrize("name", sorted(SCALAR))
def test_noise_map_pushes_normal_noise_to_the_law(name):
    args = SCALAR[name][0]
    eps = np.asarray(jax.random.normal(jax.random.key(31), (N_KS,), jnp.float32), np.float64)
    x = _noise_map(get_density(name), eps, args)
    assert stats.kstest(x, _scipy(name, args).cdf).pvalue > KS_P
    assert stats.kstest(x, _shifted(name, args).cdf).pvalue < KS_P                       # twin


def test_noise_map_of_the_ball():
    R, k = 1.5, 3
    eps = np.asarray(jax.random.normal(jax.random.key(32), (N_KS, k), jnp.float32), np.float64)
    w = _noise_map(get_density("uniform_ball"), eps, {"radius": np.full((N_KS, 1), R)})
    r = np.linalg.norm(w, axis=-1)
    assert w.shape == eps.shape and r.max() <= R
    # |w|^k / R^k ~ U(0, 1) and w/|w| = ε/|ε|
    assert stats.kstest((r / R) ** k, stats.uniform(0, 1).cdf).pvalue > KS_P
    assert stats.kstest((r / R) ** k, stats.uniform(0.05, 1).cdf).pvalue < KS_P          # twin
    np.testing.assert_allclose(w / r[:, None], eps / np.linalg.norm(eps, axis=-1, keepdims=True), atol=1e-12)


def test_noise_map_fills_defaults():
    eps = np.linspace(-2, 2, 5)
    np.testing.assert_array_equal(_noise_map(get_density("normal"), eps, {"std": 2.0}), 2.0 * eps)


# ---------------------------------------------------------------- support
@pytest.mark.parametrize("name", sorted(SCALAR))
def test_support_is_scipys(name):
    d, args = get_density(name), SCALAR[name][0]
    s = d.support(args)
    dist = _scipy(name, args)
    assert (s.low, s.high) == tuple(float(b) for b in dist.support()) and s.radius is None
    assert s.bounded == d.tail(args).bounded
    x = np.linspace(-6, 6, 193)
    with jax.enable_x64(True):
        finite = np.isfinite(np.asarray(d.log_prob(jnp.asarray(x), args)))
    np.testing.assert_array_equal(finite, s.contains(x))
    np.testing.assert_array_equal(finite, dist.pdf(x) > 0)
    if s.bounded or math.isfinite(s.low):                                                 # twin
        assert not np.array_equal(finite, Support(s.low + 0.25, s.high + 0.25).contains(x))


def test_support_of_the_ball():
    d, R = get_density("uniform_ball"), 1.5
    s = d.support({"radius": R})
    assert s == Support(radius=R) and s.bounded and d.tail({"radius": R}).bounded
    w = np.asarray(jax.random.normal(jax.random.key(3), (500, 4)), np.float64)
    with jax.enable_x64(True):
        finite = np.isfinite(np.asarray(d.log_prob(jnp.asarray(w), {"radius": R})))
    assert 0 < finite.sum() < len(w)
    np.testing.assert_array_equal(finite, s.contains(w))
    assert not np.array_equal(finite, Support(radius=1.1 * R).contains(w))               # twin


# ---------------------------------------------------------------- centre of symmetry
_GRID = np.arange(-400, 401) / 64.0          # dyadic: c ± x is exact for the dyadic centres below


def _reflects(d: Density, c: float, args) -> bool:
    with jax.enable_x64(True):
        up = np.asarray(d.log_prob(jnp.asarray(c + _GRID), args))
        down = np.asarray(d.log_prob(jnp.asarray(c - _GRID), args))
    return np.array_equal(up, down)


@pytest.mark.parametrize("name", sorted(SCALAR))
def test_centre_reflects_log_prob(name):
    d, args = get_density(name), SCALAR[name][0]
    c = d.centre(args)
    if name == "exponential":                  # no centre, and indeed no dyadic point reflects it
        assert c is None
        assert not any(_reflects(d, t, args) for t in np.arange(-64, 65) / 16.0)
        return
    expected = (0.5 * (args["low"] + args["high"]) if name == "uniform"
                else args["mean"] if name == "normal" else args["loc"])
    assert c == expected
    assert _reflects(d, c, args)
    assert not _reflects(d, c + 0.125, args)                                                # twin


def test_centre_of_the_ball_is_the_origin():
    d = get_density("uniform_ball")
    assert d.centre({"radius": 1.0}) == 0.0
    w = np.asarray(jax.random.uniform(jax.random.key(5), (400, 3), minval=-1.0, maxval=1.0), np.float64)
    with jax.enable_x64(True):
        lp = lambda v: np.asarray(d.log_prob(jnp.asarray(v), {"radius": 1.0}))
        np.testing.assert_array_equal(lp(w), lp(-w))
        assert not np.array_equal(lp(w), lp(0.5 - w))                                        # twin


# ---------------------------------------------------------------- isotropy
def _rotation_invariant(d: Density, args, n: int = 5) -> bool:
    rng = np.random.default_rng(11)
    Q = stats.special_ortho_group.rvs(n, random_state=rng)
    x = rng.normal(size=(300, n)) * (0.4 if d.event_dims else 1.0) + (0.0 if d.event_dims else 0.1)
    if d.event_dims:          # stay away from the boundary sphere, where rounding could flip inside/outside
        r = np.linalg.norm(x, axis=-1)
        x = x[np.abs(r - args["radius"]) > 1e-6]
    with jax.enable_x64(True):
        joint = lambda v: np.asarray(d.log_prob(jnp.asarray(v), args)).reshape(len(v), -1).sum(-1)
        a, b = joint(x), joint(x @ Q.T)
    return bool(np.array_equal(np.isfinite(a), np.isfinite(b))
                and np.allclose(a[np.isfinite(a)], b[np.isfinite(b)], rtol=1e-10, atol=1e-10))


@pytest.mark.parametrize("name,args", [(n, a) for n, (a, _) in SCALAR.items()]
                         + [("normal", {"std": 0.75}), ("uniform_ball", {"radius": 0.8})])
def test_isotropic_exactly_when_declared(name, args):
    d = get_density(name)
    declared = d.isotropic(args)
    assert declared == (name == "uniform_ball" or (name == "normal" and args.get("mean", 0.0) == 0.0))
    assert _rotation_invariant(d, args) == declared


# ---------------------------------------------------------------- Gaussianity
@pytest.mark.parametrize("name", CONTINUOUS)
def test_gaussian_declared_only_for_the_normal(name):
    d = get_density(name)
    args = SCALAR[name][0] if name in SCALAR else {"radius": 1.0}
    g = d.gaussian(args)
    if name != "normal":
        assert g is None
        if name in SCALAR:           # and indeed it is not the normal with its mean and variance
            dist = _scipy(name, args)
            x = np.linspace(-2, 2, 41)
            with jax.enable_x64(True):
                lp = np.asarray(d.log_prob(jnp.asarray(x), args))
            loc = dist.median()
            scale = dist.ppf(0.75) - loc
            assert not np.allclose(lp, stats.norm.logpdf(x, loc, scale / stats.norm.ppf(0.75)), atol=1e-6)
        return
    assert g == Gaussian(args["mean"], args["std"])
    x = np.linspace(-5, 5, 101)
    with jax.enable_x64(True):
        lp = np.asarray(d.log_prob(jnp.asarray(x), args))
    np.testing.assert_allclose(lp, stats.norm.logpdf(x, g.mean, g.std), rtol=1e-12)
    assert not np.allclose(lp, stats.norm.logpdf(x, g.mean, 1.01 * g.std), rtol=1e-6)    # twin


# ---------------------------------------------------------------- affine arguments, flatness
@pytest.mark.parametrize("name", CONTINUOUS)
def test_affine_args_enter_the_noise_map_affinely(name):
    d = get_density(name)
    if name in SCALAR:
        args, eps = SCALAR[name][0], np.linspace(-3, 3, 13)
    else:
        args, eps = {"radius": 1.0}, np.asarray(jax.random.normal(jax.random.key(9), (13, 3)), np.float64)
    assert d.affine_args <= set(d.args)
    for k in d.args:
        h = 0.25
        f = [_noise_map(d, eps, {**args, k: args[k] + i * h}) for i in range(3)]
        second = f[0] - 2 * f[1] + f[2]
        linear = np.allclose(second, 0.0, atol=1e-7 * (1 + np.abs(f[1]).max()))
        assert linear == (k in d.affine_args), (name, k)


@pytest.mark.parametrize("name", CONTINUOUS)
def test_flat_means_constant_on_the_support(name):
    d = get_density(name)
    args = SCALAR[name][0] if name in SCALAR else {"radius": 1.0}
    x = np.linspace(-0.9, 0.9, 37)[:, None] * (np.ones(3) if name == "uniform_ball" else 1.0)
    x = x if name == "uniform_ball" else x[:, 0]
    with jax.enable_x64(True):
        lp = np.asarray(d.log_prob(jnp.asarray(x), args))
    lp = lp[np.isfinite(lp)]
    assert len(lp) > 10
    assert d.flat == bool(np.all(lp == lp[0]))
