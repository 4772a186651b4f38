"""N → ∞ extrapolation of a measured quantity from a width sweep: a weighted polynomial fit in 1/N whose
order the data choose.

    y(N) = c₀ + c₁/N + c₂/N² + … + c_K/N^K,      y(∞) = c₀,

fitted by weighted least squares with the measurements' standard errors (χ² = Σ ((y − fit)/σ)²). Orders
K = 0 … max_order are nested; the chosen order is the smallest one no higher order improves on:
``criterion="aic"`` minimises AIC = χ² + 2(K + 1) (Akaike 1974, the errors taken as known);
``criterion="lr"`` raises K while the likelihood-ratio statistic Δχ² = χ²_K − χ²_{K+1} is significant
(Δχ² ~ χ²(1) under the lower order, level ``alpha``; with known σ this is the nested F-test's limit).
The chosen fit's goodness (χ², its p-value) is reported, and a p-value below ``alpha`` is flagged: no
order ≤ max_order describes the data (or the errors are underestimated).

For a neuron sum the expansion is known exactly (TASI arXiv:2408.00082 eq. 50-51): G2 is independent
of N (K = 0) and G_c⁽⁴⁾ = κ/N exactly (K = 1, c₀ = 0); the fit recovering those is a check of the data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnft.errors import InputError
from nnft.stats import Estimate
from nnft.tables import TextTable

__all__ = ["Extrapolation", "extrapolate", "sweep_limits"]

#: highest order of 1/N fitted by default
MAX_ORDER = 3


@dataclass(frozen=True)
class Fit:
    """One weighted polynomial fit in 1/N: coefficients c₀..c_K (Estimate), their covariance, χ², dof."""

    order: int
    coefficients: Estimate
    covariance: np.ndarray
    chi2: float
    dof: int

    @property
    def aic(self) -> float:
        return self.chi2 + 2.0 * (self.order + 1)

    @property
    def p_value(self) -> float:
        """P(χ²_dof ≥ χ²): the goodness of fit (1.0 when dof = 0)."""
        from scipy.stats import chi2
        return float(chi2.sf(self.chi2, self.dof)) if self.dof > 0 else 1.0


@dataclass(frozen=True)
class Extrapolation(TextTable):
    """The N → ∞ value of a quantity from a width sweep.

    Attributes:
      value: y(∞) = c₀ of the chosen fit, an Estimate (scalar).
      order: the chosen order K.
      fits: every fit K = 0 … max_order that the data allow (K + 1 ≤ number of widths).
      criterion: "aic" or "lr".
      flagged: the chosen fit's p-value is below alpha (the data are not described: a higher order
        is needed or the errors are too small).
    """

    value: Estimate
    order: int
    fits: tuple[Fit, ...]
    criterion: str
    flagged: bool
    widths: np.ndarray

    @property
    def chosen(self) -> Fit:
        return self.fits[self.order]

    @property
    def coefficients(self) -> Estimate:
        """c₀ … c_K of the chosen fit (Estimate (K+1,))."""
        return self.chosen.coefficients

    def table(self) -> str:
        """Every fit order as text, the chosen one marked (``nnft show``)."""
        from nnft.stats import format_value
        lines = [f"N → ∞ extrapolation in 1/N over widths {self.widths.astype(int).tolist() if np.all(self.widths == np.round(self.widths)) else self.widths.tolist()} "
                 f"(order chosen by {self.criterion})", f"{'order':>5}  {'y(∞) = c0':>22}  {'χ²/dof':>12}  {'p':>8}"]
        for f in self.fits:
            mark = "  ← chosen" if f.order == self.order else ""
            c0 = format_value(float(f.coefficients.mean[0]), float(f.coefficients.stderr[0]))
            lines.append(f"{f.order:>5}  {c0:>22}  {f'{f.chi2:.3g}/{f.dof}':>12}  {f.p_value:>8.3g}{mark}")
        if self.flagged:
            lines.append("FLAGGED: the chosen fit does not describe the data (p < alpha): raise max_order or check the errors")
        return "\n".join(lines)

    def __repr__(self) -> str:
        f = self.chosen
        flag = " [FLAGGED: no order fits]" if self.flagged else ""
        return (f"Extrapolation(y(∞) = {self.value!r}, order {self.order} in 1/N ({self.criterion}), "
                f"χ²/dof = {f.chi2:.3g}/{f.dof}, p = {f.p_value:.3g}){flag}")


def _fit(u: np.ndarray, y: np.ndarray, s: np.ndarray, K: int, n: int) -> Fit:
    A = np.vander(u, K + 1, increasing=True) / s[:, None]
    b = y / s
    coef, *_ = np.linalg.lstsq(A, b, rcond=None)
    cov = np.linalg.inv(A.T @ A)
    chi2 = float(((A @ coef - b) ** 2).sum())
    return Fit(order=K, coefficients=Estimate(coef, np.sqrt(np.diag(cov)), n), covariance=cov, chi2=chi2,
               dof=len(y) - K - 1)


def extrapolate(widths, values, errors=None, *, max_order: int = MAX_ORDER, criterion: str = "lr",
                alpha: float = 0.01) -> Extrapolation:
    """Extrapolate a measured quantity to N = ∞ by a weighted fit in 1/N, the order chosen by the data.

    Args:
      widths: (W,) widths N > 0, distinct.
      values: (W,) the measured values, or an Estimate of shape (W,) (its stderr used as ``errors``).
      errors: (W,) standard errors, > 0 (required unless ``values`` is an Estimate).
      max_order: highest power of 1/N considered (≤ W − 1 is used).
      criterion: "lr" (nested likelihood-ratio tests at level ``alpha``: conservative, the default) or
        "aic" (minimum AIC: promotes a spurious order more often, ~16 % per step for a constant).
      alpha: level of the likelihood-ratio tests and of the goodness-of-fit flag.

    Returns:
      :class:`Extrapolation`: y(∞) ± error, the chosen order, every fit.

    Raises:
      InputError: fewer than 2 widths, repeated or non-positive widths, non-positive or non-finite errors,
        an unknown criterion.
    """
    n = 0
    if isinstance(values, Estimate):
        values, errors, n = values.mean, values.stderr, values.n
    N = np.asarray(widths, dtype=np.float64).ravel()
    y = np.asarray(values, dtype=np.float64).ravel()
    if errors is None:
        raise InputError("extrapolate: errors are required (the fit is weighted by the standard errors); pass "
                         "errors= or an Estimate")
    s = np.broadcast_to(np.asarray(errors, dtype=np.float64), y.shape).ravel()
    if len(N) != len(y) or len(N) < 2:
        raise InputError(f"extrapolate: widths ({len(N)}) and values ({len(y)}) must match, at least 2")
    if not (np.all(np.isfinite(N)) and np.all(N > 0)) or len(np.unique(N)) < len(N):
        raise InputError(f"extrapolate: widths must be distinct and > 0, got {N.tolist()}")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(s)) and np.all(s > 0)):
        raise InputError("extrapolate: values must be finite and errors finite and > 0")
    if criterion not in ("aic", "lr"):
        raise InputError(f"extrapolate: criterion must be 'aic' or 'lr', got {criterion!r}")
    if int(max_order) < 0:
        raise InputError(f"extrapolate: max_order must be ≥ 0, got {max_order}")
    u = 1.0 / N
    top = min(int(max_order), len(N) - 1)
    fits = tuple(_fit(u, y, s, K, n) for K in range(top + 1))
    if criterion == "aic":
        order = int(np.argmin([f.aic for f in fits]))
    else:
        from scipy.stats import chi2
        order = 0
        while order < top and chi2.sf(fits[order].chi2 - fits[order + 1].chi2, 1) < alpha:
            order += 1
    f = fits[order]
    value = Estimate(f.coefficients.mean[0], f.coefficients.stderr[0], n)
    return Extrapolation(value=value, order=order, fits=fits, criterion=criterion,
                         flagged=bool(f.p_value < alpha), widths=N)


def sweep_limits(sweep, which: str = "connected", **kw) -> list[Extrapolation]:
    """The N → ∞ value of every row of a width sweep (``nnft.run_sweep(spec, "N", [...])``,
    ``nnft run SPEC --set N=4,8,16``): :func:`extrapolate` of the Monte Carlo G⁽ⁿ⁾ (``which="full"``) or
    G_c⁽ⁿ⁾ (``"connected"``) of each point tuple over the swept widths.

    Args:
      sweep: a :class:`~nnft.sweep.Sweep` over a size (its ``values`` the widths).
      kw: passed to :func:`extrapolate` (``max_order``, ``criterion``, ``alpha``).

    Returns:
      one :class:`Extrapolation` per row, in the rows' order.

    Raises:
      InputError: ``which`` unknown, or swept values that are not widths (positive numbers).
    """
    if which not in ("full", "connected"):
        raise InputError(f"sweep_limits: which must be 'full' or 'connected', got {which!r}")
    try:
        widths = np.asarray([float(v) for v in sweep.values])
    except (TypeError, ValueError):
        raise InputError(f"sweep_limits: the sweep of {sweep.name!r} has values {list(sweep.values)[:5]} that are not "
                         "widths; sweep a size (e.g. N=4,8,16)") from None
    n_rows = len(sweep.reports[0].rows)
    out = []
    for j in range(n_rows):
        vals = np.array([getattr(rep.rows[j], which) for rep in sweep.reports], dtype=np.float64)   # (W, 2)
        out.append(extrapolate(widths, vals[:, 0], vals[:, 1], **kw))
    return out
