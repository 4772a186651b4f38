"""``--out FILE`` on the sampling commands and ``nnft show FILE`` (tiny sample sizes: files, not statistics)."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

import nnft
from nnft.cli import main

TINY_RUN = ["run", "cos_net", "--samples", "40", "--neurons", "100", "--set", "N=4", "--orders", "2",
            "--points", "0,0;0.5,0", "--quiet"]


def cli(*args):
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("ext", [".nc", ".json"])
def test_run_out_then_show(tmp_path, ext):
    path = str(tmp_path / f"run{ext}")
    r = cli(*TINY_RUN, "--seed", "3", "--out", path)
    assert r.exit_code == 0, r.output
    table = r.output.split("saved:")[0].rstrip("\n")
    rep = nnft.load_result(path)
    assert rep.samples == 40 and rep.seed == 3 and len(rep.rows) == 3
    from nnft.results import load_dataset
    a = load_dataset(path).attrs
    assert a["dtype"] == "float32" and a["devices"] >= 1 and a["wall_time_s"] > 0 and a["seed"] == 3
    assert '"N": 4' in a["spec"]
    s = cli("show", path)
    assert s.exit_code == 0, s.output
    assert s.output.rstrip("\n") == table                        # the same table as the run printed
    p = cli("show", path, "--provenance")
    assert "spec_sha256" in p.output and "jax_version" in p.output


@pytest.mark.parametrize("out, msg", [("x.csv", "must end in .nc"), ("nodir/x.nc", "does not exist"),
                                      (".", "directory"), ("afile/x.nc", "does not exist")])
def test_bad_out_is_one_line_before_sampling(tmp_path, out, msg):
    (tmp_path / "afile").write_text("")
    r = cli("run", "cos_net", "--samples", "40", "--out", str(tmp_path / out) if out != "." else str(tmp_path))
    assert r.exit_code == 2
    assert msg in r.output and len(r.output.strip().splitlines()) == 1 and "networks" not in r.output


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write read-only directories")
def test_unwritable_out(tmp_path):
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o500)
    r = cli("check", "cos_net", "--out", str(d / "c.json"))
    assert r.exit_code == 2 and "permission denied" in r.output


@pytest.mark.parametrize("content, name", [(b"\x89HDF\r\n\x1a\n junk", "bad.nc"), (b"{not json", "bad.json"),
                                           (b'{"format": "other"}', "other.json")])
def test_show_damaged_or_foreign_file(tmp_path, content, name):
    p = tmp_path / name
    p.write_bytes(content)
    r = cli("show", str(p))
    assert r.exit_code == 2 and r.output.startswith("error:") and len(r.output.strip().splitlines()) == 1
    assert cli("show", str(tmp_path / "missing.nc")).exit_code == 2
    assert cli("show", str(tmp_path / "x.txt")).exit_code == 2


def test_check_out(tmp_path, monkeypatch):
    """The check command's plumbing (the checkers themselves are tested in tests/checks): synthetic verdicts."""
    import nnft.checks
    from nnft.checks import CheckResult
    fake = [CheckResult(check="translation G2", verdict="PASS", statistic=1.0, threshold=4.0, samples=200,
                        name="translation", evidence=({"z": 1.0},))]
    monkeypatch.setattr(nnft.checks, "check", lambda *a, **k: fake)
    path = str(tmp_path / "checks.json")
    r = cli("check", "cos_net", "--only", "translation", "--seed", "5", "--quiet", "--out", path)
    assert r.exit_code == 0, r.output
    assert nnft.load_result(path) == fake
    from nnft.results import load_dataset
    assert load_dataset(path).attrs["seed"] == 5 and "spec" in load_dataset(path).attrs
    s = cli("show", path)
    assert s.exit_code == 0 and "translation G2" in s.output and "PASS" in s.output


def test_perturb_out(tmp_path, monkeypatch):
    """The perturb command's plumbing (compare itself is tested in tests/perturbative): a synthetic Comparison."""
    import numpy as np
    import nnft.perturbation.compare as cmp
    from nnft.perturbation.comparison import Comparison, ComparisonRow
    from nnft.stats import Estimate

    def fake(model, *, lambdas, samples, key, **kw):
        t = (np.array([[0.0], [0.5]]),)
        rows = tuple(ComparisonRow(lam=lam, observable="δG", series=0, points=t[0], mc=Estimate(-0.06 * lam, 0.01, 200),
                                   first_order=-0.065 * lam, gaussian=None, ess=190.0, ess_low=False, threshold=5.0)
                     for lam in lambdas)
        return Comparison(theory=model.theory, coupling="lam", lambdas=tuple(lambdas), tuples=t, samples=samples or 200,
                          seed=key or 0, rows=rows, unit=(-0.065,), unit_gaussian=(None,), threshold=5.0)

    monkeypatch.setattr(cmp, "compare", fake)
    path = str(tmp_path / "perturb.nc")
    r = cli("perturb", "phi4_scalar_1d", "--lambdas", "0.01,0.1", "--samples", "200", "--quiet", "--out", path)
    assert r.exit_code == 0, r.output
    comp = nnft.load_result(path)
    assert comp.lambdas == (0.01, 0.1) and comp.samples == 200 and comp.theory.name
    s = cli("show", path)
    assert s.exit_code == 0 and s.output.strip() == comp.table().strip()


