"""Activations σ with their derivatives and, where they exist, closed-form Gaussian kernel maps.

For (u, v) ~ N(0, [[K11, K12], [K12, K22]]):

    F(K)  = E[σ(u) σ(v)]      (NNGP map, docs/physics.md §4)
    Ḟ(K)  = E[σ'(u) σ'(v)]    (NTK map)

σ, σ', σ'' and the closed forms (relu: arc-cosine, Cho & Saul; erf: arcsin, Williams; cos, sin, exp)
are those of the grammar function's record in ``nnft.functions``; linear is σ(u) = u; otherwise graded
Gaussian quadrature (``nnft.analytic.gaussian``). Each :class:`Activation` says which.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from nnft.errors import InputError, UnknownNameError
from nnft.functions import FUNCTIONS, Function

from nnft.analytic.gaussian import expect2_converged


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


#: the activations offered by name (``nnft.analytic.criticality``): grammar functions, and linear
NAMED = ("relu", "erf", "tanh", "linear", "cos", "sin", "exp", "gelu", "sigmoid", "softplus", "abs", "leaky_relu")


def from_function(fn: Function) -> Activation:
    """The :class:`Activation` of a one-argument grammar function: its record's σ, σ', σ'' and closed-form
    kernel maps (``nnft.functions``)."""
    k = fn.kernel
    return Activation(fn.name, fn.numpy, fn.df, fn.d2f, None if k is None else k.F, None if k is None else k.dF,
                      smooth=fn.smoothness == "C∞", closed_both=None if k is None else k.both)


#: σ(u) = u: the kernel maps of a linear unit (F = K12, Ḟ = 1)
LINEAR = Activation("linear", lambda u: u, np.ones_like, np.zeros_like,
                    lambda k11, k22, k12: k12, lambda k11, k22, k12: np.ones_like(k12))

ACTIVATIONS: dict[str, Activation] = {name: LINEAR if name == "linear" else from_function(FUNCTIONS[name])
                                      for name in NAMED}


def get_activation(name: str) -> Activation:
    """An activation by name; KeyError listing the known ones otherwise."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise UnknownNameError(f"unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}") from None


def as_activation(activation) -> Activation:
    """An :class:`Activation` from a registry name, an Activation, or a tuple ``(f, df, d2f)``."""
    if isinstance(activation, Activation):
        return activation
    if isinstance(activation, str):
        fn = FUNCTIONS.get(activation)
        if activation not in ACTIVATIONS and fn is not None and fn.kernel is not None and fn.kernel.ntk_note:
            raise InputError(f"activation {activation!r}: no susceptibilities: "
                             + fn.kernel.ntk_note.removeprefix("no NTK: "))
        try:
            return ACTIVATIONS[activation]
        except KeyError:
            raise InputError(f"unknown activation {activation!r}; known: {', '.join(ACTIVATIONS)}, "
                             "or pass (f, df, d2f) callables") from None
    if isinstance(activation, (tuple, list)) and len(activation) == 3 and all(callable(g) for g in activation):
        f, df, d2f = activation
        return Activation(getattr(f, "__name__", "custom"), f, df, d2f)
    if callable(activation):
        raise InputError("a bare callable has no derivatives: pass (f, df, d2f) or an Activation")
    raise InputError(f"cannot interpret {activation!r} as an activation")


def is_relu(act: Activation) -> bool:
    """Whether ``act`` is the registry's ReLU (whose Gaussian expectations criticality takes in closed form)."""
    return act is ACTIVATIONS.get("relu")
