"""Training shows the same progress bar as sampling (on stderr, counted in networks; on a terminal only, by default) and `nnft train
--quiet` turns it off; the numbers do not depend on it."""

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

import nnft
from nnft import runtime
from nnft.cli import main
from tests.train.test_training import erf_spec


@pytest.fixture(scope="module")
def model():
    return nnft.compile(nnft.from_dict(erf_spec(8)))


def test_bar_counts_every_network_and_changes_no_number(model, capsys):
    with runtime.settings(progress=True):
        shown = nnft.train(model, networks=24, chunk=8)
    err = capsys.readouterr().err
    assert "erf-train: training" in err and "/24.0" in err, err      # total in networks
    with runtime.settings(progress=False):
        quiet = nnft.train(model, networks=24, chunk=8)
    assert capsys.readouterr().err == ""
    np.testing.assert_array_equal(shown.mean.mean, quiet.mean.mean)


def test_cli_quiet_flag(tmp_path):
    path = tmp_path / "erf_train.yaml"
    path.write_text(yaml.safe_dump(erf_spec(8)))
    r = CliRunner().invoke(main, ["train", str(path), "--networks", "16", "--quiet"])
    assert r.exit_code == 0, r.output
    assert "training:" not in r.stderr and "%|" not in r.stderr, r.stderr
