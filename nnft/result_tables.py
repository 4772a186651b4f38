"""Text tables of the result types defined below the workflows layer, read by attribute (duck typing):
correlators (:class:`~nnft.estimators.npoint.Correlators`, ``Ensemble``,
:class:`~nnft.estimators.neuron.WidthCorrelators`, the reference :class:`~nnft.reference.Exact`),
infinite-width :class:`~nnft.graph.kernels.Kernels`, the MLP
:class:`~nnft.analytic.criticality.Criticality` and MCMC :class:`~nnft.sample.diagnostics.Diagnostics`.

Each function returns the text ``print(result)``, ``nnft show`` and the CLI commands print, built with
:func:`nnft.tables.render` (fitted to the terminal width, point tuples and cells never cut) so the same
call gives Jupyter's HTML table (:func:`nnft.tables.html`). It lives in the bottom layer, beside the
renderer, so each class calls it from its own ``table`` method without importing upward; it imports
only numpy, :mod:`nnft.stats` and :mod:`nnft.tables`.
"""

from __future__ import annotations

import math

import numpy as np

from nnft.tables import estimate, recording, render, wrap_text


def _points(tuples, i: int) -> str:
    if tuples is None:
        return ""
    pts = np.atleast_2d(np.asarray(tuples[i], dtype=np.float64))
    return ";".join(",".join(f"{c:.6g}" for c in p) for p in pts if not np.all(np.isnan(p)))


def correlators(result, *, tuples=None, title: str | None = None, width: int | None = None) -> str:
    """Correlators, WidthCorrelators or an Exact reference as text: one row per ([width,] tuple) with
    G⁽ⁿ⁾ and G_c⁽ⁿ⁾ (mean ± standard error; the exact values for ``Exact``), and the Pareto k̂ when the
    estimate tracks it.

    Args:
      result: anything with ``orders``, ``full``, ``connected`` (Estimates, or arrays for ``Exact``)
        and, for width-resolved results, ``widths``.
      tuples: the point tuples (list of (n, d) arrays) for a ``points`` column (None: not shown).
      title: the first line (default: the type's name and what it holds).
      width: terminal cells (None: :func:`nnft.tables.terminal_width`).
    """
    kind = type(result).__name__
    orders = tuple(int(n) for n in result.orders)
    widths = getattr(result, "widths", None)
    exact = not hasattr(result.full, "stderr")
    full_m = np.asarray(result.full if exact else result.full.mean, dtype=np.float64)
    conn_m = np.asarray(result.connected if exact else result.connected.mean, dtype=np.float64)
    lines = [title or f"{kind}: {len(orders)} point tuple(s)" + (f" at {len(widths)} width(s)" if widths else "")]
    if exact:
        label = getattr(result, "label", "exact")
        acc = getattr(result, "accuracy", None)
        lines.append(f"  theory: {label}" + (f", stated relative accuracy {acc:.2g}" if acc else ""))
    else:
        est = result.full
        lines.append(f"  {est.n} networks summed" + (f", Kish ESS {est.ess:.6g}" if est.ess is not None else "")
                     if kind != "WidthCorrelators" else f"  {est.n} neurons drawn (exact in the width N)")
        lines += [f"  note: {n}" for n in dict.fromkeys(tuple(est.notes) + tuple(result.connected.notes))]
    khat = None if exact else result.full.khat
    reasons = getattr(result, "reasons", None) or {}
    marks = {why: i for i, why in enumerate(dict.fromkeys(reasons.values()), start=1)}

    def theory_cell(v: float, i: int) -> str:
        return f"[{marks[reasons[i]]}]" if not math.isfinite(v) and i in reasons else f"{v:.6g}"

    kinds = getattr(result, "kinds", None)
    pts = tuples is not None
    header = (["width"] if widths else []) + ["tuple", " n"] + (["points"] if pts else [])
    header += ["G (theory)", "G_c (theory)"] if exact else ["G", "G_c"]
    header += (["k̂"] if khat is not None else []) + (["kind"] if kinds else [])
    cells = []
    for wi, w in enumerate(widths or [None]):
        for i, n in enumerate(orders):
            at = (wi, i) if widths else (i,)
            row = ([str(w)] if widths else []) + [str(i), f"{n:>2}"] + ([_points(tuples, i)] if pts else [])
            if exact:
                row += [theory_cell(float(full_m[at]), i), theory_cell(float(conn_m[at]), i)]
            else:
                row += [estimate(float(full_m[at]), float(result.full.stderr[at])),
                        estimate(float(conn_m[at]), float(result.connected.stderr[at]))]
            if khat is not None:
                k = float(np.asarray(khat)[at])
                row.append(f"{k:.2f}" if math.isfinite(k) else "—")
            if kinds:
                row.append(str(kinds[i]))
            cells.append(row)
    key = [0, 1] if widths else [0]
    label = header.index("points") if pts else None
    align = [">"] * len(header)
    if pts:
        align[label] = "<"
    if kinds:
        align[-1] = "<"
    foot = [""] + [f"  [{i}] no theory: {why}" for why, i in marks.items()] if marks else []
    return "\n".join(wrap_text(lines, width) + [""] + render(header, cells, align=align, width=width, keep=key,
                                                              label=label) + wrap_text(foot, width))


