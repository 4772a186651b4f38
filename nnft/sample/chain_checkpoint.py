"""Checkpoints of MCMC streams: the state of running chains saved at safe points (between segments of
draws), so that a run killed at any moment and resumed gives bitwise the result of a run never
interrupted — block sums, tails, R̂, ESS and every correlator.

A stream's section of the checkpoint file (``nnft.checkpoint``; one section per stream, numbered in
the order the streams of a run start) holds, beside the block sums Σf (K, F), Σ1 (K,), the draws done
``n`` and the tail buffers of the i.i.d. format:

* ``next``: draws per chain done (a segment boundary, or the end);
* ``chain`` (C, W) float64: per chain its BlackJAX state flattened (position ε, log-density and its
  gradient, in tree order), then the adapted step size and the diagonal inverse mass matrix (D);
* ``trace`` (n, C, O): the diagnostic traces kept so far; ``tallies`` (C, 2): divergences and the
  summed acceptance rates.

The chains' keys are not saved: they follow from the run's key (or the continued state), which the
fingerprint holds; transition t of a chain uses ``fold_in(chain key, t)``, so the key position is
``next · thin`` transitions past the start. Every number is float64, the chains' own precision, so a
restore is exact.
"""

from __future__ import annotations

import hashlib

import jax
import jax.numpy as jnp
import numpy as np

from nnft.errors import CheckpointError
from nnft.graph.compile import Model
from nnft.sample.noise import noise_logdensity, sample_noise
from nnft.sample.step import DTYPES
from nnft.sample.transition import kernel

__all__ = ["fingerprint", "pack", "unpack", "state_template"]


def _digest(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()[:16]


def _key_text(key) -> str:
    key = jnp.asarray(key) if not isinstance(key, jax.Array) else key
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        return f"{jax.random.key_impl(key)} #{_digest(np.asarray(jax.random.key_data(key)).tobytes())}"
    return f"raw #{_digest(np.asarray(key).tobytes())}"


def fingerprint(model: Model, key, cache_key, *, start=None, **sizes) -> dict:
    """What a checkpoint of an MCMC stream must agree on to be continued: the theory (content hash), what
    is measured (the features' cache key), the key (or the continued chains' keys and state), the
    sampler's configuration and sizes — not the devices, which do not change the numbers.

    Args:
      model: the compiled theory.
      key: the run's key, or the continued chains' (C,) keys.
      cache_key: the features' cache key (None: unnamed).
      start: the continued :class:`~nnft.sample.mcmc.ChainState`, or None for fresh chains.
      sizes: integers and strings (other values by ``repr``).

    Returns:
      a JSON-able dict.

    Raises:
      nothing.
    """
    from nnft import runtime
    out = {"sampler": "mcmc",
           "theory": f"{model.theory.name} #{_digest(model.theory.model_dump_json().encode())}",
           "measured": "unnamed" if cache_key is None else f"{cache_key[0]} #{_digest(repr(cache_key).encode())}",
           "key": _key_text(key),
           **{k: (v if isinstance(v, (int, str)) else repr(v)) for k, v in sizes.items()}}
    if start is not None:
        leaves = jax.tree_util.tree_leaves((start.states, start.step_size, start.inverse_mass_matrix))
        out["continued"] = (f"{start.transitions} transitions #"
                            + _digest(b"".join(np.asarray(a, np.float64).tobytes() for a in leaves)))
    if runtime.process_count() > 1:
        out["processes"] = f"{runtime.process_index()} of {runtime.process_count()}"
    return out


def state_template(model: Model, chains: int, dtype: str, algorithm: str, integration_steps: int):
    """The shapes and dtypes (``jax.ShapeDtypeStruct``) of C chains' BlackJAX states, without running
    anything (``jax.eval_shape`` of the kernel's ``init``)."""
    dt = DTYPES[dtype]
    make = kernel(algorithm, noise_logdensity(model, dt), integration_steps)
    with jax.enable_x64(True):
        pos = jax.eval_shape(lambda k: jax.vmap(lambda kk: sample_noise(model, kk))(jax.random.split(k, chains)),
                             jax.random.key(0))
        size = sum(int(np.prod(s.shape[1:])) for s in jax.tree_util.tree_leaves(pos))
        return jax.eval_shape(
            lambda p: jax.vmap(lambda q: make(jnp.float64(0.1), jnp.ones(size, jnp.float64)).init(q))(p), pos)


def pack(states, steps, imms) -> np.ndarray:
    """(C, W) float64: per chain the leaves of ``states`` (tree order, flattened), the step size and the
    inverse mass matrix."""
    leaves = [np.asarray(a) for a in jax.tree_util.tree_leaves(states)]
    c = leaves[0].shape[0]
    parts = [a.reshape(c, -1).astype(np.float64) for a in leaves]
    parts += [np.asarray(steps, np.float64).reshape(c, 1), np.asarray(imms, np.float64).reshape(c, -1)]
    return np.concatenate(parts, axis=1)


def unpack(chain: np.ndarray, template, path: str, section: int):
    """Inverse of :func:`pack`: (states, steps (C,), imms (C, D)) as JAX arrays of the template's dtypes.

    Raises:
      CheckpointError: ``chain`` does not have the template's size (a damaged file).
    """
    leaves, treedef = jax.tree_util.tree_flatten(template)
    c = leaves[0].shape[0]
    sizes = [int(np.prod(s.shape[1:])) for s in leaves]
    imm = chain.shape[1] - sum(sizes) - 1 if chain.ndim == 2 else -1
    if chain.ndim != 2 or chain.shape[0] != c or imm < 1:
        raise CheckpointError(f"checkpoint {path} (stream {section}) is damaged: the chains' state has shape "
                              f"{tuple(chain.shape)}, the run needs ({c}, {sum(sizes) + 1} + mass matrix)")
    out, at = [], 0
    with jax.enable_x64(True):
        for s, n in zip(leaves, sizes):
            out.append(jnp.asarray(chain[:, at:at + n].reshape(s.shape).astype(s.dtype)))
            at += n
        steps = jnp.asarray(chain[:, at])
        imms = jnp.asarray(chain[:, at + 1:])
    return jax.tree_util.tree_unflatten(treedef, out), steps, imms
