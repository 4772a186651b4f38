"""Power spectra (``nnft.power_spectrum``, ``nnft spectrum``): G̃(p) against |p| with error bars, the theory of the
same estimator (window average or exact lattice expectation) as crosses and the continuum closed form as a line
(TASI arXiv:2408.00082 eq. 72-74 for the Scalar-net; docs/spectrum.md)."""

from __future__ import annotations

import numpy as np

from nnft.errors import InputError
from nnft.plot.base import dataset, finish, new_axes, spec_name


def spectrum(result, path=None, ax=None, log: bool = True, continuum: bool = True, label: str | None = None):
    """G̃(p) against |p|: Monte Carlo ± one standard error, the estimator's theory (crosses), the continuum (line).

    Args:
      result: a PowerSpectrum or its Dataset (``nnft.load_result``).
      path: write the figure there (.png, .pdf or .svg).
      ax: draw on these axes.
      log: logarithmic G̃ axis (positive values only are drawn there).
      continuum: draw the continuum closed form (off for a second result on the same axes).
      label: the legend name of this result (default: its route).

    Returns:
      the matplotlib Figure (artists with gid "mc", "theory", "continuum").
    """
    ds, kind = dataset(result)
    if kind != "PowerSpectrum":
        raise InputError(f"spectrum plots a PowerSpectrum, got {kind}")
    fig, (axis,) = new_axes(ax)
    p = np.linalg.norm(np.asarray(ds["p"].values, dtype=np.float64), axis=1)
    order = np.argsort(p, kind="stable")
    p = p[order]
    mc, err = ds["spectrum"].values[order], ds["stderr"].values[order]
    eb = axis.errorbar(p, mc, yerr=err, fmt="o", ms=3, capsize=2, label=f"Monte Carlo ({label or ds.attrs['route']})")
    eb[0].set_gid("mc")
    th = ds["theory"].values[order]
    if np.any(np.isfinite(th)):
        (line,) = axis.plot(p, th, "x", color=eb[0].get_color(), label=f"theory of the estimator ({label or ds.attrs['route']})")
        line.set_gid("theory")
    co = ds["continuum"].values[order]
    if continuum and np.any(np.isfinite(co)):
        (line,) = axis.plot(p, co, "k-", lw=0.8, label="continuum G̃(p)")
        line.set_gid("continuum")
    if log and np.any(mc > 0):
        axis.set_yscale("log")
    axis.set_xlabel("|p|")
    axis.set_ylabel("G̃(p)")
    axis.legend(fontsize=8)
    return finish(fig, path, spec_name(ds) or None, ax=ax)
