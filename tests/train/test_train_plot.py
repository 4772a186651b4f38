"""The training figure (nnft.plot.training, ``nnft train --plot``): the plotted numbers are the result's
(means, ±1 standard-error bands, theory lines read back from the matplotlib artists), from the live
result and from its saved file; the CLI writes the file and refuses a sweep with --plot."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
import xarray as xr

matplotlib.use("Agg")

import nnft  # noqa: E402
import nnft.plot as P  # noqa: E402
from nnft.errors import InputError  # noqa: E402

from tests.train.test_training import erf_spec  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    import matplotlib.pyplot as plt
    plt.close("all")


#: one small ensemble (the CLI test trains the same one: the compiled step comes from the compile cache)
SMALL = dict(networks=16, steps=6, record=[0, 2, 6])


@pytest.fixture(scope="module")
def small():
    model = nnft.compile(nnft.from_dict(erf_spec(16, **SMALL)))
    return nnft.train(model)


def artist(fig, gid):
    """(x, y) of the line with this gid, or the (lower, upper) edges of the band with this gid, in any axes."""
    for ax in fig.axes:
        for ln in ax.lines:
            if ln.get_gid() == gid:
                return tuple(np.asarray(v, dtype=float) for v in ln.get_data())
        for coll in ax.collections:
            if coll.get_gid() == gid:
                v = coll.get_paths()[0].vertices
                xs = np.unique(v[:, 0])
                lo = np.array([v[v[:, 0] == x, 1].min() for x in xs])
                hi = np.array([v[v[:, 0] == x, 1].max() for x in xs])
                return lo, hi
    raise AssertionError(f"no artist {gid!r}")


def check(fig, r):
    """Every drawn number against the Training it came from."""
    t = r.times
    var = r.var
    for p in range(len(r.test)):
        x, y = artist(fig, f"mean:{p}")
        np.testing.assert_allclose(x, t)
        np.testing.assert_allclose(y, r.mean.mean[:, p], rtol=1e-12)
        lo, hi = artist(fig, f"band:mean:{p}")
        np.testing.assert_allclose(hi - lo, 2 * r.mean.stderr[:, p], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(artist(fig, f"var:{p}")[1], var.mean[:, p], rtol=1e-12)
        lo, hi = artist(fig, f"band:var:{p}")
        np.testing.assert_allclose((hi + lo) / 2, var.mean[:, p], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(artist(fig, f"theory_mean:{p}")[1], r.theory.mean[:, p], rtol=1e-12)
        np.testing.assert_allclose(artist(fig, f"theory_var:{p}")[1], r.theory.cov[:, p, p], rtol=1e-12)
    np.testing.assert_allclose(artist(fig, "loss")[1], r.loss.mean, rtol=1e-12)
    lo, hi = artist(fig, "band:loss")
    np.testing.assert_allclose(hi - lo, 2 * r.loss.stderr, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(artist(fig, "theory_loss")[1], r.theory.loss, rtol=1e-12)
    np.testing.assert_allclose(artist(fig, "dntk_rms")[1], r.dntk_rms.mean, rtol=1e-12)
    np.testing.assert_allclose(artist(fig, "lin_dist")[1], r.lin_dist.mean, rtol=1e-12)


def test_the_figure_draws_the_results_numbers_live_and_saved(small, tmp_path):
    check(P.plot(small, tmp_path / "t.png"), small)
    assert (tmp_path / "t.png").stat().st_size > 0
    nnft.results.save(small, tmp_path / "t.nc")
    check(P.training(nnft.load_result(tmp_path / "t.nc")), small)
    # a wrong figure fails the same check: the theory drawn in place of the Monte Carlo mean
    wrong = P.training(small)
    wrong.axes[0].lines[0].set_ydata(small.theory.mean[:, 0])
    with pytest.raises(AssertionError):
        check(wrong, small)


def test_points_option_and_refusals(small):
    fig = P.training(small, points=[2])
    artist(fig, "mean:2")
    with pytest.raises(AssertionError):
        artist(fig, "mean:0")
    with pytest.raises(InputError, match="out of range"):
        P.training(small, points=[3])
    with pytest.raises(InputError, match="Training"):
        P.training(xr.Dataset(attrs={"nnft_result": "Kernels"}))


def test_without_theory_the_figure_says_why(small):
    from dataclasses import replace
    r = replace(small, theory=None, theory_note="no kernels for standard")
    fig = P.training(r)
    assert not [ln for ax in fig.axes for ln in ax.lines if str(ln.get_gid()).startswith("theory")]
    assert any("no kernels for standard" in t.get_text() for t in fig.axes[0].texts)


def test_cli_train_plot_writes_the_figure(tmp_path):
    import yaml
    from click.testing import CliRunner

    from nnft.cli import main
    path = tmp_path / "erf_train.yaml"
    path.write_text(yaml.safe_dump(erf_spec(16, **SMALL)))
    fig = tmp_path / "train.png"
    res = CliRunner().invoke(main, ["train", str(path), "--plot", str(fig)])
    assert res.exit_code == 0, res.output
    assert fig.stat().st_size > 0 and "plot:" in res.output
    bad = CliRunner().invoke(main, ["train", str(path), "--set", "lr=0.1,0.2", "--plot", str(fig)])
    assert bad.exit_code == 2 and "--plot" in bad.output
    ext = CliRunner().invoke(main, ["train", str(path), "--plot", str(tmp_path / "t.txt")])
    assert ext.exit_code == 2 and len(ext.output.strip().splitlines()) == 1


@pytest.mark.slow
def test_the_ntk_and_mup_example_runs_and_writes_its_figure(tmp_path):
    """examples/train_mu_t.py at tiny sizes (the figure's numbers are the runs'; here: it runs, prints the
    relative NTK change of both parameterisations with the fitted slopes, and writes the file)."""
    import os
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = tmp_path / "mu_t.png"
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    res = subprocess.run([sys.executable, os.path.join(root, "examples", "train_mu_t.py"), "--widths", "8,32",
                          "--networks", "8", "--steps", "2", "--out", str(out)], capture_output=True, text=True,
                         env=env, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "log-log slope against N" in res.stdout and "μP" in res.stdout
    assert out.stat().st_size > 0


def test_the_training_table_shows_in_jupyter_as_html_tables(small):
    from nnft.stats import format_value
    from tests.results.test_html import parse
    p = parse(small._repr_html_(), tables=2)
    loss = format_value(small.loss.mean[-1], small.loss.stderr[-1])
    mean = format_value(small.mean.mean[-1, 2], small.mean.stderr[-1, 2])
    assert loss in p.cells and mean in p.cells and f"{small.theory.loss[-1]:.4g}" in p.cells
    assert loss in str(small) and mean in str(small) and "<table>" not in str(small)
    from dataclasses import replace
    bare = replace(small, theory=None, theory_note="none here")
    q = parse(bare._repr_html_(), tables=2)
    assert "μ_t" not in q.cells and "E L_t" not in q.cells and mean in q.cells
