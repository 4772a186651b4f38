"""nnft.plot: every figure draws the result's standard errors as its error bars and the theory values
as its theory line (read back from the matplotlib artists), from the live result and from its Dataset;
bad --plot paths and a missing matplotlib are refused in one line. Synthetic results (no sampling):
the figures are what is tested, the numbers come from the result objects as they are."""

from __future__ import annotations

import builtins

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import nnft  # noqa: E402
import nnft.plot as P  # noqa: E402
from nnft.errors import InputError  # noqa: E402
from nnft.results import to_dataset  # noqa: E402
from nnft.stats import Estimate  # noqa: E402

RNG = np.random.default_rng(7)


def bars(ax, gid):
    """(x, y, half-length of the error bar) of the errorbar whose data line has this gid."""
    for c in ax.containers:
        if type(c).__name__ == "ErrorbarContainer" and c.lines[0].get_gid() == gid:
            x, y = (np.asarray(v, dtype=float) for v in c.lines[0].get_data())
            seg = np.array([s for s in c.lines[2][0].get_segments()])
            return x, y, (seg[:, 1, 1] - seg[:, 0, 1]) / 2
    raise AssertionError(f"no errorbar {gid!r} among {[c.lines[0].get_gid() for c in ax.containers]}")


def line(ax, gid):
    for ln in ax.lines:
        if ln.get_gid() == gid:
            return tuple(np.asarray(v, dtype=float) for v in ln.get_data())
    raise AssertionError(f"no line {gid!r} among {[ln.get_gid() for ln in ax.lines]}")


@pytest.fixture(autouse=True)
def _close():
    yield
    import matplotlib.pyplot as plt
    plt.close("all")


# -- synthetic results -------------------------------------------------------------------------------

def _report(theory_scale=1.0):
    from nnft.results.report import SavedModel
    from nnft.study import Report, Row
    theory = nnft.load("gauss_net")
    rows = []
    for r in (1.0, 0.0, 0.5, 1.5):                      # unsorted separations
        g = 0.5 * np.exp(-r ** 2 / 2)
        rows.append(Row(order=2, points=np.array([[0.0], [r]]), full=(g + 0.01 * RNG.normal(), 0.01 + 0.002 * r),
                        connected=(g, 0.011), exact_full=theory_scale * g, exact_connected=theory_scale * g))
    for r in (0.0, 0.5):
        rows.append(Row(order=4, points=np.array([[0.0], [0.0], [r], [r]]), full=(0.75, 0.05),
                        connected=(0.1 + r, 0.03 + r / 10), exact_full=0.74, exact_connected=0.09 + r,
                        neuron_connected=(0.1 + r, 0.001)))
    model = SavedModel(theory, None, [], {"lo": -1.0, "hi": 1.0})
    return Report(theory=theory, model=model, samples=1000, seed=0, rows=rows)


def test_two_point_error_bars_and_theory_from_report_and_dataset():
    rep = _report()
    two = [r for r in rep.rows if r.order == 2]
    r = np.array([abs(float(x.points[1, 0] - x.points[0, 0])) for x in two])
    o = np.argsort(r)
    for src in (rep, to_dataset(rep)):
        fig = P.two_point(src)
        ax = fig.axes[0]
        x, y, e = bars(ax, "estimate")
        np.testing.assert_allclose(x, r[o])
        np.testing.assert_allclose(y, [two[i].full[0] for i in o])
        np.testing.assert_allclose(e, [two[i].full[1] for i in o], rtol=1e-12)
        np.testing.assert_allclose(line(ax, "theory")[1], [two[i].exact_full for i in o], rtol=1e-12)
        # a wrong answer must fail: the connected errors are not the bars drawn
        assert not np.allclose(e, [two[i].connected[1] for i in o], rtol=1e-3)


