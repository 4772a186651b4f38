"""Criticality of deep fully-connected networks at infinite width (docs/physics.md §4).

Hanin's indexing: z⁽¹⁾ = W⁽¹⁾x + b⁽¹⁾, z⁽ˡ⁺¹⁾ = W⁽ˡ⁺¹⁾σ(z⁽ˡ⁾) + b⁽ˡ⁺¹⁾, W⁽ˡ⁺¹⁾ ~ N(0, C_W/n_l),
b ~ N(0, C_b). At one input the infinite-width variance obeys

    K⁽ˡ⁺¹⁾ = C_b + C_W ⟨σ²⟩_{K⁽ˡ⁾},        ⟨f⟩_K := E_{u ~ N(0, K)} f(u),

and the two susceptibilities (derivatives of the single- and two-input maps at coincident inputs) are

    χ∥(K) = C_W ⟨σ'² + σσ''⟩_K = d K⁽ˡ⁺¹⁾/d K⁽ˡ⁾,     χ⊥(K) = C_W ⟨σ'²⟩_K.

At the fixed point K* = C_b + C_W⟨σ²⟩_{K*} two inputs of variance K* and correlation c map to

    c' = M(c) = [C_b + C_W E σ(u)σ(v)] / K*,   (u, v) ~ N(0, K*[[1, c], [c, 1]]),
    χ_c(c) = dM/dc = C_W E σ'(u)σ'(v)   (Price's theorem; χ_c(1) = χ⊥(K*)),

(Poole et al. arXiv 1606.05340 eq. 4-5; Schoenholz et al. arXiv 1611.01232 eq. 5, 9). c = 1 is always
a fixed point of M: stable (ordered phase) iff χ⊥(K*) < 1, unstable (chaotic) iff χ⊥(K*) > 1, critical
at χ⊥(K*) = 1. ξ_q = −1/ln χ∥(K*) and ξ_c = −1/ln χ_c(c*) at the *stable* correlation fixed point c*:
c* = 1 in the ordered phase (ξ_c = −1/ln χ⊥(K*); the LH eq. 43 erratum: ξ_c⁻¹ = −ln[…]), and c* < 1 in
the chaotic phase (:func:`correlation_fixed_point`) — never χ⊥(K*) > 1, which would give a negative
"depth".
Known critical points at C_b = 0: ReLU C_W = 2 (every K is then a fixed point), tanh C_W = 1 (K* = 0,
K⁽ˡ⁾ ≈ 1/(2l)), erf C_W = π/4 (K* = 0; χ⊥(0) = C_W σ'(0)² = 4C_W/π).

Activations: a registry name (``"tanh"``), an :class:`~nnft.analytic.activations.Activation`, or a
tuple ``(f, df, d2f)`` of numpy callables (assumed smooth; pass an ``Activation(..., smooth=False)``
for a kink at u = 0). Gaussian expectations are those of ``nnft.analytic.gaussian`` (graded
Gauss–Legendre, ~1e-13 at any K ≤ 10⁴; the same rule as the kernel maps); ReLU uses closed forms. An
activation whose Gaussian integrals do not converge (e.g. exp(u²), or exp(u) at very large K) raises
ValueError.

Modules: ``nnft.analytic.susceptibility`` (⟨σ²⟩, χ∥, χ⊥), ``nnft.analytic.fixed_points`` (K*, c*); this
one classifies the phase, gives the depths, the critical line and the phase diagram. Their names are
importable from here too.
"""

from __future__ import annotations

from nnft.errors import InputError

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from nnft.analytic.activations import Activation, as_activation, is_relu  # noqa: F401 - Activation: C.Activation
from nnft.analytic.activations import is_relu as _is_relu  # noqa: F401 - imported from here by finite_width
from nnft.analytic.fixed_points import (FixedPoint, _check_hyper, correlation_fixed_point,  # noqa: F401
                                        correlation_map, fixed_point, residual_fixed_point)
from nnft.tables import TextTable
from nnft.analytic.susceptibility import chi_parallel, chi_perp, gaussian_expect, sigma2_mean  # noqa: F401

