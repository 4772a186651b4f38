"""The scalar families (``event_dims == 0``): normal, uniform, Cauchy, Student-t, Laplace, exponential.

Each class gives its law's sampling (``jax.random`` and, for the elementwise ones, the counter-based
inverse-CDF transform of a uniform number), log-density, exact raw moments, and the facts of
:class:`nnft.densities.base.Density` (tail, support, centre of symmetry, isotropy, Gaussianity, the
noise map ε → θ = F⁻¹(Φ(ε))). Formulas: the ``doc`` line of each registered density; moments of
location-scale families by the binomial expansion of E[(loc + scale·Y)^k].

The float32 counter-based transforms use nnft's vectorised functions where XLA:CPU's are slow or scalar
(normal: ``nnft.fastmath.erf_inv``, ≤ 4 ulp; cauchy: the fast ``tan``; laplace and exponential: ``log``
of the exact argument 1 − |v| instead of ``log1p(−|v|)``), so their draws differ from ``jax.random``'s
construction in the last bits (tests/densities/test_draw_transforms.py states and tests the error of
every possible float32 draw against float64); float64 draws use XLA's functions, as ``jax.random`` does.
"""

from __future__ import annotations

import math
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from nnft import fastmath
from nnft.densities.base import Density
from nnft.densities.facts import Gaussian, Support, Tail
from nnft.densities.draws import open_interval
from nnft.densities.noise import sf_tail, student_t_quantile
from nnft.errors import DensityArgError

_LOG_2PI = math.log(2 * math.pi)
_SP = jax.scipy.special


def _shifted_moment(k: int, loc: float, scale: float, std_moment: Callable[[int], float]) -> float:
    """E[(loc + scale*Y)^k] = sum_j C(k,j) loc^(k-j) scale^j E[Y^j]."""
    return math.fsum(math.comb(k, j) * loc ** (k - j) * scale ** j * std_moment(j)
                     for j in range(k + 1) if j == k or loc != 0)


def _log1p_neg(a):
    """log(1 − a) of a draw's a ∈ [0, 1) (a multiple of 2⁻²⁴ in float32: 1 − a is then exact, so XLA's
    vectorised ``log`` of it is as accurate as ``log1p(−a)`` and about twice as fast); other dtypes:
    ``log1p(−a)``."""
    if a.dtype == jnp.float32:
        return jnp.log(np.float32(1.0) - a)
    return jnp.log1p(-a)


def _tan_draw(x):
    """tan x for |x| ≤ π/2 (the Cauchy transform): float32 by ``nnft.fastmath``'s vectorised tan (no
    fallback needed: the argument is within its domain), other dtypes ``jnp.tan``."""
    if x.dtype == jnp.float32:
        return fastmath.UNGUARDED["tan"][0](x)
    return jnp.tan(x)


def _double_factorial(n: int) -> int:
    return math.prod(range(n, 0, -2)) if n > 0 else 1


class Normal(Density):
    """N(mean, std²): symmetric about mean, isotropic (i.i.d.) when mean = 0, Gaussian; T(ε) = mean + std·ε."""

    elementwise = True
    affine_args = frozenset({"mean", "std"})

    def _sample(self, key, shape, a, dtype):
        return a["mean"] + a["std"] * jax.random.normal(key, shape, dtype)

    def _from_uniform(self, u, a):      # as jax.random.normal: √2 erf⁻¹ of a uniform on (−1, 1)
        v = open_interval(u, np.nextafter(-1.0, 0.0, dtype=u.dtype), u.dtype)
        return a["mean"] + a["std"] * (np.sqrt(2).astype(u.dtype) * fastmath.erf_inv(v))

    def _log_prob(self, x, a):
        z = (x - a["mean"]) / a["std"]
        return -0.5 * z * z - jnp.log(a["std"]) - 0.5 * _LOG_2PI

    def _moment(self, k, a):
        return _shifted_moment(k, a["mean"], a["std"],
                               lambda j: 0.0 if j % 2 else float(_double_factorial(j - 1)))

    def _noise_map(self, eps, a):
        return a["mean"] + a["std"] * eps

    def _centre(self, a):
        return a["mean"]

    def _isotropic(self, a):
        return a["mean"] == 0.0

    def _gaussian(self, a):
        return Gaussian(a["mean"], a["std"])


