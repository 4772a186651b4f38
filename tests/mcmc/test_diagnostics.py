"""The convergence diagnostics are BlackJAX's algorithms in numpy (nnft.sample.diagnostics): no program is
compiled per trace length, and the numbers are BlackJAX's own to rounding.

(a) ``_psrf`` and ``_ess`` against ``blackjax.diagnostics.potential_scale_reduction`` and
    ``effective_sample_size`` (jitted, float64) on traces whose columns cover every branch: i.i.d. draws,
    AR(1) chains, anti-correlated draws, a random walk (Geyer's positive sequence runs to the last pair:
    BlackJAX's index one past it is clamped on read and dropped on write), at an odd and an even number of
    draws; by this module's rule, a constant column has ESS 0 and R̂ NaN, one with a NaN draw ESS and R̂
    NaN; the twin: the ESS of another trace differs;
(b) ``diagnose`` compiles nothing, whatever the trace length (counted by ``jax.monitoring`` events).
"""

import numpy as np
import pytest

from helpers import jax_events
from nnft.sample.diagnostics import _ess, _psrf, diagnose

#: relative agreement with BlackJAX: float64 rounding of an FFT over ≤ 10³ draws (pocketfft vs XLA's)
RTOL = 1e-11


def _traces(n: int, seed: int) -> np.ndarray:
    """(4 chains, n draws, 7 columns): iid, AR(1) ρ = 0.9, AR(1) ρ = −0.6, random walk, chain-offset iid,
    constant, iid with one NaN draw."""
    rng = np.random.default_rng(seed)
    e = rng.normal(size=(4, n, 4))
    x = np.zeros((4, n, 7))
    x[..., 0] = e[..., 0]
    for t in range(n):
        prev = x[:, t - 1] if t else np.zeros((4, 7))
        x[:, t, 1] = 0.9 * prev[:, 1] + e[:, t, 1]
        x[:, t, 2] = -0.6 * prev[:, 2] + e[:, t, 2]
        x[:, t, 3] = prev[:, 3] + e[:, t, 3]
    x[..., 4] = e[..., 0] + np.arange(4)[:, None] * 0.3
    x[..., 5] = 1.5
    x[..., 6] = e[..., 2]
    x[1, n // 3, 6] = np.nan
    return x


@pytest.mark.parametrize("n", [301, 64])
def test_psrf_and_ess_are_blackjax_s(n):
    import jax
    import jax.numpy as jnp
    from blackjax.diagnostics import effective_sample_size, potential_scale_reduction
    x = _traces(n, seed=n)
    with jax.enable_x64(True):
        want_r = np.asarray(jax.jit(potential_scale_reduction)(jnp.asarray(x)))
        want_e = np.asarray(jax.jit(effective_sample_size)(jnp.asarray(x)))
    got_r, got_e = _psrf(x), _ess(x)
    assert got_r.shape == got_e.shape == (7,)
    # the five varying, finite columns; the constant and NaN columns are this module's rule (BlackJAX < 1.7
    # has no rule for them, and R̂ of a constant is 0/0, inf or NaN by rounding there)
    np.testing.assert_allclose(got_r[:5], want_r[:5], rtol=RTOL)
    np.testing.assert_allclose(got_e[:5], want_e[:5], rtol=RTOL)
    assert got_e[5] == 0.0 and np.isnan(got_r[5]) and np.isnan(got_e[6]) and np.isnan(got_r[6])
    assert got_e[3] < 0.05 * x.shape[0] * n < got_e[0]            # the random walk barely decorrelates
    # the twin: the same comparison sees another trace (the AR(1) chains with ρ = 0.8)
    other = x.copy()
    for t in range(1, n):
        other[:, t, 1] = 0.8 * other[:, t - 1, 1] + (x[:, t, 1] - 0.9 * x[:, t - 1, 1])
    assert abs(_ess(other)[1] / want_e[1] - 1) > 100 * RTOL


def test_diagnose_compiles_nothing_at_any_trace_length():
    events = jax_events()
    rng = np.random.default_rng(3)
    for n in (40, 41, 333):
        x = rng.normal(size=(4, n, 3))
        events.clear()
        d = diagnose(x, ["a", "b", "c"], stride=1, draws_per_chain=n, blocks_per_chain=4,
                     divergences=np.zeros(4, np.int64), acceptance=np.full(4, 0.8), step_size=np.full(4, 0.1))
        assert sum(events.compiles.values()) == 0 and sum(events.traces.values()) == 0, (n, events.compiles)
        assert d.rhat.shape == d.ess.shape == d.tau.shape == (3,) and np.all(d.rhat < 1.1)
