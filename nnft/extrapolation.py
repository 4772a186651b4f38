"""N → ∞ extrapolation of a measured quantity from a width sweep: a weighted polynomial fit in 1/N whose
order the data choose.

    y(N) = c₀ + c₁/N + c₂/N² + … + c_K/N^K,      y(∞) = c₀,

fitted by weighted least squares with the measurements' standard errors (χ² = Σ ((y − fit)/σ)²). Orders
K = 0 … max_order are nested; the chosen order is the smallest one no higher order improves on:
``criterion="aic"`` minimises AIC = χ² + 2(K + 1) (Akaike 1974, the errors taken as known);
``criterion="lr"`` raises K while the likelihood-ratio statistic Δχ² = χ²_K − χ²_{K+1} is significant
(Δχ² ~ χ²(1) under the lower order, level ``alpha``; with known σ this is the nested F-test's limit).
The values are taken as independent (errors) unless their covariance is given (generalised least squares).
The chosen fit's goodness (χ², its p-value) is reported, and a p-value below ``alpha`` is flagged: no
order ≤ max_order describes the data (or the errors are underestimated).

**The order choice is itself uncertain.** ``Extrapolation.value`` is c₀ *of the chosen order*: its error is
conditional on that choice. When a higher term is only marginally resolved it under-covers (measured on
synthetic data, widths 2 … 128, σ = 0.01, y = 1 − 1/N + 0.2/N²: |z| < 2 in 81 % of 2000 draws, not 95 %;
with a further −0.3/N³ term 67 %). ``Extrapolation.averaged`` is the model average over all the fitted orders
with Akaike weights w_K ∝ exp(−AIC_K/2) (Jay & Neil arXiv:2008.01069 eq. 18-20: mean Σ w c₀, variance
Σ w σ² + Σ w c₀² − (Σ w c₀)²), whose error includes the order choice (same draws: 95 %, 94 %; 95-99 % when
the order is clear). Quote ``averaged`` when the orders disagree.

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
      fits: every fit K = 0 … max_order that the data allow (K + 1 ≤ number of widths, and the powers of 1/N
        distinguishable on the widths: design condition number ≤ :data:`MAX_CONDITION`).
      criterion: "aic" or "lr".
      flagged: the chosen fit's p-value is below alpha (the data are not described: a higher order
        is needed or the errors are too small).
      widths: (W,) the widths fitted.
    """

    value: Estimate
    order: int
    fits: tuple[Fit, ...]
    criterion: str
    flagged: bool
    widths: np.ndarray

    @property
    def weights(self) -> np.ndarray:
        """Akaike weights w_K ∝ exp(−AIC_K/2) of the fits K = 0 … (sum 1; arXiv:2008.01069 eq. 18)."""
        a = np.array([f.aic for f in self.fits])
        w = np.exp(-0.5 * (a - a.min()))
        return w / w.sum()

    @property
    def averaged(self) -> Estimate:
        """y(∞) averaged over the fitted orders with the Akaike weights, its error including the spread between
        the orders (the order-choice uncertainty; arXiv:2008.01069 eq. 19-20): scalar Estimate."""
        w = self.weights
        c = np.array([f.coefficients.mean[0] for f in self.fits])
        e = np.array([f.coefficients.stderr[0] for f in self.fits])
        m = float((w * c).sum())
        var = float((w * e ** 2).sum() + (w * (c - m) ** 2).sum())
        return Estimate(m, np.sqrt(var), self.value.n)

    @property
    def chosen(self) -> Fit:
        return self.fits[self.order]

    @property
    def coefficients(self) -> Estimate:
        """c₀ … c_K of the chosen fit (Estimate (K+1,))."""
        return self.chosen.coefficients

    def table(self, width: int | None = None) -> str:
        """Every fit order as text, the chosen one marked (``nnft show``; ``print`` shows it, Jupyter as HTML),
        fitted to ``width`` cells."""
        from nnft.tables import estimate, render, wrap_text
        w = self.widths.astype(int).tolist() if np.all(self.widths == np.round(self.widths)) else self.widths.tolist()
        head = [f"N → ∞ extrapolation in 1/N over widths {w} (order chosen by {self.criterion})"]
        cells = [[str(f.order), estimate(float(f.coefficients.mean[0]), float(f.coefficients.stderr[0])),
                  f"{f.chi2:.3g}/{f.dof}", f"{f.p_value:.3g}", "← chosen" if f.order == self.order else ""]
                 for f in self.fits]
        rows = render(["order", "y(∞) = c0", "χ²/dof", "p", ""], cells, align=[">"] * 4 + ["<"], width=width,
                      minwidth=[5, 22, 12, 8, 0])
        lines = []
        av = self.averaged
        lines.append(f"model average over the orders (Akaike weights {', '.join(f'{w:.2f}' for w in self.weights)}): "
                     f"y(∞) = {estimate(float(av.mean), float(av.stderr))} (its error includes the order choice; the "
                     "chosen order's does not)")
        if self.flagged:
            lines.append("FLAGGED: the chosen fit does not describe the data (p < alpha): raise max_order or check the errors")
        return "\n".join(wrap_text(head, width) + rows + wrap_text(lines, width))

    def __repr__(self) -> str:
        f = self.chosen
        flag = " [FLAGGED: no order fits]" if self.flagged else ""
        return (f"Extrapolation(y(∞) = {self.value!r}, order {self.order} in 1/N ({self.criterion}), "
                f"χ²/dof = {f.chi2:.3g}/{f.dof}, p = {f.p_value:.3g}){flag}")


