"""MCMC is compiled once per (model, plan, sampler configuration), whatever the number of draws
(nnft.sample.mcmc; docs/physics.md §7).

The per-chain adaptation and the sampling step are counted by the compilations JAX reports
(``jax.monitoring`` backend-compile events, by function name), not by time: a second call with a
different ``samples`` (smaller and larger than one chunk) must compile neither again, nor anything
else (the convergence diagnostics, whose trace length changes, run in numpy). Results
depend on the key only: a run is reproduced by the same key at another chunk size.
"""

import collections

import jax
import numpy as np
import pytest

import nnft
from nnft.sample.mcmc import mcmc_ensemble

TUPLES = [np.array([[0.0], [0.5]]), np.array([[0.2], [0.2], [0.2], [0.2]])]
CFG = dict(chains=2, warmup=20, blocks=8, warn=False)
SAMPLER = ("jit(warm_fn)", "jit(chunk_fn)")

_compiles: collections.Counter = collections.Counter()


def _on_event(event, secs, fun_name=None, **_):
    if event == "/jax/core/compile/backend_compile_duration":
        _compiles[fun_name] += 1


jax.monitoring.register_event_duration_secs_listener(_on_event)


def _sampler_compiles(fn):
    """(fn(), compilations of the two sampler functions); ``_compiles`` keeps all of them."""
    _compiles.clear()
    out = fn()
    return out, {name: _compiles[name] for name in SAMPLER}


@pytest.fixture(scope="module")
def model():
    return nnft.compile(nnft.load("cos_net", N=2, d=1))


def test_new_sample_counts_do_not_compile_again(model):
    (ens, _), first = _sampler_compiles(lambda: mcmc_ensemble(model, TUPLES, samples=40, key=3, chunk=32, **CFG))
    assert first == {"jit(warm_fn)": 1, "jit(chunk_fn)": 1}, first
    assert ens.sums.n == 40
    # fewer draws than one chunk, more than one chunk, a count giving fewer blocks: no new compile
    for samples in (12, 100, 8):
        (ens, _), again = _sampler_compiles(
            lambda: mcmc_ensemble(model, TUPLES, samples=samples, key=3, chunk=32, **CFG))
        assert again == {"jit(warm_fn)": 0, "jit(chunk_fn)": 0}, (samples, again)
        assert sum(_compiles.values()) == 0, dict(_compiles)     # diagnostics included (numpy on the host)
        assert ens.sums.n == samples
        assert np.sum(ens.sums.weights) == samples
    # kb = min(blocks // chains, per_chain // 2): 8 samples = 4 per chain gives 2 blocks per chain
    assert ens.sums.sums.shape[0] == 4


def test_a_changed_configuration_does_compile(model):
    """The counter sees compilations at all: another chunk length is a new sampling step (the
    adaptation, which does not depend on it, is reused)."""
    mcmc_ensemble(model, TUPLES, samples=40, key=3, chunk=32, **CFG)
    _, again = _sampler_compiles(lambda: mcmc_ensemble(model, TUPLES, samples=40, key=3, chunk=16, **CFG))
    assert again == {"jit(warm_fn)": 0, "jit(chunk_fn)": 1}, again


def test_results_depend_on_the_key_not_on_the_chunk(model):
    """Draw i of a chain uses a key folded from its global index: another chunk length gives the
    same draws (block sums equal up to the summation order), another key different ones."""
    a, _ = mcmc_ensemble(model, TUPLES, samples=60, key=4, chunk=32, **CFG)
    b, _ = mcmc_ensemble(model, TUPLES, samples=60, key=4, chunk=7, **CFG)
    np.testing.assert_allclose(a.sums.sums, b.sums.sums, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(a.sums.weights, b.sums.weights)
    c, _ = mcmc_ensemble(model, TUPLES, samples=60, key=5, chunk=32, **CFG)
    assert not np.allclose(a.sums.sums, c.sums.sums, rtol=1e-6)


def test_numpy_diagnostics_equal_blackjax():
    """R̂ and ESS are computed on the host by numpy ports of blackjax.diagnostics (so no trace
    length compiles): they equal BlackJAX's to rounding on white, AR(1), constant and short chains."""
    import jax.numpy as jnp
    from blackjax.diagnostics import effective_sample_size, potential_scale_reduction
    from nnft.sample.mcmc import _ess, _psrf
    rng = np.random.default_rng(0)
    with jax.enable_x64(True):
        for shape in [(4, 200, 2), (8, 101, 2), (4, 7, 1), (2, 50, 3)]:
            white = rng.normal(size=shape)
            ar = np.zeros(shape)
            for t in range(1, shape[1]):
                ar[:, t] = 0.9 * ar[:, t - 1] + rng.normal(size=(shape[0], shape[2]))
            const = np.concatenate([white[..., :1], np.ones(shape[:2] + (1,))], axis=-1)
            for x in (white, ar, const):
                want = np.asarray(effective_sample_size(jnp.asarray(x))).reshape(x.shape[2:])
                np.testing.assert_allclose(_ess(x), want, rtol=1e-12, atol=1e-12)
                want = np.asarray(potential_scale_reduction(jnp.asarray(x))).reshape(x.shape[2:])
                np.testing.assert_allclose(_psrf(x), want, rtol=1e-12, equal_nan=True)
    # a wrong answer fails: ignoring the autocorrelation (ESS = chains·draws) is far off for AR(1)
    assert _ess(ar)[0] < 0.3 * ar.shape[0] * ar.shape[1]
