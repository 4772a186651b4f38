"""Tables fit the terminal: no line wider than the width (but an unbreakable token), every point tuple
whole; n = 1 / zero-mean n = 2 rows show G_c once; verdict colours only on a terminal; versions in the
header. Synthetic results: no sampling, fast."""

import io
import math
import re
from types import SimpleNamespace

import numpy as np
import pytest

import nnft
from nnft.checks.result import FAIL, INCONCLUSIVE, PASS, CheckResult, table as check_table
from nnft.study import Report, Row
from nnft.sweep import Sweep
from nnft.tables import colour_enabled, display_width, printable_coloured, render, terminal_width, verdict

WIDTHS = (80, 200)


def _report(zero_mean=None, d=3, long_points=False):
    theory = nnft.load("cos_net", N=4)
    model = SimpleNamespace(structure=SimpleNamespace(neuron_sum=None, notes=("a note " * 30,)),
                            moments={"phi": SimpleNamespace(lo=-math.inf, hi=math.inf)})
    pts = np.array([[1.0, 0.0, 0.0], [0.6, 0.8, 0.0], [0.123456, -0.987654, 0.5]])[:, :d]
    if long_points:
        pts = pts * 1.000001234
    rows = [Row(order=1, points=pts[:1], full=(0.01, 0.02), connected=(0.01, 0.02), exact_full=0.0,
                exact_connected=0.0, kind_full="exact", kind_connected="exact", khat_full=0.1, khat_connected=0.1),
            Row(order=2, points=pts[[0, 1]], full=(0.4989, 0.0015), connected=(0.4991, 0.0016), exact_full=0.5,
                exact_connected=0.5, kind_full="exact", kind_connected="exact", khat_full=0.2, khat_connected=0.2),
            Row(order=4, points=pts[[0, 1, 2, 2]], full=(1.71, 0.19), connected=(0.41, 0.12), exact_full=1.8,
                exact_connected=None, kind_full="exact", reason="no vertex at distinct inputs", khat_full=0.75,
                khat_connected=0.5, neuron_connected=(0.0926, 0.0014))]
    return Report(theory=theory, model=model, samples=200, seed=0, rows=rows, notes=["n " * 80],
                  ess=123.0, dtype="float32", versions={"nnft": "9.9.9", "jax": "0.4.99"}, zero_mean=zero_mean)


def _labels(rep):
    from nnft.study import _distinguishing_digits
    k = _distinguishing_digits([tuple(p) for r in rep.rows for p in r.points])
    return [",".join(f"{c:.{k}g}" for c in p) for r in rep.rows for p in r.points]


def _fits(text, width):
    for ln in text.splitlines():
        if display_width(ln) > width:
            assert len(ln.split()) == 1, f"line of {display_width(ln)} > {width}: {ln!r}"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("long_points", [False, True])
def test_report_table_fits_and_keeps_tuples_whole(width, long_points):
    rep = _report(long_points=long_points)
    text = rep.table(width=width)
    _fits(text, width)
    lines = text.splitlines()
    for lab in _labels(rep):                                  # every point appears whole on some line
        assert any(re.search(rf"(^|[ ;]){re.escape(lab)}($|;)", ln) for ln in lines), lab
    assert "0.4989 ± 0.0015" in text and "HEAVY TAIL" in text and "[1] no theory" in text


def test_report_table_narrow_splits_into_blocks_wide_keeps_one_row_per_tuple():
    rep = _report()
    wide, narrow = rep.table(width=200), rep.table(width=80)
    assert sum(ln.startswith(" n ") for ln in wide.splitlines()) == 1
    assert sum(ln.startswith(" n ") for ln in narrow.splitlines()) >= 2          # stacked blocks
    # the old layout cut long tuples with "..."; neither width does
    assert "..." not in wide and "..." not in narrow


def test_a_long_tuple_wraps_between_points_only():
    pts = [f"{i}.123456,{i}.654321,{i}.5" for i in range(12)]
    lines = render(["n", "points", "G"], [["12", ";".join(pts), "1.0 ± 0.1"]], width=60, label=1)
    _fits("\n".join(lines), 60)
    text = "\n".join(lines)
    for p in pts:
        assert any(p in ln.split(";") or p + ";" in ln or ln.strip().endswith(p) for ln in lines) and p in text
    assert max(display_width(ln) for ln in lines) <= 60


def test_a_single_unbreakable_token_is_the_only_overlong_line():
    lines = render(["n", "points"], [["1", "x" * 100]], width=40, label=1)
    over = [ln for ln in lines if display_width(ln) > 40]
    assert over and all(len(ln.split()) == 1 for ln in over)