class Uniform(Density):
    """U[low, high]: flat, bounded, symmetric about (low + high)/2; T(ε) = low + (high − low)·Φ(ε)."""

    elementwise = True
    flat = True
    affine_args = frozenset({"low", "high"})

    def _tail(self, a):
        return Tail(math.inf, bounded=True, light=True)

    def _support(self, a):
        return Support(a["low"], a["high"])

    def _centre(self, a):
        return 0.5 * (a["low"] + a["high"])

    def _check_relations(self, args):
        low, high = np.broadcast_arrays(args["low"], args["high"])
        bad = ~(low < high)
        if np.any(bad):
            lo, hi = (low[bad][0], high[bad][0]) if low.ndim else (low, high)
            raise DensityArgError(f"{self.name}: low must be < high, got low={float(lo)!r}, "
                                  f"high={float(hi)!r}", density=self.name, arg="high",
                                  value=float(hi), constraint="low < high")

    def _sample(self, key, shape, a, dtype):
        u = jax.random.uniform(key, shape, dtype)
        return a["low"] + (a["high"] - a["low"]) * u

    def _from_uniform(self, u, a):
        return a["low"] + (a["high"] - a["low"]) * u

    def _log_prob(self, x, a):
        inside = (x >= a["low"]) & (x <= a["high"])
        return jnp.where(inside, -jnp.log(a["high"] - a["low"]), -jnp.inf)

    def _moment(self, k, a):
        lo, hi = a["low"], a["high"]
        # (hi^(k+1) - lo^(k+1)) / ((k+1)(hi-lo)) written without cancellation
        return math.fsum(hi ** j * lo ** (k - j) for j in range(k + 1)) / (k + 1)

    def _noise_map(self, eps, a):
        return a["low"] + (a["high"] - a["low"]) * _SP.ndtr(eps)


class Cauchy(Density):
    """Cauchy(loc, scale): no moment of order ≥ 1, symmetric about loc; T(ε) = loc + scale·tan(π(Φ(ε) − ½))."""

    elementwise = True
    affine_args = frozenset({"loc", "scale"})

    def _tail(self, a):
        return Tail(1.0, bounded=False, light=False)

    def _centre(self, a):
        return a["loc"]

    def _sample(self, key, shape, a, dtype):
        return a["loc"] + a["scale"] * jax.random.cauchy(key, shape, dtype)

    def _from_uniform(self, u, a):      # as jax.random.cauchy: tan(π(u − ½)), u in [tiny, 1)
        v = open_interval(u, np.finfo(u.dtype).tiny, u.dtype)
        return a["loc"] + a["scale"] * _tan_draw(np.asarray(np.pi, u.dtype) * (v - np.asarray(0.5, u.dtype)))

    def _log_prob(self, x, a):
        z = (x - a["loc"]) / a["scale"]
        return -jnp.log1p(z * z) - jnp.log(a["scale"]) - math.log(math.pi)

    def _moment(self, k, a):
        if k == 0:
            return 1.0
        raise self._no_moment(k, "cauchy has no finite moments of order >= 1")

    def _noise_map(self, eps, a):
        # tan(π(Φ(ε) − ½)) = sign(ε) cot(π Φ(−|ε|))
        t = 1.0 / jnp.tan(jnp.pi * sf_tail(eps))
        return a["loc"] + a["scale"] * jnp.where(eps < 0, -t, t)


