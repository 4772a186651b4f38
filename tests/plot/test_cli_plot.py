"""``--plot FILE`` on the CLI: a bad extension, a missing folder or a missing matplotlib is one line and
exit 2 before any sampling; kernel and criticality write the figure (no sampling: fast)."""

from __future__ import annotations

import builtins

import pytest
from click.testing import CliRunner

from nnft.cli import main


@pytest.mark.parametrize("cmd", [
    ["run", "cos_net", "--samples", "1000"],
    ["check", "cos_net", "--only", "z2"],
    ["perturb", "phi4_scalar_1d"],
    ["kernel", "relu_mlp", "--points", "1,0,0"],
    ["criticality", "relu_mlp"],
])
def test_bad_extension_refused_before_work(cmd, tmp_path):
    r = CliRunner().invoke(main, cmd + ["--plot", str(tmp_path / "fig.jpg")])
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and ".png, .pdf, .svg" in lines[0] and "Traceback" not in r.output
    assert "plot:" not in r.output and "G" not in lines[0].split("--plot")[0]     # nothing ran before


def test_missing_folder_refused(tmp_path):
    r = CliRunner().invoke(main, ["run", "cos_net", "--plot", str(tmp_path / "no" / "fig.png")])
    assert r.exit_code == 2 and "does not exist" in r.output


def test_missing_matplotlib_refused(tmp_path, monkeypatch):
    real = builtins.__import__

    def fake(name, *args, **kw):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError(name)
        return real(name, *args, **kw)

    monkeypatch.setattr(builtins, "__import__", fake)
    r = CliRunner().invoke(main, ["run", "cos_net", "--plot", str(tmp_path / "fig.png")])
    assert r.exit_code == 2 and "pip install 'nnft[plot]'" in r.output
    assert len([ln for ln in r.output.splitlines() if ln.strip()]) == 1


@pytest.mark.parametrize("cmd,ext", [(["kernel", "relu_mlp", "--points", "1,0,0;0,1,0"], "svg"),
                                     (["criticality", "relu_mlp"], "pdf")])
def test_figure_written(cmd, ext, tmp_path):
    out = tmp_path / f"fig.{ext}"
    r = CliRunner().invoke(main, cmd + ["--plot", str(out)])
    assert r.exit_code == 0, r.output
    assert f"plot: {out}" in r.output and out.stat().st_size > 1000


def test_show_plots_a_saved_file(tmp_path):
    nc, png = tmp_path / "k.nc", tmp_path / "k.png"
    r = CliRunner().invoke(main, ["kernel", "relu_mlp", "--points", "1,0,0;0,1,0", "--out", str(nc)])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["show", str(nc), "--plot", str(png)])
    assert r.exit_code == 0, r.output
    assert f"plot: {png}" in r.output and png.stat().st_size > 1000
