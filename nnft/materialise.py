"""A value computed once into memory, so that XLA cannot fuse it into (and recompute it in) its consumers.

XLA counts elementwise arithmetic as cheap and fuses a producer into every consumer loop: the threefry
cipher and a draw's inverse CDF into each point of a (networks, points, N) pre-activation, a whole
neuron into each half-monomial column of the feature products. ``jax.lax.optimization_barrier`` does not
stop it (XLA:CPU removes barriers before fusing); the operands and results of a conditional are always
materialised. :func:`materialised` is that conditional, on a predicate that is always true but that XLA
cannot fold away. Used by the draws (``nnft.densities.draws``), the field's parameters
(``nnft.graph.compile``) and the neuron-level step (``nnft.estimators.neuron``).
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp


def materialised(compute: Callable[[], Any], anchor: jax.Array, out: tuple | None = None) -> Any:
    """``compute()``, evaluated once into memory rather than fused into each consumer; the same bits.

    The predicate is ``(b | 1) != 0`` for ``b`` the bit pattern of the first entry of ``anchor`` (a
    PRNG key, via its key data, or any numeric array traced in the same computation): always true, but
    a traced value, so XLA keeps the conditional; the other branch (zeros) is never taken. Under ``vmap``
    with a batched anchor the conditional becomes a select of both branches: the same values, fused
    again.

    Args:
      compute: a function of no arguments returning an array or a pytree of arrays (closed-over arrays
        become the conditional's operands: ``lambda: theta`` stores θ before its consumers).
      anchor: any traced array with at least one element (a key, a draw).
      out: (shape, dtype) of ``compute()`` when it is one array and the caller knows it (else ``compute``
        is traced once more by ``jax.eval_shape``).

    Returns:
      ``compute()``, shapes and dtypes as it gives them.

    Source: not from a paper; an XLA:CPU fusion workaround (measured effects in bench/README.md).
    """
    a = anchor
    if jnp.issubdtype(a.dtype, jax.dtypes.prng_key):
        a = jax.random.key_data(a)
    first = jnp.ravel(a)[0]
    if first.dtype == jnp.bool_:
        first = first.astype(jnp.uint8)
    width = {1: jnp.uint8, 2: jnp.uint16, 4: jnp.uint32, 8: jnp.uint64}[first.dtype.itemsize]
    always = (jax.lax.bitcast_convert_type(first, width) | width(1)) != 0
    spec = jax.eval_shape(compute) if out is None else jax.ShapeDtypeStruct(*out)
    return jax.lax.cond(always, compute, lambda: jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), spec))
