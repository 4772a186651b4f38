"""BlackJAX transition kernels over the noise ε and their per-chain warmup (docs/physics.md §7).

The chains move with a BlackJAX kernel, never a hand-written one: ``"nuts"`` (``blackjax.nuts``, the
No-U-Turn Sampler; the default) or ``"hmc"`` (``blackjax.hmc``, fixed-length Hamiltonian trajectories of
``integration_steps`` leapfrog steps). Each chain is tuned by ``blackjax.window_adaptation``
(Stan-style step-size dual averaging and a diagonal mass matrix). Both kernels keep the target
exact (Metropolis / slice acceptance), so they sample the same P̃ and differ only in efficiency.
Reference: A. Cabezas, A. Corenflos, J. Lao, R. Louf et al., "BlackJAX: Composable Bayesian inference
in JAX" (2024), https://github.com/blackjax-devs/blackjax.

Compiled functions are kept on the model (``Model.jit_cache``) so a second run with another number
of draws compiles nothing again (tests/mcmc/test_compile_once.py).
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from nnft.errors import InputError
from nnft.graph.compile import Model
from nnft.sample.noise import noise_logdensity, noise_shapes
from nnft.sample.step import DTYPES

__all__ = ["ALGORITHMS", "check_algorithm", "kernel", "warmup_compiled", "remember"]

#: the BlackJAX kernels a chain can move with
ALGORITHMS = ("nuts", "hmc")
#: leapfrog steps per HMC trajectory (``algorithm="hmc"``)
HMC_INTEGRATION_STEPS = 16


def check_algorithm(algorithm: str, integration_steps: int) -> None:
    """Refuse an unknown ``algorithm`` or a non-positive number of HMC ``integration_steps``.

    Raises:
      InputError: ``algorithm`` not in :data:`ALGORITHMS`, or ``integration_steps < 1``.
    """
    if algorithm not in ALGORITHMS:
        raise InputError(f"algorithm={algorithm!r}: one of {', '.join(ALGORITHMS)}")
    if int(integration_steps) < 1:
        raise InputError("integration_steps must be >= 1")


def _extra(algorithm: str, integration_steps: int) -> dict:
    """Keyword arguments of the BlackJAX algorithm beyond (logdensity, step_size, inverse_mass_matrix)."""
    return {"num_integration_steps": int(integration_steps)} if algorithm == "hmc" else {}


def kernel(algorithm: str, logdensity: Callable, integration_steps: int = HMC_INTEGRATION_STEPS) -> Callable:
    """The BlackJAX algorithm for ``algorithm`` as ``make(step_size, inverse_mass_matrix)``.

    Args:
      algorithm: "nuts" or "hmc".
      logdensity: the target over ε (a pytree of arrays -> scalar).
      integration_steps: leapfrog steps per trajectory (HMC only).

    Returns:
      ``make(step_size: (), inverse_mass_matrix: (D,)) -> blackjax.SamplingAlgorithm`` whose
      ``.init(position)`` and ``.step(key, state)`` move one chain; ``step`` returns (state, info) with
      ``info.is_divergent`` and ``info.acceptance_rate``.
    """
    import blackjax

    algo = getattr(blackjax, algorithm)
    extra = _extra(algorithm, integration_steps)

    def make(step_size, inverse_mass_matrix):
        return algo(logdensity, step_size=step_size, inverse_mass_matrix=inverse_mass_matrix, **extra)
    return make


def remember(model: Model, cache_key, value) -> None:
    """Keep a compiled function on the model (at most 32; the oldest is dropped first)."""
    if len(model.jit_cache) >= 32:
        model.jit_cache.pop(next(iter(model.jit_cache)))
    model.jit_cache[cache_key] = value


def warmup_compiled(model: Model, *, chains: int, warmup: int, dtype: str, target_acceptance: float,
                    algorithm: str = "nuts", integration_steps: int = HMC_INTEGRATION_STEPS):
    """The per-chain adaptation ``warm_fn((step_size,), (keys, init), groups) -> (states, step sizes,
    inverse mass matrices)`` stacked by group, kept on the model. It depends on the sampler
    configuration only, never on the number of draws, the plan or the chunk.

    Args:
      chains: G, chains adapted together (vmapped) in one group; the groups run one per device
        (``nnft.sample.groups.GroupDispatch``), so a chain's adaptation does not depend on the devices.
      warmup: adaptation steps per chain (``blackjax.window_adaptation``); 0 skips adaptation: every
        chain gets the given ``step_size`` and a unit inverse mass matrix.
      dtype: precision of the network evaluation ("float32" or "float64"); the chain state is float64.
      target_acceptance: the acceptance rate the step size is tuned to.
      algorithm, integration_steps: the kernel (:func:`kernel`).

    Returns:
      a :class:`~nnft.sample.groups.GroupDispatch`: called with ``((step_size,), (keys (C,), init
      {name: (C, *shape)}), C // G, devices)`` it returns (states, step sizes, inverse mass matrices) with
      leading axes (C // G, G), D = total number of parameters.
    """
    import blackjax
    from nnft.sample.groups import GroupDispatch

    cache_key = ("mcmc-warmup", chains, warmup, dtype, target_acceptance)
    if algorithm != "nuts":
        cache_key += (algorithm, int(integration_steps))
    if cache_key in model.jit_cache:
        return model.jit_cache[cache_key]
    dt = DTYPES[dtype]
    logdensity = noise_logdensity(model, dt)       # chain state float64, network in ``dtype``
    size = sum(int(np.prod(s)) for s in noise_shapes(model).values())
    make = kernel(algorithm, logdensity, integration_steps)
    if warmup > 0:
        try:
            from blackjax.adaptation.base import get_filter_adapt_info_fn
            extra = {"adaptation_info_fn": get_filter_adapt_info_fn()}
        except ImportError:  # pragma: no cover - older BlackJAX
            extra = {}
        adapt = blackjax.window_adaptation(getattr(blackjax, algorithm), logdensity,
                                           target_acceptance_rate=target_acceptance, **extra,
                                           **_extra(algorithm, integration_steps))

        def warm_one(k, pos):
            (state, params), _ = adapt.run(k, pos, num_steps=warmup)
            return state, params["step_size"], params["inverse_mass_matrix"]

        def warm_fn(step_size, keys, init):
            return jax.vmap(warm_one)(keys, init)
    else:
        def warm_fn(step_size, keys, init):
            imm = jnp.ones(size, jnp.float64)
            states = jax.vmap(lambda p: make(step_size, imm).init(p))(init)
            return states, jnp.full((chains,), step_size, jnp.float64), jnp.ones((chains, size), jnp.float64)

    dispatch = GroupDispatch(warm_fn, "warm_fn")
    remember(model, cache_key, dispatch)
    return dispatch