def test_report_panels_higher_orders_connected():
    rep = _report()
    four = [r for r in rep.rows if r.order == 4]
    fig = P.plot(rep)
    ax = fig.axes[1]
    _, y, e = bars(ax, "estimate")
    np.testing.assert_allclose(y, [r.connected[0] for r in four])
    np.testing.assert_allclose(e, [r.connected[1] for r in four], rtol=1e-12)
    np.testing.assert_allclose(line(ax, "theory")[1], [r.exact_connected for r in four], rtol=1e-12)
    np.testing.assert_allclose(bars(ax, "neuron")[2], [r.neuron_connected[1] for r in four], rtol=1e-9)
    assert "G_c⁽⁴⁾" in ax.get_ylabel() and "|x − y|" in fig.axes[0].get_xlabel()


def test_sweep_each_value_error_bars_and_theory():
    from nnft.sweep import Sweep
    reps = [_report(theory_scale=s) for s in (1.0, 1.1, 1.2)]
    sw = Sweep(name="N", values=[4, 8, 16], reports=reps)
    fig = P.plot(to_dataset(sw))
    ax = fig.axes[0]
    for i in (0, 4):
        name = "full" if reps[0].rows[i].order == 2 else "connected"
        x, y, e = bars(ax, f"estimate {i}")
        np.testing.assert_allclose(x, [4, 8, 16])
        np.testing.assert_allclose(e, [getattr(r.rows[i], name)[1] for r in reps], rtol=1e-12)
        th = [getattr(r.rows[i], "exact_" + name) for r in reps]
        np.testing.assert_allclose(line(ax, f"theory {i}")[1], th, rtol=1e-12)
    assert ax.get_xlabel().startswith("N")


def test_width_sweep_guides_error_bars_theory():
    from nnft.estimators.neuron import WidthCorrelators
    W = np.array([2, 4, 8, 16, 32])
    mean = (3 / 8) / W * (1 + 0.01 * RNG.normal(size=5))
    err = 0.002 / np.sqrt(W)
    est = Estimate(mean=mean[:, None], stderr=err[:, None], n=10_000)
    wc = WidthCorrelators(widths=tuple(W), full=est, connected=est, orders=(4,))
    fig = P.width_sweep(wc, exact=3 / (8 * W))
    ax = fig.axes[0]
    x, y, e = bars(ax, "estimate")
    np.testing.assert_allclose(x, W)
    np.testing.assert_allclose(e, err, rtol=1e-12)
    np.testing.assert_allclose(line(ax, "theory")[1], 3 / (8 * W), rtol=1e-12)
    np.testing.assert_allclose(line(ax, "1/N")[1], mean[0] * 2 / W, rtol=1e-12)
    np.testing.assert_allclose(line(ax, "1/N²")[1], mean[0] * (2 / W) ** 2, rtol=1e-12)
    assert not np.allclose(line(ax, "1/N²")[1], mean[0] * 2 / W)
    assert ax.get_xscale() == "log" and "width N" in ax.get_xlabel()


def test_lambda_sweep_error_bars_and_first_order():
    from nnft.perturbation.comparison import Comparison, ComparisonRow
    lams = (0.01, 0.1, 1.0)
    pts = np.array([[0.0], [0.5]])
    c1, cg = -0.05, -0.04
    rows = tuple(ComparisonRow(lam=l, observable="δG", series=0, points=pts,
                               mc=Estimate(mean=np.array(c1 * l * (1 - 0.2 * l)), stderr=np.array(0.001 + 0.01 * l), n=1000),
                               first_order=c1 * l, gaussian=cg * l, ess=900.0, ess_low=False, threshold=5.0, reason=None)
                 for l in lams)
    comp = Comparison(theory=nnft.load("phi4_scalar_1d"), coupling="lam", lambdas=lams, tuples=(pts,), samples=1000,
                      seed=0, rows=rows, unit=(c1,), unit_gaussian=(cg,), threshold=5.0, notes=())
    for src in (comp, to_dataset(comp)):
        ax = P.plot(src).axes[0]
        x, y, e = bars(ax, "estimate 0 δG")
        np.testing.assert_allclose(x, lams)
        np.testing.assert_allclose(y, [-float(r.mc.mean) for r in rows])
        np.testing.assert_allclose(e, [float(r.mc.stderr) for r in rows], rtol=1e-12)
        np.testing.assert_allclose(line(ax, "first order 0 δG")[1], [-r.first_order for r in rows], rtol=1e-12)
        np.testing.assert_allclose(line(ax, "gaussian 0 δG")[1], [-r.gaussian for r in rows], rtol=1e-12)
        assert "λ" in ax.get_xlabel() and ax.get_xscale() == "log"