__all__ = [
    "as_activation", "gaussian_expect", "sigma2_mean", "chi_parallel", "chi_perp", "FixedPoint",
    "fixed_point", "residual_fixed_point", "correlation_map", "correlation_fixed_point", "Criticality",
    "criticality", "correlation_depths", "critical_line", "PhaseDiagram", "phase_diagram",
]

#: tolerance deciding χ⊥(K*) = 1 (critical) in :func:`criticality`
CRITICAL_TOL = 1e-9


@dataclass(frozen=True)
class Criticality(TextTable):
    """Fixed point, susceptibilities, depths and phase at (C_W, C_b).

    Attributes:
      fixed: the :class:`FixedPoint`.
      chi_parallel, chi_perp: χ∥(K*), χ⊥(K*) (at a divergent K* the large-K limit for ReLU-like maps).
      xi_q: −1/ln χ∥(K*), the depth over which K⁽ˡ⁾ approaches K* (``inf`` at χ∥ = 1; NaN when
        χ∥ > 1: K* is then not approached, and −1/ln χ∥ would be a negative "depth" — see ``growth_depth``).
      xi_c: −1/ln χ_c(c*), the depth over which correlations approach their stable fixed point c*
        (``inf`` at criticality; NaN when there is no finite K* and so no correlation map).
      phase: ``"ordered"`` (χ⊥ < 1), ``"chaotic"`` (χ⊥ > 1) or ``"critical"`` (|χ⊥ − 1| ≤ tol).
      c_star: the stable correlation fixed point: 1 in the ordered and critical phases, < 1 in the
        chaotic phase (Poole et al. arXiv 1606.05340), NaN without a finite K* > 0.
      chi_c: χ_c(c*) = C_W E σ'(u)σ'(v) (+ γ²) at (K*, c*): χ⊥ when c* = 1.
      note: why c* or ξ_c is not available, else "".
      growth_depth: 1/ln χ∥ when χ∥ > 1, the number of layers over which K⁽ˡ⁾ moves away from K* (or
        grows, K* divergent) by a factor e; NaN when χ∥ ≤ 1 (then ``xi_q`` is the depth).
    """

    fixed: FixedPoint
    chi_parallel: float
    chi_perp: float
    xi_q: float
    xi_c: float
    phase: str
    c_star: float = 1.0
    chi_c: float = math.nan
    note: str = ""
    growth_depth: float = math.nan

    def table(self, width: int | None = None) -> str:
        """K*, χ∥, χ⊥, ξ_q, c*, ξ_c and the phase as text (``print`` shows it, Jupyter as an HTML table)."""
        from nnft.result_tables import criticality as text
        return text(self, header=f"Criticality: {self.phase} phase", width=width)


def _depth(chi: float) -> float:
    """−1/ln χ, the e-folding depth of an approach to a fixed point: 0 at χ ≤ 0, inf at χ = 1, NaN at
    χ > 1 (no approach: the fixed point is unstable; :func:`_growth_depth`)."""
    if chi <= 0:
        return 0.0
    if chi > 1:
        return math.nan
    lg = math.log(chi)
    return math.inf if lg == 0 else -1.0 / lg


def _growth_depth(chi: float) -> float:
    """1/ln χ for χ > 1 (the e-folding depth of a departure from an unstable fixed point), else NaN."""
    return 1.0 / math.log(chi) if chi > 1 else math.nan


