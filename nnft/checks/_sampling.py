"""Block sums the checkers decide from (whole networks or single neurons), so that every checker
can read its degrees of freedom and leave-one-block-out values from the samples actually used."""

from __future__ import annotations

import numpy as np

from nnft.estimators.npoint import Plan, accumulate
from nnft.stats import BlockSums


def neuron_sums(model, plan: Plan, neurons: int, key, blocks: int, widths=None):
    """Per-neuron block sums and the map means -> (full, connected), each (len(widths), T), at the
    given widths (default: the spec's), exact in N (TASI eq. 39, 50-51).

    Raises:
      EstimatorError: the theory is not a sum of i.i.d. neurons.
    """
    import jax
    import jax.numpy as jnp

    from nnft.estimators.neuron import MAX_NEURON_ROWS, _require, combine, width_moments
    ns = _require(model)
    W = model.theory.dims[ns.width]
    ws = tuple(int(w) for w in (widths or [W]))
    v_mom, b_mom = width_moments(model, ws, max(plan.orders))
    pts = jnp.asarray(plan.points)

    def values(theta):
        per_point = jax.vmap(model.neurons, in_axes=(None, 0))
        vals = jax.vmap(per_point, in_axes=(0, None))(theta, pts.astype(theta[ns.readout].dtype))
        return jnp.swapaxes(vals, 1, 2)

    networks = -(-int(neurons) // W)
    acc = plan.stream(model, key, networks, values, chunk=max(1, min(4096, MAX_NEURON_ROWS // W)),
                      n_blocks=blocks, dtype="float32", cache_key=("check-neurons", plan.signature))
    acc.n = networks * W
    return acc, ws, lambda means: combine(plan, means, ws, v_mom, b_mom)


def network_sums(model, plan: Plan, samples: int, key, blocks: int):
    """Whole-network block sums and the map means -> (full, connected), each (1, T)."""
    acc: BlockSums = accumulate(model, plan, samples=samples, key=key, blocks=blocks)
    return acc, lambda means: (plan.full(means)[None], plan.connected(means)[None])


def generic_points(d: int, k: int) -> np.ndarray:
    """k fixed, generic points in ℝᵈ (|x| ≈ 0.3–0.6): no coordinate zero, no two points on a line
    through the origin, so they avoid the fixed points of common architectures (the origin of
    bias-free nets with σ(0) = 0, rays of positively homogeneous nets)."""
    base = np.array([0.41, -0.27, 0.19, 0.33, -0.15, 0.23, -0.37, 0.11])
    out = np.empty((k, d))
    for i in range(k):
        v = np.roll(base, 3 * i)[:d] if d <= len(base) else np.resize(np.roll(base, 3 * i), d)
        out[i] = v * (1.0 if i % 2 == 0 else -1.3) / np.sqrt(max(d, 1) / 2 + 0.5)
    return out
