"""``nnft local --out`` / ``nnft.results``: LocalCorrelators as a Dataset with an operator coordinate,
round-tripped through .nc and .json exactly (float64), and ``nnft show`` prints the same table."""

import numpy as np
import pytest
from click.testing import CliRunner

import nnft
from nnft.cli import main
from nnft.estimators.local import LocalCorrelators, Operator, local_correlator
from nnft.results import load_result, save, to_dataset

pytestmark = pytest.mark.filterwarnings("ignore::nnft.errors.TailWarning")    # 300-500 networks: a round trip, not a measurement


@pytest.fixture(scope="module")
def result():
    m = nnft.compile(nnft.load("gauss_net_vector", N=4))
    tuples = [np.array([[0.2], [-0.1]]), np.array([[0.3], [0.1]]), np.array([[0.1], [0.4]]), np.array([[0.2]])]
    ops = [["phi[0]", "phi[1]"], [Operator("linear", (0,), (0.6, 0.0, 0.8)), "(dphi)^2"], ["phi^2", "d0 d0 phi[2]"],
           ["phi[1]"]]
    return local_correlator(m, tuples, ops, samples=500, key=1)


def test_dataset_has_the_operator_coordinate(result):
    assert isinstance(result, LocalCorrelators)
    ds = to_dataset(result, theory=nnft.load("gauss_net_vector", N=4), seed=1)
    assert ds.attrs["nnft_result"] == "LocalCorrelators"
    assert ds["operator"].values[3].tolist() == ["phi[1]", ""]
    assert ds["operator"].values[2].tolist() == ["phi^2", "d0 d0 phi[2]"]
    assert ds["op_direction"].values[1, 0].tolist() == [0.6, 0.0, 0.8]
    assert ds.sizes["component"] == 3


@pytest.mark.parametrize("ext", ["nc", "json"])
def test_round_trip_is_exact(result, tmp_path, ext):
    path = tmp_path / f"local.{ext}"
    save(result, path, seed=1)
    back = load_result(path)
    assert isinstance(back, LocalCorrelators) and back.orders == result.orders
    assert back.operators == result.operators
    for a, b in zip(back.tuples, result.tuples):
        np.testing.assert_array_equal(a, b)
    for name in ("full", "connected"):
        np.testing.assert_array_equal(getattr(back, name).mean, getattr(result, name).mean)
        np.testing.assert_array_equal(getattr(back, name).stderr, getattr(result, name).stderr)
    assert back.table() == result.table()


def test_cli_out_and_show(tmp_path):
    path = str(tmp_path / "l.json")
    r = CliRunner().invoke(main, ["local", "gauss_net_vector", "phi[0](0.2) * phi[0](-0.1)", "phi^2(0.1)",
                                  "--samples", "300", "--set", "N=4", "--out", path])
    assert r.exit_code == 0, r.output
    s = CliRunner().invoke(main, ["show", path])
    assert s.exit_code == 0, s.output
    assert r.output.split("saved:")[0].strip() == s.output.strip()
    bad = CliRunner().invoke(main, ["local", "gauss_net_vector", "phi[0](0.2)", "--out", str(tmp_path / "x.txt")])
    assert bad.exit_code == 2 and bad.output.count("\n") == 1


def test_prints_and_shows_its_table(result):
    html = result._repr_html_()
    assert str(result) == result.table() and "d0 d0 phi[2]" in html and "<table" in html