def criticality(activation, C_W: float, C_b: float, K0: float = 1.0, *, tol: float = CRITICAL_TOL,
                gamma: float = 0.0) -> Criticality:
    """Fixed point, χ∥, χ⊥, ξ_q, ξ_c and the phase (ordered / chaotic / critical) at (C_W, C_b).

    ``gamma``: residual strength γ (z⁽ˡ⁾ = Wσ(z⁽ˡ⁻¹⁾) + b + γz⁽ˡ⁻¹⁾): the map gains γ²K, so both
    susceptibilities gain γ² (χ∥ = C_W⟨σ'² + σσ''⟩ + γ², χ⊥ = C_W⟨σ'²⟩ + γ²) and K* is
    :func:`residual_fixed_point`.

    Args:
      activation: a registry name, an :class:`Activation` or ``(f, df, d2f)`` (module docstring).
      C_W: weight variance times fan-in (> 0).
      C_b: bias variance (≥ 0).
      K0: the input's variance, where the iteration towards K* starts.
      tol: |χ⊥ − 1| at or below which the phase is "critical".
      gamma: residual strength γ.

    Returns:
      a :class:`Criticality` (ξ_q NaN and ``growth_depth`` = 1/ln χ∥ when χ∥ > 1).

    Raises:
      InputError: C_W, C_b or K0 out of range, or Gaussian integrals of the activation that do not converge
        (``nnft.analytic.gaussian``).

    Source: Poole et al. arXiv:1606.05340 eq. 4-5; Schoenholz et al. arXiv:1611.01232 eq. 5, 9.
    """
    act = as_activation(activation)
    fp = residual_fixed_point(act, C_W, C_b, gamma, K0)
    g2 = float(gamma) ** 2
    if fp.kind == "divergent":
        Kc = 1e6 if not is_relu(act) else 1.0   # ReLU χ's do not depend on K
        try:
            cpar, cperp = float(chi_parallel(act, C_W, Kc)) + g2, float(chi_perp(act, C_W, Kc)) + g2
        except ValueError:
            cpar = cperp = math.inf
    else:
        cpar, cperp = float(chi_parallel(act, C_W, fp.K)) + g2, float(chi_perp(act, C_W, fp.K)) + g2
    if abs(cperp - 1) <= tol:
        phase = "critical"
    else:
        phase = "ordered" if cperp < 1 else "chaotic"
    grow = _growth_depth(cpar)
    if phase != "chaotic":
        return Criticality(fp, cpar, cperp, _depth(cpar), _depth(cperp), phase, 1.0, cperp, growth_depth=grow)
    if fp.kind not in ("finite", "every") or not fp.K > 0:
        return Criticality(fp, cpar, cperp, _depth(cpar), math.nan, phase, math.nan, math.nan,
                           f"no finite K* > 0 ({fp.message}): the correlation map, c* and ξ_c are not defined",
                           growth_depth=grow)
    c_star, chi_c = correlation_fixed_point(act, C_W, C_b, fp.K, gamma=gamma)
    return Criticality(fp, cpar, cperp, _depth(cpar), _depth(chi_c), phase, c_star, chi_c, growth_depth=grow)


def correlation_depths(activation, C_W: float, C_b: float, K0: float = 1.0) -> tuple[float, float]:
    """(ξ_q, ξ_c) = (−1/ln χ∥(K*), −1/ln χ_c(c*)) — see :class:`Criticality` (c* = 1 unless chaotic; ξ_q is
    NaN when χ∥ > 1, K* then not being approached).

    Args:
      activation: as in :func:`criticality`.
      C_W: weight variance times fan-in.
      C_b: bias variance.
      K0: the input's variance.

    Returns:
      (ξ_q, ξ_c), floats (layers).

    Raises:
      InputError: as :func:`criticality`.

    Source: Schoenholz et al. arXiv:1611.01232 eq. 5, 9.
    """
    c = criticality(activation, C_W, C_b, K0)
    return c.xi_q, c.xi_c


