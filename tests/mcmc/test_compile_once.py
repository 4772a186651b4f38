"""MCMC is compiled once per (model, plan, sampler configuration), whatever the number of draws
(nnft.sample.mcmc; docs/physics.md §7).

The per-chain adaptation and the sampling step are counted by the compilations JAX reports
(``jax.monitoring`` backend-compile events, by function name), not by time: a second call with a
different ``samples`` (smaller and larger than one chunk) must compile neither again, nor anything else:
the convergence diagnostics are numpy (tests/mcmc/test_diagnostics.py). Results depend on the key only:
a run is reproduced by the same key at another chunk size.
"""

import numpy as np
import pytest

import nnft
from helpers import jax_events
from nnft.estimators.mcmc import mcmc_ensemble

TUPLES = [np.array([[0.0], [0.5]]), np.array([[0.2], [0.2], [0.2], [0.2]])]
CFG = dict(chains=2, warmup=20, blocks=8, warn=False)
SAMPLER = ("jit(warm_fn)", "jit(chunk_fn)")

EVENTS = jax_events()


def _sampler_compiles(fn):
    """(fn(), compilations of the two sampler functions and, under "other", of every other program)."""
    EVENTS.clear()
    out = fn()
    counts = {name: EVENTS.compiles[name] for name in SAMPLER}
    counts["other"] = sum(n for name, n in EVENTS.compiles.items() if name not in SAMPLER)
    return out, counts


@pytest.fixture(scope="module")
def model():
    return nnft.compile(nnft.load("cos_net", N=2, d=1))


def test_new_sample_counts_do_not_compile_again(model):
    (ens, _), first = _sampler_compiles(lambda: mcmc_ensemble(model, TUPLES, samples=40, key=3, chunk=32, **CFG))
    assert first["jit(warm_fn)"] == 1 and first["jit(chunk_fn)"] == 1, first
    assert ens.sums.n == 40
    # fewer draws than one chunk, more than one chunk, a count giving fewer blocks: no new compile
    for samples in (12, 100, 8):
        (ens, _), again = _sampler_compiles(
            lambda: mcmc_ensemble(model, TUPLES, samples=samples, key=3, chunk=32, **CFG))
        assert again == {"jit(warm_fn)": 0, "jit(chunk_fn)": 0, "other": 0}, (samples, again)
        assert ens.sums.n == samples
        assert np.sum(ens.sums.weights) == samples
    # kb = min(blocks // chains, per_chain // 2): 8 samples = 4 per chain gives 2 blocks per chain
    assert ens.sums.sums.shape[0] == 4


def test_a_changed_configuration_does_compile(model):
    """The counter sees compilations at all: another chunk length is a new sampling step (the
    adaptation, which does not depend on it, is reused)."""
    mcmc_ensemble(model, TUPLES, samples=40, key=3, chunk=32, **CFG)
    _, again = _sampler_compiles(lambda: mcmc_ensemble(model, TUPLES, samples=40, key=3, chunk=16, **CFG))
    assert again["jit(warm_fn)"] == 0 and again["jit(chunk_fn)"] == 1, again


def test_results_depend_on_the_key_not_on_the_chunk(model):
    """Draw i of a chain uses a key folded from its global index: another chunk length gives the
    same draws and, the running sums going through every chunk in draw order, bitwise the same block
    sums, tails and diagnostics; another key different ones."""
    a, da = mcmc_ensemble(model, TUPLES, samples=60, key=4, chunk=32, **CFG)
    b, db = mcmc_ensemble(model, TUPLES, samples=60, key=4, chunk=7, **CFG)
    assert a.sums.sums.tobytes() == b.sums.sums.tobytes()
    assert a.sums.weights.tobytes() == b.sums.weights.tobytes()
    assert [t.tobytes() for t in a.sums.tail] == [t.tobytes() for t in b.sums.tail]
    assert da.rhat.tobytes() == db.rhat.tobytes() and da.acceptance.tobytes() == db.acceptance.tobytes()
    c, _ = mcmc_ensemble(model, TUPLES, samples=60, key=5, chunk=32, **CFG)
    assert not np.allclose(a.sums.sums, c.sums.sums, rtol=1e-6)