def test_check_evidence_profiles_and_spectrum():
    from nnft.checks.result import CheckResult
    a = np.array([0.5, 1.0, 2.0])
    prof = RNG.normal(size=(1, 2, 3)) * 0.01
    perr = np.abs(RNG.normal(size=(1, 2, 3))) * 0.01 + 0.001
    cl = CheckResult(check="cluster G4", verdict="PASS", statistic=1.2, threshold=4.0, samples=1000, name="cluster",
                     data={"distances": a, "directions": np.eye(2), "profile": prof, "profile_err": perr, "widths": [16]})
    w = np.array([1e-3, 0.2, 1.0])
    werr = np.array([1e-4, 0.01, 0.02])
    rp = CheckResult(check="reflection_positivity", verdict="PASS", statistic=3.0, threshold=-4.0, samples=1000,
                     name="reflection_positivity",
                     data={"eigenvalues": w, "eigenvalue_err": werr, "exact_eigenvalues": w * 1.01})
    z2 = CheckResult(check="z2 G1,3", verdict="FAIL", statistic=9.0, threshold=4.5, samples=1000, name="z2")
    for src in ([cl, rp, z2], to_dataset([cl, rp, z2])):
        fig = P.plot(src)
        assert len(fig.axes) == 3
        for k in range(2):
            _, y, e = bars(fig.axes[1], f"profile 0 {k}")
            np.testing.assert_allclose(y, prof[0, k])
            np.testing.assert_allclose(e, perr[0, k], rtol=1e-9)
        _, y, e = bars(fig.axes[2], "estimate")
        np.testing.assert_allclose(e, werr, rtol=1e-9)
        np.testing.assert_allclose(line(fig.axes[2], "theory")[1], w * 1.01)
        widths = [p.get_width() for p in fig.axes[0].patches]
        np.testing.assert_allclose(widths, [1.2 / 4.0, -3.0 / 4.0, 2.0])


def test_phase_diagram_relu_critical_line_and_point():
    from nnft.analytic.criticality import criticality
    c = criticality("relu", 1.5, 0.1)
    ds = to_dataset(c, activation="relu", C_W=1.5, C_b=0.1)
    fig = P.plot(ds, resolution=(3, 5))
    ax = fig.axes[0]
    cw, cb = line(ax, "critical")
    np.testing.assert_allclose(cw, 2.0, rtol=1e-9)            # relu: C_W = 2 at every C_b
    assert line(ax, "point")[0][0] == 1.5 and line(ax, "point")[1][0] == 0.1
    mesh = next(m for m in ax.collections if m.get_gid() == "chi_perp")
    chi = np.asarray(mesh.get_array()).reshape(3, 5)
    np.testing.assert_allclose(chi[0], np.clip(np.linspace(0.5, 3.5, 5) / 2, 0, 2), rtol=1e-9)   # χ⊥ = C_W/2
    assert ax.get_xlabel().startswith("C_W") and ax.get_ylabel().startswith("C_b")


def test_kernel_images_are_the_gram_matrices():
    from nnft.graph.kernels import Kernels
    K = np.array([[2.0, 0.5], [0.5, 1.0]])
    k = Kernels(nngp=K, ntk=3 * K, layers=(("z1", K, 2 * K),))
    fig = P.plot(k)
    ims = {im.get_gid(): np.asarray(im.get_array()) for ax in fig.axes for im in ax.images}
    np.testing.assert_allclose(ims["nngp"], K)
    np.testing.assert_allclose(ims["ntk"], 3 * K)


def test_saved_file_plots_like_the_result(tmp_path):
    rep = _report()
    nnft.results.save(rep, tmp_path / "run.nc")
    out = tmp_path / "run.svg"
    fig = P.plot(nnft.load_result(tmp_path / "run.nc"), out)
    assert out.stat().st_size > 1000
    np.testing.assert_allclose(np.sort(bars(fig.axes[0], "estimate")[2]),
                               np.sort([r.full[1] for r in rep.rows if r.order == 2]), rtol=1e-12)