class StudentT(Density):
    """Student-t(df, scale, loc): E|X|ᵖ < ∞ iff p < df, symmetric about loc; T(ε) by bisection on the
    survival function (:func:`nnft.densities.noise.student_t_quantile`)."""

    affine_args = frozenset({"loc", "scale"})
    #: largest df accepted: beyond it the law is a normal to float precision, and the samplers (a gamma
    #: variate of shape df/2; the quantile's bisection on the survival function) lose it (df = 1e20 gave a
    #: neuron-level G 25 % off, df = 1e300 NaN)
    MAX_DF = 1e8

    def _check_relations(self, args):
        df = np.asarray(args["df"], dtype=float)
        if np.any(df > self.MAX_DF):
            value = float(np.max(df))
            raise DensityArgError(f"{self.name}: df must be <= {self.MAX_DF:g}, got df={value:g}; a Student-t with "
                                  "larger df is a normal to float precision: use normal", density=self.name,
                                  arg="df", value=value, constraint=f"df <= {self.MAX_DF:g}")

    def _tail(self, a):
        return Tail(float(a["df"]), bounded=False, light=False)

    def _centre(self, a):
        return a["loc"]

    def _sample(self, key, shape, a, dtype):
        return a["loc"] + a["scale"] * jax.random.t(key, a["df"], shape, dtype)

    def _log_prob(self, x, a):
        df = a["df"]
        z = (x - a["loc"]) / a["scale"]
        return (_SP.gammaln(0.5 * (df + 1)) - _SP.gammaln(0.5 * df)
                - 0.5 * jnp.log(df * jnp.pi) - jnp.log(a["scale"])
                - 0.5 * (df + 1) * jnp.log1p(z * z / df))

    def _moment(self, k, a):
        df = a["df"]
        if k >= df:
            raise self._no_moment(k, f"student_t moments exist only for k < df, got k={k}, df={df:g}")

        def std_moment(j: int) -> float:  # E[T^j] for T ~ t(df), j < df
            if j % 2:
                return 0.0
            if j == 0:
                return 1.0
            return math.exp(0.5 * j * math.log(df) + math.lgamma(0.5 * (j + 1))
                            + math.lgamma(0.5 * (df - j)) - math.lgamma(0.5 * df)) / math.sqrt(math.pi)

        return _shifted_moment(k, a["loc"], a["scale"], std_moment)

    def _noise_map(self, eps, a):
        df = jnp.broadcast_to(a["df"], eps.shape)
        return a["loc"] + a["scale"] * student_t_quantile(eps, df)


class Laplace(Density):
    """Laplace(loc, scale): every moment, symmetric about loc; T(ε) = loc ∓ scale·log(2Φ(−|ε|))."""

    elementwise = True
    affine_args = frozenset({"loc", "scale"})

    def _tail(self, a):      # E e^{t|X|} < ∞ only for t < 1/scale
        return Tail(math.inf, bounded=False, light=False)

    def _centre(self, a):
        return a["loc"]

    def _sample(self, key, shape, a, dtype):
        return a["loc"] + a["scale"] * jax.random.laplace(key, shape, dtype)

    def _from_uniform(self, u, a):      # as jax.random.laplace: sign(v) log1p(−|v|), v uniform on (−1, 1)
        v = open_interval(u, np.nextafter(-1.0, 0.0, dtype=u.dtype), u.dtype)
        return a["loc"] + a["scale"] * (jnp.sign(v) * _log1p_neg(jnp.abs(v)))

    def _log_prob(self, x, a):
        return -jnp.abs(x - a["loc"]) / a["scale"] - jnp.log(2 * a["scale"])

    def _moment(self, k, a):
        return _shifted_moment(k, a["loc"], a["scale"],
                               lambda j: 0.0 if j % 2 else float(math.factorial(j)))

    def _noise_map(self, eps, a):
        # F⁻¹(u) = loc − scale·sign(u−½)·log(1 − 2|u−½|), 1 − 2|u−½| = 2Φ(−|ε|)
        mag = -(math.log(2.0) + _SP.log_ndtr(-jnp.abs(eps)))
        return a["loc"] + a["scale"] * jnp.where(eps < 0, -mag, mag)


class Exponential(Density):
    """Exponential(rate, loc) on the half-line [loc, ∞): not symmetric; T(ε) = loc − log Φ(−ε) / rate."""

    elementwise = True
    affine_args = frozenset({"loc"})     # rate is an inverse scale: θ = loc + Y/rate

    def _tail(self, a):      # E e^{tX} < ∞ only for t < rate
        return Tail(math.inf, bounded=False, light=False)

    def _support(self, a):
        return Support(a["loc"], math.inf)

    def _sample(self, key, shape, a, dtype):
        return a["loc"] + jax.random.exponential(key, shape, dtype) / a["rate"]

    def _from_uniform(self, u, a):      # as jax.random.exponential: −log1p(−u)
        return a["loc"] - _log1p_neg(u) / a["rate"]

    def _log_prob(self, x, a):
        y = x - a["loc"]
        return jnp.where(y >= 0, jnp.log(a["rate"]) - a["rate"] * y, -jnp.inf)

    def _moment(self, k, a):
        return _shifted_moment(k, a["loc"], 1.0 / a["rate"], lambda j: float(math.factorial(j)))

    def _noise_map(self, eps, a):
        # F⁻¹(u) = loc − log(1 − u)/rate, 1 − u = Φ(−ε)
        return a["loc"] - _SP.log_ndtr(-eps) / a["rate"]
