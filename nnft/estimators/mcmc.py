"""n-point functions of an interacting theory from MCMC chains (docs/physics.md §7).

:func:`mcmc_ensemble` builds the :class:`~nnft.estimators.npoint.Plan` of the requested tuples, hands
its per-draw features to the chain sampler (``nnft.sample.mcmc.sample_chains``: BlackJAX NUTS or HMC
over the noise ε, θ = T(ε)) and wraps the returned block sums as an
:class:`~nnft.estimators.npoint.Ensemble`, so ``full()``, ``connected()`` and ``derived()`` work as for
i.i.d. ensembles, with batch-means jackknife errors.
"""

from __future__ import annotations

import numpy as np

from nnft.estimators.npoint import Ensemble, Plan, plan_for
from nnft.tails import MIN_TAIL, tail_size
from nnft.graph.compile import Model
from nnft.sample.diagnostics import Diagnostics
from nnft.sample.iid import TAIL_ELEMENTS
from nnft.sample.mcmc import MAX_OBSERVABLES, TRACE_MAX, ChainState, chain_layout, sample_chains
from nnft.sample.transition import HMC_INTEGRATION_STEPS

__all__ = ["mcmc_ensemble", "mcmc_continue", "observables"]


def observables(plan: Plan) -> tuple[list[str], np.ndarray]:
    """Names and feature columns of the diagnostic field observables of a plan: G2 at each tuple's
    first pair, then each tuple's full product φ(x₁)…φ(xₙ), duplicates merged, at most
    ``MAX_OBSERVABLES − 1`` (the sampler adds the action or mean φ² as the last one).

    Args:
      plan: the correlators' :class:`~nnft.estimators.npoint.Plan`.

    Returns:
      (names, columns): labels such as "G2 φ(0)·φ(0.5)" and the (k,) int64 feature columns.

    Raises:
      nothing.
    """
    names, cols = [], []
    pts = plan.points

    def label(ids):
        return "·".join(f"φ({', '.join(f'{c:g}' for c in pts[i])})" for i in ids)

    def add(key, prefix):
        col = plan.key_col[key]
        if col not in cols and len(cols) < MAX_OBSERVABLES - 1:
            cols.append(col)
            names.append(f"{prefix} {label(key)}")

    for ids in plan.ids:
        if len(ids) >= 2:
            add(tuple(sorted(ids[:2])), "G2")
    for ids in plan.ids:
        add(tuple(sorted(ids)), f"G{len(ids)}")
    return names, np.asarray(cols, dtype=np.int64)