@pytest.mark.parametrize("name", ["fig.jpg", "fig", "fig.png.txt"])
def test_bad_extension_refused(tmp_path, name):
    with pytest.raises(InputError, match=r"\.png, \.pdf, \.svg"):
        P.plot(_report(), tmp_path / name)


def test_no_figure_for_diagnostics_kind():
    import xarray as xr
    with pytest.raises(InputError, match="no figure for a Diagnostics"):
        P.plot(xr.Dataset(attrs={"nnft_result": "Diagnostics"}))


def test_missing_matplotlib_one_line(monkeypatch):
    real = builtins.__import__

    def fake(name, *args, **kw):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError(f"No module named {name!r}")
        return real(name, *args, **kw)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(InputError) as err:
        P.plot(_report())
    assert "pip install 'nnft[plot]'" in str(err.value) and "\n" not in str(err.value)


def test_check_evidence_from_objects_with_object_arrays():
    """The CLI draws check results from the objects: data a Dataset cannot pack (object arrays) still plots."""
    from nnft.checks.result import CheckResult
    perr = np.full((1, 1, 2), 0.01)
    cl = CheckResult(check="cluster (pair moved)", verdict="INCONCLUSIVE", statistic=2.0, threshold=4.0, samples=100,
                     data={"distances": np.array([1.0, 2.0]), "directions": np.eye(1), "profile": np.zeros((1, 1, 2)),
                           "profile_err": perr, "widths": (16,), "degenerate_reason": np.array([None], dtype=object)})
    fig = P.plot([cl])
    np.testing.assert_allclose(bars(fig.axes[1], "profile 0 0")[2], perr[0, 0], rtol=1e-9)


def test_width_sweep_draws_every_tuple():
    """Two tuples measured: both drawn (error bars = each tuple's stderr), guides through each one's first point."""
    from nnft.estimators.neuron import WidthCorrelators
    W = np.array([2, 8, 32, 128])
    mean = np.stack([0.4 / W, 0.1 / W], axis=1) * (1 + 0.01 * RNG.normal(size=(4, 2)))
    err = np.stack([0.002 / np.sqrt(W), 0.001 / np.sqrt(W)], axis=1)
    est = Estimate(mean=mean, stderr=err, n=10_000)
    wc = WidthCorrelators(widths=tuple(W), full=est, connected=est, orders=(4, 4))
    ax = P.width_sweep(wc, exact=np.stack([0.4 / W, 0.1 / W], axis=1)).axes[0]
    for i in (0, 1):
        x, y, e = bars(ax, f"estimate {i}")
        np.testing.assert_allclose(x, W)
        np.testing.assert_allclose(e, err[:, i], rtol=1e-12)
        np.testing.assert_allclose(line(ax, f"1/N {i}")[1], mean[0, i] * 2 / W, rtol=1e-12)
        np.testing.assert_allclose(line(ax, f"theory {i}")[1], [0.4, 0.1][i] / W, rtol=1e-12)
    assert not np.allclose(bars(ax, "estimate 1")[2], err[:, 0])        # tuple 0 drawn twice would fail
    assert sum("tuple" in t.get_text() for t in ax.get_legend().get_texts()) == 2
    one = P.width_sweep(wc, tuple_index=1).axes[0]                      # one tuple on request
    np.testing.assert_allclose(bars(one, "estimate")[2], err[:, 1], rtol=1e-12)
    with pytest.raises(InputError):
        P.width_sweep(wc, tuple_index=2)


def test_log_width_axes_have_plain_ticks_at_the_widths():
    """Log-N axes are ticked at the swept widths as integers, with no minor labels to collide."""
    from nnft.sweep import Sweep
    reps = [_report(theory_scale=s) for s in (1.0, 1.1, 1.2)]
    fig = P.plot(to_dataset(Sweep(name="N", values=[4, 16, 64], reports=reps)))
    fig.canvas.draw()
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    np.testing.assert_allclose(ax.get_xticks(), [4, 16, 64])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["4", "16", "64"]
    assert not any(t.get_text() for t in ax.xaxis.get_minorticklabels())
