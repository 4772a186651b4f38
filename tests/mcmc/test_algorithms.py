"""The sampler's kernel is selectable and its chains resumable (nnft.sample.mcmc, nnft.sample.transition;
docs/physics.md §7).

(a) BlackJAX HMC and NUTS sample the same P̃: on φ⁴ at λ = 3 (far from the free theory) their G2 agree
    within |z| < 5, while the free theory's G2 (the wrong answer) is rejected by the same comparison;
(b) a run continued from its returned state makes exactly the transitions of one longer run (the key
    of transition t is fold_in(chain key, t)), so the total feature sums agree; a restart would not.
"""

import warnings

import numpy as np
import pytest

import nnft
from nnft.errors import InputError
from nnft.estimators.mcmc import mcmc_continue, mcmc_ensemble

Z_CUT = 5
TUPLES = [np.array([[0.0], [0.0]]), np.array([[0.0], [0.5]])]


def _z(a, b):
    return (a.mean - b.mean) / np.hypot(a.stderr, b.stderr)


@pytest.fixture(scope="module")
def phi4():
    base = nnft.load("phi4_scalar_1d", N=10).model_dump()
    base["constants"]["lam"] = 3.0
    base["insertions"][0]["domain"]["lattice"] = 16
    return nnft.compile(nnft.from_dict(base))


def test_hmc_and_nuts_agree_on_phi4_g2_and_reject_the_free_theory(phi4):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nuts, dn = mcmc_ensemble(phi4, TUPLES, samples=4000, chains=4, warmup=200, key=0)
        hmc, dh = mcmc_ensemble(phi4, TUPLES, samples=4000, chains=4, warmup=200, key=1, algorithm="hmc")
    assert dn.converged and dh.converged, (dn.summary(), dh.summary())
    z = _z(hmc.full(), nuts.full())
    assert np.all(np.abs(z) < Z_CUT), z
    # the wrong answer: the free theory's G2 (i.i.d. samples of P) is far from both
    free = nnft.ensemble(phi4.free(), TUPLES, samples=40_000, key=2).full()
    for ens in (hmc, nuts):
        z_wrong = _z(ens.full(), free)
        assert np.all(np.abs(z_wrong) > Z_CUT), z_wrong


def test_unknown_algorithm_is_refused(phi4):
    with pytest.raises(InputError, match="algorithm"):
        mcmc_ensemble(phi4, TUPLES, samples=40, chains=2, warmup=0, algorithm="mala")


def test_a_continued_run_makes_the_transitions_of_one_longer_run():
    model = nnft.compile(nnft.load("cos_net", N=2, d=1))
    cfg = dict(blocks=4, chunk=16, warn=False)
    whole, _ = mcmc_ensemble(model, TUPLES, samples=120, chains=2, warmup=20, key=7, **cfg)
    first, _, state = mcmc_ensemble(model, TUPLES, samples=80, chains=2, warmup=20, key=7, return_state=True, **cfg)
    assert state.transitions == 40 and state.chains == 2
    rest, _, state2 = mcmc_continue(model, TUPLES, state, samples=40, **cfg)
    assert state2.transitions == 60
    total = first.sums.sums.sum(axis=0) + rest.sums.sums.sum(axis=0)
    np.testing.assert_allclose(total, whole.sums.sums.sum(axis=0), rtol=1e-10, atol=1e-12)
    assert first.sums.n + rest.sums.n == whole.sums.n
    # the twin: a fresh run of 40 draws (new warmup, same key) is not the continuation
    fresh, _ = mcmc_ensemble(model, TUPLES, samples=40, chains=2, warmup=20, key=7, **cfg)
    assert not np.allclose(first.sums.sums.sum(axis=0) + fresh.sums.sums.sum(axis=0),
                           whole.sums.sums.sum(axis=0), rtol=1e-6)
