"""Closed-form Gaussian kernel maps of the grammar's functions (docs/physics.md §4): :class:`KernelMap`
and the formulas the records of :mod:`nnft.functions` carry.

For (u, v) ~ N(0, [[k11, k12], [k12, k22]]), F = E σ(u)σ(v) (NNGP) and Ḟ = E σ'(u)σ'(v) (NTK). relu:
the arc-cosine kernel (Cho & Saul, NeurIPS 2009, n = 1); erf (Williams, NeurIPS 1997); abs, sign and step
(the arcsine law, Sheppard 1899; Cho & Saul's n = 0 kernel); every piecewise linear p·u/q·u
(:func:`piecewise_linear_kernel`); exp-type functions through the Gaussian moment generating function.
numpy only. The names are importable from ``nnft.functions`` too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["KernelMap", "piecewise_linear_kernel"]


@dataclass(frozen=True)
class KernelMap:
    """Closed-form Gaussian kernel maps of σ, elementwise in arrays k11, k22, k12 (variances and covariance
    of (u, v) ~ N(0, [[k11, k12], [k12, k22]])).

    Attributes:
      F: (k11, k22, k12) -> E σ(u)σ(v) (the NNGP map).
      dF: (k11, k22, k12) -> E σ'(u)σ'(v) (the NTK map).
      both: (k11, k22, k12) -> (F, dF) sharing work, or None.
      source: where the formula comes from.
      ntk_note: "" when Ḟ exists; otherwise why the NTK map does not exist (then ``dF`` returns NaN, so an
        NTK built from it is NaN, "not available"): a σ' with a δ at a jump (sign, step) gives
        E σ'(u)σ'(v) ∝ p_{uv}(0, 0) = 1/(2π√(k11k22 − k12²)), infinite at coinciding points.
    """

    F: Callable
    dF: Callable
    source: str
    both: Callable | None = None
    ntk_note: str = ""


def _theta(k11, k22, k12):
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(k11 * k22 > 0, k12 / np.sqrt(k11 * k22), 1.0)
    return np.arccos(np.clip(c, -1.0, 1.0))


def _relu_F(k11, k22, k12):
    t = _theta(k11, k22, k12)
    return np.sqrt(k11 * k22) / (2 * np.pi) * (np.sin(t) + (np.pi - t) * np.cos(t))


def _relu_dF(k11, k22, k12):
    return (np.pi - _theta(k11, k22, k12)) / (2 * np.pi)


def _relu_both(k11, k22, k12):
    """(F, Ḟ) of ReLU sharing θ = arccos(K12/√(K11K22))."""
    t = _theta(k11, k22, k12)
    n = np.sqrt(k11 * k22)
    return n / (2 * np.pi) * (np.sin(t) + (np.pi - t) * np.cos(t)), (np.pi - t) / (2 * np.pi)


def _erf_F(k11, k22, k12):
    return 2 / np.pi * np.arcsin(np.clip(2 * k12 / np.sqrt((1 + 2 * k11) * (1 + 2 * k22)), -1, 1))


def _erf_dF(k11, k22, k12):
    return 4 / np.pi / np.sqrt((1 + 2 * k11) * (1 + 2 * k22) - 4 * k12 ** 2)


def _sign_F(k11, k22, k12):
    """E sign(u)sign(v) = (2/π) arcsin ρ = 1 − 2θ/π; 0 if a unit has variance 0 (sign(0) = 0)."""
    return np.where(np.asarray(k11) * np.asarray(k22) > 0, 1 - 2 * _theta(k11, k22, k12) / np.pi, 0.0)


def _abs_F(k11, k22, k12):
    """E|u||v| = (2/π)√(k11k22) (sin θ + (π/2 − θ) cos θ)."""
    t = _theta(k11, k22, k12)
    return 2 / np.pi * np.sqrt(k11 * k22) * (np.sin(t) + (np.pi / 2 - t) * np.cos(t))


def _step_F(k11, k22, k12):
    """E H(u)H(v) = P(u > 0, v > 0) = (π − θ)/(2π) (Sheppard 1899; Cho & Saul's arc-cosine kernel n = 0).

    A unit of variance 0 is u = 0 with H(0) = ½ (the JAX function's convention), so then E H(u)H(v) = ½·½.
    """
    return np.where(np.asarray(k11) * np.asarray(k22) > 0, (np.pi - _theta(k11, k22, k12)) / (2 * np.pi), 0.25)


def _no_ntk(k11, k22, k12):
    """NaN of the broadcast shape: Ḟ does not exist (``KernelMap.ntk_note``)."""
    return np.full(np.broadcast(np.asarray(k11), np.asarray(k22), np.asarray(k12)).shape, np.nan)


def piecewise_linear_kernel(p: float, q: float) -> KernelMap:
    """Kernel maps of σ(u) = p·u (u > 0), q·u (u < 0), i.e. σ = α u + β |u| with α = (p+q)/2, β = (p−q)/2.

    F = E σ(u)σ(v) = α² k12 + β² E|u||v| and Ḟ = E σ'(u)σ'(v) = α² + β² E sign(u)sign(v) (the cross
    terms E u|v| and E sign(v) vanish by u, v → −u, −v), with E|u||v| = (2/π)√(k11k22)(sin θ + (π/2 − θ)cos θ)
    and E sign(u)sign(v) = 1 − 2θ/π, θ = arccos(k12/√(k11k22)): the arc-cosine kernels n = 1 and n = 0
    of Cho & Saul (NeurIPS 2009) on relu(u) and relu(−u). p = 1, q = 0 is relu's map; p = 1, q = −1 is abs;
    p = 1, q = a the leaky ReLU max(u, a u) (0 ≤ a ≤ 1).

    Args:
      p, q: the slopes for u > 0 and u < 0 (finite floats).

    Returns:
      a :class:`KernelMap`, elementwise in arrays k11, k22, k12.

    Raises:
      nothing (non-finite slopes give non-finite maps).

    Source: the arc-cosine kernels of Cho & Saul (NeurIPS 2009).
    """
    a, b = (p + q) / 2, (p - q) / 2

    def both(k11, k22, k12):
        t = _theta(k11, k22, k12)
        absF = 2 / np.pi * np.sqrt(k11 * k22) * (np.sin(t) + (np.pi / 2 - t) * np.cos(t))
        return a * a * k12 + b * b * absF, a * a + b * b * (1 - 2 * t / np.pi)

    return KernelMap(lambda k11, k22, k12: both(k11, k22, k12)[0], lambda k11, k22, k12: both(k11, k22, k12)[1],
                     f"σ = {a:g}·u + {b:g}·|u|: arc-cosine kernels n = 1, 0 (Cho & Saul, NeurIPS 2009)", both=both)


def _damp(k11, k22):
    return np.exp(-(k11 + k22) / 2)


def _grow(k11, k22):
    return np.exp((k11 + k22) / 2)


def _exp_F(k11, k22, k12):
    return np.exp((k11 + k22) / 2 + k12)


_MGF = "E e^{au+bv} = e^{(a²k11 + b²k22)/2 + ab k12} (Gaussian moment generating function)"
_DELTA = ("no NTK: {f}'(u) = {c}δ(u), so E {f}'(u){f}'(v) ∝ 1/(2π√(k11k22 − k12²)) is infinite at coinciding "
          "points (the a.e. derivative 0 would drop the δ)")