#: a fit whose (column-scaled) design matrix has a larger condition number is not attempted
MAX_CONDITION = 1e12
#: χ²/dof below this: the values lie on the polynomial to rounding, so they are not independent noisy measurements
EXACT_CHI2 = 1e-12


def _fit(u: np.ndarray, y: np.ndarray, white: np.ndarray, K: int, n: int) -> Fit | None:
    """Generalised least squares in powers of u = 1/N, with u scaled to max 1 (the columns O(1)); ``white`` (W, W)
    whitens the residuals (L⁻¹ of the covariance's Cholesky factor; diag(1/σ) for independent values). None when
    the design is too ill-conditioned for order K (widths too close together for that many powers)."""
    scale = float(u.max())
    A = white @ np.vander(u / scale, K + 1, increasing=True)
    if np.linalg.cond(A) > MAX_CONDITION:
        return None
    b = white @ y
    coef, *_ = np.linalg.lstsq(A, b, rcond=None)
    cov = np.linalg.inv(A.T @ A)
    chi2 = float(((A @ coef - b) ** 2).sum())
    with np.errstate(over="ignore", invalid="ignore"):
        back = scale ** -np.arange(K + 1.0)             # c_k = c_k(scaled) / scale^k
        back2 = np.outer(back, back)
    if not np.all(np.isfinite(back2)):                  # 1/N^K underflows: order K not representable
        return None
    coef, cov = coef * back, cov * back2
    return Fit(order=K, coefficients=Estimate(coef, np.sqrt(np.diag(cov)), n), covariance=cov, chi2=chi2,
               dof=len(y) - K - 1)


def _numbers(value, name: str) -> np.ndarray:
    if isinstance(value, (str, bytes)):
        raise InputError(f"extrapolate: {name} must be numbers, got a string {str(value)[:40]!r}")
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"extrapolate: {name} must be numbers, got {str(value)[:60]}") from None


