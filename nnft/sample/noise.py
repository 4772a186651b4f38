"""The noise parametrisation of MCMC: θ = T(ε), ε ~ N(0, I) (docs/physics.md §7).

NUTS never meets a boundary of the support (uniform, exponential, uniform_ball) or an infinitely stiff
tail, because it runs on unconstrained noise: every parameter is θ = T(ε) with ε ~ N(0, I) of the same
shape, T the inverse-CDF map of its density (:func:`theta_from_noise`). T pushes N(0, I) forward to
P(θ) exactly, also when a density's arguments depend on earlier parameters (they are evaluated in
``Model.structure.order`` exactly as ``Model.sample_one`` does), so the target over ε is exactly

    log p(ε) = −½|ε|² + log_weight(T(ε))        (up to a constant; :func:`noise_logdensity`).

With ``log_weight = 0`` (no ``insertions:``) a chain samples the free theory, the λ = 0 test case.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp

from nnft.graph import ir
from nnft.graph.compile import Model, Theta

__all__ = ["transform", "noise_shapes", "sample_noise", "theta_from_noise", "noise_logdensity"]


# ----------------------------------------------------------------------------------------- T(ε)
def transform(name: str, eps: jax.Array, args: dict[str, jax.Array]) -> jax.Array:
    """θ = T(ε) for density ``name``: maps ε ~ N(0, I) to draws of the density.

    ``args`` must already broadcast against ``eps`` (batch shape, plus size-1 event axes). The map is
    declared on the density: :meth:`nnft.densities.Density.noise_map` (inverse CDF at Φ(ε) for the
    scalar families, written with Φ(−|ε|) where the tails need it; uniform_ball: r = R·F_{χ²_k}(|ε|²)^{1/k}
    along ε/|ε|, k = last axis). Raises UnknownNameError for an unknown density name.
    """
    from nnft.densities import get_density
    return get_density(name).noise_map(eps, args)


def noise_shapes(model: Model) -> dict[str, tuple[int, ...]]:
    """Shape of ε (= shape of θ) for every parameter: {name: tuple of the sizes of its axes}, in
    declaration order."""
    g = model.graph
    return {name: tuple(model.theory.dims[a] for a in ir.axes(g, ir.param_node(name)))
            for name in model.theory.params}


def sample_noise(model: Model, key: jax.Array, dtype=jnp.float64) -> dict[str, jax.Array]:
    """ε ~ N(0, I) for one network: {name: array of shape ``noise_shapes(model)[name]``} in ``dtype``
    (one independent key ``fold_in(key, j)`` per parameter j, declaration order)."""
    return {name: jax.random.normal(jax.random.fold_in(key, j), shape, dtype)
            for j, (name, shape) in enumerate(noise_shapes(model).items())}


def theta_from_noise(model: Model, eps: dict[str, jax.Array], dtype=None) -> Theta:
    """θ = T(ε) for one network: mirrors ``Model.sample_one`` with noise in place of a key.

    Parameters are produced in ``model.structure.order``; each density's arguments are evaluated
    from the graph (constants and earlier parameters) and aligned to the parameter's batch axes
    exactly as in ``sample_one``, then broadcast as in ``Density.sample``.

    Args:
      eps: {name: ε} with the shapes of :func:`noise_shapes` (no batch axis; vmap for chains).
      dtype: precision of θ (default: that of ε).

    Returns:
      θ: {name: array of the same shape as ε}.

    Raises:
      UnknownNameError: a density without a registered implementation (:func:`transform`).
    """
    dtype = dtype or next(iter(eps.values())).dtype
    values: dict[str, jax.Array] = {}
    theta: Theta = {}
    for name in model.structure.order:
        node = ir.param_node(name)
        dens, _, args = model.density_args(name, values, dtype)
        e = jnp.asarray(eps[name], dtype)
        batch = e.shape[:e.ndim - dens.event_dims]
        expand = (...,) + (None,) * dens.event_dims
        args = {k: jnp.broadcast_to(v, batch)[expand] for k, v in args.items()}
        value = transform(dens.name, e, args)
        values[node] = value
        theta[name] = value
    return theta


def noise_logdensity(model: Model, dtype=None) -> Callable[[dict[str, jax.Array]], jax.Array]:
    """The NUTS target over ε: −½|ε|² + log_weight(T(ε)) (exact: T pushes N(0, I) to P(θ)).

    ``dtype`` is the precision of the network evaluation (default: that of ε); the result has ε's
    dtype, so the chain's bookkeeping can stay float64 while the field is evaluated in float32.

    Returns:
      ``logdensity({name: ε}) -> ()`` scalar, up to a constant (docs/physics.md §7).
    """
    def logdensity(eps):
        out = next(iter(eps.values())).dtype
        gauss = -0.5 * sum(jnp.sum(e * e) for e in jax.tree_util.tree_leaves(eps))
        return gauss + model.log_weight(theta_from_noise(model, eps, dtype or out)).astype(out)
    return logdensity
