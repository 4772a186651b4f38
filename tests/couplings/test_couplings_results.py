"""Actions, couplings and extrapolations as results: xarray round trips (.nc and .json, float64 exact),
``nnft show`` text, and the ``nnft couplings`` command (one-line errors, exit 2)."""

import numpy as np
import pytest
from click.testing import CliRunner

import nnft
import nnft.results as R
from nnft.cli import main

X = np.array([[0.0, 0.0], [0.8, 0.0], [1.6, 0.0]])


@pytest.fixture(scope="module")
def results():
    m = nnft.compile(nnft.load("cos_net", N=4))
    return [nnft.gaussian_action(m, X, samples=2000, key=1), nnft.gaussian_action(m, X),
            nnft.quartic_coupling(m, X, samples=2000, key=2),
            nnft.extrapolate([2, 4, 8, 16], [1.0, 0.61, 0.39, 0.3], [0.01] * 4)]


@pytest.mark.parametrize("ext", [".nc", ".json"])
def test_round_trip(results, ext, tmp_path):
    for i, obj in enumerate(results):
        path = tmp_path / f"r{i}{ext}"
        R.save(obj, path)
        back = nnft.load_result(path)
        assert type(back) is type(obj) and R.table(back) == obj.table()
        ds = R.to_dataset(back)
        for name, var in R.to_dataset(obj).data_vars.items():
            np.testing.assert_array_equal(ds[name].values, var.values)


def test_cli_couplings(tmp_path):
    out = tmp_path / "q.nc"
    r = CliRunner().invoke(main, ["couplings", "cos_net", "--set", "N=4", "--samples", "2000", "--points",
                                  "0,0;0.8,0;1.6,0", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "quartic vertex" in r.output and "locality" in r.output and out.exists()
    back = nnft.load_result(out)
    assert type(back).__name__ == "QuarticCoupling" and back.theory is not None and "theory" in r.output
    assert back.theory_note.startswith("exact vertex") and np.abs(back.z).max() < 5      # the exact 1/N vertex beside it
    r = CliRunner().invoke(main, ["couplings", "phi4_scalar_1d", "--set", "N=8", "--samples", "300", "--points", "0;0.5"])
    assert r.exit_code == 0 and "theory: none (" in r.output and "insertion" in r.output   # why there is none
    r = CliRunner().invoke(main, ["couplings", "cos_net", "--kind", "action", "--samples", "2000",
                                  "--points", "0,0;0.8,0;1.6,0"])
    assert r.exit_code == 0 and "expected 1.5" in r.output
    for bad in (["--kind", "running"], ["--kind", "running", "--cutoffs", "7,x,9"]):
        r = CliRunner().invoke(main, ["couplings", "cos_net", "--samples", "100", *bad])
        assert r.exit_code == 2 and r.output.count("\n") == 1 and r.output.startswith("error:")


@pytest.mark.parametrize("args", [
    ["--points", "0,0"],                                              # one point
    ["--points", "0,0;0,0"],                                          # duplicate points
    ["--points", "0,0,0;1,0,0"],                                      # outside the spec's input dimension
    ["--points", "nan,0;1,0"],
    ["--kind", "action", "--points", "0,0;1e-5,0;2e-5,0"],            # ill-conditioned K
    ["--samples", "10", "--points", "0,0;0.8,0;1.6,0"],               # G2 too noisy to amputate with
    ["--set", "d=1", "--kind", "running", "--points", "0;0.5", "--cutoffs", "10,5,100"],     # unsorted
    ["--set", "d=1", "--kind", "running", "--points", "0;0.5", "--cutoffs", "0,5,100"],      # Λ ≤ 0
    ["--set", "d=1", "--kind", "running", "--points", "0;0.5", "--cutoffs", "7,10,100", "--bias-variance", "-1"],
])
def test_cli_edge_inputs_one_line_exit_2(args):
    r = CliRunner().invoke(main, ["couplings", "cos_net", "--samples", "100", *args])
    assert r.exit_code == 2 and r.output.count("\n") == 1 and r.output.startswith("error:"), r.output
