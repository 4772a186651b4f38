"""MCMC chains sharded over local devices do not change a bit: with 4 forced host devices, the chains'
groups (``nnft.sample.groups``) run on 1, 2 or 4 of them and the block sums, tails, diagnostics and
final chain states are bitwise identical; so are the continued chains (``mcmc_continue``). In a
subprocess, because the device count is fixed before JAX is imported. Slow: each device count is a
new device for the programs (2 compilations each)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.speed import _runs

BODY = """
import jax, warnings
from nnft.estimators.mcmc import mcmc_continue, mcmc_ensemble
assert jax.local_device_count() == 4, jax.local_devices()
warnings.simplefilter("ignore")
model = nnft.compile(nnft.load("cos_net", N=2, d=1))
T = [np.array([[0.0], [0.5]]), np.array([[0.0]] * 4)]
# HMC: the groups' dispatch is the same for every BlackJAX kernel, and HMC compiles in half NUTS's time
CFG = dict(samples=96, chains=4, warmup=30, chunk=16, blocks=8, warn=False, algorithm="hmc")


def save(name, ens, diag, state):
    out = {"sums": ens.sums.sums, "weights": ens.sums.weights, "n": np.array(ens.sums.n),
           "top_pos": ens.sums.tail[0], "top_neg": ens.sums.tail[1],
           "mean": ens.connected().mean, "stderr": ens.connected().stderr,
           "rhat": diag.rhat, "ess": diag.ess, "acceptance": diag.acceptance, "step_size": diag.step_size,
           "divergences": diag.divergences}
    for k, leaf in enumerate(jax.tree_util.tree_leaves(state.states)):
        out[f"state{k}"] = np.asarray(leaf)
    np.savez(name, **out)


for d in (1, 2, 4):
    ens, diag, st = mcmc_ensemble(model, T, key=3, devices=d, return_state=True, **CFG)
    save(f"d{d}.npz", ens, diag, st)
    with runtime.settings(devices=d):              # the CLI's --devices route; continued chains
        ens, diag, st = mcmc_continue(model, T, st, samples=64, chunk=16, blocks=8, warn=False)
    save(f"c{d}.npz", ens, diag, st)
ens, diag, st = mcmc_ensemble(model, T, key=4, devices=4, return_state=True, **CFG)
save("other_key.npz", ens, diag, st)
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mcmc_devices")
    res = _runs.run(_runs.script(BODY, "import os\nos.environ['XLA_FLAGS'] = "
                                 "'--xla_force_host_platform_device_count=4'\n"), tmp)
    assert res.returncode == 0, res.stderr[-3000:]
    names = [f"{p}{d}" for p in "dc" for d in (1, 2, 4)] + ["other_key"]
    return {n: dict(np.load(tmp / f"{n}.npz")) for n in names}


@pytest.mark.slow
@pytest.mark.parametrize("prefix", ["d", "c"])
@pytest.mark.parametrize("d", [2, 4])
def test_chains_on_1_2_4_devices_are_bitwise_the_same(runs, prefix, d):
    arrays = runs
    one, many = arrays[f"{prefix}1"], arrays[f"{prefix}{d}"]
    assert set(one) == set(many) and "state0" in one and "top_pos" in one
    for name in one:
        assert many[name].tobytes() == one[name].tobytes(), f"{name}: {prefix} with {d} devices"


@pytest.mark.slow
def test_the_comparison_sees_another_key(runs):
    assert not np.array_equal(runs["other_key"]["sums"], runs["d4"]["sums"])
    assert not np.array_equal(runs["other_key"]["state0"], runs["d4"]["state0"])


def test_chain_batch_divides_the_chains():
    import nnft
    from nnft.sample.groups import chain_batch
    assert chain_batch(4, 2) == 2 and chain_batch(6, None) in (1, 2, 3, 6)
    for bad in (3, 0, 2.0, True):
        with pytest.raises(nnft.InputError, match="chain_batch"):
            chain_batch(4, bad)
