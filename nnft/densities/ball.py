"""The uniform law on the d-ball |w| ≤ radius (``event_dims == 1``, d = size of the last axis).

Sampling: direction g/|g| with g ~ N(0, I_d), radius R·U^{1/d} (U uniform); d = 1 is the interval
[−R, R]. Noise map: the direction of ε and R·F_{χ²_d}(|ε|²)^{1/d}, since |ε|² ~ χ²_d is independent
of ε/|ε|. The law is bounded, flat on its support, symmetric about the origin and rotation invariant.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from nnft.densities.base import Density
from nnft.densities.facts import Support, Tail


class UniformBall(Density):
    """Uniform on the ball |w| ≤ radius along the last axis (see the module docstring)."""

    flat = True
    affine_args = frozenset({"radius"})

    def _tail(self, a):
        return Tail(math.inf, bounded=True, light=True)

    def _support(self, a):
        return Support(radius=a["radius"])

    def _centre(self, a):
        return 0.0

    def _isotropic(self, a):
        return True

    def _sample(self, key, shape, a, dtype):
        d = shape[-1]
        if d == 1:  # the 1-ball is the interval [-radius, radius]
            return a["radius"] * jax.random.uniform(key, shape, dtype, minval=-1.0, maxval=1.0)
        kdir, krad = jax.random.split(key)
        g = jax.random.normal(kdir, shape, dtype)
        norm = jnp.linalg.norm(g, axis=-1, keepdims=True)
        direction = g / jnp.where(norm > 0, norm, 1.0)  # g == 0 has probability ~0; avoid NaN
        u = jax.random.uniform(krad, shape[:-1] + (1,), dtype)
        return a["radius"] * u ** (1.0 / d) * direction

    def _log_prob(self, x, a):
        d = x.shape[-1]
        r = a["radius"]
        log_vol = 0.5 * d * math.log(math.pi) - math.lgamma(0.5 * d + 1) + d * jnp.log(r)
        inside = jnp.sum(x * x, axis=-1) <= r * r
        return jnp.where(inside, -log_vol, -jnp.inf)

    def _noise_map(self, eps, a):
        k = eps.shape[-1]
        s = jnp.sum(eps * eps, axis=-1, keepdims=True)
        norm = jnp.sqrt(s)
        direction = eps / jnp.where(norm > 0, norm, 1.0)
        u = jax.scipy.special.gammainc(0.5 * k, 0.5 * s)          # ~ U(0, 1): |ε|² ~ χ²_k
        return a["radius"] * u ** (1.0 / k) * direction
