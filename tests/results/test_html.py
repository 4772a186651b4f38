"""Every result type prints its text table (``print(result)``) and shows in Jupyter as an HTML table
(``_repr_html_``): well-formed HTML (every element closed, parsed with ``html.parser``) holding the
estimates and their standard errors as the text shows them."""

from __future__ import annotations

import dataclasses
from html.parser import HTMLParser

import numpy as np
import pytest

import nnft
from nnft.stats import Estimate, format_value
from nnft.tables import display_width

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
VOID = {"br", "hr", "img", "meta", "input", "col", "wbr"}


class _Checker(HTMLParser):
    """Tag nesting (a stack), the text of the table cells, and the number of tables."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.cells, self.tables, self.errors, self._cell = [], [], 0, [], None

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        self.stack.append(tag)
        self.tables += tag == "table"
        if tag in ("td", "th"):
            self._cell = []

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()
        if tag in ("td", "th") and self._cell is not None:
            self.cells.append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def parse(html: str, tables: int = 1) -> _Checker:
    assert "\x00" not in html and "\x1b" not in html
    p = _Checker()
    p.feed(html)
    p.close()
    assert not p.errors and not p.stack, (p.errors, p.stack)
    assert p.tables >= tables
    return p


def _est(mean, err, n=100, **kw):
    return Estimate(mean=np.asarray(mean, dtype=float), stderr=np.asarray(err, dtype=float), n=n, **kw)


@pytest.fixture(scope="module")
def cos_model():
    return nnft.compile(nnft.load("cos_net", N=4))


def _report(model):
    from nnft.study import Report, Row
    p2 = np.array([[0.0, 0.0], [0.5, 0.0]])
    rows = [Row(order=2, points=p2, full=(0.4871, 0.0123), connected=(0.4871, 0.0123), exact_full=0.469707,
                exact_connected=0.469707),
            Row(order=4, points=np.vstack([p2, p2]), full=(0.812, 0.034), connected=(0.093, 0.021))]
    return Report(theory=model.theory, model=model, samples=1000, seed=7, rows=rows, notes=["a <note> & φ"])


def _expect(p: _Checker, *pairs):
    """Each (mean, err) is a cell as the table prints it."""
    for m, e in pairs:
        assert format_value(m, e) in p.cells, (format_value(m, e), p.cells)


def test_report_and_sweep(cos_model):
    from nnft.sweep import Sweep
    rep = _report(cos_model)
    p = parse(rep._repr_html_())
    _expect(p, (0.4871, 0.0123), (0.812, 0.034), (0.093, 0.021))
    assert "0.46971" in p.cells and "0,0;0.5,0" in p.cells and "&lt;note&gt;" in rep._repr_html_()
    assert str(rep) == rep.table()
    other = dataclasses.replace(rep, rows=[dataclasses.replace(rep.rows[0], full=(0.9, 0.05))] + rep.rows[1:])
    sw = Sweep(name="N", values=[4, 5], reports=[rep, other])
    p = parse(sw._repr_html_())
    _expect(p, (0.4871, 0.0123), (0.9, 0.05))
    assert str(sw) == sw.table() and "N" in p.cells
    # the twin: a value the result does not hold is not found
    with pytest.raises(AssertionError):
        _expect(p, (0.52, 0.0123))


def test_correlators_exact_ensemble(cos_model):
    from nnft.estimators.neuron import WidthCorrelators
    from nnft.estimators.npoint import Correlators
    c = Correlators(full=_est([0.51, 0.8], [0.02, 0.05]), connected=_est([0.51, 0.05], [0.02, 0.03]), orders=(2, 4))
    p = parse(c._repr_html_())
    _expect(p, (0.51, 0.02), (0.8, 0.05), (0.05, 0.03))
    assert "Correlators" in str(c) and format_value(0.8, 0.05) in str(c)
    w = WidthCorrelators(widths=(4, 64), full=_est([[0.5, 0.8], [0.5, 0.76]], [[0.01, 0.02], [0.01, 0.03]]),
                         connected=_est([[0.5, 0.05], [0.5, 0.004]], [[0.01, 0.02], [0.01, 0.001]]), orders=(2, 4))
    p = parse(w._repr_html_())
    _expect(p, (0.76, 0.03), (0.004, 0.001))
    assert "64" in p.cells and format_value(0.76, 0.03) in str(w)
    tuples = [np.array([[0.0, 0.0], [0.5, 0.0]]), np.array([[0.0, 0.0]] * 4)]
    ex = nnft.exact(cos_model, tuples)
    p = parse(ex._repr_html_())
    assert f"{float(ex.full[0, 0]):.6g}" in p.cells and f"{float(ex.connected[0, 1]):.6g}" in p.cells
    ens = nnft.ensemble(cos_model, tuples, samples=64, key=1, blocks=8)
    p = parse(ens._repr_html_())
    full = ens.full()
    _expect(p, (float(full.mean[0]), float(full.stderr[0])))
    assert "0,0;0.5,0" in p.cells and "0,0;0.5,0" in str(ens)


def test_checks_kernels_criticality_diagnostics_comparison(cos_model):
    from nnft.analytic.criticality import criticality
    from nnft.checks import CheckResult, CheckResults
    from nnft.graph.kernels import Kernels
    from nnft.perturbation.comparison import Comparison, ComparisonRow
    from nnft.sample.diagnostics import Diagnostics
    r = CheckResult(check="translation G2", verdict="FAIL", statistic=7.25, threshold=3.9, samples=1000,
                    evidence=({"z": 7.25},), message="a <b> broken", name="translation")
    rs = CheckResults([r, dataclasses.replace(r, verdict="PASS", statistic=1.5)])
    for obj in (r, rs):
        p = parse(obj._repr_html_())
        assert "7.25" in p.cells and "FAIL (unexpected)" in p.cells and "translation G2" in p.cells
    assert "1.5" in parse(rs._repr_html_()).cells and "PASS" in str(rs)
    K = np.array([[0.666667, 0.538432], [0.538432, 0.666667]])
    k = Kernels(nngp=K, ntk=3 * K, layers=(("z1", K, K),))
    p = parse(k._repr_html_())
    assert "0.538432" in p.cells and "1.6153" in p.cells and "0.538432" in str(k)
    c = criticality("tanh", 1.5, 0.1)
    p = parse(c._repr_html_())
    assert f"{c.chi_perp:.6g}" in p.cells and c.phase in p.cells and f"χ⊥ = {c.chi_perp:.6g}" in str(c)
    d = Diagnostics(names=("G2[0]", "S"), rhat=np.array([1.0012, np.nan]), ess=np.array([412.5, 350.5]),
                    tau=np.array([1.5, 2.0]), divergences=np.array([0, 3]), acceptance=np.array([0.8, 0.9]),
                    step_size=np.array([0.1, 0.2]), block_length=12.5, draws_per_chain=100, trace_stride=1, chains=2,
                    converged=False, blocks_ok=True, messages=("R̂ high",))
    p = parse(d._repr_html_())
    assert "1.0012" in p.cells and "412.5" in p.cells and "1.0012" in str(d) and d.summary() == str(d)
    t = (np.array([[0.0, 0.0], [0.5, 0.0]]),)
    rows = tuple(ComparisonRow(lam=lam, observable="δG", series=0, points=t[0], mc=Estimate(-0.1 * lam, 0.01, 500, ess=400.0),
                               first_order=-0.1 * lam, gaussian=0.0, ess=400.0, ess_low=False, threshold=5.0)
                 for lam in (0.1, 1.0))
    comp = Comparison(theory=cos_model.theory, coupling="lam", lambdas=(0.1, 1.0), tuples=t, samples=500, seed=2,
                      rows=rows, unit=(-0.1,), unit_gaussian=(None,), threshold=5.0)
    p = parse(comp._repr_html_())
    _expect(p, (-0.01, 0.01), (-0.1, 0.01))
    assert str(comp) == comp.table()


def test_html_follows_notation_and_never_colours(cos_model, monkeypatch):
    from nnft.checks import CheckResult, CheckResults
    monkeypatch.setenv("NNFT_NOTATION", "paren")
    monkeypatch.setenv("NNFT_COLOR", "always")
    p = parse(_report(cos_model)._repr_html_())
    assert "0.487(12)" in p.cells and format_value(0.4871, 0.0123) not in p.cells
    rs = CheckResults([CheckResult(check="z2", verdict="PASS", statistic=1.0, threshold=3.0, samples=10)])
    assert "\x1b" in rs.table() and "\x1b" not in rs._repr_html_()


def test_text_tables_fit_the_width():
    """kernels, criticality and diagnostics tables fit a narrow terminal (no line wider, except one
    unbreakable cell), as the correlator tables do."""
    from nnft.analytic.criticality import criticality
    from nnft.graph.kernels import Kernels
    from nnft.sample.diagnostics import Diagnostics
    K = np.random.default_rng(0).random((9, 9))
    k = Kernels(nngp=K, ntk=K, layers=(("z1", K, K),))
    d = Diagnostics(names=tuple(f"G2 φ(x{i})φ(y{i}) at a long observable name" for i in range(3)),
                    rhat=np.ones(3), ess=np.full(3, 400.0), tau=np.ones(3), divergences=np.zeros(2),
                    acceptance=np.full(2, 0.8), step_size=np.full(2, 0.1), block_length=12.5, draws_per_chain=100,
                    trace_stride=1, chains=2, converged=True, blocks_ok=True)
    c = criticality("tanh", 1.5, 0.1)
    for text in (k.table(width=40, layers=True), d.table(width=40), c.table(width=40)):
        assert max(display_width(x) for x in text.split("\n")) <= 40, text
    wide = k.table(width=200)
    assert max(len(x) for x in wide.split("\n")) > 40           # the twin: unfitted it would not fit


def test_actions_couplings_spectra(cos_model):
    """The result types of the couplings and spectrum modules print their table and show it as HTML."""
    from nnft.estimators.spectrum import PowerSpectrum
    m = cos_model
    X = np.array([[0.0, 0.0], [0.8, 0.0], [1.6, 0.0]])
    act = nnft.gaussian_action(m, X, samples=500, key=1)
    html = act._repr_html_()
    p = parse(html, tables=1)                         # K as a table, one cell per entry
    assert f"{act.kernel[0, 1]:.6g}" in p.cells and f"{act.condition:.4g}" in html and str(act) == act.table()
    assert "<pre>[[" not in html                      # not numpy's matrix print in prose
    ex = nnft.extrapolate([2, 4, 8, 16, 32], [1.0, 0.62, 0.41, 0.3, 0.26], [0.01] * 5)
    p = parse(ex._repr_html_(), tables=1)
    assert str(ex) == ex.table() and "← chosen" in p.cells
    _expect(p, (float(ex.value.mean), float(ex.value.stderr)))
    q = nnft.quartic_coupling(m, X, samples=2000, key=2)
    p = parse(q._repr_html_(), tables=2)              # λ_aaaa with its theory and z; the locality profile
    i = (1,) * 4
    _expect(p, (float(q.vertex.mean[i]), float(q.vertex.stderr[i])),
            (float(q.locality.mean[1]), float(q.locality.stderr[1])))
    assert f"{q.theory[i]:.6g}" in p.cells and f"{q.z[i]:+.2f}" in p.cells and str(q) == q.table()
    with pytest.raises(AssertionError):               # the twin: a value it does not hold is not found
        _expect(p, (2 * float(q.vertex.mean[i]), float(q.vertex.stderr[i])))
    for obj in (act, ex, q):                          # the text fits a narrow terminal too
        text = obj.table(width=50)
        assert max(display_width(x) for x in text.split("\n") if "±" in x or x.startswith("-")) <= 50, text
    ps = PowerSpectrum(momenta=np.array([[0.5], [1.0]]), spectrum=_est([1.25, 0.5], [0.05, 0.02]), route="neurons",
                       window=0.1, theory=np.array([1.2, 0.49]), theory_label="reference")
    p = parse(ps._repr_html_())
    _expect(p, (1.25, 0.05), (0.5, 0.02))
    assert str(ps) == ps.table() and "1.2" in p.cells


def test_posterior_prints_and_shows():
    """The NNGP posterior (analytic, no sampling) prints its table and shows it as well-formed HTML."""
    m = nnft.compile(nnft.load("relu_mlp"))
    post = nnft.nngp_posterior(m, [[1.0, 0.0, 0.0], [0.6, 0.8, 0.0]], [0.6, 0.9], [[0.0, 1.0, 0.0]], 0.2)
    html = post._repr_html_()
    parse(html, tables=0)
    assert str(post) == post.table() and f"{float(post.mean[0]):.4g}"[:4] in html
