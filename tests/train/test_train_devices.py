"""A trained ensemble sharded over local devices does not change a bit: with 4 forced host devices,
chunk j on device j mod D, D = 1, 2, 4 (and the ``runtime.settings`` route the CLI's --devices takes) give
bitwise the same statistics; another seed does not (the comparison can fail). In a subprocess, because
the device count is fixed before JAX is imported. Slow: each device compiles the chunk step once."""

from __future__ import annotations

import numpy as np
import pytest

from tests.speed import _runs

BODY = """
import jax
from nnft.errors import InputError
assert jax.local_device_count() == 4, jax.local_devices()
spec = {"nnft": 1, "name": "erf-train", "dims": {"d": 1, "N": 8},
        "constants": {"sigma_w": 1.0, "sigma_b": 0.5},
        "params": {"W0": {"shape": ["N", "d"], "density": {"normal": {"std": "sigma_w / sqrt(d)"}}},
                   "b0": {"shape": ["N"], "density": {"normal": {"std": "sigma_b"}}},
                   "W1": {"shape": ["N"], "density": {"normal": {"std": "sigma_w / sqrt(N)"}}}},
        "field": "sum_N(W1 * erf(W0 @ x + b0))",
        "train": {"inputs": {"list": [[-1.0], [1.0]]}, "targets": [-0.5, 0.5], "test": {"list": [[0.3]]},
                  "lr": 0.3, "steps": 2, "record": [0, 2], "networks": 20, "chunk": 4}}
model = nnft.compile(nnft.from_dict(spec))


def save(name, r):
    np.savez(name, **{f"{k}.{p}": getattr(getattr(r, k), p) for k in ("mean", "cov", "ntk", "dntk_rms", "loss",
                                                                     "lin_dist") for p in ("mean", "stderr")})


for d in (1, 2, 4):
    save(f"d{d}.npz", nnft.train(model, devices=d))
with runtime.settings(devices=2):
    save("s2.npz", nnft.train(model))
save("other_seed.npz", nnft.train(model, devices=4, seed=1))
try:
    nnft.train(model, devices=5)
except InputError as err:
    open("refused.txt", "w").write(str(err))
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("train_devices")
    res = _runs.run(_runs.script(BODY, "import os\nos.environ['XLA_FLAGS'] = "
                                 "'--xla_force_host_platform_device_count=4'\n"), tmp)
    assert res.returncode == 0, res.stderr[-3000:]
    out = {n: dict(np.load(tmp / f"{n}.npz")) for n in ("d1", "d2", "d4", "s2", "other_seed")}
    out["refused"] = (tmp / "refused.txt").read_text()
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", ["d2", "d4", "s2"])
def test_training_on_1_2_4_devices_is_bitwise_the_same(runs, name):
    base = runs["d1"]
    assert set(runs[name]) == set(base)
    for k in base:
        np.testing.assert_array_equal(runs[name][k], base[k], err_msg=k)
    other = runs["other_seed"]
    assert not np.array_equal(other["mean.mean"], base["mean.mean"])        # the comparison can fail


@pytest.mark.slow
def test_more_devices_than_there_are_is_refused(runs):
    assert "devices = 5" in runs["refused"] and "4" in runs["refused"]


def test_cli_refuses_more_devices_than_there_are_in_one_line(tmp_path):
    import yaml
    from click.testing import CliRunner

    from nnft.cli import main
    from tests.train.test_training import erf_spec
    path = tmp_path / "erf_train.yaml"
    path.write_text(yaml.safe_dump(erf_spec(8)))
    res = CliRunner().invoke(main, ["train", str(path), "--devices", "64"])
    assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1 and "devices = 64" in res.output
