"""Figures of correlator results: G⁽²⁾ against |x − y| (a Report or Correlators), the other orders row
by row, width sweeps of neuron-level estimates with 1/N and 1/N² guides, and ``--set`` sweeps.

Error bars are one standard error (the delete-one-block jackknife, :mod:`nnft.stats`); theory is
drawn as a black line through the reference values the result carries.
"""

from __future__ import annotations

import numpy as np

from nnft.errors import InputError
from nnft.plot.base import dataset, finish, new_axes, spec_name

_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _label(n: int, connected: bool) -> str:
    return f"G_c⁽{n}⁾".translate(_SUP) if connected else f"G⁽{n}⁾".translate(_SUP)


def _separation(ds, dim: str) -> np.ndarray:
    """|x − y| of the order-2 entries along ``dim`` (NaN elsewhere)."""
    pts = ds["points"].values
    return np.linalg.norm(pts[:, 1] - pts[:, 0], axis=-1) if pts.shape[1] >= 2 else np.full(len(pts), np.nan)


def two_point(result, ax=None, path=None, exact=None, curve=None):
    """G⁽²⁾(x, y) against the separation r = |x − y| with error bars and the theory curve.

    Args:
      result: a Report (``nnft.run``), Correlators with known tuples, or the Dataset of either
        (``nnft.results.to_dataset``, ``nnft.load_result``); only its order-2 entries are drawn.
      ax: draw into these axes (default: a new figure).
      path: write the figure there (.png, .pdf or .svg).
      exact: optional theory values (length = number of order-2 entries) for results that carry none
        (Correlators); a Report's ``G_theory`` column is used otherwise.
      curve: optional (r, G) arrays of a finer theory curve, drawn instead of the line through the
        entries' theory values (e.g. ``nnft.exact`` on 200 separations).

    Returns:
      the matplotlib Figure. Error bars: ``G_stderr``; theory line: ``G_theory`` sorted by r.

    Raises:
      InputError: no order-2 entries with points.
    """
    ds, kind = dataset(result)
    dim = "row" if kind == "Report" else "tuple"
    if kind not in ("Report", "Correlators") or "points" not in ds:
        raise InputError(f"two_point plots a Report or Correlators with points, got {kind}")
    sel = np.flatnonzero(ds["order"].values == 2)
    if not len(sel):
        raise InputError("the result has no order-2 entries (G⁽²⁾) to plot")
    given = ax
    fig, (ax,) = new_axes(ax)
    r = _separation(ds, dim)[sel]
    order = np.argsort(r, kind="stable")
    r, sel = r[order], sel[order]
    G, err = ds["G"].values[sel], ds["G_stderr"].values[sel]
    theory = None
    if exact is not None:
        theory = np.asarray(exact, dtype=np.float64).ravel()[order]
    elif "G_theory" in ds and bool(np.any(ds["has_theory"].values[sel])):
        theory = np.where(ds["has_theory"].values[sel], ds["G_theory"].values[sel], np.nan)
    if curve is not None:
        ax.plot(np.asarray(curve[0], dtype=np.float64), np.asarray(curve[1], dtype=np.float64), "k-", lw=1.2,
                label="theory", gid="theory")
    elif theory is not None:
        ax.plot(r, theory, "k-", lw=1.2, label="theory", gid="theory")
    n_samples = ds.attrs.get("samples", "?")
    ax.errorbar(r, G, err, fmt="o", ms=4, capsize=3, color="C0", label=f"Monte Carlo ± 1 s.e. (n = {n_samples})",
                gid="estimate")
    ax.axhline(0.0, color="0.6", lw=0.6)
    ax.set_xlabel("separation r = |x − y|  (input units)")
    ax.set_ylabel("G⁽²⁾(x, y)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return finish(fig, path, spec_name(ds) or None, ax=given)


def report(result, path=None):
    """A Report: G⁽²⁾ against |x − y| (:func:`two_point`) and one panel per higher order with the
    connected G_c⁽ⁿ⁾ of each row (error bars ``G_c_stderr``, theory ``G_c_theory`` as black crosses).

    Args:
      result: a Report or its Dataset (``nnft.load_result``).
      path: write the figure there (.png, .pdf or .svg).

    Returns:
      the matplotlib Figure.
    """
    ds, kind = dataset(result)
    if kind != "Report":
        raise InputError(f"report plots a Report, got {kind}")
    orders = sorted({int(n) for n in ds["order"].values})
    two = 2 in orders and "points" in ds
    others = [n for n in orders if n != 2 or not two]
    fig, axes = new_axes(None, ncols=int(two) + len(others))
    if two:
        two_point(ds, ax=axes[0])
    for ax, n in zip(axes[int(two):], others):
        sel = np.flatnonzero(ds["order"].values == n)
        x = np.arange(len(sel))
        ax.errorbar(x, ds["G_c"].values[sel], ds["G_c_stderr"].values[sel], fmt="o", ms=4, capsize=3, color="C0",
                    label="Monte Carlo ± 1 s.e.", gid="estimate")
        has = ds["has_theory_connected"].values[sel]
        if has.any():
            ax.plot(x, np.where(has, ds["G_c_theory"].values[sel], np.nan), "kx", ms=7, label="theory", gid="theory")
        if "G_c_neuron" in ds and ds["has_neuron"].values[sel].any():
            ax.errorbar(x + 0.15, ds["G_c_neuron"].values[sel], ds["G_c_neuron_stderr"].values[sel], fmt="s", ms=4,
                        mfc="none", capsize=3, color="C3", label="neuron level ± 1 s.e.", gid="neuron")
        ax.axhline(0.0, color="0.6", lw=0.6)
        ax.set_xticks(x, [str(int(i)) for i in ds["row"].values[sel]])
        ax.set_xlabel("row of the table")
        ax.set_ylabel(_label(n, True))
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    return finish(fig, path, spec_name(ds) or None)


def width_sweep(result, tuple_index=None, connected: bool = True, exact=None, ax=None, path=None):
    """Correlators against the width N (log-log) with ∝ 1/N and ∝ 1/N² guide lines, one colour per tuple.

    Args:
      result: WidthCorrelators (``nnft.neuron_measure(..., widths=...)``) or its Dataset.
      tuple_index: which tuple(s) to draw: an int, a list of ints, or None (default: every tuple, up to 6).
      connected: G_c⁽ⁿ⁾ (default; its non-Gaussian part falls like 1/N, TASI arXiv:2408.00082
        eq. 50-51) or the full G⁽ⁿ⁾.
      exact: optional theory at the same widths: an Exact (``nnft.exact(model, tuples, widths=...)``),
        its Dataset, an array (W,) (one tuple drawn) or (W, T) (every tuple).
      ax: axes to draw into.
      path: file to write (.png, .pdf or .svg).

    Returns:
      the matplotlib Figure. The guides pass through each tuple's estimate at the smallest width:
      y₀·N₀/N and y₀·(N₀/N)². Artist gids: "estimate", "theory", "1/N", "1/N²" when one tuple is drawn,
      else the same with the tuple index appended ("estimate 1").

    Raises:
      InputError: not a WidthCorrelators, a tuple index out of range, or a 1-D ``exact`` with several tuples.
    """
    ds, kind = dataset(result)
    if kind != "WidthCorrelators":
        raise InputError(f"width_sweep plots WidthCorrelators, got {kind}")
    name = "G_c" if connected else "G"
    N = ds["width"].values.astype(np.float64)
    T = int(ds[name].shape[1])
    picked = list(range(min(6, T))) if tuple_index is None else \
        [int(tuple_index)] if np.ndim(tuple_index) == 0 else [int(i) for i in tuple_index]
    if not picked or any(not 0 <= i < T for i in picked):
        raise InputError(f"tuple_index must pick tuples among 0..{T - 1}, got {tuple_index}")
    one = len(picked) == 1
    if exact is not None:
        import xarray as xr
        if not isinstance(exact, np.ndarray) and not isinstance(exact, (list, tuple)):
            eds = exact if isinstance(exact, xr.Dataset) else dataset(exact)[0]
            exact = eds[f"{name}_exact"].values
        exact = np.asarray(exact, dtype=np.float64)
        if exact.ndim == 1:
            if not one:
                raise InputError(f"exact of shape {exact.shape} is one tuple's theory: pick that tuple with "
                                 f"tuple_index, or give shape (W, T) = ({len(N)}, {T})")
            exact = np.repeat(exact[:, None], T, axis=1)
    given = ax
    fig, (ax,) = new_axes(ax)
    positive = True
    for k, i in enumerate(picked):
        tag = "" if one else f" {i}"
        col = f"C{k % 10}"
        y = ds[name].values[:, i]
        e = ds[f"{name}_stderr"].values[:, i]
        n = int(ds["order"].values[i])
        pts = ("; ".join(",".join(f"{c:g}" for c in p) for p in ds["points"].values[i, :n])
               if "points" in ds else "")
        what = f"{_label(n, connected)}({pts})" if pts else f"{_label(n, connected)}  (tuple {i})"
        if exact is not None:
            ax.plot(N, exact[:, i], "-", color="k" if one else col, lw=1.2, label="theory" if k == 0 else None,
                    gid="theory" + tag)
        ax.errorbar(N, y, e, fmt="o", ms=5, capsize=3, color=col,
                    label="neuron level ± 1 s.e." if one else
                    f"tuple {i}: {_label(n, connected)}" + (f"({pts})" if pts else ""), gid="estimate" + tag)
        y0, N0 = float(y[0]), float(N[0])
        guide = "0.45" if one else col
        ax.plot(N, y0 * N0 / N, "--", color=guide, lw=1, label="∝ 1/N" if k == 0 else None, gid="1/N" + tag)
        ax.plot(N, y0 * (N0 / N) ** 2, ":", color=guide, lw=1, label="∝ 1/N²" if k == 0 else None, gid="1/N²" + tag)
        positive = positive and bool(np.all(y > 0))
    if positive:
        ax.set_yscale("log")
    _width_ticks(ax, N)
    ax.set_xlabel("width N (neurons)")
    if one:
        ax.set_ylabel(what)
    else:
        ax.set_ylabel(f"{'connected' if connected else 'full'} correlator (neuron level ± 1 s.e.)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8 if one else 7)
    return finish(fig, path, spec_name(ds) or None, ax=given)


def _width_ticks(ax, x):
    """Log x axis ticked at the drawn values only, as plain numbers (no colliding 3×10¹ minor labels)."""
    from matplotlib.ticker import NullFormatter
    ax.set_xscale("log")
    ax.set_xticks(x, [f"{int(v)}" if float(v).is_integer() else f"{v:g}" for v in x], fontsize=8)
    ax.xaxis.set_minor_locator(_null())
    ax.xaxis.set_minor_formatter(NullFormatter())


def _null():
    from matplotlib.ticker import NullLocator
    return NullLocator()


def sweep(result, rows=None, ax=None, path=None):
    """A ``--set NAME=v1,v2,...`` sweep: each row's correlator against the swept value with theory.

    G⁽²⁾ is drawn for order-2 rows, the connected G_c⁽ⁿ⁾ for higher orders.

    Args:
      result: a Sweep (``nnft.run_sweep``, ``nnft run --set N=8,16,32``) or its Dataset.
      rows: row indices to draw (default: up to 6 of them).
      ax: axes to draw into.
      path: file to write (.png, .pdf or .svg).

    Returns:
      the matplotlib Figure (error bars ``*_stderr``; theory lines with gid ``theory <row>``).
    """
    ds, kind = dataset(result)
    if kind != "Sweep":
        raise InputError(f"sweep plots a Sweep, got {kind}")
    values = ds["value"].values
    numeric = values.dtype.kind in "fiu"
    x = values.astype(np.float64) if numeric else np.arange(len(values), dtype=np.float64)
    rows = list(range(min(6, ds.sizes["row"]))) if rows is None else list(rows)
    given = ax
    fig, (ax,) = new_axes(ax)
    for k, i in enumerate(rows):
        n = int(ds["order"].values[i])
        name = "G" if n == 2 else "G_c"
        col = f"C{k % 10}"
        pts = "; ".join(",".join(f"{c:g}" for c in p) for p in ds["points"].values[i, :n])
        ax.errorbar(x, ds[name].values[:, i], ds[f"{name}_stderr"].values[:, i], fmt="o", ms=4, capsize=3,
                    color=col, label=f"{_label(n, name == 'G_c')}({pts})", gid=f"estimate {i}")
        has = ds["has_theory" if name == "G" else "has_theory_connected"].values[:, i]
        if has.any():
            th = np.where(has, ds[f"{name}_theory"].values[:, i], np.nan)
            ax.plot(x, th, "-", color=col, lw=1, gid=f"theory {i}", label="theory" if k == 0 else None)
    if not numeric:
        ax.set_xticks(x, [str(v) for v in values])
    elif np.all(x > 0) and x.max() / x.min() >= 8:
        _width_ticks(ax, x)
    ax.set_xlabel(f"{ds.attrs.get('swept', 'value')} (swept)")
    ax.set_ylabel("correlator (Monte Carlo ± 1 s.e.; lines: theory)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    return finish(fig, path, spec_name(ds) or None, ax=given)
