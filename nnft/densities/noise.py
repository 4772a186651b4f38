"""Standard-noise helpers of the noise maps θ = F⁻¹(Φ(ε)) (:meth:`nnft.densities.Density.noise_map`).

Tail-accurate pieces that several families share: Φ(−|ε|) without the 1 − Φ cancellation, and the
Student-t quantile at Φ(ε) (bisection on the survival function, implicit derivative), which JAX
does not provide.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def sf_tail(eps: jax.Array) -> jax.Array:
    """Φ(−|ε|), accurate in the tails (no 1 − Φ cancellation); same shape as ``eps``."""
    return jax.scipy.special.ndtr(-jnp.abs(eps))


def student_t_sf(x: jax.Array, df: jax.Array) -> jax.Array:
    """P(T > x) for x >= 0, T ~ t(df) (elementwise, broadcasting)."""
    return 0.5 * jax.scipy.special.betainc(0.5 * df, 0.5, df / (df + x * x))


@jax.custom_jvp
def student_t_quantile(eps: jax.Array, df: jax.Array) -> jax.Array:
    """Standard t(df) quantile at Φ(ε), elementwise (``df`` of ``eps``'s shape): bisection in log|x|
    on the survival function (stable in both tails; 64 steps in float64, 40 in float32), derivative
    in ε by implicit differentiation (the df tangent is dropped)."""
    q = sf_tail(eps)                        # target tail probability, ≤ ½
    dt = eps.dtype
    lo = jnp.full_like(eps, -60.0)
    hi = jnp.full_like(eps, 90.0)

    def body(_, bounds):
        lo, hi = bounds
        mid = 0.5 * (lo + hi)
        above = student_t_sf(jnp.exp(mid), df) > q   # x too small
        return jnp.where(above, mid, lo), jnp.where(above, hi, mid)

    lo, hi = jax.lax.fori_loop(0, 64 if dt == jnp.float64 else 40, body, (lo, hi))
    x = jnp.exp(0.5 * (lo + hi))
    x = jnp.where(q >= 0.5, 0.0, x)
    return jnp.where(eps < 0, -x, x)


@student_t_quantile.defjvp
def _student_t_quantile_jvp(primals, tangents):
    eps, df = primals
    deps, _ = tangents
    x = student_t_quantile(eps, df)
    # dx/dε = φ(ε) / f_t(x). The df tangent is dropped (df is a constant in every shipped spec; an
    # inexact force only costs NUTS efficiency, the Metropolis/slice step keeps the target exact).
    log_ft = jax.scipy.stats.t.logpdf(x, df)
    dx = jnp.exp(jax.scipy.stats.norm.logpdf(eps) - log_ft) * deps
    return x, dx
