"""The extreme tails of the float32 counter-based draws (``nnft.densities.draws``). A float32 uniform is
k·2⁻²³ (k < 2²³), so the law of a float32 draw is exactly the 2²³ transformed grid values: the fraction
beyond t is a count, compared with the law's exact tail (normal: 2Φ(−t); cauchy: 2 S(t); laplace,
exponential: e⁻ᵗ). The grid resolves probabilities only to 2⁻²³ ≈ 1.2e-7 (normal draws stop at ≈ 5.4σ,
as ``jax.random.normal``'s do), so the counts may differ from 2²³·p by ≤ 2 grid points. Beside it, a
Monte Carlo test of the whole construction (threefry bits -> uniform -> transform, ``network_draws``) by z."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats as st

from nnft.densities.draws import network_draws
from nnft.densities.registry import get_density

ARGS = {"normal": {"mean": 0.0, "std": 1.0}, "laplace": {"loc": 0.0, "scale": 1.0},
        "exponential": {"rate": 1.0, "loc": 0.0}, "cauchy": {"loc": 0.0, "scale": 1.0}}
TAIL = {"normal": ([3.0, 4.0, 5.0, 5.2], lambda t: 2 * st.norm.sf(t)),
        "cauchy": ([10.0, 1e3, 1e5, 1e6], lambda t: 2 * st.cauchy.sf(t)),
        "laplace": ([5.0, 10.0, 15.0], lambda t: np.exp(-t)),
        "exponential": ([5.0, 10.0, 15.0], lambda t: np.exp(-t))}
GRID = 1 << 23


def _grid_draws(name: str, scale: float = 1.0) -> np.ndarray:
    u = np.arange(GRID, dtype=np.float32) * np.float32(2.0 ** -23)
    dens = get_density(name)
    a = {k: jnp.asarray(v, jnp.float32) for k, v in dens.with_defaults(ARGS[name]).items()}
    z = jax.jit(lambda u, a: dens._from_uniform(u, a))(jnp.asarray(u), a)
    return np.asarray(z, np.float64) * scale


def _max_grid_miss(name: str, z: np.ndarray) -> float:
    ts, p = TAIL[name]
    beyond = (lambda t: np.sum(z > t)) if name == "exponential" else (lambda t: np.sum(np.abs(z) > t))
    return max(abs(beyond(t) - GRID * p(t)) for t in ts)


@pytest.mark.parametrize("name", list(TAIL))
def test_every_float32_draw_has_the_exact_tail(name):
    z = _grid_draws(name)
    assert np.all(np.isfinite(z))
    assert _max_grid_miss(name, z) <= 2.0


def test_the_tail_count_fails_a_two_percent_wider_normal():
    assert _max_grid_miss("normal", _grid_draws("normal", 1.02)) > 2.0


def _tail_z(scale: float) -> list[float]:
    """z of the counts of |draw| > 3 and > 4 among 2²¹ normal draws of the counter-based construction."""
    dens = get_density("normal")
    n_net, size = 1 << 11, 1 << 10
    args = {k: jnp.full((n_net, size), v, jnp.float32) for k, v in dens.with_defaults(ARGS["normal"]).items()}
    z = np.asarray(network_draws(dens, jax.random.key(11), jnp.arange(n_net), size, jnp.float32, args)) * scale
    n = z.size
    out = []
    for t in (3.0, 4.0):
        p = 2 * st.norm.sf(t)
        out.append((np.sum(np.abs(z) > t) - n * p) / np.sqrt(n * p * (1 - p)))
    return out


def test_counter_based_normal_draws_have_the_normal_tail():
    assert max(abs(z) for z in _tail_z(1.0)) < 5
    assert max(abs(z) for z in _tail_z(1.02)) >= 5          # the wrong answer: 2 % too wide
