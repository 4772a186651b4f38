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

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats as sps

PASS, FAIL, INCONCLUSIVE = "PASS", "FAIL", "INCONCLUSIVE"
VERDICTS = (PASS, FAIL, INCONCLUSIVE)
#: default family-wise false-FAIL level of every statistical check
ALPHA = 1e-3


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

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")

    @property
    def passed(self) -> bool:
        return self.verdict == PASS

    @property
    def failed(self) -> bool:
        return self.verdict == FAIL

    def __str__(self) -> str:
        return table([self], evidence=3)


def _fmt(v) -> str:
    if isinstance(v, (float, np.floating)):
        return f"{v:.4g}"
    if isinstance(v, (list, tuple, np.ndarray)):
        try:
            return str(np.round(np.asarray(v, dtype=float), 3).tolist()).replace(" ", "")
        except (TypeError, ValueError):
            return str(v)
    return str(v)


def table(results, evidence: int = 0) -> str:
    """A plain-text table of results; with ``evidence > 0`` the worst configurations under each row."""
    results = list(results)
    head = ("check", "verdict", "statistic", "threshold", "samples", "basis")
    rows = [(r.check, r.verdict, f"{r.statistic:.3g}", f"{r.threshold:.3g}",
             f"{r.samples:,}" + (f" (need {r.needed_samples:,})" if r.needed_samples else ""),
             r.basis if len(r.basis) < 70 else r.basis[:67] + "...") for r in results]
    w = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(head)]
    line = lambda cells: "  ".join(c.ljust(w[i]) for i, c in enumerate(cells)).rstrip()  # noqa: E731
    out = [line(head), line(["-" * x for x in w])]
    for r, row in zip(results, rows):
        out.append(line(row))
        if evidence:
            if r.message:
                out.append("    " + r.message)
            for ev in r.evidence[:evidence]:
                out.append("    " + ", ".join(f"{k}={_fmt(v)}" for k, v in ev.items()))
    return "\n".join(out)


# ----------------------------------------------------------------------------------- statistics
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


def safe_z(value, err) -> np.ndarray:
    """value/err with 0/0 = 0 (an exact zero difference, e.g. a symmetry of the estimator itself)."""
    value, err = np.asarray(value, dtype=float), np.asarray(err, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = value / err
        inf = np.where(value > 0, np.inf, -np.inf)
    return np.where((err == 0) & (value == 0), 0.0, np.where(err == 0, inf, z))


def needed(n: int, err: float, room: float, zcrit: float) -> int:
    """Samples for which zcrit·err·sqrt(n/n') fits in ``room`` (errors ∝ 1/√n)."""
    if room <= 0 or not math.isfinite(err):
        return 0
    return int(math.ceil(n * (zcrit * err / room) ** 2))


def decide(check: str, value: np.ndarray, err: np.ndarray, n: int, *, alpha: float, tolerance: float,
           dof: int | None, labels: list[dict], basis: str = "statistical", expected=0.0,
           data: dict | None = None, what: str = "violation", worst: int = 5) -> CheckResult:
    """The shared decision rule: Holm at α over all configurations; PASS only if every
    |value − expected| + z*·err ≤ tolerance; else INCONCLUSIVE with the sample size needed."""
    value = np.asarray(value, dtype=float).ravel()
    err = np.asarray(err, dtype=float).ravel()
    dev = value - np.broadcast_to(np.asarray(expected, dtype=float), value.shape).ravel()
    z = safe_z(dev, err)
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
