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

__all__ = ["fingerprint", "pack", "unpack", "state_template", "check"]


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
    d = sum(int(np.prod(s.shape[1:])) for s in jax.tree_util.tree_leaves(template.position))
    need = (c, sum(sizes) + 1 + d)                       # state leaves, step size, diagonal mass matrix
    if tuple(chain.shape) != need:
        raise CheckpointError(f"checkpoint {path} (stream {section}) is damaged: the chains' state has shape "
                              f"{tuple(chain.shape)}, the run needs {need}")
    out, at = [], 0
    with jax.enable_x64(True):
        for s, n in zip(leaves, sizes):
            out.append(jnp.asarray(chain[:, at:at + n].reshape(s.shape).astype(s.dtype)))
            at += n
        steps = jnp.asarray(chain[:, at])
        imms = jnp.asarray(chain[:, at + 1:])
    return jax.tree_util.tree_unflatten(treedef, out), steps, imms


def check(ck, section: int, saved: dict, model: Model, *, shapes: dict, chains: int, per_chain: int, stride: int,
          n_obs: int, dtype: str, algorithm: str, integration_steps: int):
    """Check a restored MCMC section against the run and unpack its chains.

    Args:
      ck: the :class:`nnft.checkpoint.Checkpoint`; section: its section number; saved: the section.
      model: the compiled theory; shapes: the block sums' shapes (name -> shape).
      chains: C; per_chain: draws per chain of the run; stride: trace stride; n_obs: traced observables.
      dtype, algorithm, integration_steps: the sampler (for the chains' state template).

    Returns:
      (draws per chain done, states, step sizes (C,), inverse mass matrices (C, D)).

    Raises:
      CheckpointError: a section without the chains' state, with a position outside the run, or with
        arrays of other shapes (a damaged file).
    """
    done = int(saved["next"])
    ck.check_shapes(section, saved, {**shapes, "trace": (-(-done // stride), chains, n_obs), "tallies": (chains, 2)})
    if (saved.get("chain") is None or saved.get("trace") is None or saved.get("tallies") is None
            or not 0 <= done <= per_chain):
        raise CheckpointError(f"checkpoint {ck.path} (stream {section}) is damaged: it lacks the chains' "
                              f"state or its position {done} is not within this run of {per_chain} draws")
    template = state_template(model, chains, dtype, algorithm, integration_steps)
    states, steps, imms = unpack(saved["chain"], template, ck.path, section)
    return done, states, steps, imms
