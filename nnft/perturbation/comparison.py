"""The result of ``nnft.perturbation.compare.compare``: reweighted MC shifts beside first-order
perturbation theory over a λ sweep, as rows, a text table and a plot (docs/perturbation.md).

z-scores are ``nnft.stats.zscore`` of the Monte Carlo shift against the first-order value taken as
exact ((MC − PT)/stderr, no error on the PT side); a row without a number (collapsed importance
weights) or an exactly known shift (λ = 0, zero error) has no z.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from nnft.stats import ESS_NOT_ESTIMABLE, Estimate, zscore
from nnft.tables import TextTable, display_width, estimate, render, terminal_width, wrap_text, wrap_tokens

__all__ = ["THRESHOLD", "Comparison", "ComparisonRow"]

#: |z| above which a row is flagged: first order no longer describes the Monte Carlo
THRESHOLD = 5.0


@dataclass(frozen=True)
class ComparisonRow:
    """One (λ, observable, tuple) line of a :class:`Comparison`.

    Attributes:
      lam: the value of the swept coupling constant.
      observable: ``"δG"`` (full 2-point shift, or n = 1) or ``"δG_c"`` (connected n-point shift).
      series: index of the tuple in :attr:`Comparison.tuples`.
      points: the tuple, (n, d).
      mc: the reweighted Monte Carlo shift (scalar :class:`~nnft.stats.Estimate`, joint jackknife).
      first_order: exact finite-N first order (λ·c1(N) for φ⁴), or None (see ``reason``).
      gaussian: the textbook N = ∞ diagram with the reference's G2, or None.
      ess: Kish effective sample size of the λ-ensemble's importance weights.
      ess_low: the ESS is below the reweighting floor of ``nnft.sample.iid`` (estimate unreliable).
      threshold: |z| above which :attr:`breaks`.
      reason: why ``first_order`` is None.
    """

    lam: float
    observable: str
    series: int
    points: np.ndarray
    mc: Estimate
    first_order: float | None
    gaussian: float | None
    ess: float | None
    ess_low: bool
    threshold: float
    reason: str | None = None

    @property
    def estimable(self) -> bool:
        """False when the importance weights collapsed (Kish ESS < ``nnft.stats.ESS_NOT_ESTIMABLE``) or the
        shift or its error is not finite: the row then has no number, no z and no ratio."""
        return ((self.ess is None or self.ess >= ESS_NOT_ESTIMABLE) and bool(np.isfinite(self.mc.mean))
                and bool(np.isfinite(self.mc.stderr)))

    def _z(self, est: Estimate, ref: float | None) -> float | None:
        if ref is None or not self.estimable or (float(est.stderr) == 0.0 and float(est.mean) == ref):
            return None          # no estimate, or an exact zero-error value (λ = 0): no z
        return float(zscore(est, ref))

    @property
    def z(self) -> float | None:
        """(MC − first order)/stderr; None when first order is unavailable."""
        return self._z(self.mc, self.first_order)

    @property
    def z_gaussian(self) -> float | None:
        """(MC − N = ∞ diagram)/stderr."""
        return self._z(self.mc, self.gaussian)

    @property
    def ratio(self) -> float | None:
        """MC/first order (1 where first order holds)."""
        if self.first_order is None or self.first_order == 0.0 or not self.estimable:
            return None
        return float(self.mc.mean) / self.first_order

    @property
    def ratio_stderr(self) -> float | None:
        """Standard error of :attr:`ratio`: the MC standard error over |first order| (the first order is
        exact, so only the MC error propagates); None when :attr:`ratio` is."""
        if self.ratio is None:
            return None
        return float(self.mc.stderr) / abs(self.first_order)

    @property
    def breaks(self) -> bool | None:
        """|z| > threshold: the MC resolves a departure from first order (None if unavailable)."""
        z = self.z
        return None if z is None else bool(abs(z) > self.threshold)


@dataclass(frozen=True)
class Comparison(TextTable):
    """Reweighted MC vs first-order perturbation theory over a λ sweep (returned by :func:`compare`).

    Attributes:
      theory: the theory (at its own coupling value; only ``coupling`` is swept).
      coupling: the swept constant.
      lambdas: its values.
      tuples: the point tuples, one series each.
      samples, seed: networks per ensemble and the PRNG seed (the same networks at every λ).
      rows: one :class:`ComparisonRow` per (tuple, λ), grouped by tuple, λ ascending.
      unit: per tuple, the first-order shift per unit of the swept coupling when it is linear in it
        (c1(N) for ``phi4: {coupling: lam}``), else None.
      unit_gaussian: the same for the N = ∞ diagrams.
      threshold: |z| above which a row is flagged.
      notes: reasons and warnings (unavailable columns, degenerate importance weights).
      refused: ``(λ, reason)`` for each value of the sweep that was refused (not in ``lambdas`` or
        ``rows``): e.g. a φ⁴ coupling < 0, unbounded below.
    """

    theory: object
    coupling: str
    lambdas: tuple[float, ...]
    tuples: tuple[np.ndarray, ...]
    samples: int
    seed: int
    rows: tuple[ComparisonRow, ...]
    unit: tuple[float | None, ...]
    unit_gaussian: tuple[float | None, ...]
    threshold: float
    notes: tuple[str, ...] = field(default_factory=tuple)
    refused: tuple[tuple[float, str], ...] = field(default_factory=tuple)

    def series(self, i: int) -> list[ComparisonRow]:
        """The rows of tuple ``i`` (λ ascending)."""
        return [r for r in self.rows if r.series == i]

    def breakdown(self) -> dict[int, float | None]:
        """Per tuple: the smallest λ flagged (|z| > threshold), None if first order holds throughout
        (or is unavailable)."""
        out = {}
        for i in range(len(self.tuples)):
            flagged = [r.lam for r in self.series(i) if r.breaks]
            out[i] = min(flagged) if flagged else None
        return out

    def table(self, width: int | None = None) -> str:
        """The comparison as text, one block per tuple, one line per λ, fitted to ``width`` cells (None:
        the terminal's; ``nnft.tables.render``), estimates as ``NNFT_NOTATION`` says."""
        width = terminal_width() if width is None else width
        t = self.theory
        lines = [f"{t.name}  ({t.source})", "  " + "  ".join(f"{k}={v}" for k, v in t.dims.items())]
        for ins in t.insertions:
            (kind, args), = ins.potential.items()
            box = " × ".join(f"[{lo:g}, {hi:g}]" for lo, hi in ins.domain.box)
            lines.append(f"  insertion {kind} {dict(args)} on {box}, lattice {ins.domain.lattice}^{len(ins.domain.box)}")
        lines += [f"  sweep of {self.coupling}; {self.samples} networks, seed {self.seed}: the same networks at every λ, "
                  "reweighted (joint jackknife errors)",
                  "  first order: −κ(O, S), exact at finite N from the reference (docs/physics.md §7); "
                  "N→∞: textbook Gaussian diagram with the same G2",
                  f"  flag 'breaks': |z| > {self.threshold:g} vs first order (O(λ²) resolved at this precision); "
                  "'ESS low': too few effective samples",
                  "  MC/PT: MC over first order, ± the MC standard error over |first order| (first order is exact)"]
        lines += [f"  note: {n}" for n in self.notes]
        lines += [f"  refused: {self.coupling} = {lam:g}: {why}" for lam, why in self.refused]
        header = ["λ", "MC", "1st order", "z", "MC/PT", "N→∞", "z", "ESS", "flag"]
        minw = [8, 24, 11, 7, 13, 11, 7, 9, 0]
        align = [">"] * 8 + ["<"]
        lines = wrap_text(lines, width)
        refused = dict(self.refused)
        for i, tp in enumerate(self.tuples):
            rows = self.series(i)
            obs = rows[0].observable if rows else ("δG" if len(tp) <= 2 else "δG_c")
            coef = []
            if self.unit[i] is not None:
                coef.append(f"c1(N) = {self.unit[i]:.6g}")
            if self.unit_gaussian[i] is not None:
                coef.append(f"c1(∞) = {self.unit_gaussian[i]:.6g}")
            toks = [",".join(f"{c:g}" for c in p) for p in tp]
            toks[0] = f"{obs}⁽{str(len(tp)).translate(_SUP)}⁾(" + toks[0]
            toks[-1] += ")"
            title = wrap_tokens(toks, width, sep="; ")                # broken only between points
            per = ("   per unit " + self.coupling + ": " + ", ".join(coef)) if coef else ""
            if per and len(title) == 1 and display_width(title[0] + per) <= width:
                title[0] += per
            elif per:
                title.append("  " + per.strip())
            lines += [""] + title
            reason = next((r.reason for r in rows if r.reason), None)
            if reason:
                lines += wrap_text([f"  first order unavailable: {reason}"], width)
            cells = []
            for r in sorted([*rows, *refused], key=lambda r: r if isinstance(r, float) else r.lam):
                if isinstance(r, float):
                    cells.append([f"{r:g}", "refused", "—", "—", "—", "—", "—", "—", "refused (see above)"])
                    continue
                if not r.estimable:
                    cells.append([f"{r.lam:g}", "not estimable", _num(r.first_order), "—", "—", _num(r.gaussian), "—",
                                  _num(r.ess, ".1f"), "importance weights collapsed"])
                    continue
                flags = [f for f, on in (("breaks", r.breaks), ("ESS low", r.ess_low),
                                         ("HEAVY TAIL", bool(r.mc.flagged))) if on]
                cells.append([f"{r.lam:g}", estimate(float(r.mc.mean), float(r.mc.stderr)), _num(r.first_order),
                              _zs(r.z), _ratio(r), _num(r.gaussian), _zs(r.z_gaussian), _num(r.ess, ".0f"),
                              ", ".join(flags)])
            lines += render(header, cells, align=align, width=width, keep=(0,), minwidth=minw)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def plot(self, path=None, ax=None, series=None):
        """Plot −(MC shift) against λ (log-log where all values are positive) with the first-order and
        N = ∞ lines, one colour per tuple. Needs matplotlib (``pip install nnft[plot]``).

        Args:
          path: write the figure there (PNG etc.); returns the axes either way.
          ax: draw into these axes (default: a new figure).
          series: tuple indices to draw (default: all).
        """
        try:
            import matplotlib
            if ax is None and path is not None:
                matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError as err:  # pragma: no cover - optional dependency
            raise ImportError("Comparison.plot needs matplotlib: pip install 'nnft[plot]'") from err
        fig = None
        if ax is None:
            fig, ax = plt.subplots(figsize=(6.4, 4.4))
        positive, labelled = True, set()
        for k, i in enumerate(range(len(self.tuples)) if series is None else series):
            rows = self.series(i)
            if not rows:
                continue
            col = f"C{k % 10}"
            lam = np.array([r.lam for r in rows])
            m = -np.array([float(r.mc.mean) for r in rows])
            e = np.array([float(r.mc.stderr) for r in rows])
            pts = "; ".join(",".join(f"{c:g}" for c in p) for p in self.tuples[i])
            ax.errorbar(lam, m, yerr=e, fmt="o", color=col, label=f"MC −{rows[0].observable}({pts})")
            positive &= bool(np.all(m > 0))
            grid = np.geomspace(lam.min(), lam.max(), 100) if lam.min() > 0 else np.linspace(lam.min(), lam.max(), 100)
            for unit, style, what in ((self.unit[i], "-", "first order, c1(N) exact"),
                                      (self.unit_gaussian[i], "--", "first order, N = ∞ formula")):
                if unit is not None:
                    ax.plot(grid, -grid * unit, style, color=col, label=None if what in labelled else what)
                    labelled.add(what)
                    positive &= bool(-unit > 0)
        if positive and min(self.lambdas) > 0:
            ax.set_xscale("log")
            ax.set_yscale("log")
        ax.set_xlabel(f"λ ({self.coupling})")
        ax.set_ylabel("−δ (shift under the insertion)")
        ax.set_title(f"{self.theory.name}: reweighted MC vs first order")
        ax.legend(fontsize=8)
        if fig is not None:
            fig.tight_layout()
            if path is not None:
                fig.savefig(path, dpi=120)
                plt.close(fig)
        return ax


_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _num(v, fmt: str = ".5g") -> str:
    return "—" if v is None or (isinstance(v, float) and not math.isfinite(v)) else format(v, fmt)


def _zs(v) -> str:
    return "—" if v is None else f"{v:+.2f}"



def _ratio(r) -> str:
    """The MC/PT cell: the ratio with its propagated standard error (— without one)."""
    if r.ratio is None or not math.isfinite(r.ratio):
        return "—"
    return estimate(r.ratio, r.ratio_stderr)
