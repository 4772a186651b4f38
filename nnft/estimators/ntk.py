"""Empirical neural tangent kernel and frozen-NTK kernel regression (TASI arXiv:2408.00082 §4, eq. 92-99).

For one network θ, in the NTK parameterisation (parameters standardised by their density's std s_p,
so the analytic limit is ``nnft.graph.kernels.ntk``):

    Θ̂_θ(x, x') = Σ_p s_p² ∂φ_θ(x)/∂θ_p · ∂φ_θ(x')/∂θ_p,

the sum running over parameters with a normal density of constant std (the trainable ones; other
parameters are held fixed). Its ensemble mean over θ ~ P(θ) is exact for one hidden layer at any
width and converges to the analytic Θ as the width grows; the spread of Θ̂ shrinks like 1/√n.

Kernel regression with a frozen kernel (TASI eq. 99): μ(x) = Θ(x, X) Θ(X, X)⁻¹ Y.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from nnft.graph import ir
from nnft.graph.compile import Model
from nnft.sample.iid import as_key
from nnft.stats import Estimate


def trainable_scales(model: Model) -> dict[str, float]:
    """The trainable parameters: those with a Gaussian density of constant arguments
    (``Density.gaussian``), name -> its std s_p (the NTK scale); the others are held fixed."""
    from nnft.densities import get_density
    g = model.graph
    out = {}
    for name in model.theory.params:
        node = ir.param_node(name)
        args = ir.constant_args(g, node)
        if args is not None:
            gauss = get_density(ir.density(g, node)).gaussian(args)
            if gauss is not None:
                out[name] = gauss.std
    return out


def _ntk_fn(model: Model, scales: dict[str, float]):
    def one(theta, pts):
        def phi(trainable):
            th = {**theta, **trainable}
            return jax.vmap(lambda x: model.field(th, x))(pts)
        jac = jax.jacrev(phi)({k: theta[k] for k in scales})
        total = 0.0
        for k, s in scales.items():
            J = jac[k].reshape(pts.shape[0], -1)
            total = total + s ** 2 * J @ J.T
        return total
    return one


def empirical_ntk(model: Model, theta: dict, points) -> np.ndarray:
    """Θ̂_θ(xᵢ, xⱼ) = Σ_p s_p² ∂φ_θ(xᵢ)/∂θ_p · ∂φ_θ(xⱼ)/∂θ_p of one sampled network (TASI
    arXiv:2408.00082 §4), computed in float64.

    Args:
      model: a compiled theory (``nnft.compile``); its trainable blocks and their scales s_p.
      theta: one network (unbatched θ: arrays of the blocks' shapes).
      points: (P, d).

    Returns:
      (P, P) float64 numpy array, symmetric positive semi-definite, in units of φ².

    Only parameters with a Gaussian density of constant arguments are trainable
    (:func:`trainable_scales`); with none, the sum is empty and the result is the scalar 0.

    Raises:
      KeyError: ``theta`` lacks one of the model's parameter blocks.
    """
    scales = trainable_scales(model)
    with jax.enable_x64(True):
        pts = jnp.asarray(points, dtype=next(iter(theta.values())).dtype)
        return np.asarray(jax.jit(_ntk_fn(model, scales))(theta, pts))


def ntk_ensemble(model: Model, points, *, samples: int = 200, key=0, dtype=jnp.float64,
                 chunk: int = 16) -> tuple[Estimate, Estimate]:
    """Ensemble mean of the empirical NTK over θ ~ P(θ), and the per-network spread (std of Θ̂).

    Args:
      model: a compiled theory (``nnft.compile``).
      points: (P, d).
      samples: number of networks θ ~ P(θ) (``model.sample``, ``chunk`` at a time).
      key: a JAX key or an integer seed.
      dtype: precision of θ and the points (float64 by default, under JAX's x64 mode).
      chunk: networks per jitted step (memory only).

    Returns:
      (mean, spread): Estimates of E Θ̂ (with its standard error) and of the standard deviation of
      Θ̂ across networks (error by the delta method), each (P, P), in units of φ².

    Raises:
      InputError: through ``nnft.ntk_ensemble``, bad points or counts (P above the kernel limit).

    Source: the empirical NTK Θ̂ = Σ_p ∂φ/∂θ_p ∂φ/∂θ_p and its infinite-width limit (arXiv:2408.00082
    §4, eq. 92-99; Jacot et al. arXiv:1806.07572).
    """
    scales = trainable_scales(model)
    key = as_key(key)
    total = np.zeros((len(points), len(points)))
    total2 = np.zeros_like(total)
    with jax.enable_x64(True):
        pts = jnp.asarray(points, dtype=dtype)
        batch = jax.jit(jax.vmap(_ntk_fn(model, scales), in_axes=(0, None)))
        for start in range(0, samples, chunk):
            n = min(chunk, samples - start)
            theta = model.sample(key, n, start, dtype)
            vals = np.asarray(batch(theta, pts), dtype=np.float64)
            total += vals.sum(0)
            total2 += (vals ** 2).sum(0)
    mean = total / samples
    var = np.maximum(total2 / samples - mean ** 2, 0.0) * samples / max(samples - 1, 1)
    sd = np.sqrt(var)
    return (Estimate(mean, sd / np.sqrt(samples), samples),
            Estimate(sd, sd / np.sqrt(2 * max(samples - 1, 1)), samples))


def kernel_regression(K_train, K_test_train, y_train, ridge: float = 0.0) -> np.ndarray:
    """Frozen-kernel mean prediction μ(x) = K(x, X)(K(X, X) + ridge·I)⁻¹ Y (TASI arXiv:2408.00082 eq. 99).

    Args:
      K_train: K(X, X), (n, n).
      K_test_train: K(x, X), (m, n).
      y_train: Y, (n,) or (n, k).

    Returns:
      μ, (m,) or (m, k).

    Raises:
      numpy.linalg.LinAlgError: K(X, X) + ridge·I is singular.
    """
    K = np.asarray(K_train, dtype=np.float64)
    A = K + ridge * np.eye(len(K))
    return np.asarray(K_test_train, dtype=np.float64) @ np.linalg.solve(A, np.asarray(y_train, dtype=np.float64))


def ntk_predict(model: Model, X_train, y_train, X_test, *, kernel: str = "ntk", ridge: float = 0.0) -> np.ndarray:
    """Infinite-width mean prediction of gradient-descent training to convergence (``kernel="ntk"``,
    TASI arXiv:2408.00082 eq. 99) or of Bayesian inference with the NNGP prior (``kernel="nngp"``).

    Args:
      model: a compiled theory with an infinite-width kernel (``nnft.graph.kernels.kernels``).
      X_train: (n, d) training inputs.
      y_train: (n,) or (n, k) training targets, in units of φ.
      X_test: (m, d) test inputs.
      kernel: "ntk" (gradient flow to convergence) or "nngp" (any other value selects the NNGP).
      ridge: added to the diagonal of K(X, X) (units of φ²; 0 for exact interpolation).

    Returns:
      μ at X_test, (m,) or (m, k).

    Raises:
      KernelError: the model has no infinite-width kernel (``nnft.graph.kernels.kernels``).
      numpy.linalg.LinAlgError: K(X, X) + ridge·I is singular (e.g. repeated training points, ridge 0).
    """
    from nnft.graph.kernels import kernels
    X_train = np.atleast_2d(np.asarray(X_train, dtype=np.float64))
    X_test = np.atleast_2d(np.asarray(X_test, dtype=np.float64))
    allx = np.concatenate([X_train, X_test])
    k = kernels(model, allx)
    K = k.ntk if kernel == "ntk" else k.nngp
    n = len(X_train)
    return kernel_regression(K[:n, :n], K[n:, :n], y_train, ridge)
