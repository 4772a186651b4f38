"""nnft.fastmath: the stated accuracy of the vectorised float32 cos/sin/tan/arctan, over the whole fast
domain (dense grids, random float32 bit patterns, multiples of π/4, edge cases), the exact fallback beyond
it, non-finite propagation, and float64 = JAX's exact functions. Reference: float64 numpy of the same
float32 argument."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nnft.fastmath as fastmath
from nnft.functions import FUNCTIONS

LIMIT = fastmath.TRIG_LIMIT
REF = {"cos": np.cos, "sin": np.sin, "tan": np.tan, "arctan": np.arctan}
FN = {"cos": fastmath.cos, "sin": fastmath.sin, "tan": fastmath.tan, "arctan": fastmath.arctan}


def _random_f32(n: int, limit: float, seed: int) -> np.ndarray:
    """Random float32 bit patterns (every exponent equally likely) with |x| ≤ limit, no NaN/inf."""
    bits = np.random.default_rng(seed).integers(0, 2 ** 32, n, dtype=np.uint64).astype(np.uint32)
    x = bits.view(np.float32)
    return x[np.isfinite(x) & (np.abs(x) <= limit)]


def _domain_inputs(name: str) -> np.ndarray:
    lim = np.float32(LIMIT) if name != "arctan" else np.float32(np.finfo(np.float32).max)
    k = np.arange(-int(4 * LIMIT / np.pi), int(4 * LIMIT / np.pi) + 1)
    parts = [
        np.linspace(-min(lim, 1e6), min(lim, 1e6), 1 << 22, dtype=np.float32),    # dense over the domain
        np.linspace(-10, 10, 1 << 21, dtype=np.float32),                           # dense near 0
        _random_f32(1 << 21, lim, 0),
        (k * (np.pi / 4)).astype(np.float32),                                       # multiples of π/4
        np.array([0.0, -0.0, lim, -lim, np.nextafter(lim, np.float32(0)), 1e-45, -1e-45, 1e-38, np.pi / 2,
                  np.pi, 3 * np.pi / 2, 2 * np.pi], np.float32),
    ]
    return np.concatenate(parts).astype(np.float32)


def _errors(name: str, x: np.ndarray, fn=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(got, exact, |got − exact|) in float64 for float32 x."""
    got = np.asarray(jax.jit(fn or FN[name])(jnp.asarray(x)), np.float64)
    want = REF[name](x.astype(np.float64))
    return got, want, np.abs(got - want)


def _within_bound(name: str, x: np.ndarray, fn=None) -> bool:
    got, want, err = _errors(name, x, fn)
    if name in ("cos", "sin"):
        return bool(np.all(err <= 1.5e-7))
    ulp = np.spacing(np.abs(want).astype(np.float32)).astype(np.float64)
    if name == "tan":
        return bool(np.all(err <= 5 * ulp + 5e-12 * (1 + want ** 2)))
    normal = np.abs(x) >= np.finfo(np.float32).tiny          # XLA:CPU flushes subnormals to zero
    return bool(np.all(err <= 2.5e-7) and np.all(err[normal] <= 3 * ulp[normal]))


@pytest.mark.parametrize("name", ["cos", "sin", "tan", "arctan"])
def test_stated_accuracy_over_the_fast_domain(name):
    x = _domain_inputs(name)
    assert _within_bound(name, x)


def test_the_accuracy_check_rejects_a_worse_reduction():
    """A two-part Cody–Waite reduction (π/2 ≈ P1 + P2) is good near 0 and wrong by ~1e-6 at |x| ~ 1e4:
    the bound check must catch it."""
    def bad_cos(x):
        k = jnp.round(x * fastmath._TWO_OVER_PI)
        r = (x - k * fastmath._P1) - k * fastmath._P2
        q = k.astype(jnp.int32) & 3
        v = jnp.where((q & 1) == 0, jnp.cos(r), jnp.sin(r))
        return jnp.where((q == 1) | (q == 2), -v, v)
    x_small = np.linspace(-0.7, 0.7, 10001, dtype=np.float32)
    assert _within_bound("cos", x_small, bad_cos)
    x = _domain_inputs("cos")
    assert not _within_bound("cos", x, bad_cos)
    # and one ulp-level perturbation of the real thing fails too
    assert not _within_bound("cos", x, lambda v: fastmath.cos(v) + np.float32(2e-7))


@pytest.mark.parametrize("name", ["cos", "sin", "tan"])
def test_out_of_domain_falls_back_to_exact(name):
    big = np.array([LIMIT * 1.01, -1e6, 1e10, 3.0e38, -3.4e38, 12345678.0], np.float32)
    mixed = np.concatenate([big, np.linspace(-3, 3, 1000, dtype=np.float32)])
    got = np.asarray(jax.jit(FN[name])(jnp.asarray(mixed)))
    want = np.asarray(jax.jit(getattr(jnp, name))(jnp.asarray(mixed)))
    np.testing.assert_array_equal(got, want)        # the exact path, for the whole array
    # inside the domain alone the fast path is used: not bitwise jnp's, within the bound
    inside = mixed[np.abs(mixed) <= LIMIT]
    assert _within_bound(name, inside)