def test_run_sweep_out(tmp_path, monkeypatch):
    """``nnft run --set N=4,5 --out``: the Sweep is saved (the sweep itself is tested in tests/test_sweep.py)."""
    import dataclasses
    import nnft.cli.sampling as sampling
    from nnft.study import Report, Row
    from nnft.sweep import Sweep
    import numpy as np

    def fake(spec, sets, **kw):
        model = nnft.compile(nnft.load("cos_net", N=4))
        rep = Report(theory=model.theory, model=model, samples=40, seed=0,
                     rows=[Row(order=2, points=np.zeros((2, 2)), full=(0.5, 0.1), connected=(0.5, 0.1))])
        return Sweep(name="N", values=[4, 5], reports=[rep, dataclasses.replace(rep, theory=nnft.load("cos_net", N=5))])

    monkeypatch.setattr(sampling, "run_sweep", fake)
    path = str(tmp_path / "sweep.json")
    r = cli("run", "cos_net", "--set", "N=4,5", "--quiet", "--out", path)
    assert r.exit_code == 0, r.output
    sw = nnft.load_result(path)
    assert sw.name == "N" and sw.values == [4, 5] and [t.dims["N"] for t in sw.theories] == [4, 5]
    assert cli("show", path).output.strip() == sw.table().strip()
    assert cli("run", "cos_net", "--set", "N=4,5", "--out", str(tmp_path / "x.txt")).exit_code == 2


def test_kernel_out(tmp_path):
    path = str(tmp_path / "k.nc")
    r = cli("kernel", "relu_mlp", "--points", "1,0,0;0.6,0.8,0", "--out", path)
    assert r.exit_code == 0, r.output
    k = nnft.load_result(path)
    assert k.nngp.shape == (2, 2) and k.nngp[0, 0] == pytest.approx(2 / 3)
    s = cli("show", path)
    assert s.exit_code == 0 and "NNGP" in s.output
    assert cli("kernel", "relu_mlp", "--points", "1,0,0", "--out", str(tmp_path / "k.npz")).exit_code == 2


def test_show_correlators_saved_from_python(tmp_path):
    import numpy as np
    from nnft.estimators.npoint import Correlators
    from nnft.results import save
    from nnft.stats import Estimate
    c = Correlators(full=Estimate([0.5, 0.02], [0.01, 0.003], 100), connected=Estimate([0.5, 0.01], [0.01, 0.002], 100),
                    orders=(2, 4))
    path = tmp_path / "c.json"
    save(c, path, tuples=[np.zeros((2, 1)), np.array([[0.0], [0.0], [0.5], [0.5]])])
    r = cli("show", str(path))
    assert r.exit_code == 0 and "0.500 ± 0.010" in r.output and "0;0;0.5;0.5" in r.output


@pytest.mark.parametrize("ext", [".nc", ".json"])
def test_criticality_out_roundtrip(tmp_path, ext):
    path = str(tmp_path / f"crit{ext}")
    r = cli("criticality", "tanh_mlp_chaotic", "--out", path)
    assert r.exit_code == 0, r.output
    c = nnft.load_result(path)
    assert c.phase == "chaotic" and 0 < c.c_star < 1 and c.fixed.converged
    from nnft.results import load_dataset, to_dataset
    ds = load_dataset(path)
    assert ds["chi_perp"].item() == c.chi_perp and "seed: not applicable" in ds.attrs["provenance_missing"]
    assert to_dataset(c, activation="tanh", C_W=ds.attrs["C_W"], C_b=ds.attrs["C_b"]).drop_attrs().identical(
        ds.drop_attrs())
    s = cli("show", path)
    assert s.exit_code == 0 and s.output == r.output.split("saved:")[0]
    assert cli("criticality", "tanh_mlp", "--out", str(tmp_path / "c.yaml")).exit_code == 2
