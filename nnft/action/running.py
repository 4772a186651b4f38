"""The running quartic coupling of Halverson–Maiti–Stoner (arXiv:2008.08601 §4-5): λ(Λ) of a local φ⁴
term fitted to the measured 4-point function with the interaction integrated over a box [−Λ, Λ]ᵈ.

With S = S_GP + (λ/4!) ∫_{[−Λ,Λ]ᵈ} dᵈx φ(x)⁴ (nnft's convention, as ``nnft.action.quartic``), first-order
perturbation theory gives ΔG⁽⁴⁾(x₁..x₄) = G⁽⁴⁾ − G⁽⁴⁾_GP = −λ ∫_{[−Λ,Λ]ᵈ} dᵈx Π_{i=1..4} K(x, x_i), so

    λ(Λ) = −ΔG⁽⁴⁾(x₁..x₄) / I(Λ),      I(Λ) = ∫_{[−Λ,Λ]ᵈ} dᵈx Π_i K(x, x_i),

G⁽⁴⁾ measured, G⁽⁴⁾_GP the Wick sum of the NNGP kernel K (2008.08601 §4-5, the cutoffs 7 … 10⁵ of its
running-coupling figures; conventions differing by the constant 4! or the sign leave the slope unchanged).

**Which kernel on the legs.** By default the legs are the full NNGP kernel K, the propagator of S_GP. A
readout bias b ~ N(0, σ_b²) adds σ_b² to K but is an independent Gaussian that takes no part in the
interaction; the public reimplementation of the paper's experiment by Erbin, Lahoche and Ousmane Samary
(arXiv:2108.01403, code HaroldErbin/nnqft) puts K − σ_b² on the legs (and the full K in the Wick sum).
``bias_variance=σ_b²`` does that. The choice matters for the slope: the Gauss-net's bias-free kernel decays,
so I(Λ) converges and λ(Λ) tends to a constant (asymptotic slope 0), while the full kernel tends to σ_b²
(slope −d). Erf (the arcsine part tends to a constant) and the bias-free ReLU are unaffected.

**The slope is the quadrature's.** ΔG⁽⁴⁾ does not depend on Λ, so d log|λ|/d log Λ = −d log I/d log Λ for
every tuple: the Monte Carlo error moves each tuple's intercept, never its slope. If |K(x, x_i)| ~ |x|^{a_i}
as |x| → ∞ on the side that dominates, I(Λ) ~ Λ^{Σa_i + d}, so λ ~ Λ^{−(Σa_i + d)}: Gauss-net and Erf
kernels tend to constants (a = 0, slope −d), the bias-free ReLU kernel grows linearly (a = 1, slope
−(4 + d)). :attr:`RunningCoupling.asymptotic_slope` reads the a_i off the kernel at the largest cutoff.

Implemented for d = 1 inputs (the paper's main experiments); I(Λ) by composite Gauss–Legendre on panels
graded away from 0 and the inputs (``nnft.analytic._quad``), checked against a lower order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnft.action.lattice import check_points, sorted_tuples
from nnft.errors import EstimatorError, InputError, KernelError
from nnft.stats import Estimate
from nnft.tables import TextTable

__all__ = ["PAPER_CUTOFFS", "RunningCoupling", "running_coupling", "cutoff_integrals", "kernel_cross", "check_cutoffs"]

#: the cutoffs Λ of 2008.08601's running-coupling experiments
PAPER_CUTOFFS = (7, 10, 15, 20, 30, 40, 50, 70, 100, 200, 500, 1000, 2000, 5000, 7000, 10_000, 20_000,
                 40_000, 60_000, 80_000, 100_000)
#: Gauss–Legendre orders per panel: the result and the one it is checked against
ORDER, CHECK_ORDER = 24, 16
#: relative agreement of the two orders required, else the integral is refused
QUAD_TOL = 1e-9
#: a tuple enters the slope fit when its ΔG4 is resolved: |ΔG4| ≥ RESOLVED standard errors
RESOLVED = 3.0
#: largest cutoff accepted
MAX_CUTOFF = 1e7


def kernel_cross(model, grid: np.ndarray, xs: np.ndarray, block: int = 256) -> np.ndarray:
    """K(g, x_i) for grid points (G, d) and inputs (P, d) -> (G, P): the kernel map (``nnft.kernels``), with
    entries the graph's recursion cannot represent (overflow, e.g. exp(|x|²)·exp(−|x|²) of the Gauss-net at
    |x| ≳ 26) taken from the neuron reference's exact G2 (``nnft.exact``; exact at every width for
    single-layer nets).

    Args:
      model: a compiled theory.
      grid: (G, d) grid points.
      xs: (P, d) inputs.
      block: grid points per kernel evaluation (memory only).

    Returns:
      (G, P) array K(g, x_i) (units φ²); not from a paper: the kernel map evaluated on a grid.

    Raises:
      KernelError: no kernel map and no reference, or non-finite values neither can replace.
    """
    from nnft.kernels_reference import kernels_or_reference
    out = np.empty((len(grid), len(xs)))
    for i in range(0, len(grid), block):
        A = grid[i:i + block]
        with np.errstate(all="ignore"):
            out[i:i + len(A)] = kernels_or_reference(model, np.concatenate([A, xs])).nngp[:len(A), len(A):]
    bad = np.argwhere(~np.isfinite(out))
    if len(bad):
        from nnft.reference import exact
        try:
            vals = exact(model, [np.stack([grid[g], xs[p]]) for g, p in bad]).full[0]
        except EstimatorError as err:
            raise KernelError(f"the kernel map is not finite at {len(bad)} (point, input) pairs (largest |x| "
                              f"{float(np.abs(grid[bad[:, 0]]).max()):.3g}) and no reference replaces it: {err}") from None
        out[bad[:, 0], bad[:, 1]] = vals
        if not np.all(np.isfinite(out)):
            raise KernelError("the kernel is not finite on the cutoff box, even from the neuron reference")
    return out


def _breaks(cutoffs: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Panel ends on [−Λmax, Λmax]: graded away from 0 (width ≤ max(0.05, |x|)), with every input and
    every ±cutoff a break."""
    from nnft.analytic._quad import panel_breaks
    lmax = float(cutoffs.max())
    g = panel_breaks(lmax, 0.05, lmax)
    br = np.unique(np.concatenate([-g, g, cutoffs, -cutoffs, xs.ravel()]))
    return br[(br >= -lmax) & (br <= lmax)]


