"""λ sweeps of a perturbative comparison (``nnft.compare``, ``nnft perturb``): the reweighted Monte
Carlo shift δG = ⟨φφ⟩_λ − ⟨φφ⟩_0 against λ with the first-order line λ·c1(N) and the N = ∞ formula
(TASI arXiv:2408.00082 §5.2; docs/perturbation.md)."""

from __future__ import annotations

import numpy as np

from nnft.errors import InputError
from nnft.plot.base import dataset, finish, new_axes, spec_name


def lambda_sweep(result, series=None, ax=None, path=None):
    """−δ against λ (log-log when every value is positive), one colour per tuple, with error bars and
    first order (finite-N exact, solid, gid ``first order <series> <observable>``) and the N = ∞
    formula (dashed, gid ``gaussian ...``) at the same λ.

    Args:
      result: a Comparison or its Dataset (``nnft.load_result``).
      series: tuple indices to draw (default: all).
      ax: axes to draw into.
      path: file to write (.png, .pdf or .svg).

    Returns:
      the matplotlib Figure. Plotted values are −shift, ±``shift_stderr``; lines −first_order, −gaussian.
    """
    ds, kind = dataset(result)
    if kind != "Comparison":
        raise InputError(f"lambda_sweep plots a Comparison, got {kind}")
    given = ax
    fig, (ax,) = new_axes(ax, size=(6.4, 4.4))
    lam_all = ds["lam"].values
    ser, obs = ds["series"].values, ds["observable"].values
    chosen = sorted(set(int(s) for s in ser)) if series is None else list(series)
    positive, k = True, 0
    for i in chosen:
        for o in sorted(set(str(v) for v in obs[ser == i])):
            sel = np.flatnonzero((ser == i) & (obs == o))
            sel = sel[np.argsort(lam_all[sel], kind="stable")]
            lam = lam_all[sel]
            m, e = -ds["shift"].values[sel], ds["shift_stderr"].values[sel]
            col = f"C{k % 10}"
            k += 1
            n = int(ds["order"].values[sel[0]])
            pts = "; ".join(",".join(f"{c:g}" for c in p) for p in ds["points"].values[sel[0], :n])
            ax.errorbar(lam, m, e, fmt="o", color=col, capsize=3, label=f"MC −{o}({pts}) ± 1 s.e.",
                        gid=f"estimate {i} {o}")
            positive &= bool(np.all(m > 0))
            for var, style, what in (("first_order", "-", "first order, c1(N) exact"),
                                     ("gaussian", "--", "first order, N = ∞ formula")):
                has = ds[f"has_{var}"].values[sel]
                if has.any():
                    y = -np.where(has, ds[var].values[sel], np.nan)
                    tag = "first order" if var == "first_order" else "gaussian"
                    ax.plot(lam, y, style, color=col, lw=1, gid=f"{tag} {i} {o}", label=what if k == 1 else None)
                    positive &= bool(np.all(y[has] > 0))
    if positive and lam_all.min() > 0:
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlabel(f"coupling λ ({ds.attrs.get('coupling', 'λ')})")
    ax.set_ylabel("−δ = −(⟨·⟩_λ − ⟨·⟩_0)  (shift under the insertion)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    return finish(fig, path, (spec_name(ds) + ": " if spec_name(ds) else "") + "reweighted MC vs first order", ax=given)
