"""Vectorised float32 cos, sin, tan, arctan (the JAX versions of these grammar functions, ``nnft.functions``)
and erf⁻¹ (the normal draws' inverse CDF, ``nnft.densities``).

XLA:CPU lowers ``jnp.cos``/``sin``/``tan``/``arctan`` to one scalar libm call per element (measured here:
≈0.05–0.1 G evaluations/s in float32, against ≈1.3 G/s for ``exp``). The functions below are written with
elementwise arithmetic only, so XLA vectorises them (≈0.5–0.9 G/s for cos on the same machine; run
``bench/bench_field.py``).

float32 method (Cephes ``sinf``/``cosf``/``atanf``, S. L. Moshier, *Methods and Programs for Mathematical
Functions*, 1989):

* cos, sin, tan: ``k = rint(x·2/π)``, ``r = x − k·π/2`` by Cody–Waite reduction with π/2 split into four
  float32 parts (8, 8, 8 and 24 significant bits), so every product ``k·Pᵢ`` is exact for
  ``|k| < 2¹⁶``; minimax polynomials for sin and cos on ``|r| ≤ π/4``; the quadrant ``k mod 4`` picks
  ±sin r or ±cos r (tan: sin r / cos r or −cos r / sin r).
* arctan: the argument is reduced to ``|t| ≤ tan(π/8)`` by ``arctan x = π/2 + arctan(−1/x)`` and
  ``arctan x = π/4 + arctan((x−1)/(x+1))``; a degree-9 odd polynomial.

Domain and accuracy (float32 results compared with float64 numpy over dense grids and random float32
inputs; ``tests/speed/test_fastmath.py`` asserts these bounds over the whole fast domain):

* cos, sin: the fast path accepts ``|x| ≤`` :data:`TRIG_LIMIT` (= 65536) and NaN; max abs error
  ≤ 1.5e-7 (≤ 2 ulp of 1).
* tan: same domain; error ≤ 5 ulp(tan x) + 5e-12·(1 + tan² x) (the second term is the reduction's
  absolute error ≤ 5e-12 in r, carried by tan's derivative; it matters only at zeros and poles of tan).
* arctan: every float32 (±inf → ±π/2, NaN → NaN); max abs error ≤ 2.5e-7, relative ≤ 3 ulp (for normal
  x: XLA:CPU flushes subnormal inputs to zero, as it does for ``jnp.arctan``).

* erf_inv: every float32 (|x| = 1 → ±inf, |x| > 1 and NaN → NaN); relative error ≤ 4 ulp of the
  float32 result (measured max 3.8 over every float32 in [2⁻¹⁰, 1) and the 2²³ values a uniform draw gives;
  XLA's ``lax.erf_inv`` reaches 65 ulp near |x| = 1 there, where ``log1p(−x²)`` loses x²'s rounding).
  Method: M. Giles, "Approximating the erfinv function", GPU Computing Gems Jade (2011), single-precision
  polynomials in w = −log(1 − x²) (the coefficients XLA uses), with w from ``log((1 − |x|)(1 + |x|))``:
  1 − |x| is exact for |x| ≥ ½ (Sterbenz) and the ``log`` is XLA's vectorised one, where XLA's own
  erf_inv calls ``log1p`` (≈ 0.3 G/s here against ≈ 1 G/s for ``log``).

Outside the fast domain (any ``|x| > TRIG_LIMIT``, ``±inf`` or NaN in the array) cos/sin/tan fall back
to JAX's exact functions for the whole call (the fast pass gives NaN there; a NaN in its result selects
the exact computation by ``jax.lax.cond``; under ``vmap`` both branches run and are selected
elementwise), so results are always correct and ``inf``/NaN give NaN (the samplers rely on non-finite
values propagating). float64 (and every other dtype) always uses
JAX's exact functions.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

#: |x| up to which the float32 cos/sin/tan use the Cody–Waite reduction (|k| < 2¹⁶: exact products)
TRIG_LIMIT = 65536.0

_TWO_OVER_PI = np.float32(0.636619772367581343)
# π/2 = P1 + P2 + P3 + P4 + O(5e-17): 8, 8, 8 and 24 significant bits
_P1 = np.float32(1.5703125)
_P2 = np.float32(0.000484466552734375)
_P3 = np.float32(-6.407499313354492e-07)
_P4 = np.float32(9.92093629470503e-10)
# Cephes sinf / cosf minimax coefficients on |r| ≤ π/4
_S1, _S2, _S3 = np.float32(-1.9515295891e-4), np.float32(8.3321608736e-3), np.float32(-1.6666654611e-1)
_C1, _C2, _C3 = np.float32(2.443315711809948e-5), np.float32(-1.388731625493765e-3), np.float32(4.166664568298827e-2)
# Cephes atanf
_A1, _A2, _A3, _A4 = (np.float32(8.05374449538e-2), np.float32(-1.38776856032e-1),
                      np.float32(1.99777106478e-1), np.float32(-3.33329491539e-1))
_TAN3PI8 = np.float32(2.414213562373095)
_TANPI8 = np.float32(0.4142135623730950)
_PIO2 = np.float32(1.5707963267948966)
_PIO4 = np.float32(0.7853981633974483)


def _reduce(x: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """(sin r, cos r, k mod 4) with r = x − k·π/2, |r| ≤ π/4 (float32, |x| ≤ TRIG_LIMIT)."""
    k = jnp.round(x * _TWO_OVER_PI)
    r = (((x - k * _P1) - k * _P2) - k * _P3) - k * _P4
    z = r * r
    s = r + r * z * ((_S1 * z + _S2) * z + _S3)
    c = (np.float32(1.0) - np.float32(0.5) * z) + z * z * ((_C1 * z + _C2) * z + _C3)
    q = jnp.where(jnp.isnan(k), 0, k).astype(jnp.int32) & 3
    return s, c, q


def _cos_fast(x):
    s, c, q = _reduce(x)
    v = jnp.where((q & 1) == 0, c, s)
    return jnp.where((q == 1) | (q == 2), -v, v)


def _sin_fast(x):
    s, c, q = _reduce(x)
    v = jnp.where((q & 1) == 0, s, c)
    return jnp.where(q >= 2, -v, v)


def _tan_fast(x):
    s, c, q = _reduce(x)
    return jnp.where((q & 1) == 0, s / c, -c / s)


def _nan_outside(fast):
    def f(x):
        return jnp.where(jnp.abs(x) <= TRIG_LIMIT, fast(x), np.float32(np.nan))
    return f


def _guarded(fast, exact):
    def f(x):
        x = jnp.asarray(x)
        if x.dtype != jnp.float32:
            return exact(x)
        y = _nan_outside(fast)(x)                       # one fused pass; NaN out of the fast domain
        return jax.lax.cond(jnp.any(jnp.isnan(y)), lambda: exact(x), lambda: y)
    return f


cos = _guarded(_cos_fast, jnp.cos)
cos.__doc__ = "cos x; float32: vectorised (|error| ≤ 1.5e-7 for |x| ≤ TRIG_LIMIT, exact fallback beyond); else jnp.cos."
sin = _guarded(_sin_fast, jnp.sin)
sin.__doc__ = "sin x; float32: vectorised (|error| ≤ 1.5e-7 for |x| ≤ TRIG_LIMIT, exact fallback beyond); else jnp.sin."
tan = _guarded(_tan_fast, jnp.tan)
tan.__doc__ = "tan x; float32: vectorised (error ≤ 5 ulp + 5e-12·(1+tan²x) for |x| ≤ TRIG_LIMIT, exact fallback beyond); else jnp.tan."


def arctan(x: jax.Array) -> jax.Array:
    """arctan x; float32: vectorised for every input (abs error ≤ 2.5e-7, ±inf → ±π/2, NaN → NaN);
    other dtypes: ``jnp.arctan``."""
    x = jnp.asarray(x)
    if x.dtype != jnp.float32:
        return jnp.arctan(x)
    a = jnp.abs(x)
    big = a > _TAN3PI8
    mid = (a > _TANPI8) & ~big
    t = jnp.where(big, np.float32(-1.0) / a, jnp.where(mid, (a - np.float32(1.0)) / (a + np.float32(1.0)), a))
    y0 = jnp.where(big, _PIO2, jnp.where(mid, _PIO4, np.float32(0.0)))
    z = t * t
    y = y0 + ((((_A1 * z + _A2) * z + _A3) * z + _A4) * z * t + t)
    return jnp.copysign(y, x)


# Giles (2011) single precision: p(w − 2.5) for w < 5, q(√w − 3) otherwise, highest degree first
_ERFINV_W_LT5 = tuple(np.float32(c) for c in (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                                              0.00021858087, -0.00125372503, -0.00417768164, 0.246640727,
                                              1.50140941))
_ERFINV_W_GE5 = tuple(np.float32(c) for c in (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844,
                                              0.00573950773, -0.0076224613, 0.00943887047, 1.00167406,
                                              2.83297682))


def erf_inv(x: jax.Array) -> jax.Array:
    """erf⁻¹ x; float32: vectorised for every input (relative error ≤ 4 ulp; ±1 → ±inf, |x| > 1 and NaN →
    NaN); other dtypes: ``jax.lax.erf_inv`` (exact to its dtype).

    Source: M. Giles, "Approximating the erfinv function", GPU Computing Gems Jade (2011), single precision."""
    x = jnp.asarray(x)
    if x.dtype != jnp.float32:
        return jax.lax.erf_inv(x)
    one = np.float32(1.0)
    a = jnp.abs(x)
    w = -jnp.log((one - a) * (one + a))
    small = w < np.float32(5.0)
    t = jnp.where(small, w - np.float32(2.5), jnp.sqrt(w) - np.float32(3.0))
    p = jnp.where(small, _ERFINV_W_LT5[0], _ERFINV_W_GE5[0])
    for c_lt, c_ge in zip(_ERFINV_W_LT5[1:], _ERFINV_W_GE5[1:]):
        p = jnp.where(small, c_lt, c_ge) + p * t
    return jnp.where(a == one, x * np.float32(np.inf), p * x)


#: float32 functions that give NaN outside the fast domain (|x| > TRIG_LIMIT, ±inf): name -> (fast,
#: exact). A caller that evaluates many of them in one computation may run these (fused, no
#: conditional per call) and redo the computation once with the exact ones when its result has a NaN
#: (``nnft.graph.compile``): correct results at the cost of one reduction over the result.
UNGUARDED: dict = {"cos": (_nan_outside(_cos_fast), jnp.cos), "sin": (_nan_outside(_sin_fast), jnp.sin),
                   "tan": (_nan_outside(_tan_fast), jnp.tan)}