def cutoff_integrals(model, xs, quads, cutoffs, bias_variance: float = 0.0) -> np.ndarray:
    """I(Λ) = ∫_{−Λ}^{Λ} dx Π_{i∈q} (K(x, x_{q_i}) − bias_variance) per cutoff and index tuple q: (C, Q), d = 1
    (arXiv:2008.08601 §4-5).

    Args:
      model: a compiled theory with d = 1.
      xs: (P, 1) inputs.
      quads: (Q, 4) index tuples into ``xs``.
      cutoffs: (C,) Λ (:func:`check_cutoffs`).
      bias_variance: the constant removed from K on each leg.

    Returns:
      (C, Q) array of I(Λ) (units φ⁸ × length).

    Raises:
      EstimatorError: the two Gauss–Legendre orders disagree by more than :data:`QUAD_TOL` (relative).
    """
    from nnft.analytic._quad import composite_nodes
    cutoffs = np.asarray(cutoffs, dtype=np.float64)
    br = _breaks(cutoffs, xs)
    q = np.asarray(quads, dtype=np.int64)
    res = []
    for n in (ORDER, CHECK_ORDER):
        x, w = composite_nodes(br, n)
        Kx = kernel_cross(model, x[:, None], xs) - bias_variance   # (G, P): the legs
        f = np.prod(Kx[:, q], axis=-1) * w[:, None]                # (G, Q)
        panel = np.repeat(np.arange(len(br) - 1), n)
        per_panel = np.zeros((len(br) - 1, f.shape[1]))
        np.add.at(per_panel, panel, f)
        inside = [(br[:-1] >= -L) & (br[1:] <= L) for L in cutoffs]
        res.append(np.stack([per_panel[m].sum(0) for m in inside]))
        scale = [np.abs(per_panel[m]).sum(0) for m in inside]
    diff = np.abs(res[0] - res[1]) / np.maximum(np.stack(scale), 1e-300)
    if np.any(diff > QUAD_TOL):
        raise EstimatorError(f"the cutoff integrals did not converge (two quadrature orders differ by "
                             f"{float(diff.max()):.2g} relative, tolerance {QUAD_TOL:g}); the kernel has features "
                             "the graded panels do not resolve")
    return res[0]