def critical_line(activation, C_b_values, *, C_W_bracket=(1e-3, 1e3), K0: float = 1.0,
                  xtol: float = 1e-12) -> np.ndarray:
    """C_W on the critical line χ⊥(K*(C_W, C_b)) = 1 for each C_b (NaN where there is no crossing in
    ``C_W_bracket``). ReLU: C_W = 2 for every C_b (for C_b > 0 K* diverges linearly there).

    Args:
      activation: as in :func:`criticality`.
      C_b_values: bias variances (≥ 0), any shape.
      C_W_bracket: (lo, hi) where the crossing is searched.
      K0: the input's variance.
      xtol: absolute tolerance of the root in C_W.

    Returns:
      array of C_W, the shape of ``C_b_values``.

    Raises:
      InputError: a C_b not finite or negative.

    Source: Poole et al. arXiv:1606.05340; Schoenholz et al. arXiv:1611.01232 (χ⊥ = 1).
    """
    act = as_activation(activation)
    cbs = np.atleast_1d(np.asarray(C_b_values, dtype=np.float64))
    if np.any(~np.isfinite(cbs)) or np.any(cbs < 0):
        raise InputError(f"C_b values must be finite and ≥ 0, got {C_b_values}")
    out = np.full(cbs.shape, np.nan)
    if is_relu(act):
        out[:] = 2.0
        return out.reshape(np.shape(C_b_values))

    for i, cb in enumerate(cbs):
        def h(cw, cb=cb):
            fp = fixed_point(act, cw, cb, K0)
            if fp.kind == "divergent":
                return 1.0
            return float(chi_perp(act, cw, fp.K)) - 1.0

        a, b = C_W_bracket
        ha, hb = h(a), h(b)
        if ha * hb > 0:
            continue
        root = optimize.brentq(h, a, b, xtol=xtol, rtol=4 * np.finfo(float).eps, maxiter=500)
        # At C_b = 0 with σ(0) = 0 the transition is where K* = 0 loses stability: χ⊥(0) = C_W σ'(0)² = 1.
        # On the chaotic side χ⊥(K*) − 1 = O((C_W − C_W*)²) for odd σ (tanh, erf), so the root is flat and
        # Brent's method only gets it to ~1e-8; use the exact value when it is the root found.
        if cb == 0 and float(act.f(np.zeros(1))[0]) == 0:
            s0 = float(act.df(np.zeros(1))[0]) ** 2
            if s0 > 0 and abs(1 / s0 - root) <= 1e-5 * root:
                root = 1 / s0
        out[i] = root
    return out.reshape(np.shape(C_b_values))


@dataclass(frozen=True)
class PhaseDiagram:
    """Arrays on a (C_b, C_W) grid (axis 0: C_b, axis 1: C_W) for plotting.

    Attributes:
      C_b, C_W: the grid vectors.
      K: K* (inf where divergent), chi_parallel, chi_perp, xi_q, xi_c, c_star: as in :class:`Criticality`
        (xi_q NaN where χ∥ > 1).
      phase: integer codes −1 ordered, 0 critical, +1 chaotic.
      critical_C_W: the critical line C_W(C_b) (:func:`critical_line`).
    """

    C_b: np.ndarray
    C_W: np.ndarray
    K: np.ndarray
    chi_parallel: np.ndarray
    chi_perp: np.ndarray
    xi_q: np.ndarray
    xi_c: np.ndarray
    phase: np.ndarray
    critical_C_W: np.ndarray
    c_star: np.ndarray | None = None


def phase_diagram(activation, C_b_grid, C_W_grid, K0: float = 1.0) -> PhaseDiagram:
    """:func:`criticality` on every (C_b, C_W) of the grid plus the critical line.

    Args:
      activation: as in :func:`criticality`.
      C_b_grid: bias variances (axis 0).
      C_W_grid: weight variances (axis 1).
      K0: the input's variance.

    Returns:
      a :class:`PhaseDiagram` of (len(C_b_grid), len(C_W_grid)) arrays.

    Raises:
      InputError: as :func:`criticality`.

    Source: Schoenholz et al. arXiv:1611.01232 (the phase diagram of their Fig. 1).
    """
    act = as_activation(activation)
    cbs = np.asarray(C_b_grid, dtype=np.float64).ravel()
    cws = np.asarray(C_W_grid, dtype=np.float64).ravel()
    shape = (len(cbs), len(cws))
    arrs = {k: np.empty(shape) for k in ("K", "chi_parallel", "chi_perp", "xi_q", "xi_c", "c_star")}
    phase = np.empty(shape, dtype=int)
    code = {"ordered": -1, "critical": 0, "chaotic": 1}
    for i, cb in enumerate(cbs):
        for j, cw in enumerate(cws):
            c = criticality(act, cw, cb, K0)
            arrs["K"][i, j] = c.fixed.K
            arrs["chi_parallel"][i, j] = c.chi_parallel
            arrs["chi_perp"][i, j] = c.chi_perp
            arrs["xi_q"][i, j] = c.xi_q
            arrs["xi_c"][i, j] = c.xi_c
            arrs["c_star"][i, j] = c.c_star
            phase[i, j] = code[c.phase]
    return PhaseDiagram(cbs, cws, phase=phase, critical_C_W=critical_line(act, cbs, K0=K0), **arrs)
