"""The spec grammar's elementwise functions: one record (:class:`Function`) per function, in :data:`FUNCTIONS`.

Everything nnft knows about ``cos``, ``relu``, ``erf``, ... lives here and nowhere else: the parser
(``nnft.spec.expr``: names, arity, the float version for constant folding), the field compiler
(``nnft.graph.compile``: the JAX version), potentials (``nnft.insertions``: numpy and JAX versions),
the infinite-width kernel maps (``nnft.graph.kernels``, ``nnft.analytic.activations``: derivatives and
closed-form Gaussian maps) and criticality (``nnft.analytic.criticality``: σ, σ', σ'') all read it.
Adding a function = adding one record (``tests/test_functions.py`` checks every entry of every record).

How fast each function grows (``Function.growth``, one of :data:`GROWTHS`) is what the moment
analysis (``nnft.graph.moments``) reads.

This module imports only numpy (and ``nnft.errors``); scipy and JAX are loaded on first use:
``Function.numpy`` of erf, gelu, sigmoid and gamma (and some derivatives) call scipy.special inside,
and ``Function.jnp`` imports JAX (float32 cos/sin/tan/arctan: ``nnft.fastmath``'s vectorised versions)
when it is first asked for.

Kernel maps (docs/physics.md §4): for (u, v) ~ N(0, [[k11, k12], [k12, k22]]), F = E σ(u)σ(v) (NNGP)
and Ḟ = E σ'(u)σ'(v) (NTK; it does not exist for sign and step, whose σ' is a δ: ``KernelMap.ntk_note``).
Closed forms: relu (arc-cosine kernel, Cho & Saul, NeurIPS 2009, n = 1),
erf (Williams, NeurIPS 1997), abs, sign and step (the arcsine law, Sheppard 1899; Cho & Saul's n = 0 kernel),
leaky_relu and every piecewise linear p·u/q·u (:func:`piecewise_linear_kernel`: α u + β|u|),
cos, sin, exp, cosh, sinh (the Gaussian moment generating function E e^{au+bv}), square (Isserlis).
The formulas and :class:`KernelMap` are in ``nnft.function_kernels`` (importable from here).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from nnft.errors import UnknownNameError
from nnft.function_kernels import (_DELTA, _MGF, KernelMap, _abs_F, _damp, _erf_dF, _erf_F, _exp_F,  # noqa: F401
                                   _grow, _no_ntk, _relu_both, _relu_dF, _relu_F, _sign_F, _step_F,
                                   piecewise_linear_kernel)

#: smoothness classes (``Function.smoothness``)
SMOOTHNESS = ("C∞", "C⁰", "discontinuous")
#: parity classes (``Function.parity``): f(−x) = f(x), f(−x) = −f(x), or neither
PARITIES = ("even", "odd", "none")
#: growth classes (``Function.growth``): how fast |f(u)| grows with |u|, which decides which moments of
#: f(u) exist given those of u (``nnft.graph.moments``); class -> the bound it states
GROWTHS = {
    "bounded": "|f(u)| ≤ c: every moment of f(u) exists",
    "linear": "|f(u)| ≤ a|u| + c: E|f(u)|ᵖ < ∞ wherever E|u|ᵖ < ∞",
    "modulus": "|f(u)| = |u|: E|f(u)|ᵖ < ∞ exactly where E|u|ᵖ < ∞",
    "square": "|f(u)| = u²: E|f(u)|ᵖ = E|u|²ᵖ",
    "sqrt": "|f(u)| = |u|^½: E|f(u)|ᵖ = E|u|^{p/2}",
    "exp": "|f(u)| ≤ c e^{|u|}: every moment exists when u is bounded or sub-Gaussian (lognormal)",
    "other": "no growth bound used (poles or a singularity, as tan, log, Γ): nothing is decided",
}


@dataclass(frozen=True)
class Function:
    """One grammar function.

    Attributes:
      name: the spec grammar's name.
      arity: number of arguments (1, or 2 for maximum/minimum).
      scalar: Python floats -> float (constant folding in the parser); raises ValueError/OverflowError
        outside its domain, like ``math``.
      numpy: the elementwise numpy version (float64).
      jax: () -> the JAX version (a thunk, so that JAX is imported only when asked for; use :attr:`jnp`).
      derivatives: numpy (f', f'') for arity 1, (∂f/∂a, ∂f/∂b) for arity 2 (one-sided a.e. at kinks).
      kernel: the closed-form Gaussian kernel maps, or None (then ``kernel_note`` says why).
      kernel_note: how the kernel maps are obtained when not in closed form (quadrature), or why they
        do not exist.
      gaussian: whether E σ(u)² < ∞ for u ~ N(0, K) at every K > 0, so kernel maps exist (numerically by
        ``nnft.analytic.gaussian`` quadrature when ``kernel`` is None).
      smoothness: ``"C∞"``, ``"C⁰"`` (a kink) or ``"discontinuous"``, on ``domain``.
      parity: ``"even"``, ``"odd"`` or ``"none"``.
      growth: how fast |f(u)| grows, one of :data:`GROWTHS` (for binary functions, in the larger of
        |a|, |b|).
      domain: where the function is defined (text).
      interval: a real interval inside the domain on which the implementations are compared and tested.
      kinks: points of ``interval`` where f is not smooth.
      keeps_nonfinite: whether f(±inf) and f(NaN) are non-finite, so a non-finite argument surely reaches
        the result (``nnft.graph.compile`` then needs no finiteness check of the argument).
      slopes: (p, q) when f is piecewise linear and positively homogeneous, f(u) = p·u for u > 0 and
        q·u for u < 0 (relu (1, 0), abs (1, −1), leaky_relu (1, 0.01)), else None. The kernel maps
        compose such functions of one Gaussian node exactly (:func:`piecewise_linear_kernel`).
    """

    name: str
    arity: int
    scalar: Callable
    numpy: Callable
    jax: Callable[[], Callable]
    derivatives: tuple[Callable, ...]
    kernel: KernelMap | None
    kernel_note: str
    gaussian: bool
    smoothness: str
    parity: str
    growth: str
    domain: str = "every real number"
    interval: tuple[float, float] = (-6.0, 6.0)
    kinks: tuple[float, ...] = ()
    keeps_nonfinite: bool = False
    slopes: tuple[float, float] | None = None

    @property
    def jnp(self) -> Callable:
        """The JAX version (float32 cos/sin/tan/arctan: ``nnft.fastmath``'s vectorised ones, exact
        fallback; float64 and other dtypes: JAX's exact functions). Imports JAX on first use."""
        return self.jax()

    @property
    def df(self) -> Callable:
        """f' (numpy), arity 1."""
        return self.derivatives[0]

    @property
    def d2f(self) -> Callable:
        """f'' (numpy), arity 1."""
        return self.derivatives[1]


# --- scipy-backed numpy versions (scipy imported on first call) ------------------------------------
def _erf(u):
    from scipy.special import erf
    return erf(u)


def _expit(u):
    from scipy.special import expit
    return expit(u)


def _gamma(u):
    from scipy.special import gamma
    return gamma(u)


def _dgamma(u):
    from scipy.special import digamma, gamma
    return gamma(u) * digamma(u)


def _d2gamma(u):
    from scipy.special import digamma, gamma, polygamma
    return gamma(u) * (digamma(u) ** 2 + polygamma(1, u))


def _gelu(u):
    return 0.5 * u * (1 + _erf(u / np.sqrt(2)))


def _dgelu(u):
    return 0.5 * (1 + _erf(u / np.sqrt(2))) + u * np.exp(-u ** 2 / 2) / np.sqrt(2 * np.pi)


def _d2gelu(u):
    return np.exp(-u ** 2 / 2) / np.sqrt(2 * np.pi) * (2 - u ** 2)


def _dsigmoid(u):
    s = _expit(u)
    return s * (1 - s)


def _d2sigmoid(u):
    s = _expit(u)
    return s * (1 - s) * (1 - 2 * s)


#: negative slope of the grammar's leaky_relu (JAX's default ``jax.nn.leaky_relu``); other slopes a are
#: written ``maximum(z, a*z)`` or ``relu(z) - a*relu(-z)``, which the kernel maps recognise
LEAKY_SLOPE = 0.01

_QUAD = "no closed form: graded Gaussian quadrature (nnft.analytic.gaussian)"

_RECORDS = [
    Function("cos", 1, math.cos, np.cos, lambda: _fm().cos, (lambda u: -np.sin(u), lambda u: -np.cos(u)),
             KernelMap(lambda k11, k22, k12: _damp(k11, k22) * np.cosh(k12),
                       lambda k11, k22, k12: _damp(k11, k22) * np.sinh(k12), _MGF),
             "", gaussian=True, smoothness="C∞", parity="even", growth="bounded", keeps_nonfinite=True),
    Function("sin", 1, math.sin, np.sin, lambda: _fm().sin, (np.cos, lambda u: -np.sin(u)),
             KernelMap(lambda k11, k22, k12: _damp(k11, k22) * np.sinh(k12),
                       lambda k11, k22, k12: _damp(k11, k22) * np.cosh(k12), _MGF),
             "", gaussian=True, smoothness="C∞", parity="odd", growth="bounded", keeps_nonfinite=True),
    Function("tan", 1, math.tan, np.tan, lambda: _fm().tan,
             (lambda u: 1 / np.cos(u) ** 2, lambda u: 2 * np.tan(u) / np.cos(u) ** 2),
             None, "none: poles at π/2 + kπ, which a Gaussian u crosses (E tan(u)² diverges)",
             gaussian=False, smoothness="C∞", parity="odd", growth="other", domain="u ≠ π/2 + kπ",
             interval=(-1.4, 1.4),
             keeps_nonfinite=True),
    Function("exp", 1, math.exp, np.exp, lambda: _jnp().exp, (np.exp, np.exp), KernelMap(_exp_F, _exp_F, _MGF),
             "", gaussian=True, smoothness="C∞", parity="none", growth="exp"),
    Function("log", 1, math.log, np.log, lambda: _jnp().log, (lambda u: 1 / u, lambda u: -1 / u ** 2),
             None, "none: log u is undefined for u ≤ 0, which a Gaussian u reaches",
             gaussian=False, smoothness="C∞", parity="none", growth="other", domain="u > 0", interval=(0.05, 10.0),
             keeps_nonfinite=True),
    Function("sqrt", 1, math.sqrt, np.sqrt, lambda: _jnp().sqrt,
             (lambda u: 0.5 / np.sqrt(u), lambda u: -0.25 / u ** 1.5),
             None, "none: √u is undefined for u < 0, which a Gaussian u reaches",
             gaussian=False, smoothness="C∞", parity="none", growth="sqrt", domain="u ≥ 0 (smooth for u > 0)",
             interval=(0.05, 10.0), keeps_nonfinite=True),
    Function("tanh", 1, math.tanh, np.tanh, lambda: _jnp().tanh,
             (lambda u: 1 - np.tanh(u) ** 2, lambda u: -2 * np.tanh(u) * (1 - np.tanh(u) ** 2)),
             None, _QUAD, gaussian=True, smoothness="C∞", parity="odd", growth="bounded"),
    Function("erf", 1, math.erf, _erf, lambda: _jax().scipy.special.erf,
             (lambda u: 2 / np.sqrt(np.pi) * np.exp(-u ** 2), lambda u: -4 * u / np.sqrt(np.pi) * np.exp(-u ** 2)),
             KernelMap(_erf_F, _erf_dF, "Williams, NeurIPS 1997 (arcsine kernel)"),
             "", gaussian=True, smoothness="C∞", parity="odd", growth="bounded"),
    Function("abs", 1, abs, np.abs, lambda: _jnp().abs, (np.sign, np.zeros_like),
             KernelMap(_abs_F, _sign_F, "arcsine law (Sheppard 1899); Cho & Saul, NeurIPS 2009"),
             "", gaussian=True, smoothness="C⁰", parity="even", growth="modulus", kinks=(0.0,), keeps_nonfinite=True,
             slopes=(1.0, -1.0)),
    Function("relu", 1, lambda v: max(v, 0.0), lambda u: np.maximum(u, 0.0), lambda: _jax().nn.relu,
             (lambda u: (u > 0).astype(float), lambda u: np.zeros_like(u)),
             KernelMap(_relu_F, _relu_dF, "arc-cosine kernel n = 1, Cho & Saul, NeurIPS 2009", both=_relu_both),
             "", gaussian=True, smoothness="C⁰", parity="none", growth="linear", kinks=(0.0,), slopes=(1.0, 0.0)),
    Function("leaky_relu", 1, lambda v: v if v > 0 else LEAKY_SLOPE * v,
             lambda u: np.where(u > 0, u, LEAKY_SLOPE * u), lambda: _leaky_jax,
             (lambda u: np.where(u > 0, 1.0, LEAKY_SLOPE), np.zeros_like),
             piecewise_linear_kernel(1.0, LEAKY_SLOPE), "", gaussian=True, smoothness="C⁰", parity="none",
             growth="linear", kinks=(0.0,), keeps_nonfinite=True, slopes=(1.0, LEAKY_SLOPE)),
    Function("sigmoid", 1, lambda v: 0.5 * (1.0 + math.tanh(0.5 * v)), _expit, lambda: _jax().nn.sigmoid,
             (_dsigmoid, _d2sigmoid), None, _QUAD, gaussian=True, smoothness="C∞", parity="none", growth="bounded"),
    Function("gelu", 1, lambda v: 0.5 * v * (1.0 + math.erf(v / math.sqrt(2.0))), _gelu, lambda: _gelu_jax,
             (_dgelu, _d2gelu), None, _QUAD, gaussian=True, smoothness="C∞", parity="none", growth="linear"),
    Function("softplus", 1, lambda v: max(v, 0.0) + math.log1p(math.exp(-abs(v))), lambda u: np.logaddexp(0.0, u),
             lambda: _jax().nn.softplus, (_expit, _dsigmoid),
             None, _QUAD, gaussian=True, smoothness="C∞", parity="none", growth="linear"),
    Function("cosh", 1, math.cosh, np.cosh, lambda: _jnp().cosh, (np.sinh, np.cosh),
             KernelMap(lambda k11, k22, k12: _grow(k11, k22) * np.cosh(k12),
                       lambda k11, k22, k12: _grow(k11, k22) * np.sinh(k12), _MGF),
             "", gaussian=True, smoothness="C∞", parity="even", growth="exp", keeps_nonfinite=True),
    Function("sinh", 1, math.sinh, np.sinh, lambda: _jnp().sinh, (np.cosh, np.sinh),
             KernelMap(lambda k11, k22, k12: _grow(k11, k22) * np.sinh(k12),
                       lambda k11, k22, k12: _grow(k11, k22) * np.cosh(k12), _MGF),
             "", gaussian=True, smoothness="C∞", parity="odd", growth="exp", keeps_nonfinite=True),
    Function("arctan", 1, math.atan, np.arctan, lambda: _fm().arctan,
             (lambda u: 1 / (1 + u ** 2), lambda u: -2 * u / (1 + u ** 2) ** 2),
             None, _QUAD, gaussian=True, smoothness="C∞", parity="odd", growth="bounded"),
    Function("gamma", 1, math.gamma, _gamma, lambda: _jax().scipy.special.gamma, (_dgamma, _d2gamma),
             None, "none: poles at u = 0, −1, −2, …, which a Gaussian u crosses (E Γ(u)² diverges)",
             gaussian=False, smoothness="C∞", parity="none", growth="other", domain="u ∉ {0, −1, −2, …}",
             interval=(0.1, 6.0)),
    Function("sign", 1, lambda v: float((v > 0) - (v < 0)), np.sign, lambda: _jnp().sign,
             (np.zeros_like, np.zeros_like),
             KernelMap(_sign_F, _no_ntk, "arcsine law (Sheppard 1899)", ntk_note=_DELTA.format(f="sign", c="2")),
             "", gaussian=True, smoothness="discontinuous", parity="odd", growth="bounded", kinks=(0.0,)),
    Function("step", 1, lambda v: 1.0 if v > 0 else (0.5 if v == 0 else 0.0), lambda u: np.heaviside(u, 0.5),
             lambda: _step_jax, (np.zeros_like, np.zeros_like),
             KernelMap(_step_F, _no_ntk, "Heaviside step H(u) = (1 + sign u)/2, H(0) = ½: P(u > 0, v > 0), "
                       "arc-cosine kernel n = 0 (Cho & Saul, NeurIPS 2009)", ntk_note=_DELTA.format(f="step", c="")),
             "", gaussian=True, smoothness="discontinuous", parity="none", growth="bounded", kinks=(0.0,)),
    Function("square", 1, lambda v: v * v, np.square, lambda: _jnp().square,
             (lambda u: 2 * u, lambda u: np.full_like(u, 2.0)),
             KernelMap(lambda k11, k22, k12: k11 * k22 + 2 * k12 ** 2, lambda k11, k22, k12: 4 * k12,
                       "Isserlis: E u²v² = k11k22 + 2k12², E (2u)(2v) = 4k12"),
             "", gaussian=True, smoothness="C∞", parity="even", growth="square", keeps_nonfinite=True),
    Function("maximum", 2, max, np.maximum, lambda: _jnp().maximum,
             (lambda a, b: (a >= b).astype(float), lambda a, b: (a < b).astype(float)),
             None, "none: a function of two arguments", gaussian=False, smoothness="C⁰", parity="none",
             growth="linear",
             domain="every pair of real numbers (a kink on a = b)"),
    Function("minimum", 2, min, np.minimum, lambda: _jnp().minimum,
             (lambda a, b: (a <= b).astype(float), lambda a, b: (a > b).astype(float)),
             None, "none: a function of two arguments", gaussian=False, smoothness="C⁰", parity="none",
             growth="linear",
             domain="every pair of real numbers (a kink on a = b)"),
]

#: name -> record, every elementwise function of the spec grammar
FUNCTIONS: dict[str, Function] = {f.name: f for f in _RECORDS}


def get_function(name: str) -> Function:
    """The record of a grammar function; UnknownNameError (a KeyError) listing the known ones otherwise."""
    try:
        return FUNCTIONS[name]
    except KeyError:
        raise UnknownNameError(f"unknown function {name!r}; known: {', '.join(FUNCTIONS)}") from None


def unary() -> dict[str, Function]:
    """The one-argument functions, name -> record."""
    return {n: f for n, f in FUNCTIONS.items() if f.arity == 1}


def _jnp():
    import jax.numpy as jnp
    return jnp


def _jax():
    import jax
    import jax.scipy.special  # noqa: F401 - loads jax.scipy
    return jax


def _fm():
    import nnft.fastmath as fastmath
    return fastmath


def _leaky_jax(v):
    """max(v, 0.01 v) (``jax.nn.leaky_relu`` with ``LEAKY_SLOPE``)."""
    import jax
    return jax.nn.leaky_relu(v, negative_slope=LEAKY_SLOPE)


def _step_jax(v):
    """The Heaviside step with H(0) = ½."""
    import jax.numpy as jnp
    return jnp.heaviside(v, jnp.asarray(0.5, dtype=jnp.result_type(v, float)))


def _gelu_jax(v):
    """GELU u·Φ(u) with the exact Φ (``jax.nn.gelu(approximate=False)``)."""
    import jax
    return jax.nn.gelu(v, approximate=False)