@pytest.mark.parametrize("name", ["cos", "sin", "tan", "arctan"])
def test_non_finite_inputs(name):
    x = jnp.asarray(np.array([np.nan, 0.5, -0.25], np.float32))
    y = np.asarray(jax.jit(FN[name])(x))
    assert np.isnan(y[0]) and np.all(np.isfinite(y[1:]))
    inf = np.asarray(jax.jit(FN[name])(jnp.asarray(np.array([np.inf, -np.inf, 1.0], np.float32))))
    if name == "arctan":
        np.testing.assert_allclose(inf[:2], [np.pi / 2, -np.pi / 2], rtol=1e-7)
    else:
        assert np.all(np.isnan(inf[:2])) and np.isfinite(inf[2])


@pytest.mark.parametrize("name", ["cos", "sin", "tan", "arctan"])
def test_under_vmap_results_are_unchanged(name):
    x = np.concatenate([np.linspace(-50, 50, 512, dtype=np.float32),
                        np.array([1e7, np.inf, np.nan, 0.0], np.float32)]).reshape(4, -1)
    direct = np.stack([np.asarray(jax.jit(FN[name])(jnp.asarray(r))) for r in x])
    vm = np.asarray(jax.jit(jax.vmap(FN[name]))(jnp.asarray(x)))
    ok = np.isfinite(direct)
    assert np.array_equal(np.isnan(direct), np.isnan(vm))
    _, want, _ = _errors(name, x[ok])
    err = np.abs(vm[ok].astype(np.float64) - want)
    assert np.all(err <= 1e-6 * np.maximum(1, np.abs(want) ** 2))


@pytest.mark.parametrize("name", ["cos", "sin", "tan", "arctan"])
def test_float64_is_jax_exact(name):
    with jax.enable_x64(True):
        x = jnp.asarray(np.linspace(-1e4, 1e4, 100_001))
        np.testing.assert_array_equal(np.asarray(jax.jit(FN[name])(x)), np.asarray(jax.jit(getattr(jnp, name))(x)))


def test_graph_functions_use_fastmath():
    for name in ("cos", "sin", "tan", "arctan"):
        assert FUNCTIONS[name].jnp is FN[name]


# ------------------------------------------------------------------------------------------ erf_inv
def _erfinv_ulp(x: np.ndarray, fn=None) -> np.ndarray:
    """|erf⁻¹ error| in ulp of the float32 result, against scipy's float64 erfinv of the same argument."""
    import scipy.special as sp
    got = np.asarray(jax.jit(fn or fastmath.erf_inv)(jnp.asarray(x)), np.float64)
    want = sp.erfinv(x.astype(np.float64))
    return np.abs(got - want) / np.spacing(np.abs(want).astype(np.float32)).astype(np.float64)


def _erfinv_domain() -> np.ndarray:
    """Every float32 in [½, 1) (where erf⁻¹ steepens), every 509th bit pattern of each binade down to
    2⁻¹²⁵ (below, XLA:CPU flushes the subnormal result to 0, as for ``lax.erf_inv``), random patterns; ±."""
    top = np.arange(np.float32(0.5).view(np.uint32), np.float32(1.0).view(np.uint32), dtype=np.uint32)
    lower = np.arange(np.float32(2.0 ** -125).view(np.uint32), np.float32(0.5).view(np.uint32), 509, dtype=np.uint32)
    rnd = _random_f32(1 << 18, 1.0, 3)
    x = np.concatenate([top.view(np.float32), lower.view(np.float32), rnd[(np.abs(rnd) < 1) & (np.abs(rnd) >= 2.0 ** -125)]])
    return np.concatenate([x, -x[::7]])


def test_erf_inv_stated_accuracy_over_its_domain():
    """≤ 4 ulp over (−1, 1) (measured max 3.8 over every float32 in [2⁻¹⁰, 1)); XLA's own float32
    ``erf_inv`` fails the same check (≈ 65 ulp near 1), so the check can fail."""
    x = _erfinv_domain()
    assert _erfinv_ulp(x).max() <= 4.0
    assert _erfinv_ulp(x, jax.lax.erf_inv).max() > 40.0


def test_erf_inv_edges_and_non_finite():
    x = np.array([1.0, -1.0, 0.0, -0.0, np.nextafter(1, 2, dtype=np.float32), -2.0, np.inf, -np.inf, np.nan], np.float32)
    y = np.asarray(jax.jit(fastmath.erf_inv)(jnp.asarray(x)))
    assert y[0] == np.inf and y[1] == -np.inf
    assert y[2] == 0 and not np.signbit(y[2]) and y[3] == 0 and np.signbit(y[3])
    assert np.all(np.isnan(y[4:]))
    # odd by construction, bit for bit
    z = np.linspace(-0.999, 0.999, 10001, dtype=np.float32)
    f = np.asarray(jax.jit(fastmath.erf_inv)(jnp.asarray(z)))
    np.testing.assert_array_equal(f, -f[::-1])


def test_erf_inv_float64_is_xla_exact():
    with jax.enable_x64(True):
        x = jnp.asarray(np.concatenate([np.linspace(-1, 1, 100_001), [np.nextafter(1.0, 0.0), 1e-300]]))
        np.testing.assert_array_equal(np.asarray(jax.jit(fastmath.erf_inv)(x)), np.asarray(jax.jit(jax.lax.erf_inv)(x)))
