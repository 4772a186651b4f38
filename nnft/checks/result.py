"""Verdicts of the axiom checkers: :class:`CheckResult` and the statistics every checker shares.

Every statistical verdict is a multiple test: m configurations, each with a z-score
z_c = (statistic_c − expected_c)/stderr_c whose stderr is a delete-one-block jackknife over K blocks
(``nnft.stats``). The family-wise false-FAIL probability is held at α by Holm–Bonferroni with
Student-t(K−1) tails (the jackknife error has K−1 degrees of freedom): the check FAILs iff Holm
rejects at least one configuration, i.e. iff max_c |z_c| > t⁻¹_{K−1}(1 − α/(2m)) (two-sided).

Not failing is not passing: a check PASSes only when the data *resolve* the smallest violation that
matters (``tolerance``): |statistic_c| + z*·stderr_c ≤ tolerance for every configuration (an
equivalence bound). Otherwise it is INCONCLUSIVE and reports the sample size needed, from
stderr ∝ 1/√n.
"""

from __future__ import annotations

from nnft.errors import InputError

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats as sps

from nnft.stats import zscore

PASS, FAIL, INCONCLUSIVE = "PASS", "FAIL", "INCONCLUSIVE"
VERDICTS = (PASS, FAIL, INCONCLUSIVE)
#: default family-wise false-FAIL level of every statistical check
ALPHA = 1e-3
#: Var φ(x) ≤ DEGENERATE_VAR × (the check's ⟨φ²⟩ scale) means φ(x) is deterministic over the ensemble
#: (float32 sampling resolves relative variances far below this): configurations touching x are degenerate
DEGENERATE_VAR = 1e-12
#: the least share of the jackknife variance one block must carry to flag an estimate (see dominance)
DOMINANT_SHARE = 0.5


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check.

    Attributes:
      check: what was checked, e.g. ``"translation G4"`` or ``"reflection positivity (fields)"``.
      verdict: ``"PASS"``, ``"FAIL"`` or ``"INCONCLUSIVE"``.
      statistic: the deciding number (max |z| for symmetry / cluster tests; λ_min/σ(λ_min) for RP).
      threshold: the critical value it was compared with (family-wise corrected).
      samples: networks (or neurons, for neuron-level estimators) the verdict rests on; 0 when proven.
      alpha: declared family-wise false-FAIL level.
      basis: ``"statistical"``, ``"analytic"`` or ``"by construction: <reason>"``.
      evidence: the configurations that decided it (worst first), as dicts.
      needed_samples: for INCONCLUSIVE, the sample size that would resolve ``tolerance``.
      message: one line for a physicist.
      data: arrays for plots (decay profiles, eigenvalue spectra).

    Source: not from a paper: a result container (the tests are cited by each checker).
    """

    check: str
    verdict: str
    statistic: float
    threshold: float
    samples: int
    alpha: float = ALPHA
    basis: str = "statistical"
    evidence: tuple[dict, ...] = ()
    needed_samples: int | None = None
    message: str = ""
    data: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    name: str = ""
    expected: str | None = None
    reason: str | None = None

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise InputError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")
        if self.expected is not None and self.expected not in VERDICTS:
            raise InputError(f"expected must be one of {VERDICTS} or None, got {self.expected!r}")

    @property
    def unexpected(self) -> bool:
        """True when the verdict contradicts the spec: a FAIL nobody declared, or a decided verdict
        (PASS/FAIL) other than the declared one (``study.checks: {name: {expect: ...}}``). ``nnft check``
        exits 1 then. An INCONCLUSIVE verdict contradicts nothing: it is :attr:`unconfirmed`."""
        if self.expected is None:
            return self.verdict == FAIL
        return self.verdict != self.expected and not self.unconfirmed

    @property
    def unconfirmed(self) -> bool:
        """A declared PASS/FAIL that this run could not decide (INCONCLUSIVE): reported, not an error."""
        return self.expected is not None and self.expected != INCONCLUSIVE and self.verdict == INCONCLUSIVE

    @property
    def degenerate(self) -> bool:
        """The configurations could not discriminate (identically zero / collapsed / unreliable)."""
        return self.basis.startswith("degenerate")

    @property
    def passed(self) -> bool:
        """Whether the verdict is PASS."""
        return self.verdict == PASS

    @property
    def failed(self) -> bool:
        """Whether the verdict is FAIL."""
        return self.verdict == FAIL

    def __str__(self) -> str:
        return table([self], evidence=3)

    def _repr_html_(self) -> str:
        from nnft.tables import html
        return html(lambda: table([self], evidence=3))


class CheckResults(list):
    """A list of :class:`CheckResult` (what :func:`nnft.check` returns) that prints as the table
    ``nnft check`` prints (evidence under each row) and shows in Jupyter as an HTML table."""

    def table(self, width: int | None = None) -> str:
        """The results as text (:func:`table` with the two worst configurations under each row)."""
        return table(list(self), evidence=2, width=width)

    def __str__(self) -> str:
        return self.table()

    def _repr_html_(self) -> str:
        from nnft.tables import html
        return html(self.table)


def _fmt(v) -> str:
    if isinstance(v, (float, np.floating)):
        return f"{v:.4g}"
    if isinstance(v, (list, tuple, np.ndarray)):
        try:
            return str(np.round(np.asarray(v, dtype=float), 3).tolist()).replace(" ", "")
        except (TypeError, ValueError):
            return str(v)
    return str(v)


def table(results, evidence: int = 0, *, width: int | None = None, colour: bool | None = None) -> str:
    """A plain-text table of results; with ``evidence > 0`` the worst configurations under each row.

    Fitted to ``width`` cells (None: the terminal's, ``nnft.tables.terminal_width``): when too wide the
    basis moves to a line of its own below its row, broken between words. Verdicts are coloured (PASS
    green, FAIL red, INCONCLUSIVE yellow) when ``colour`` (None: stdout is a terminal and ``NO_COLOR``
    is unset, ``nnft.tables.colour_enabled``)."""
    from nnft.tables import colour_enabled, render, terminal_width
    results = list(results)
    width = terminal_width() if width is None else width
    colour = colour_enabled() if colour is None else colour
    head = ("check", "verdict", "statistic", "threshold", "samples", "basis")
    rows = [(r.check, _verdict_cell(r, colour), f"{r.statistic:.3g}", f"{r.threshold:.3g}",
             f"{r.samples:,}" + (f" (need {r.needed_samples:,})" if r.needed_samples else ""), r.basis)
            for r in results]
    after = []
    for r in results:
        extra = []
        if r.expected is not None:
            state = (f"not confirmed: the spec expects {r.expected}, this run could not decide" if r.unconfirmed
                     else f"UNEXPECTED: the spec expects {r.expected}" if r.unexpected else "as expected")
            extra.append(f"    {state}" + (f" — {r.reason}" if r.reason else ""))
        elif r.unexpected:
            extra.append("    UNEXPECTED FAIL: the spec declares no expected verdict for this check "
                         "(study.checks: {" + (r.name or "name") + ": {expect: fail, reason: ...}} if it is known physics)")
        if evidence:
            if r.message:
                extra.append("    " + r.message)
            for ev in r.evidence[:evidence]:
                extra.append("    " + ", ".join(f"{k}={_fmt(v)}" for k, v in ev.items()))
        after.append(extra)
    out = render(head, rows, align="<" * 6, width=width, keep=(0, 1), label=5, label_sep=" ", gap="  ",
                 label_below=True, after=after)
    return "\n".join(out)


def _verdict_cell(r: CheckResult, colour: bool = False) -> str:
    from nnft.tables import verdict
    v = verdict(r.verdict, colour)
    if r.expected is None:
        return v + (" (unexpected)" if r.unexpected else "")
    if r.unconfirmed:
        return v + f" (expected {r.expected}: not confirmed)"
    return v + (" (expected)" if not r.unexpected else f" (expected {r.expected})")


# ----------------------------------------------------------------------------------- statistics
def dof_of(sums) -> int:
    """Degrees of freedom of the delete-one-block jackknife over the blocks *actually filled*
    (K' − 1): a sampler given fewer samples than 2K uses fewer blocks than requested
    (``nnft.sample.iid.stream``), and the Student-t thresholds must follow."""
    return max(int(np.count_nonzero(np.asarray(sums.weights) > 0)) - 1, 1)


def jackknife_blocks(sums, fn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Delete-one-block jackknife of ``fn(feature means)`` keeping the leave-one-out values.

    Returns:
      (estimate, stderr, loo) with loo of shape (K', *estimate.shape) over the filled blocks.
    """
    total, wtot = sums.sums.sum(0), sums.weights.sum()
    full = np.asarray(fn(total / wtot), dtype=np.float64)
    keep = np.nonzero(sums.weights > 0)[0]
    if len(keep) < 2:
        return full, np.full_like(full, np.inf), full[None]
    loo = np.stack([np.asarray(fn((total - sums.sums[b]) / (wtot - sums.weights[b])), dtype=np.float64)
                    for b in keep])
    k = len(keep)
    var = (k - 1) / k * np.sum((loo - loo.mean(0)) ** 2, axis=0)
    return full, np.sqrt(var), loo


def dominance(loo: np.ndarray, alpha: float, m: int = 1) -> tuple[np.ndarray, float]:
    """Cochran's C for each quantity: the largest block's share of the jackknife variance,
    C = max_b d_b² / Σ_b d_b² with d_b the leave-one-out deviations, and its critical value.

    With K' blocks whose means are (by the central limit theorem) i.i.d. normal, each d_b² is
    σ²χ²₁ up to O(1/K'), and P(C > c) ≤ K'·P(F(1, K'−1) > c(K'−1)/(1−c)); the critical value at
    level α/m is c* = F*/(F* + K' − 1), F* = F⁻¹(1 − α/(mK'); 1, K'−1) (Cochran 1941). C > c* means a
    few samples carry the estimate (heavy tails, e.g. a lognormal neuron far from the origin): the
    mean and its error bar are then not to be trusted, whatever their size. The critical value is
    at least ``DOMINANT_SHARE`` = ½ (one block outweighs all the others together): skewed but
    well-sampled block means (a lognormal of moderate width) are not flagged.

    Returns:
      (C per quantity (shape loo.shape[1:]), c*).
    """
    k = loo.shape[0]
    if k < 3:
        return np.zeros(loo.shape[1:]), 1.0
    d2 = (loo - loo.mean(0)) ** 2
    tot = d2.sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        C = np.where(tot > 0, d2.max(0) / tot, 0.0)
    F = float(sps.f.isf(alpha / (max(int(m), 1) * k), 1, k - 1))
    return C, max(F / (F + k - 1), DOMINANT_SHARE)


def degenerate_result(check: str, reason: str, n: int, *, alpha: float, dof: int | None = None, m: int = 1,
                      evidence: tuple = (), data: dict | None = None) -> CheckResult:
    """INCONCLUSIVE because the configurations cannot discriminate (``reason`` says why): a field
    identically zero there (a fixed point of the architecture, e.g. the origin of a bias-free net
    with σ(0) = 0), a scale that collapsed, or estimates carried by a few samples."""
    return CheckResult(check, INCONCLUSIVE, 0.0, critical_z(alpha, m, dof), n, alpha,
                       "degenerate (the configurations cannot discriminate)", evidence,
                       message="degenerate: " + reason, data=data or {})



def critical_z(alpha: float, m: int, dof: int | None = None, two_sided: bool = True) -> float:
    """Bonferroni (= first Holm step) critical value for m tests at family-wise level α, from
    Student-t(dof) tails (normal when dof is None)."""
    p = alpha / max(int(m), 1) / (2 if two_sided else 1)
    return float(sps.norm.isf(p) if dof is None else sps.t.isf(p, dof))


def holm(z: np.ndarray, alpha: float, dof: int | None = None) -> np.ndarray:
    """Holm–Bonferroni rejections (boolean mask) of two-sided z-tests at family-wise level α."""
    z = np.abs(np.asarray(z, dtype=float)).ravel()
    p = 2 * (sps.norm.sf(z) if dof is None else sps.t.sf(z, dof))
    order = np.argsort(p)
    m = len(p)
    reject = np.zeros(m, dtype=bool)
    for rank, i in enumerate(order):
        if p[i] <= alpha / (m - rank):
            reject[i] = True
        else:
            break
    return reject


def needed(n: int, err: float, room: float, zcrit: float) -> int:
    """Samples for which zcrit·err·sqrt(n/n') fits in ``room`` (errors ∝ 1/√n)."""
    if room <= 0 or not math.isfinite(err):
        return 0
    return int(math.ceil(n * (zcrit * err / room) ** 2))



def with_proof(res: CheckResult, proof: str | None, alpha: float) -> CheckResult:
    """A statistical verdict read beside a static proof of the same symmetry (``nnft.graph.symmetry``).

    A FAIL stays FAIL and says that it contradicts the proof; an INCONCLUSIVE becomes PASS "by construction"
    (the samples, too few to decide alone, do not contradict it); PASS and no proof are returned unchanged.
    Not from a paper: the verdict rule of nnft's checkers (docs/checkers.md).
    """
    if proof and res.verdict == FAIL:
        return CheckResult(res.check, FAIL, res.statistic, res.threshold, res.samples, alpha,
                           "statistical (CONTRADICTS the static proof: " + proof + ")", res.evidence,
                           message=res.message, data=res.data)
    if proof and res.verdict == INCONCLUSIVE:
        return CheckResult(res.check, PASS, res.statistic, res.threshold, res.samples, alpha, proof
                           + "; statistics consistent but not decisive alone", res.evidence,
                           message="PASS by construction; " + res.message, data=res.data)
    return res

def decide(check: str, value: np.ndarray, err: np.ndarray, n: int, *, alpha: float, tolerance: float,
           dof: int | None, labels: list[dict], basis: str = "statistical", expected=0.0,
           data: dict | None = None, what: str = "violation", worst: int = 5) -> CheckResult:
    """The shared decision rule: Holm at α over all configurations; PASS only if every
    |value − expected| + z*·err ≤ tolerance; else INCONCLUSIVE with the sample size needed."""
    value = np.asarray(value, dtype=float).ravel()
    err = np.asarray(err, dtype=float).ravel()
    dev = value - np.broadcast_to(np.asarray(expected, dtype=float), value.shape).ravel()
    z = zscore((dev, err))
    m = len(z)
    zc = critical_z(alpha, m, dof)
    rej = holm(z, alpha, dof)
    order = np.argsort(-np.abs(z))
    ev = tuple({**labels[i], what: float(dev[i]), "stderr": float(err[i]), "z": float(z[i]),
                "significant": bool(rej[i])} for i in order[:worst])
    stat = float(np.max(np.abs(z))) if m else 0.0
    data = dict(data or {}, value=value, stderr=err, z=z)
    if rej.any():
        i = order[0]
        return CheckResult(check, FAIL, stat, zc, n, alpha, basis, ev,
                           message=f"{int(rej.sum())}/{m} configurations significant (Holm, α={alpha:g}); "
                                   f"worst {what} {dev[i]:.3g} ± {err[i]:.2g}", data=data)
    bound = np.abs(dev) + zc * err
    if np.all(bound <= tolerance):
        return CheckResult(check, PASS, stat, zc, n, alpha, basis, ev,
                           message=f"all {m} configurations within ±{tolerance:.3g} (max |{what}| + z*·err = "
                                   f"{bound.max():.3g})", data=data)
    j = int(np.argmax(bound))
    # the deviations are not significant: treat them as noise, keep at least half the tolerance as room
    need = max(needed(n, float(err[k]), tolerance - min(abs(dev[k]), tolerance / 2), zc) for k in range(m))
    msg = (f"not resolved: |{what}| + z*·err = {bound[j]:.3g} > tolerance {tolerance:.3g}"
           + f"; about {need:,} samples would decide")
    return CheckResult(check, INCONCLUSIVE, stat, zc, n, alpha, basis, ev, needed_samples=need or None,
                       message=msg, data=data)
