"""Gaussian expectations by Gauss–Hermite quadrature (numpy only).

    expect1(f, K)          = E_{u ~ N(0, K)}[f(u)]
    expect2(f, g, K11, K22, K12) = E_{(u, v) ~ N(0, [[K11, K12], [K12, K22]])}[f(u) g(v)]

The bivariate rule uses the Cholesky map u = √K11 z₁, v = ρ√K22 z₁ + √(K22(1−ρ²)) z₂ with
probabilists' Hermite nodes. For analytic f, g the error falls exponentially with the number of
nodes (``n = 64``: ~1e-12 for erf, gelu, sigmoid and ~1e-8 for tanh at K ≲ 10); for functions with a kink
(relu, abs) it falls only algebraically (~1e-5 at n = 64) — use the closed forms of
``nnft.analytic.activations`` there. :data:`ACCURACY` states what the tests verify.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

import numpy as np

#: absolute accuracy :func:`expect2_converged` guarantees (else it raises)
ACCURACY = 1e-7


@lru_cache(maxsize=16)
def nodes(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Probabilists' Gauss–Hermite nodes and weights normalised to a N(0, 1) expectation."""
    z, w = np.polynomial.hermite_e.hermegauss(n)
    return z, w / np.sqrt(2 * np.pi)


def expect1(f: Callable, K, n: int = 96) -> np.ndarray:
    """E[f(u)], u ~ N(0, K), elementwise over an array of variances K."""
    z, w = nodes(n)
    K = np.asarray(K, dtype=np.float64)
    u = np.sqrt(np.maximum(K, 0.0))[..., None] * z
    return np.sum(f(u) * w, axis=-1)


def expect2(f: Callable, g: Callable, K11, K22, K12, n: int = 64) -> np.ndarray:
    """E[f(u) g(v)] for (u, v) ~ N(0, [[K11, K12], [K12, K22]]), elementwise over arrays of K."""
    z, w = nodes(n)
    K11, K22, K12 = np.broadcast_arrays(*(np.asarray(k, dtype=np.float64) for k in (K11, K22, K12)))
    s1 = np.sqrt(np.maximum(K11, 0.0))
    s2 = np.sqrt(np.maximum(K22, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.where(s1 * s2 > 0, K12 / (s1 * s2), 0.0)
    rho = np.clip(rho, -1.0, 1.0)
    z1, z2 = z[:, None], z[None, :]
    W = w[:, None] * w[None, :]
    u = s1[..., None, None] * z1
    v = s2[..., None, None] * (rho[..., None, None] * z1 + np.sqrt(1 - rho ** 2)[..., None, None] * z2)
    return np.sum(f(u) * g(v) * W, axis=(-2, -1))


def expect2_converged(f: Callable, g: Callable, K11, K22, K12, tol: float = ACCURACY,
                      max_nodes: int = 512) -> np.ndarray:
    """:func:`expect2` with the node count doubled (64, 128, …) until two successive rules agree
    to ``tol`` (absolute, relative above 1). Saturating functions at large K (tanh at K ~ 10 needs
    ~200 nodes) converge; a growth the Gaussian cannot tame, or a kink, raises ValueError."""
    n = 64
    prev = expect2(f, g, K11, K22, K12, n=n)
    while n < max_nodes:
        n *= 2
        cur = expect2(f, g, K11, K22, K12, n=n)
        if np.all(np.isfinite(cur)) and np.max(np.abs(cur - prev) / np.maximum(np.abs(cur), 1.0)) < tol:
            return cur
        prev = cur
    raise ValueError(f"Gaussian quadrature did not converge to {tol:g} with {max_nodes} nodes "
                     "(the function grows too fast, or has a kink without a closed form)")