def _run(model: Model, tuples, *, samples: int, chains: int, blocks: int, thin: int, warn: bool,
         state: ChainState | None, **kw):
    """Plan the tuples' features, run the chains, wrap their sums: (Ensemble, Diagnostics, ChainState)."""
    per_chain, _, _ = chain_layout(samples, chains, blocks, thin)
    plan = plan_for(tuples, model.d)
    names, cols = observables(plan)
    n_top = min(tail_size(per_chain * chains) + 1, TAIL_ELEMENTS // max(1, plan.n_features))
    # the largest per-draw contributions of every feature, for the Pareto k̂ tail diagnostic
    # (nnft.tails; PSIS, arXiv:1507.02646): the marginal tail of the draws
    run = sample_chains(model, plan.points, plan.features, plan.n_features, samples=samples, observe=cols,
                        observable_names=names, cache_key=plan.signature, chains=chains, blocks=blocks,
                        thin=thin, tail_keep=n_top if n_top > MIN_TAIL else 0, state=state, warn=warn,
                        stacklevel=4, **kw)
    return Ensemble(plan, run.sums), run.diagnostics, run.state


def mcmc_ensemble(model: Model, tuples, *, samples: int, chains: int = 4, warmup: int = 500, key=0,
                  blocks: int = 64, thin: int = 1, chunk: int = 1024, dtype: str = "float64",
                  target_acceptance: float = 0.8, step_size: float = 0.5, init_scale: float = 1.0,
                  trace_max: int = TRACE_MAX, warn: bool = True, algorithm: str = "nuts",
                  integration_steps: int = HMC_INTEGRATION_STEPS, chain_batch: int | None = None,
                  devices: int | None = None, return_state: bool = False) -> tuple[Ensemble, Diagnostics]:
    """An ensemble of networks from P̃(θ) ∝ P(θ)·e^{log_weight(θ)} by BlackJAX NUTS (docs/physics.md §7).

    Each chain starts from ε ~ N(0, I)·init_scale (i.e. θ ~ P(θ) for ``init_scale = 1``), is tuned
    by ``blackjax.window_adaptation(blackjax.nuts, ...)`` for ``warmup`` steps, then runs NUTS
    over the noise ε (``nnft.sample.noise``). Kept draws θ = T(ε) go through ``Plan.features``
    into :class:`~nnft.stats.BlockSums` exactly like :func:`nnft.ensemble`, so ``Ensemble.full()``,
    ``.connected()`` and ``.derived()`` work unchanged, with batch-means jackknife errors.

    Args:
      model: a compiled theory (``nnft.compile``); its ``log_weight`` defines the insertion.
      tuples: list of (n, d) arrays of points, n = 1..8.
      samples: total kept draws over all chains (each chain keeps ``samples // chains``).
      chains: independent chains (vmapped), each with its own adaptation.
      warmup: adaptation steps per chain; 0 skips adaptation (``step_size``, unit mass matrix).
      key: integer seed or JAX key; results are bitwise the same for any ``chunk``.
      blocks: total jackknife blocks, ``blocks // chains`` contiguous ones per chain.
      thin: NUTS steps per kept draw.
      chunk: kept draws per jitted ``lax.scan`` (memory O(chunk·chains·observables)); the scan
        length is fixed, so the sampler compiles once per (model, tuples, chains, warmup, thin,
        chunk, blocks, dtype) whatever ``samples`` (draws past the last one skip NUTS). The segments
        are the safe points of a checkpoint (``nnft.runtime.settings(checkpoint=...)``, the chains'
        states saved every ``NNFT_CHECKPOINT_SECONDS``; resumed bitwise).
      dtype: precision of the network evaluation, "float64" (default) or "float32"; the chain
        state (ε, energies, adaptation) is float64 either way.
      target_acceptance: NUTS/HMC target acceptance rate for the step-size adaptation (0..1).
      step_size: initial leapfrog step size (in units of the noise ε; the only step size when
        ``warmup`` is 0).
      init_scale: scale of the initial noise (> 1 gives over-dispersed starts).
      trace_max: diagnostic trace entries kept per chain (strided beyond).
      warn: emit :class:`~nnft.errors.ConvergenceWarning` when a diagnostic fails.
      algorithm: the BlackJAX kernel, "nuts" (default) or "hmc" (``integration_steps`` leapfrog steps
        per trajectory); both sample the same P̃.
      integration_steps: leapfrog steps per HMC trajectory (ignored by NUTS).
      chain_batch: chains vmapped together in one program (a divisor of ``chains``; default: all of
        them on a one-device machine, ⌈chains / devices⌉ or less with several local devices).
      devices: local devices the chain groups run on, one group each (default: those of
        ``nnft.runtime.settings``, else all). The results do not depend on it.
      return_state: also return the chains' :class:`~nnft.sample.mcmc.ChainState`, to continue them
        with :func:`mcmc_continue`.

    Returns:
      (Ensemble, Diagnostics), or (Ensemble, Diagnostics, ChainState) with ``return_state``.

    Raises:
      InputError: fewer than 2 chains, fewer than 4 draws per chain, thin < 1, an unknown
        ``algorithm``, ``chain_batch`` not dividing ``chains``, too many ``devices``, or malformed
        tuples (:class:`~nnft.estimators.npoint.Plan`).
      SamplingError: a draw gave non-finite field values (never masked).
    Warns:
      ConvergenceWarning: R̂ > 1.01 or bulk ESS < 100·chains for an observable, blocks shorter
        than 10·τ, or divergent transitions (``nnft.sample.diagnostics``).

    Source: the interacting theory P̃(θ) ∝ P(θ)e^{−∫V(φ_θ)} (arXiv:2408.00082 §5.2 eq. 135-137, with the
    sign of docs/physics.md §10; arXiv:2307.03223); NUTS as in Hoffman & Gelman arXiv:1111.4246.
    """
    ens, diag, state = _run(model, tuples, samples=samples, chains=chains, warmup=warmup, key=key,
                            blocks=blocks, thin=thin, chunk=chunk, dtype=dtype,
                            target_acceptance=target_acceptance, step_size=step_size,
                            init_scale=init_scale, trace_max=trace_max, warn=warn, algorithm=algorithm,
                            integration_steps=integration_steps, chain_batch=chain_batch, devices=devices,
                            state=None)
    return (ens, diag, state) if return_state else (ens, diag)


def mcmc_continue(model: Model, tuples, state: ChainState, *, samples: int, blocks: int = 64, thin: int = 1,
                  chunk: int = 1024, dtype: str = "float64", trace_max: int = TRACE_MAX,
                  warn: bool = True, chain_batch: int | None = None,
                  devices: int | None = None) -> tuple[Ensemble, Diagnostics, ChainState]:
    """Continue the chains of an earlier :func:`mcmc_ensemble` (``return_state=True``) for ``samples``
    more kept draws, without a new warmup: the adapted step sizes and mass matrices are kept, and
    transition t of a chain uses the key ``fold_in(chain key, t)`` counted from the start of the chain.

    The ensemble and diagnostics cover the new draws only.

    Args:
      model: the compiled theory of the earlier run.
      tuples: as in :func:`mcmc_ensemble`.
      state: the :class:`~nnft.sample.mcmc.ChainState` of the earlier run (chains, kernel).
      samples: as in :func:`mcmc_ensemble`.
      blocks: as in :func:`mcmc_ensemble`.
      thin: as in :func:`mcmc_ensemble`.
      chunk: as in :func:`mcmc_ensemble`.
      dtype: as in :func:`mcmc_ensemble`.
      trace_max: as in :func:`mcmc_ensemble`.
      warn: as in :func:`mcmc_ensemble`.
      chain_batch: as in :func:`mcmc_ensemble`.
      devices: as in :func:`mcmc_ensemble`.

    Returns:
      (Ensemble, Diagnostics, ChainState) of the continued run.

    Raises:
      InputError: as :func:`mcmc_ensemble`.
      SamplingError: as :func:`mcmc_ensemble`.

    Source: as :func:`mcmc_ensemble` (arXiv:2408.00082 §5.2; NUTS, arXiv:1111.4246).
    """
    return _run(model, tuples, samples=samples, chains=state.chains, blocks=blocks, thin=thin, chunk=chunk,
                dtype=dtype, trace_max=trace_max, warn=warn, state=state, chain_batch=chain_batch, devices=devices)