def extrapolate(widths, values, errors=None, *, covariance=None, max_order: int = MAX_ORDER, criterion: str = "lr",
                alpha: float = 0.01) -> Extrapolation:
    """Extrapolate a measured quantity to N = ∞ by a weighted fit in 1/N, the order chosen by the data.

    Args:
      widths: (W,) widths N > 0, distinct.
      values: (W,) the measured values, or an Estimate of shape (W,) (its stderr used as ``errors``).
      errors: (W,) standard errors, > 0, of *independent* measurements (required unless ``values`` is an
        Estimate or ``covariance`` is given).
      covariance: (W, W) covariance of the values, when they are correlated (e.g. one jackknife over
        widths sharing samples): the fit is then generalised least squares (χ² = rᵀC⁻¹r). Values measured at
        every width from ONE neuron sample (``nnft.neuron_measure(widths=…)``) are exact functions of 1/N
        (κ̂/N for G_c⁽⁴⁾): fully correlated, their covariance is singular and they are refused here.
      max_order: highest power of 1/N considered (≤ W − 1 is used).
      criterion: "lr" (nested likelihood-ratio tests at level ``alpha``: conservative, the default) or
        "aic" (minimum AIC: promotes a spurious order more often, ~16 % per step for a constant).
      alpha: level of the likelihood-ratio tests and of the goodness-of-fit flag.

    Returns:
      :class:`Extrapolation`: y(∞) ± error at the chosen order (conditional on that choice), the model
      average over the orders (``averaged``, its error including the choice), every fit.

    Raises:
      InputError: fewer than 2 widths, repeated or non-positive widths, non-numeric or non-finite values,
        errors not > 0 or of the wrong shape, a singular covariance, values exactly on a polynomial in 1/N
        (χ²/dof < :data:`EXACT_CHI2`: not independent noisy measurements), max_order not an integer ≥ 0, alpha outside (0, 1), an
        unknown criterion.

    Source: the 1/N expansion of correlators (arXiv:2408.00082 eq. 50-51); AIC model averaging as in Jay &
    Neil arXiv:2008.01069 eq. 18-20.
    """
    n = 0
    if isinstance(values, Estimate):
        values, errors, n = values.mean, values.stderr, values.n
    N = _numbers(widths, "widths")
    y = _numbers(values, "values")
    if N.ndim != 1 or y.ndim != 1 or len(N) != len(y) or len(N) < 2:
        raise InputError(f"extrapolate: widths (shape {N.shape}) and values (shape {y.shape}) must be 1-d of one length "
                         "W ≥ 2 (one value per width)")
    if covariance is not None:
        C = _numbers(covariance, "covariance")
        if C.shape != (len(y), len(y)) or not np.all(np.isfinite(C)) or not np.allclose(C, C.T, rtol=1e-10, atol=0):
            raise InputError(f"extrapolate: covariance must be a finite symmetric ({len(y)}, {len(y)}) matrix, got shape {C.shape}")
        s = np.sqrt(np.clip(np.diag(C), 0, None))
        ev = np.linalg.eigvalsh(C / np.outer(np.maximum(s, 1e-300), np.maximum(s, 1e-300)))
        if not np.all(s > 0) or ev[0] <= 1e-10 * ev[-1]:
            raise InputError("extrapolate: covariance is singular (values perfectly correlated, e.g. measured at every "
                             "width from one neuron sample: then they are exact functions of 1/N and the fit has no "
                             "information to choose an order); measure the widths independently")
        white = np.linalg.inv(np.linalg.cholesky(C))
    else:
        if errors is None:
            raise InputError("extrapolate: errors are required (the fit is weighted by the standard errors); pass "
                             "errors=, covariance= or an Estimate")
        s = _numbers(errors, "errors")
        if s.ndim == 0:
            s = np.full(len(y), float(s))
        if s.shape != y.shape:
            raise InputError(f"extrapolate: errors must be one number or one per width (shape ({len(y)},)), got shape {s.shape}")
        white = None
    if not (np.all(np.isfinite(N)) and np.all(N > 0)) or len(np.unique(N)) < len(N):
        raise InputError(f"extrapolate: widths must be distinct, finite and > 0, got {N.tolist()[:10]}")
    if not np.all(np.isfinite(y)):
        raise InputError(f"extrapolate: values must be finite, got {y.tolist()[:10]}")
    if not (np.all(np.isfinite(s)) and np.all(s > 0)):
        raise InputError(f"extrapolate: errors must be finite and > 0 (a zero error would give its point infinite "
                         f"weight), got {s.tolist()[:10]}")
    if white is None:
        white = np.diag(1.0 / s)
    if criterion not in ("aic", "lr"):
        raise InputError(f"extrapolate: criterion must be 'aic' or 'lr', got {criterion!r}")
    if isinstance(max_order, bool) or not isinstance(max_order, (int, np.integer)) or max_order < 0:
        raise InputError(f"extrapolate: max_order must be an integer ≥ 0, got {max_order!r}")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.floating)) or not 0 < alpha < 1:
        raise InputError(f"extrapolate: alpha must be a level in (0, 1) (e.g. 0.01), got {alpha!r}")
    u = 1.0 / N
    top = min(int(max_order), len(N) - 1)
    fits = []
    for K in range(top + 1):
        f = _fit(u, y, white, K, n)
        if f is None:                                   # this and higher orders not resolvable on these widths
            break
        fits.append(f)
    if not fits:
        raise InputError(f"extrapolate: widths {N.tolist()[:10]} cannot be fitted even by a constant")
    exact = next((f for f in fits if f.dof > 0 and f.chi2 < EXACT_CHI2 * f.dof), None)
    if exact is not None:
        raise InputError(f"extrapolate: the values lie exactly on a polynomial of order {exact.order} in 1/N (χ² = "
                         f"{exact.chi2:.2g} for {exact.dof} dof): they are not independent measurements with those errors "
                         "(e.g. nnft.neuron_measure(widths=…) from one neuron sample gives G_c⁽⁴⁾ = κ̂/N exactly at "
                         "every width). Measure the widths independently, or read the coefficients off directly")
    fits = tuple(fits)
    top = len(fits) - 1
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
        try:
            out.append(extrapolate(widths, vals[:, 0], vals[:, 1], **kw))
        except InputError as err:
            where = getattr(sweep.reports[0].rows[j], "points", None)
            raise InputError(f"sweep_limits: row {j}" + (f" (points {where})" if where is not None else "")
                             + f": {err}") from None
    return out