def matrix(m, *, width: int | None = None) -> list[str]:
    """A square matrix as table lines (row index, then one column per index j), values ``.6g``;
    split into blocks of columns when wider than ``width``."""
    m = np.atleast_2d(np.asarray(m, dtype=np.float64))
    header = ["i\\j"] + [str(j) for j in range(m.shape[1])]
    cells = [[str(i)] + [f"{v:.6g}" for v in row] for i, row in enumerate(m)]
    return render(header, cells, width=width, keep=(0,))


def kernels(k, *, name: str = "", layers: bool = False, width: int | None = None) -> str:
    """NNGP K and NTK Θ as text, as ``nnft kernel`` prints them: ``name: `` first when given, each
    (P, P) matrix as a table (split into column blocks to fit ``width``), then with ``layers`` one line
    per Gaussian node with the diagonals of its K and Θ."""
    lines = wrap_text([f"{name + ': ' if name else ''}NNGP K(xᵢ, xⱼ) [{k.source}]"], width) + matrix(k.nngp, width=width)
    if np.isnan(np.asarray(k.ntk, dtype=float)).all():
        lines += wrap_text(["NTK Θ: not available (the neuron reference gives K only, or an activation's derivative "
                            "is a δ, as sign' and step', so E σ'(u)σ'(v) is infinite at coinciding points)"], width)
    else:
        lines += ["NTK Θ(xᵢ, xⱼ) (NTK parameterisation)"] + matrix(k.ntk, width=width)
    if layers:
        with np.printoptions(precision=6, suppress=True, linewidth=10_000):
            lines += wrap_text([f"layer {i} ({where}): diag K = {np.diag(np.asarray(K))}  diag Θ = {np.diag(np.asarray(T))}"
                                for i, (where, K, T) in enumerate(k.layers, start=1)], width)
    return "\n".join(lines)


def criticality(c, *, header: str | None = None, width: int | None = None) -> str:
    """Fixed point, χ∥, χ⊥, correlation depths and phase as text (``nnft criticality``), after the
    line ``header`` when given (the spec's name, activation, C_W, C_b)."""
    lines = [header] if header else []
    lines.append(f"  fixed point K* = {c.fixed.K:.6g} ({c.fixed.kind}: {c.fixed.message})")
    grow = getattr(c, "growth_depth", math.nan)
    away = "grows" if c.fixed.kind == "divergent" else "moves away from it"
    xi_q = (f"ξ_q: none (χ∥ > 1: K* is not approached; K⁽ˡ⁾ {away}, e-folding every {grow:.4g} layers)"
            if grow > 0 else f"ξ_q = {c.xi_q:.4g}")
    lines.append(f"  χ∥ = {c.chi_parallel:.6g}   χ⊥ = {c.chi_perp:.6g}   {xi_q}")
    if c.phase == "chaotic" and c.note:
        lines.append(f"  c*, ξ_c: not defined ({c.note})")
    elif c.phase == "chaotic":
        lines.append(f"  correlation fixed point c* = {c.c_star:.6g} (c = 1 is unstable: χ⊥ > 1)   "
                     f"χ_c(c*) = {c.chi_c:.6g}   ξ_c = {c.xi_c:.4g}")
    else:
        lines.append(f"  correlation fixed point c* = 1   ξ_c = {c.xi_c:.4g}")
    lines.append(f"  phase: {c.phase}")
    header_row = ["quantity", "value"]
    cells = [["K*", f"{c.fixed.K:.6g}"], ["χ∥", f"{c.chi_parallel:.6g}"], ["χ⊥", f"{c.chi_perp:.6g}"],
             ["ξ_q", f"{c.xi_q:.4g}" if not grow > 0 else "none (χ∥ > 1)"],
             *([["growth depth 1/ln χ∥", f"{grow:.4g}"]] if grow > 0 else []),
             ["c*", f"{c.c_star:.6g}"], ["ξ_c", f"{c.xi_c:.4g}"], ["phase", c.phase]]
    if recording():                 # HTML: the numbers as a table too
        notes = [f"  fixed point: {c.fixed.kind}: {c.fixed.message}"] + ([f"  c*, ξ_c: {c.note}"] if c.note else [])
        return "\n".join(lines[:1] + render(header_row, cells, align="<>") + notes)
    return "\n".join(wrap_text(lines, width))


def diagnostics(d, *, width: int | None = None) -> str:
    """MCMC convergence diagnostics as text: R̂, bulk ESS and τ per observable (a table fitted to
    ``width``), then the run's totals and the warnings."""
    header = ["observable", "R̂", "ESS", "τ"]
    cells = [[str(n), f"{r:.4f}", f"{e:.1f}", f"{t:.2f}"] for n, r, e, t in zip(d.names, d.rhat, d.ess, d.tau)]
    lines = render(header, cells, align="<>>>", width=width, keep=(0,), label=0, label_sep=" ")
    lines += wrap_text([f"chains {d.chains}, draws/chain {d.draws_per_chain}, block length {d.block_length:g}, "
                        f"divergences {int(np.sum(d.divergences))}, acceptance {np.mean(d.acceptance):.3f}, "
                        f"converged {d.converged}, blocks_ok {d.blocks_ok}"]
                       + [f"  warning: {m}" for m in d.messages], width)
    return "\n".join(lines)
