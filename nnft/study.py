"""A study: the spec's ``study:`` block (or overrides) turned into correlators beside theory.

``nnft.run(theory)`` measures G⁽ⁿ⁾ and G_c⁽ⁿ⁾ on point tuples built from the study's points,
adds the neuron-level (exact-in-N) estimate where φ is a neuron sum, and the analytic reference
with z-scores where the spec declares one. The CLI's ``nnft run`` prints :meth:`Report.table`.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from nnft.errors import EstimatorError, NnftError
from nnft.estimators.neuron import neuron_measure
from nnft.estimators.npoint import measure
from nnft.graph.compile import Model, compile
from nnft.reference_mlp import ALLOWANCE_DOC, EXACT, LEADING, NNGP, PT1
from nnft.spec.models import Theory
from nnft.study_theory import fill_theory
from nnft.spec.points import study_points
from nnft.stats import require_ess, zscore
from nnft.tables import TextTable, estimate, render, versions, wrap_text
from nnft.tails import KHAT_FLAG

MAX_TUPLES_PER_ORDER = 24

#: the kinds of theory a row can carry, with the short tag the table prints and what the z means
KINDS = {
    EXACT: ("exact", "exact at this width: z is an exact test"),
    NNGP: ("NNGP", ALLOWANCE_DOC[NNGP]),
    LEADING: ("LO", ALLOWANCE_DOC[LEADING]),
    PT1: ("PT1", "1st-order PT with c1(N) neglects O(λ²): allowance min(δ²/|G₀|, |δ|), δ the first-order shift, "
                 "G₀ the free value"),
}


def _index_tuples(P: int, n: int):
    """Candidate index tuples of order n, lazily, in the documented order."""
    if n == 1:
        yield from ((i,) for i in range(P))
    elif n == 2:
        yield from itertools.combinations_with_replacement(range(P), 2)
    else:
        yield from ((i,) * n for i in range(P))
        if n % 2 == 0:
            yield from ((i,) * (n // 2) + (j,) * (n // 2) for i, j in itertools.combinations(range(P), 2))
        if P > 1:
            yield from (tuple((i + k) % P for k in range(n)) for i in range(P))


def default_tuples(points: np.ndarray, orders) -> list[np.ndarray]:
    """Point tuples for each order n: all pairs for n ≤ 2; for higher n the coincident tuple
    (i,…,i), the paired tuples (i,i,j,j,…) and consecutive windows — at most
    :data:`MAX_TUPLES_PER_ORDER` per order. Candidates are generated lazily and generation stops
    at the bound, so P points cost O(P + bound), never the P² pairs."""
    P = len(points)
    out = []
    for n in orders:
        keys: set[tuple[int, ...]] = set()
        kept = 0
        for t in _index_tuples(P, n):
            if tuple(sorted(t)) in keys:
                continue
            keys.add(tuple(sorted(t)))
            out.append(points[list(t)])
            kept += 1
            if kept == MAX_TUPLES_PER_ORDER:
                break
    return out


@dataclass
class Row:
    """One row of a study's table: a point tuple of order n, its Monte Carlo G⁽ⁿ⁾ and G_c⁽ⁿ⁾ as
    (mean, standard error), the reference's exact values (None: no reference), the exact-in-N
    neuron-level G_c⁽ⁿ⁾ (TASI arXiv:2408.00082 eq. 39, 50-51) and the tail diagnostics.

    Attributes:
      order: n, the number of points.
      points: the tuple, shape (n, d).
    """

    order: int
    points: np.ndarray
    full: tuple[float, float]
    connected: tuple[float, float]
    exact_full: float | None = None
    exact_connected: float | None = None
    neuron_connected: tuple[float, float] | None = None
    #: Pareto k̂ of the largest per-network contributions (``nnft.tails``) to G and to G_c
    khat_full: float | None = None
    khat_connected: float | None = None
    #: the graph proves E|φ|^{2n} infinite: the estimate exists, its error bar (and z) does not mean anything
    error_bar_infinite: bool = False
    #: what kind of theory ``exact_full`` / ``exact_connected`` are (:data:`KINDS`; None: no theory)
    kind_full: str | None = None
    kind_connected: str | None = None
    #: the stated allowance of an asymptotic theory (0: exact), added in quadrature to the MC error in z
    allow_full: float = 0.0
    allow_connected: float = 0.0
    #: why the row has no theory (shown as a footnote of the table)
    reason: str | None = None

    @property
    def khat(self) -> float | None:
        """The larger k̂ of the row's G and G_c (None if not tracked)."""
        ks = [k for k in (self.khat_full, self.khat_connected) if k is not None and not math.isnan(k)]
        return max(ks) if ks else None

    @property
    def flagged(self) -> bool:
        """k̂ > 0.7: the row's Monte Carlo numbers are unreliable (k̂ ≥ 1: the mean does not exist)."""
        return self.khat is not None and self.khat > KHAT_FLAG

    @staticmethod
    def _z(est, ref, allow: float = 0.0) -> float | None:
        if ref is None or est is None:
            return None
        # a zero error bar: exactly the reference (e.g. φ ≡ 0 at that point) has no z; a different value is ±inf
        if est[1] == 0 and est[0] == ref:
            return None
        if allow:
            return float(zscore((est[0], math.hypot(est[1], allow)), ref))
        return float(zscore(est, ref))

    @property
    def z_full(self):
        """z of the Monte Carlo G⁽ⁿ⁾ against the theory (``nnft.stats.zscore``); None without one, or
        when a zero error bar meets the theory exactly. For an asymptotic theory (:attr:`kind_full` not
        exact) the error is √(se² + a²) with the stated allowance a = :attr:`allow_full`."""
        return self._z(self.full, self.exact_full, self.allow_full)

    @property
    def z_connected(self):
        """z of the Monte Carlo G_c⁽ⁿ⁾ against the theory, as :attr:`z_full`."""
        return self._z(self.connected, self.exact_connected, self.allow_connected)

    @property
    def z_neuron(self):
        """z of the neuron-level (exact-in-N) G_c⁽ⁿ⁾ against the theory, as :attr:`z_full`."""
        return self._z(self.neuron_connected, self.exact_connected, self.allow_connected)

    @property
    def kind(self) -> str | None:
        """The row's kind of theory (the G and G_c kinds joined with " / " when they differ)."""
        ks = list(dict.fromkeys(k for k in (self.kind_full, self.kind_connected) if k))
        return " / ".join(ks) or None