def _wick4(K: np.ndarray, quads) -> np.ndarray:
    return np.array([K[a, b] * K[c, d] + K[a, c] * K[b, d] + K[a, d] * K[b, c] for a, b, c, d in quads])


def _fit(u: np.ndarray, y: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Common slope of y (C, T) against u (C,) with one intercept per column: (slope, stderr, per-column
    slopes). The stderr is the regression's (the deviation of log|λ| from a power law)."""
    du = u - u.mean()
    suu = float((du ** 2).sum())
    dy = y - y.mean(0)
    per = (du[:, None] * dy).sum(0) / suu
    s = float(per.mean())
    resid = dy - s * du[:, None]
    C, T = y.shape
    dof = C * T - T - 1
    err = float(np.sqrt((resid ** 2).sum() / dof / (T * suu))) if dof > 0 else float("nan")
    return s, err, per


@dataclass(frozen=True)
class RunningCoupling(TextTable):
    """λ(Λ) of 2008.08601 §4-5 at the 4-point tuples of a set of inputs.

    Attributes:
      inputs: (P, 1) the inputs x_i.
      quads: (T, 4) sorted index tuples (i ≤ j ≤ k ≤ l) of the inputs.
      cutoffs: (C,) Λ.
      delta_g4: ΔG⁽⁴⁾ = G⁽⁴⁾ − Wick(K) per tuple, Estimate (T,) (units φ⁴).
      integrals: (C, T) I(Λ) = ∫_{−Λ}^{Λ} Π K (units φ⁸ × length).
      coupling: λ(Λ) = −ΔG⁽⁴⁾/I(Λ), Estimate (C, T).
      resolved: (T,) bool: tuples whose ΔG⁽⁴⁾ is resolved (|z| ≥ 3); only they enter the slope fits.
      slope, slope_err: common log-log slope d log|λ|/d log Λ over all cutoffs and resolved tuples, and the
        regression's standard error (deviation from a power law; the Monte Carlo error does not enter).
      asymptotic_slope: −max(0, max over sides of Σa_i + d), the a_i read off the kernel's growth at the largest
        cutoff (0: I(Λ) converges, λ(Λ) tends to a constant).
      bias_variance: the constant removed from the kernel on the legs (0: the full kernel).
    """

    inputs: np.ndarray
    quads: np.ndarray
    cutoffs: np.ndarray
    delta_g4: Estimate
    integrals: np.ndarray
    coupling: Estimate
    resolved: np.ndarray
    slope: float
    slope_err: float
    asymptotic_slope: float
    bias_variance: float = 0.0

    def fit(self, low: float = 0.0, high: float = np.inf) -> tuple[float, float]:
        """(slope, stderr) of log|λ| vs log Λ over the cutoffs in [low, high] (≥ 3 needed)."""
        m = (self.cutoffs >= low) & (self.cutoffs <= high)
        if m.sum() < 3:
            raise InputError(f"fit window [{low:g}, {high:g}] holds {int(m.sum())} cutoffs; at least 3 needed")
        s, e, _ = _fit(np.log(self.cutoffs[m]), -np.log(np.abs(self.integrals[m][:, self.resolved])))
        return s, e

    def table(self, width: int | None = None) -> str:
        """λ(Λ) as text: per cutoff the median |λ| over resolved tuples, then the slopes (``nnft couplings``;
        ``print`` shows it, Jupyter as HTML), fitted to ``width`` cells."""
        from nnft.tables import estimate, render, wrap_text
        lines = [f"running coupling λ(Λ) = −ΔG⁽⁴⁾/∫_[−Λ,Λ] ΠK (arXiv:2008.08601 §4-5), S ⊃ (λ/4!)∫φ⁴; "
                 f"{int(self.resolved.sum())}/{len(self.quads)} tuples resolved (|ΔG4| ≥ {RESOLVED:g}σ)"
                 + (f"; legs K − {self.bias_variance:g} (readout bias variance removed)" if self.bias_variance else "")]
        r = self.resolved
        cells = [[f"{L:.4g}", f"{float(np.median(np.abs(self.coupling.mean[c, r]))):.4e}",
                  estimate(float(self.coupling.mean[c, 0]), float(self.coupling.stderr[c, 0]))]
                 for c, L in enumerate(self.cutoffs)]
        rows = render(["Λ", "median |λ| *", "λ at tuple 0 (± MC error)"], cells, width=width, minwidth=[10, 12, 0])
        lines = wrap_text(lines, width) + rows
        notes = []
        notes.append("* median |λ| over the resolved tuples: a summary of the Λ dependence with no error bar; every "
                     "λ carries its own MC standard error (Python: result.coupling.stderr, shape (cutoff, tuple); --out "
                     "saves ΔG4 ± error per tuple), shown here for tuple 0")
        notes.append(f"slope d log|λ|/d log Λ over all cutoffs: {self.slope:.4f} ± {self.slope_err:.2g} (fit; ΔG4 is "
                     f"Λ-independent, so the slope is the quadrature's); asymptotic −(Σa_i + d) = {self.asymptotic_slope:.4g}")
        return "\n".join(lines + wrap_text(notes, width))

    def __repr__(self) -> str:
        return (f"RunningCoupling(inputs={self.inputs.ravel().tolist()}, {len(self.cutoffs)} cutoffs "
                f"{self.cutoffs[0]:g}..{self.cutoffs[-1]:g}, {int(self.resolved.sum())}/{len(self.quads)} tuples "
                f"resolved: slope {self.slope:.4f} ± {self.slope_err:.2g}, asymptotic {self.asymptotic_slope:.4g})")


def check_cutoffs(cutoffs) -> np.ndarray:
    """Cutoffs Λ as a float64 array: ≥ 3 values, finite, in (0, :data:`MAX_CUTOFF`], strictly increasing.

    Args:
      cutoffs: a sequence of numbers.

    Returns:
      (C,) float64 array; not from a paper: an input check.

    Raises:
      InputError: anything else (one message naming what is allowed).
    """
    allowed = f"≥ 3 strictly increasing numbers in (0, {MAX_CUTOFF:g}], e.g. (7, 10, 100, 1000)"
    if isinstance(cutoffs, (str, bytes)):
        raise InputError(f"cutoffs must be {allowed}, got a string {str(cutoffs)[:40]!r}")
    try:
        cut = np.asarray(cutoffs, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"cutoffs must be {allowed}, got {str(cutoffs)[:60]}") from None
    if cut.ndim != 1 or len(cut) < 3:
        raise InputError(f"cutoffs must be {allowed}, got {np.asarray(cutoffs).tolist()} (shape {cut.shape})")
    shown = [float(c) for c in cut[:8]]
    if not np.all(np.isfinite(cut)) or cut.min() <= 0 or cut.max() > MAX_CUTOFF:
        raise InputError(f"cutoffs must be {allowed}, got {shown}")
    if np.any(np.diff(cut) <= 0):
        raise InputError(f"cutoffs must be {allowed}, got {shown}: not strictly increasing (sort them, drop repeats; "
                         "the result's cutoff axis is the order given)")
    return cut


def _asymptotic(model, xs: np.ndarray, quads: np.ndarray, lmax: float, bias_variance: float = 0.0) -> float:
    """−max(0, max over the sides ±∞ of Σ_i a_i + d), a_i = d log|K(x, x_i)|/d log|x| at x = ±lmax: the power
    of Λ that I(Λ) grows with (0 when the integrand decays faster than |x|^−d on both sides: I converges)."""
    pts = np.array([[-lmax], [-lmax / 2], [lmax / 2], [lmax]])
    K = np.abs(kernel_cross(model, pts, xs) - bias_variance)
    growth = 0.0
    for lo, hi in ((1, 0), (2, 3)):
        if not np.all(K[hi] > 0) or not np.all(K[lo] > 0):
            continue                                   # the kernel vanishes on this side: no growth from it
        a = np.log(K[hi] / K[lo]) / np.log(2.0)
        growth = max(growth, float(np.max(a[quads].sum(-1))) + 1.0)
    return -growth if growth else 0.0


def running_coupling(model, inputs, *, samples: int, cutoffs=PAPER_CUTOFFS, key=0, blocks: int = 64,
                     method: str = "networks", bias_variance: float = 0.0, dtype: str = "float32") -> RunningCoupling:
    """λ(Λ) = −ΔG⁽⁴⁾/∫_{[−Λ,Λ]} ΠK at every sorted 4-tuple of the inputs (2008.08601 §4-5; module docstring).

    Args:
      model: a compiled theory with d = 1 inputs and an NNGP kernel (kernel map or neuron reference).
      inputs: (P,) or (P, 1) inputs, 2 ≤ P ≤ 12 (2008.08601 uses 6).
      samples: networks (``method="networks"``) or neurons (``"neurons"``) drawn.
      method: "networks": ΔG⁽⁴⁾ = G⁽⁴⁾ − Wick(K) from whole networks (the paper's estimator); "neurons":
        ΔG⁽⁴⁾ = the neuron-level G_c⁽⁴⁾ at the spec's width (``nnft.neuron_measure``, exact in N; equal in
        expectation for a neuron sum, whose G2 = K at every width, and with a relative error that does
        not grow with N; but heavy-tailed neurons, e.g. the lognormal Gauss-net units, may leave it unresolved).
      cutoffs: Λ values, ≥ 3, strictly increasing, in (0, 10⁷] (default: the paper's 21 from 7 to 10⁵).
      bias_variance: a constant removed from the kernel on the legs of the cutoff integral, K(x, x_i) − σ_b²
        (the readout bias's variance: the bias is an independent Gaussian that does not interact, as in the
        public reimplementation of Erbin, Lahoche, Ousmane Samary arXiv:2108.01403); 0 (default): the full
        kernel. The Wick subtraction always uses the full K. For the Gauss-net it decides the asymptotic slope:
        the bias-free legs decay, I(Λ) converges and λ(Λ) tends to a constant (slope 0, not −1).
      key: seed of the draws (integer or JAX key).
      blocks: jackknife blocks.
      dtype: "float32" or "float64" sampling precision.

    Returns:
      :class:`RunningCoupling`.

    Raises:
      InputError: d ≠ 1, bad inputs or cutoffs.
      KernelError: no NNGP kernel.
      EstimatorError: the cutoff integrals do not converge; what the ensemble raises.
    """
    from nnft.estimators.npoint import ensemble
    from nnft.kernels_reference import kernels_or_reference
    if model.d != 1:
        raise InputError(f"running_coupling: the model has d = {model.d} inputs; the cutoff integral is "
                         "implemented for d = 1 (the 2008.08601 experiments), not for a d-dimensional box")
    xs = check_points(inputs, 1)
    cut = check_cutoffs(cutoffs)
    try:
        bv = float(bias_variance)
    except (TypeError, ValueError):
        bv = float("nan")
    if not (np.isfinite(bv) and bv >= 0):
        raise InputError(f"bias_variance must be a finite number ≥ 0 (the readout bias variance σ_b² removed from the "
                         f"legs, 0 for the full kernel), got {bias_variance!r}")
    quads = np.asarray(sorted_tuples(len(xs), 4), dtype=np.int64)
    K = np.asarray(kernels_or_reference(model, xs).nngp, dtype=np.float64)
    tuples = [xs[list(q)] for q in quads]
    if method == "neurons":
        from nnft.estimators.neuron import neuron_measure
        c = neuron_measure(model, tuples, neurons=int(samples), key=key, blocks=blocks, dtype=dtype).connected[0]
        dg4 = Estimate(c.mean, c.stderr, c.n, c.ess, c.khat, c.notes)
    elif method == "networks":
        g4 = ensemble(model, tuples, samples=int(samples), key=key, blocks=blocks, dtype=dtype).full()
        dg4 = Estimate(g4.mean - _wick4(K, quads), g4.stderr, g4.n, g4.ess, g4.khat, g4.notes)
    else:
        raise InputError(f"method must be 'networks' or 'neurons', got {method!r}")
    I = cutoff_integrals(model, xs, quads, cut, bv)
    lam = Estimate(-dg4.mean[None] / I, np.abs(dg4.stderr[None] / I), dg4.n, dg4.ess)
    resolved = np.abs(dg4.mean) >= RESOLVED * dg4.stderr
    if not resolved.any():
        raise EstimatorError(f"no ΔG4 is resolved (all |z| < {RESOLVED:g} of {len(quads)} tuples): λ(Λ) is zero within "
                             "its errors and log|λ| has no meaning; measure more networks or a narrower width")
    s, e, _ = _fit(np.log(cut), -np.log(np.abs(I[:, resolved])))
    return RunningCoupling(inputs=xs, quads=quads, cutoffs=cut, delta_g4=dg4, integrals=I, coupling=lam,
                           resolved=resolved, slope=s, slope_err=e,
                           asymptotic_slope=_asymptotic(model, xs, quads, float(cut[-1]), bv), bias_variance=bv)
