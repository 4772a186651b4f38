"""Activations σ with their derivatives and, where they exist, closed-form Gaussian kernel maps.

For (u, v) ~ N(0, [[K11, K12], [K12, K22]]):

    F(K)  = E[σ(u) σ(v)]      (NNGP map, docs/physics.md §4)
    Ḟ(K)  = E[σ'(u) σ'(v)]    (NTK map)

Closed forms: relu (arc-cosine, Cho & Saul), erf (arcsin, Williams), linear, cos, sin, exp;
otherwise graded Gaussian quadrature (``nnft.analytic.gaussian``). Each :class:`Activation` says which.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import special

from nnft.errors import UnknownNameError

from nnft.analytic.gaussian import expect2_converged


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


def _gelu(u):
    return 0.5 * u * (1 + special.erf(u / np.sqrt(2)))


def _dgelu(u):
    return 0.5 * (1 + special.erf(u / np.sqrt(2))) + u * np.exp(-u ** 2 / 2) / np.sqrt(2 * np.pi)


def _d2gelu(u):
    return np.exp(-u ** 2 / 2) / np.sqrt(2 * np.pi) * (2 - u ** 2)


def _sigmoid(u):
    return special.expit(u)


def _dsigmoid(u):
    s = special.expit(u)
    return s * (1 - s)


def _d2sigmoid(u):
    s = special.expit(u)
    return s * (1 - s) * (1 - 2 * s)


@dataclass(frozen=True)
class Activation:
    """An activation σ: numpy σ, σ', σ'' and the kernel maps F, Ḟ (closed form or quadrature).

    Attributes:
      name: registry key (the spec grammar's function name).
      f, df, d2f: σ and its first two derivatives (numpy, elementwise; d2f of relu is 0 a.e.).
      closed_F, closed_dF: closed-form maps (k11, k22, k12) -> value, or None (quadrature).
      smooth: False for a kink at u = 0 (informational: the quadrature breaks at u = 0 either way).
    """

    name: str
    f: Callable
    df: Callable
    d2f: Callable
    closed_F: Callable | None = None
    closed_dF: Callable | None = None
    smooth: bool = True
    closed_both: Callable | None = None

    def maps(self, k11, k22, k12) -> tuple[np.ndarray, np.ndarray]:
        """(F, Ḟ) together (sharing work where a closed form allows)."""
        if self.closed_both is not None:
            return self.closed_both(*np.broadcast_arrays(*(np.asarray(k, float) for k in (k11, k22, k12))))
        return self.F(k11, k22, k12), self.dF(k11, k22, k12)

    def F(self, k11, k22, k12) -> np.ndarray:
        """E[σ(u)σ(v)] (NNGP kernel map)."""
        if self.closed_F is not None:
            return self.closed_F(*np.broadcast_arrays(*(np.asarray(k, float) for k in (k11, k22, k12))))
        return expect2_converged(self.f, self.f, k11, k22, k12)

    def dF(self, k11, k22, k12) -> np.ndarray:
        """E[σ'(u)σ'(v)] (NTK derivative map)."""
        if self.closed_dF is not None:
            return self.closed_dF(*np.broadcast_arrays(*(np.asarray(k, float) for k in (k11, k22, k12))))
        return expect2_converged(self.df, self.df, k11, k22, k12, tol=1e-6)


def _exp_F(k11, k22, k12):
    return np.exp((k11 + k22) / 2 + k12)


ACTIVATIONS: dict[str, Activation] = {a.name: a for a in [
    Activation("relu", lambda u: np.maximum(u, 0.0), lambda u: (u > 0).astype(float), lambda u: np.zeros_like(u),
               _relu_F, _relu_dF, smooth=False, closed_both=_relu_both),
    Activation("erf", special.erf, lambda u: 2 / np.sqrt(np.pi) * np.exp(-u ** 2),
               lambda u: -4 * u / np.sqrt(np.pi) * np.exp(-u ** 2), _erf_F, _erf_dF),
    Activation("tanh", np.tanh, lambda u: 1 - np.tanh(u) ** 2, lambda u: -2 * np.tanh(u) * (1 - np.tanh(u) ** 2)),
    Activation("linear", lambda u: u, np.ones_like, np.zeros_like,
               lambda k11, k22, k12: k12, lambda k11, k22, k12: np.ones_like(k12)),
    Activation("cos", np.cos, lambda u: -np.sin(u), lambda u: -np.cos(u),
               lambda k11, k22, k12: np.exp(-(k11 + k22) / 2) * np.cosh(k12),
               lambda k11, k22, k12: np.exp(-(k11 + k22) / 2) * np.sinh(k12)),
    Activation("sin", np.sin, np.cos, lambda u: -np.sin(u),
               lambda k11, k22, k12: np.exp(-(k11 + k22) / 2) * np.sinh(k12),
               lambda k11, k22, k12: np.exp(-(k11 + k22) / 2) * np.cosh(k12)),
    Activation("exp", np.exp, np.exp, np.exp, _exp_F, _exp_F),
    Activation("gelu", _gelu, _dgelu, _d2gelu),
    Activation("sigmoid", _sigmoid, _dsigmoid, _d2sigmoid),
    Activation("softplus", lambda u: np.logaddexp(0.0, u), _sigmoid, _dsigmoid),
]}


def get_activation(name: str) -> Activation:
    """An activation by name; KeyError listing the known ones otherwise."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise UnknownNameError(f"unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}") from None