def test_g_c_shown_once_only_when_it_is_the_same_estimate():
    plain, z2 = _report().table(width=200), _report(zero_mean="φ → −φ by W → −W").table(width=200)
    rows = lambda t: [ln for ln in t.splitlines() if re.match(r"^ [124] ", ln)]   # noqa: E731
    r1, r2 = rows(plain), rows(z2)
    assert "= G" in r1[0] and "= G" in r2[0]                      # n = 1: G_c⁽¹⁾ = G⁽¹⁾ by definition
    assert "= G" not in r1[1] and "0.4991 ± 0.0016" in r1[1]      # n = 2 without a proven <φ> = 0: both kept
    assert "= G" in r2[1] and "0.4991" not in r2[1]               # zero mean by symmetry: one estimate
    assert "= G" not in r2[2]                                     # n = 4: never
    assert "⟨φ⟩ = 0 φ → −φ by W → −W" in z2.replace("\n    ", " ")
    # different theories of G and G_c: not merged even with <φ> = 0
    rep = _report(zero_mean="sym")
    rep.rows[1].exact_connected = 0.25
    assert "0.4991 ± 0.0016" in rep.table(width=200)


def test_header_versions_dtype_and_paren_notation(monkeypatch):
    text = _report().table(width=200)
    assert "nnft 9.9.9" in text and "JAX 0.4.99" in text and "dtype float32" in text
    monkeypatch.setenv("NNFT_NOTATION", "paren")
    text = _report().table(width=200)
    assert "0.4989(15)" in text and "±" not in text.split("-" * 20)[1].split("\n\n")[0]


def test_sweep_table_fits():
    sw = Sweep(name="sigma_w1", values=[0.5, 1.5], reports=[_report(), _report()])
    for width in WIDTHS:
        text = sw.table(width=width)
        _fits(text, width)
        assert "nnft 9.9.9" in text


def test_verdicts_coloured_only_when_asked(monkeypatch):
    res = [CheckResult("translation G2", PASS, 1.0, 4.0, 100, basis="by construction: " + "because " * 30 + "END"),
           CheckResult("z2 G3", FAIL, 9.0, 4.0, 100), CheckResult("cluster", INCONCLUSIVE, 3.0, 4.0, 100)]
    coloured = check_table(res, colour=True, width=200)
    assert "\x1b[32mPASS\x1b[0m" in coloured and "\x1b[31mFAIL\x1b[0m" in coloured
    assert "\x1b[33mINCONCLUSIVE\x1b[0m" in coloured
    plain = check_table(res, colour=False, width=200)
    assert "\x1b" not in plain and "PASS" in plain
    for width in WIDTHS:                                       # the basis is never cut, the table fits
        text = check_table(res, colour=True, width=width)
        _fits(text, width)
        assert text.count("because") == 30 and "END" in text
    # the decision: a pipe never, a terminal yes, NO_COLOR wins, NNFT_COLOR forces
    tty = SimpleNamespace(isatty=lambda: True)
    for var in ("NO_COLOR", "NNFT_COLOR"):
        monkeypatch.delenv(var, raising=False)
    assert colour_enabled(io.StringIO()) is False and colour_enabled(tty) is True
    monkeypatch.setenv("NO_COLOR", "1")
    assert colour_enabled(tty) is False and verdict("PASS") == "PASS"
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("NNFT_COLOR", "always")
    assert colour_enabled(io.StringIO()) is True
    monkeypatch.setenv("NNFT_COLOR", "never")
    assert colour_enabled(tty) is False


def test_only_verdict_colours_pass_the_control_character_filter():
    text = "\x1b[32mPASS\x1b[0m spec name \x1b]0;evil\x07 \x1b[31mRED\x1b[0m"
    out = printable_coloured(text)
    assert out.startswith("\x1b[32mPASS\x1b[0m") and "\x1b]0" not in out and "\x1b[31mRED" not in out
    assert out.count("\x1b") == 2


def test_terminal_width_reads_columns(monkeypatch):
    monkeypatch.setenv("COLUMNS", "93")
    assert terminal_width() == 93
    monkeypatch.delenv("COLUMNS")
    assert terminal_width(io.StringIO()) == 200                # a pipe keeps long rows


def test_comparison_table_fits_and_keeps_tuples_whole():
    from nnft.perturbation.comparison import Comparison, ComparisonRow
    from nnft.stats import Estimate
    tp = np.array([[0.123456, 1.5], [0.5, -2.25], [1.75, 0.3333], [2.5, 1.0]] * 3)
    rows = tuple(ComparisonRow(lam=lam, observable="δG_c", series=0, points=tp, mc=Estimate(-0.06 * lam, 0.01, 200),
                               first_order=-0.065 * lam, gaussian=-0.07 * lam, ess=190.0, ess_low=False, threshold=5.0)
                 for lam in (0.01, 0.1))
    comp = Comparison(theory=nnft.load("phi4_scalar_2d"), coupling="lam", lambdas=(0.01, 0.1), tuples=(tp,),
                      samples=200, seed=0, rows=rows, unit=(-0.065,), unit_gaussian=(-0.07,), threshold=5.0)
    for width in WIDTHS:
        text = comp.table(width=width)
        _fits(text, width)
        lines = text.splitlines()
        for p in tp:
            lab = ",".join(f"{c:g}" for c in p)
            assert any(lab in ln for ln in lines), lab
        assert "c1(N) = -0.065" in text
