"""``nnft posterior SPEC --data FILE``: the table, --out, and one-line refusals of bad data."""

import numpy as np
from click.testing import CliRunner

import nnft
from nnft.cli import main


def test_nngp_posterior_from_a_data_file(tmp_path):
    data = tmp_path / "d.txt"
    data.write_text("# x, y\n-0.8, 0.6\n0.7 0.9\n")
    out = tmp_path / "p.json"
    r = CliRunner().invoke(main, ["posterior", "relu_net", "--data", str(data), "--noise-var", "0.2",
                                  "--points", "0;1.2", "--method", "nngp", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "log evidence" in r.output
    back = nnft.load_result(out)
    m = nnft.compile(nnft.load("relu_net"))
    ref = nnft.nngp_posterior(m, [[-0.8], [0.7]], [0.6, 0.9], [[0.0], [1.2]], 0.2)
    np.testing.assert_array_equal(back.mean, ref.mean)


def test_bad_data_is_one_line_exit_2(tmp_path):
    bad = tmp_path / "bad.txt"
    for text in ("1 2 3\n", "a b\n", ""):
        bad.write_text(text)
        r = CliRunner().invoke(main, ["posterior", "relu_net", "--data", str(bad), "--noise-var", "0.2"])
        assert r.exit_code == 2 and "--data" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(main, ["posterior", "relu_net", "--data", str(tmp_path / "none.txt"), "--noise-var", "0.2"])
    assert r.exit_code == 2