@dataclass
class Report(TextTable):
    """What :func:`run` returns: the theory, its compiled model, the number of networks and the seed,
    one :class:`Row` per point tuple (all from one ensemble, so their z-scores are correlated) and notes.

    Source: not from a paper: a container (the estimators are those of :func:`nnft.measure`).
    """

    theory: Theory
    model: Model
    samples: int
    seed: int
    rows: list[Row]
    notes: list[str] = field(default_factory=list)
    #: Kish effective sample size of the importance weights (a reweighted ensemble; None: i.i.d.)
    ess: float | None = None
    #: worst split-R̂ over the chains' observables (an MCMC ensemble; None: not MCMC)
    rhat: float | None = None
    #: smallest bulk ESS over the chains' observables (an MCMC ensemble; None: not MCMC)
    bulk_ess: float | None = None
    #: the sampling precision (``float32``/``float64``; None: not recorded)
    dtype: str | None = None
    #: the nnft and JAX versions that produced the report (None: not recorded)
    versions: dict | None = None
    #: why ⟨φ⟩ = 0 by a symmetry proven from the graph (``nnft.graph.symmetry``, φ → −φ), so that
    #: G_c⁽²⁾ = G⁽²⁾ and the table shows one of them; None: not proven
    zero_mean: str | None = None

    def __str__(self) -> str:
        """``print(report)`` shows :meth:`table`."""
        return self.table()

    def same_connected(self, r: Row) -> bool:
        """Whether the row's G_c is its G (one estimate, shown once): always for n = 1 (G_c⁽¹⁾ = G⁽¹⁾ by
        definition), for n = 2 when ⟨φ⟩ = 0 by a proven symmetry (:attr:`zero_mean`), and only when the
        row's G and G_c theories agree too."""
        return (r.order == 1 or (r.order == 2 and self.zero_mean is not None)) and \
            r.exact_full == r.exact_connected and r.kind_full == r.kind_connected and r.allow_full == r.allow_connected

    def table(self, width: int | None = None) -> str:
        """The report as the text table ``nnft run`` prints: MC beside theory with z-scores, k̂ and notes.

        Fitted to ``width`` terminal cells (None: ``nnft.tables.terminal_width``; a point tuple is never
        cut, ``nnft.tables.render``); estimates as ``NNFT_NOTATION`` says (``pm`` or ``paren``). An
        n = 1 row, and an n = 2 row of a theory with ⟨φ⟩ = 0 by symmetry (:attr:`zero_mean`), shows
        G_c as "= G": one estimate, not two equal columns."""
        t = self.theory
        lines = [f"{t.name}  ({t.source})", "  " + "  ".join([f"{k}={v}" for k, v in t.dims.items()]
                                                            + [f"{k}={v}" for k, v in t.constants.items()]),
                 f"  {self.samples} networks, seed {self.seed}"]
        if self.versions or self.dtype:
            v = self.versions or {}
            lines.append("  " + "  ".join(x for x in (f"nnft {v['nnft']}" if "nnft" in v else "",
                                                      f"JAX {v['jax']}" if "jax" in v else "",
                                                      f"dtype {self.dtype}" if self.dtype else "") if x))
        ns = self.model.structure.neuron_sum
        lines.append(f"  neuron sum over {ns.width} (readout {ns.readout}"
                     + (f", offset {ns.offset}" if ns.offset else "") + ")" if ns else
                     "  not a neuron sum: " + "; ".join(self.model.structure.notes))
        if t.reference:
            lines.append(f"  reference: {next(iter(t.reference))}")
        lines += [f"  note: {n}" for n in self.notes]
        lines.append("  (all rows come from one ensemble, so their z-scores are correlated; |z| < 4-5 is agreement)")
        blocks = min(64, max(2, self.samples // 2))       # the jackknife blocks nnft.sample.iid.stream uses
        if blocks < 64:
            lines.append(f"  few networks: the error bars come from {blocks} jackknife blocks, so z follows a Student-t "
                         f"with {blocks - 1} degrees of freedom, not a normal law: |z| of 4-7 is not decisive here")
        if self.ess is not None:
            lines.append(f"  reweighted ensemble: Kish ESS = {self.ess:.6g} of {self.samples} networks (importance weights)")
        if self.rhat is not None:
            lines.append(f"  MCMC ensemble: split-R̂ = {self.rhat:.4f} (worst observable; > 1.01: not converged)"
                         + (f", bulk ESS ≥ {self.bulk_ess:.5g}" if self.bulk_ess is not None else ""))
        z2 = self.zero_mean
        merged = [self.same_connected(r) for r in self.rows]
        neuron = any(r.neuron_connected for r in self.rows)
        tails = any(r.khat is not None for r in self.rows)
        header = [" n", "points", "G (MC)", "G (theory)", "z", "G_c (MC)", "G_c (theory)", "z"]
        minw = [2, 28, 20, 11, 7, 22, 12, 7]
        if neuron:
            header += ["G_c (neuron-level)", "z"]
            minw += [25, 6]
        if tails:
            header += ["k̂"]
            minw += [9]
        header += ["source"]                                  # the kind of theory, told apart from the k̂ column
        minw += [13]
        if self.ess is not None:
            header += ["ESS"]
            minw += [8]
        header += [""]
        minw += [0]
        reasons: dict[str, int] = {}
        for r in self.rows:
            if r.exact_full is None or r.exact_connected is None:
                reasons.setdefault(r.reason or "no analytic theory for this spec", len(reasons) + 1)

        def num(v, r):
            return f"{v:.5g}" if v is not None else f"[{reasons[r.reason or 'no analytic theory for this spec']}]"

        def zz(v, allow=0.0):
            return (f"{v:+.2f}" + ("~" if allow else " ")) if v is not None else "—"

        digits = _distinguishing_digits([tuple(p) for r in self.rows for p in r.points])
        cells = []
        for r, same in zip(self.rows, merged):
            pts = ";".join(",".join(f"{c:.{digits}g}" for c in p) for p in r.points)
            row = [f"{r.order:>2}", pts, estimate(*r.full), num(r.exact_full, r), zz(r.z_full, r.allow_full)]
            if same:
                row += ["= G", "= G", ""]
            else:
                row += [estimate(*r.connected), num(r.exact_connected, r), zz(r.z_connected, r.allow_connected)]
            if neuron:
                row += [estimate(*r.neuron_connected), zz(r.z_neuron, r.allow_connected)] if r.neuron_connected \
                    else ["—", "—"]
            if tails:
                finite_k = r.khat is not None and math.isfinite(r.khat)   # −inf: constant contributions, no tail
                row.append(f"{r.khat:.2f}" if finite_k else "—")
            row.append(" / ".join(KINDS.get(k, (k,))[0] for k in dict.fromkeys(
                k for k in (r.kind_full, r.kind_connected) if k)) or "none")
            if self.ess is not None:
                row.append(f"{self.ess:.4g}")
            flags = (["HEAVY TAIL"] if tails and r.flagged else []) + (["ERROR BAR ∞"] if r.error_bar_infinite else [])
            row.append(" ".join(flags))
            cells.append(row)
        align = [">", "<"] + [">"] * (len(header) - 4) + ["<"] * 2
        if self.ess is not None:
            align[-3:] = ["<", ">", "<"]
        lines = wrap_text(lines, width)
        lines += [""] + render(header, cells, align=align, width=width, keep=(0,), label=1, minwidth=minw)
        if any(merged):
            why = "; ".join((["G_c⁽¹⁾ = G⁽¹⁾ by definition"] if any(m and r.order == 1 for m, r in zip(merged, self.rows))
                              else []) + ([f"G_c⁽²⁾ = G⁽²⁾ as ⟨φ⟩ = 0 {z2}"] if any(m and r.order == 2 for m, r in
                                                                                 zip(merged, self.rows)) else []))
            lines += wrap_text(["", f"  = G: one estimate, shown once: {why}"], width)
        foot: list[str] = []
        used = list(dict.fromkeys(k for r in self.rows for k in (r.kind_full, r.kind_connected) if k))
        if used:
            foot += [""] + [f"  source {KINDS[k][0]}: {KINDS[k][1]}" for k in used if k in KINDS]
            if any(r.allow_full or r.allow_connected for r in self.rows):
                foot.append("  z~ : an asymptotic theory, z = (MC − theory)/√(se² + a²) with the stated allowance a — "
                             "not an exact test")
        if reasons:
            foot += [""] + [f"  [{i}] no theory: {why}" for why, i in reasons.items()]
        if any(r.error_bar_infinite for r in self.rows):
            foot += ["", "  ERROR BAR ∞: the error bar of an n-point function needs E|φ|^(2n), which the densities make "
                          "infinite for these rows (docs/refusals.md): the estimate exists, its ± and z mean nothing"]
        flagged = [r for r in self.rows if r.flagged]
        light = math.isinf(self.model.moments["phi"].lo)      # every moment of φ proved finite
        if flagged and light:
            worst = max(r.khat for r in flagged)
            foot += ["", f"  HEAVY TAIL: {len(flagged)} row(s) have Pareto k̂ > 0.7 (up to {worst:.2f}) for the largest "
                      "per-network contributions (PSIS diagnostic, arXiv:1507.02646). Every moment of φ is finite here "
                      "(proved from the densities), so the sample is pre-asymptotic: these error bars are unreliable "
                      f"at {self.samples} networks; more samples make them trustworthy"]
        elif flagged:
            worst = max(r.khat for r in flagged)
            foot += ["", f"  HEAVY TAIL: {len(flagged)} row(s) have Pareto k̂ > 0.7 (up to {worst:.2f}) for the largest "
                      "per-network contributions: their Monte Carlo numbers and error bars are unreliable"
                      + (" and k̂ ≥ 1 suggests the mean does not exist" if worst >= 1 else "")
                      + " (PSIS diagnostic, arXiv:1507.02646)"
                      + (f". With {self.samples} networks k̂ is itself noisy (light tails can reach 0.7 below a few "
                         "thousand): rerun with more samples to tell a heavy tail from noise" if self.samples < 20_000
                         else "; a heavy tail is not cured by more samples")]
        lines += wrap_text(foot, width)
        return "\n".join(lines)


#: width of the networks whose neurons the neuron-level estimate draws, whatever the spec's width (when
#: the neuron's law does not depend on it): a width sweep then compiles and draws one neuron program
NEURON_WIDTH = 64
_NEURON_MODELS: dict = {}


def neuron_model(model: Model) -> Model:
    """The model whose networks :func:`run` draws neurons from for the neuron-level (exact-in-N) estimate:
    ``model`` at width :data:`NEURON_WIDTH` when ψ's law does not depend on the width (the readout's
    moments are exact at every N, ``nnft.estimators.neuron``), else ``model`` itself. The same for
    every value of a width sweep, so the neuron step compiles once and every width gets the same neurons
    (the brute-force step changes shape with N and compiles once per width).
    """
    ns = model.structure.neuron_sum
    if ns is None or ns.width_dependent or model.theory.dims.get(ns.width) == NEURON_WIDTH:
        return model
    try:
        theory = model.theory.with_dims(**{ns.width: NEURON_WIDTH})
    except NnftError:                      # the spec refuses that width: draw at its own
        return model
    key = theory.model_dump_json()
    if key not in _NEURON_MODELS:
        if len(_NEURON_MODELS) >= 8:
            _NEURON_MODELS.pop(next(iter(_NEURON_MODELS)))
        _NEURON_MODELS[key] = compile(theory)
    return _NEURON_MODELS[key]


def run(theory, *, samples: int | None = None, seed: int | None = None, chunk: int | None = None,
        dtype: str | None = None, points=None, orders=None, neurons: int | None = 1_000_000,
        sampler: str = "iid", chains: int = 4) -> Report:
    """Measure the study of a theory (spec defaults, overridden by the arguments).

    Args:
      theory: a :class:`Theory`, a compiled model, a spec file, a shipped spec name or a spec mapping
        (read as :func:`nnft.run_sweep` reads its spec).
      samples: networks (default: the spec's ``study.samples``).
      seed: integer seed (default: the spec's ``study.seed``).
      chunk: networks per compiled step (default: the spec's ``study.chunk``; memory only).
      dtype: "float32" or "float64" sampling (default: the spec's ``study.dtype``).
      points: (P, d) study points (default: the spec's ``study.points``).
      orders: correlator orders n (default: the spec's ``study.correlators.orders``); the point
        tuples are built from ``points`` for each order.
      neurons: neurons drawn for the exact-in-N estimate (None or 0: skip it), from networks of width
        :data:`NEURON_WIDTH` when ψ's law does not depend on the width (:func:`neuron_model`).
      sampler: ``"iid"`` (default: i.i.d. networks, importance-reweighted under an insertion; the
        Report shows the Kish ESS) or ``"mcmc"`` (``nnft.mcmc_ensemble``, ``chains`` NUTS chains; the
        Report shows split-R̂ and bulk ESS).
      chains: NUTS chains with ``sampler="mcmc"``.

    Returns:
      A :class:`Report`: one row per point tuple with G⁽ⁿ⁾ and G_c⁽ⁿ⁾ (mean, standard error) in units
      of φⁿ, the exact reference and z-scores where the spec has one, notes and the sampler's
      diagnostics (Kish ESS or R̂).

    Raises:
      InputError: ``theory`` is none of those, or ``sampler`` is neither "iid" nor "mcmc".
      SpecError: a spec that does not validate.
      EstimatorError: an order whose moments do not exist (``nnft.graph.moments``), or a
        correlator that is not estimable (NaN/inf, fewer than 2 jackknife blocks, importance
        weights collapsed below ESS 10): never a row.
      SamplingError: non-finite field values, features or block sums.

    Rows carry the Pareto k̂ of their largest per-network contributions; rows with k̂ > 0.7 are
    marked HEAVY TAIL in :meth:`Report.table` (``nnft.tails``; PSIS, arXiv:1507.02646).

    Source: G⁽ⁿ⁾ and G_c⁽ⁿ⁾ as in :func:`nnft.measure` (arXiv:2408.00082 eq. 14, 29-30, 49).
    """
    if isinstance(theory, Model):
        model, theory = theory, theory.theory
    else:
        from nnft.spec.load import as_theory
        model, theory = None, as_theory(theory)
    st = theory.study
    samples = samples or st.samples
    seed = st.seed if seed is None else seed
    chunk = chunk or st.chunk
    dtype = dtype or st.dtype
    pts = np.asarray(points, dtype=np.float64) if points is not None else study_points(theory)
    orders = list(orders or st.correlators.orders)
    model = model or compile(theory)
    tuples = default_tuples(pts, orders)
    diag = None
    if sampler == "mcmc":
        from nnft.estimators.mcmc import mcmc_ensemble
        from nnft.estimators.npoint import Correlators
        ens, diag = mcmc_ensemble(model, tuples, samples=samples, chains=chains, key=seed)
        mc = Correlators(full=ens.full(), connected=ens.connected(), orders=ens.orders)
    elif sampler == "iid":
        mc = measure(model, tuples, samples=samples, key=seed, chunk=chunk, dtype=dtype)
    else:
        from nnft.errors import InputError
        raise InputError(f"sampler must be 'iid' or 'mcmc', got {sampler!r}")
    require_ess(mc.full, f"{theory.source}: the correlators")
    def k(est, i):
        return None if est.khat is None else float(est.khat[i])

    rows = [Row(order=len(tp), points=tp, full=(float(mc.full.mean[i]), float(mc.full.stderr[i])),
                connected=(float(mc.connected.mean[i]), float(mc.connected.stderr[i])),
                khat_full=k(mc.full, i), khat_connected=k(mc.connected, i))
            for i, tp in enumerate(tuples)]
    hi = model.moments["phi"].hi
    for r in rows:
        r.error_bar_infinite = 2 * r.order >= hi
    notes = list(dict.fromkeys(mc.full.notes + mc.connected.notes))
    fill_theory(model, rows, tuples, notes)
    if neurons and model.structure.neuron_sum:
        try:
            nl = neuron_measure(neuron_model(model), tuples, neurons=neurons, key=seed + 1, dtype=dtype,
                                widths=[model.theory.dims[model.structure.neuron_sum.width]])
            for i, r in enumerate(rows):
                r.neuron_connected = (float(nl.connected.mean[0, i]), float(nl.connected.stderr[0, i]))
        except EstimatorError as err:
            notes.append(f"no neuron-level estimate: {err}")
    ess = mc.full.ess if diag is None else None
    from nnft.graph.symmetry import static_symmetries
    return Report(theory=theory, model=model, samples=samples, seed=seed, rows=rows, notes=notes,
                  dtype=str(np.dtype(dtype)) if dtype else None, versions=versions(),
                  zero_mean=static_symmetries(model.graph).reason("z2"),
                  ess=None if ess is None else float(np.min(ess)),
                  rhat=None if diag is None else diag.max_rhat,
                  bulk_ess=None if diag is None else float(np.nanmin(diag.ess)))


def _distinguishing_digits(points: list[tuple]) -> int:
    """Significant digits (6 at least) with which distinct points print distinctly (1e6 and 1e6 + 0.5
    would both print as 1e+06 with 6)."""
    distinct = set(points)
    for k in range(6, 18):
        if len({tuple(f"{c:.{k}g}" for c in p) for p in distinct}) == len(distinct):
            return k
    return 17

