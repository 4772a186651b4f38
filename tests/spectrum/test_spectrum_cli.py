"""``nnft spectrum``: the table, --out (netCDF/JSON) and ``nnft show`` give the same numbers back; bad
input is one line and exit status 2."""

import numpy as np
from click.testing import CliRunner

import nnft
import nnft.plot
from nnft.cli import main


def test_spectrum_out_and_show_roundtrip(tmp_path):
    out = tmp_path / "sp.json"
    r = CliRunner().invoke(main, ["spectrum", "scalar_net", "--momenta", "0;1;6", "--window", "0.2",
                                  "--neurons", "20000", "--seed", "3", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "window average of" in r.output and "TASI arXiv:2408.00082 eq. 72-74" in r.output
    assert "no drawn frequency fell in the window at p = [6.]" in r.output      # outside the cutoff Λ = 5
    res = nnft.load_result(str(out))
    assert res.route == "neurons" and res.window == 0.2 and res.spectrum.n >= 20000
    assert res.spectrum.mean[2] == 0 and np.all(res.spectrum.stderr[:2] > 0)
    assert res.theory is not None and res.continuum[1] == 0.5
    s = CliRunner().invoke(main, ["show", str(out)])
    assert s.exit_code == 0 and s.output.splitlines()[3:9] == r.output.splitlines()[3:9]


def test_lattice_result_roundtrip_netcdf(tmp_path):
    m = nnft.compile(nnft.load("cos_net", N=4))
    res = nnft.power_spectrum(m, box=[[-2.0, 2.0], [-2.0, 2.0]], lattice=4, samples=200, key=0)
    nnft.results.save(res, tmp_path / "l.nc")
    back = nnft.load_result(str(tmp_path / "l.nc"))
    np.testing.assert_array_equal(back.spectrum.mean, res.spectrum.mean)
    np.testing.assert_array_equal(back.lattice["modes"], res.lattice["modes"])
    assert back.lattice["nyquist"] == res.lattice["nyquist"] and back.notes == res.notes
    fig = nnft.plot.plot(back, tmp_path / "l.png")                  # a saved file plots like the live result
    gids = {a.get_gid() for a in fig.axes[0].get_children()}
    assert {"mc", "theory", "continuum"} <= gids and (tmp_path / "l.png").exists()


def test_bad_input_is_one_line():
    for args in (["spectrum", "scalar_net"], ["spectrum", "scalar_net", "--box", "4,-4", "--lattice", "8"],
                 ["spectrum", "scalar_net", "--box", "-4,4;-4,4", "--lattice", "8"],
                 ["spectrum", "relu_net", "--momenta", "1"], ["spectrum", "scalar_net", "--box", "-4,4"]):
        r = CliRunner().invoke(main, args)
        assert r.exit_code == 2, (args, r.output)
        assert "Traceback" not in r.output and len(r.output.strip().splitlines()) == 1, r.output
