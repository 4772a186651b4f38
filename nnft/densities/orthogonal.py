"""Haar-orthogonal weight matrices (orthogonal initialisation): ``event_dims == 2``, the last two axes
(n, m) of the parameter are one matrix W = scale·Q.

Q is Haar-distributed on the Stiefel manifold: for n ≥ m its m columns are orthonormal (QᵀQ = I_m),
for n < m its n rows are (QQᵀ = I_n); square Q is Haar on O(n). Sampling: the QR decomposition of an
n×m (or m×n) standard Gaussian matrix G = QR with the sign fix Q → Q·diag(sign(diag R)), which makes
R's diagonal positive and the decomposition unique, so that Q inherits G's invariance under
orthogonal maps on either side (Mezzadri, arXiv:math-ph/0609050, §5; without the fix, LAPACK's QR is
not Haar). Facts: bounded (|W_ij| ≤ scale), symmetric about 0, invariant under rotations (isotropic),
E[W Wᵀ] = scale²·(m/n)·I_n for n ≥ m (= scale²·I for square W), not Gaussian. The entries of one
matrix are dependent: a W[N, d] drawn this way has neurons (rows) that are not independent, so the
neuron-sum analysis refuses it (``nnft.graph.analyse``). ``log_prob`` is 0 on the manifold (the Haar
measure is not a density on ℝ^{n×m}: a constant is the log-density with respect to it) and −inf off it;
the noise map is the same QR of ε (a many-to-one push-forward of N(0, I), valid for NUTS on ε).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from nnft.densities.base import Density
from nnft.densities.facts import Support, Tail

#: |QᵀQ − I| tolerance of ``log_prob``'s manifold membership, in units of the dtype's epsilon × size
MANIFOLD_TOL = 64.0


def haar_q(g: jax.Array) -> jax.Array:
    """Haar-distributed Q from a standard Gaussian batch g (..., n, m): QR with the sign fix
    (Mezzadri arXiv:math-ph/0609050 §5); the orthonormal side is the shorter one."""
    n, m = g.shape[-2], g.shape[-1]
    tall = n >= m
    a = g if tall else jnp.swapaxes(g, -1, -2)
    q, r = jnp.linalg.qr(a)
    d = jnp.diagonal(r, axis1=-2, axis2=-1)
    q = q * jnp.where(d < 0, -1.0, 1.0).astype(q.dtype)[..., None, :]
    return q if tall else jnp.swapaxes(q, -1, -2)


class HaarOrthogonal(Density):
    """scale × a Haar-random matrix with orthonormal columns (n ≥ m) or rows (n < m) (module docstring)."""

    affine_args = frozenset({"scale"})

    def _sample(self, key, shape, a, dtype):
        g = jax.random.normal(key, shape, dtype)
        return a["scale"] * haar_q(g)        # args carry size-1 event axes here (draws.sample_jit)

    def _log_prob(self, x, a):
        w = x / jnp.asarray(a["scale"])[..., None, None]
        n, m = w.shape[-2], w.shape[-1]
        gram = jnp.swapaxes(w, -1, -2) @ w if n >= m else w @ jnp.swapaxes(w, -1, -2)
        err = jnp.max(jnp.abs(gram - jnp.broadcast_to(jnp.eye(min(n, m), dtype=w.dtype), gram.shape)), axis=(-2, -1))
        tol = MANIFOLD_TOL * jnp.finfo(w.dtype).eps * max(n, m)
        return jnp.where(err <= tol, 0.0, -jnp.inf).astype(w.dtype)

    def _moment(self, k, a):   # pragma: no cover - moment() refuses event_dims > 0 first
        raise self._no_moment(k, "a matrix law has no scalar moments; E[W Wᵀ] = scale²(m/n) I_n")

    def _noise_map(self, eps, a):         # args carry size-1 event axes here (Density.noise_map)
        return jnp.asarray(a["scale"]) * haar_q(eps)

    def _tail(self, a):
        return Tail(math.inf, bounded=True, light=True)

    def _support(self, a):
        return Support(-a["scale"], a["scale"])

    def _centre(self, a):
        return 0.0

    def _isotropic(self, a):
        return True
