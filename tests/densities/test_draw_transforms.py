"""The float32 inverse-CDF transforms of the counter-based draws, checked on EVERY float32 draw they can
produce: a uniform u is k·2⁻²³ (k = 0 .. 2²³ − 1, ``nnft.densities.draws.uniform_blocks``), so the 2²³
values below are the whole domain. Reference: the same construction in float64 from the same float32
arguments (v = 2u − 1 + 2⁻²⁴, exact in float32; cauchy's float32 argument π(v − ½), whose rounding is
part of ``jax.random.cauchy``'s construction too). Bounds are in ulp of the float32 result."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special as sp

from nnft.densities.registry import get_density

#: max error in ulp of the draw (measured: normal 4.4, laplace 1.2, exponential 1.2, cauchy 3.2 + the
#: tan reduction's absolute 5e-12·(1 + tan²))
BOUND = {"normal": 5.0, "laplace": 1.5, "exponential": 1.5, "cauchy": 5.0}
ARGS = {"normal": {"mean": 0.0, "std": 1.0}, "laplace": {"loc": 0.0, "scale": 1.0},
        "exponential": {"rate": 1.0, "loc": 0.0}, "cauchy": {"loc": 0.0, "scale": 1.0}}


def _all_uniforms() -> np.ndarray:
    return np.arange(1 << 23, dtype=np.float32) * np.float32(2.0 ** -23)


def _reference(name: str, u: np.ndarray) -> np.ndarray:
    low = np.float32(np.nextafter(-1, 0, dtype=np.float32))
    v = np.maximum(low, u * np.float32(2) + low).astype(np.float64)          # exact in float32
    if name == "normal":
        return np.sqrt(2) * sp.erfinv(v)
    if name == "laplace":
        return np.sign(v) * np.log1p(-np.abs(v))
    if name == "exponential":
        return -np.log1p(-u.astype(np.float64))
    arg = np.float32(np.pi) * (np.maximum(np.float32(np.finfo(np.float32).tiny), u) - np.float32(0.5))
    return np.tan(arg.astype(np.float64))


def _ulp_errors(name: str, transform) -> np.ndarray:
    u = _all_uniforms()
    dens = get_density(name)
    a = {k: jnp.asarray(v, jnp.float32) for k, v in dens.with_defaults(ARGS[name]).items()}
    got = np.asarray(jax.jit(lambda u, a: transform(dens, u, a))(jnp.asarray(u), a), np.float64)
    ref = _reference(name, u)
    assert np.all(np.isfinite(got)) and np.all(np.isfinite(ref))
    err = np.abs(got - ref)
    if name == "cauchy":                    # the reduction's absolute error, carried by tan' = 1 + tan²
        err = np.maximum(err - 5e-12 * (1 + ref ** 2), 0.0)
    return err / np.spacing(np.abs(ref).astype(np.float32)).astype(np.float64)


@pytest.mark.parametrize("name", list(BOUND))
def test_every_float32_draw_within_its_stated_error(name):
    err = _ulp_errors(name, lambda d, u, a: d._from_uniform(u, a))
    assert err.max() <= BOUND[name], (name, err.max())


def test_the_bound_can_fail_xla_erf_inv():
    """The same comparison fails XLA's float32 ``erf_inv`` (what the normal draws used before): its
    ``log1p(−x²)`` loses x²'s rounding near |x| = 1 (≈ 65 ulp)."""
    def xla(dens, u, a):
        low = np.float32(np.nextafter(-1, 0, dtype=np.float32))
        v = jnp.maximum(low, u * np.float32(2) + low)
        return a["mean"] + a["std"] * (np.float32(np.sqrt(2)) * jax.lax.erf_inv(v))
    assert _ulp_errors("normal", xla).max() > 10 * BOUND["normal"]


@pytest.mark.parametrize("name", list(BOUND))
def test_float64_transforms_are_jax_randoms(name):
    """float64 keeps XLA's functions: the transform of float64 uniforms equals ``jax.random``'s own
    construction (erf_inv, log1p, tan) bit for bit."""
    dens = get_density(name)
    rng = np.random.default_rng(4)
    with jax.enable_x64(True):
        u = jnp.asarray(np.concatenate([rng.random(4096), [0.0, 0.5, 1 - 2.0 ** -52]]))
        a = {k: jnp.asarray(v, jnp.float64) for k, v in dens.with_defaults(ARGS[name]).items()}
        got = np.asarray(jax.jit(lambda u, a: dens._from_uniform(u, a))(u, a))
        low = np.nextafter(-1.0, 0.0)
        want = {"normal": lambda u, a: a["mean"] + a["std"] * (np.sqrt(2) * jax.lax.erf_inv(
                    jnp.maximum(low, u * 2.0 + low))),
                "laplace": lambda u, a: a["loc"] + a["scale"] * (
                    jnp.sign(jnp.maximum(low, u * 2.0 + low)) * jnp.log1p(-jnp.abs(jnp.maximum(low, u * 2.0 + low)))),
                "exponential": lambda u, a: a["loc"] - jnp.log1p(-u) / a["rate"],
                "cauchy": lambda u, a: a["loc"] + a["scale"] * jnp.tan(
                    np.pi * (jnp.maximum(np.finfo(np.float64).tiny, u) - 0.5))}[name]
        want = np.asarray(jax.jit(want)(u, a))
    np.testing.assert_array_equal(got.view(np.uint64), want.view(np.uint64))
