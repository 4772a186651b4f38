"""MCMC chains of an interacting theory, streamed into block sums (docs/physics.md §7).

The interacting theory reweights the free parameter density by the insertion weight,

    P̃(θ) ∝ P(θ) · exp(log_weight(θ)),        log_weight(θ) = −Σ_z w_z V(φ_θ(z))   (docs/physics.md §7),

and is sampled by BlackJAX (NUTS by default, or HMC: ``nnft.sample.transition``) over the
unconstrained noise ε, θ = T(ε) (``nnft.sample.noise``).

**Streaming.** The draws θ = T(ε) are evaluated at the points in chunks (``jax.lax.scan`` over
steps) and their per-draw features — a callback the caller gives, e.g. the products of field values
an estimator needs — are added to :class:`~nnft.stats.BlockSums` as in the i.i.d. stream. Each chain
owns ``blocks // chains`` contiguous blocks, so the delete-one-block jackknife is a batch-means error
that includes the autocorrelation when a block is long compared with the integrated autocorrelation
time (checked: ``nnft.sample.diagnostics``). Device and host memory do not grow with the number of
draws: O(K·F) block sums plus bounded diagnostic traces.

**State.** :func:`sample_chains` returns the chains' :class:`ChainState` (BlackJAX states, adapted step
sizes and mass matrices, keys, transitions made); passing it back continues the same chains without
a new warmup.

**Checkpoints.** Inside ``nnft.runtime.settings(checkpoint=...)`` (``--checkpoint FILE``) a run is one
section of the file: the adapted chains right after warmup, then the chains' states, block sums,
tails and diagnostic traces at the end of a segment of ``chunk`` draws every
``NNFT_CHECKPOINT_SECONDS`` (``nnft.sample.chain_checkpoint``). With ``resume`` a killed run continues
from its last segment end and gives bitwise the result of a run never interrupted.

**Segments.** The draws run in segments of ``chunk`` draws per chain (one jitted ``lax.scan`` each, the
safe points of checkpoints and Ctrl-C). The running block sums, divergences and acceptance rates go
into each segment and come out of it, every draw added to the total so far in draw order, and draw i
uses the key ``fold_in(chain key, first + i·thin + t)``: every number (block sums, tails, R̂, ESS) is
bitwise the same for any ``chunk``, so ``chunk`` is not part of a checkpoint's fingerprint and a run
may be resumed with another one.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from nnft.errors import InputError, SamplingError, printable
from nnft.errors import ConvergenceWarning  # noqa: F401 - defined in nnft.errors, importable here too
from nnft.graph.compile import Model
from nnft import checkpoint as checkpoints
from nnft import runtime
from nnft.sample import chain_checkpoint
from nnft.sample.diagnostics import Diagnostics, diagnose
from nnft.sample.groups import GroupDispatch, chain_batch as group_size
from nnft.sample.iid import as_key
from nnft.tails import merge_top
from nnft.sample.noise import noise_logdensity, sample_noise, theta_from_noise
from nnft.sample.step import DTYPES
from nnft.sample.transition import HMC_INTEGRATION_STEPS, check_algorithm, kernel, remember, warmup_compiled
from nnft.stats import BlockSums

__all__ = ["ChainState", "ChainRun", "chain_layout", "sample_chains", "TRACE_MAX", "MAX_OBSERVABLES"]

#: diagnostic trace entries kept per chain (longer runs are strided; memory independent of samples)
TRACE_MAX = 4096
#: at most this many field observables in the diagnostics
MAX_OBSERVABLES = 24


@dataclass(frozen=True)
class ChainState:
    """Where a set of chains stands, to continue them (``sample_chains(..., state=...)``).

    Attributes:
      states: the BlackJAX kernel states batched over C chains (``position``: {parameter name:
        (C, *shape)} float64 noise ε, with ``logdensity`` and ``logdensity_grad``).
      step_size: (C,) adapted step sizes.
      inverse_mass_matrix: (C, D) adapted diagonal inverse mass matrices, D = number of parameters.
      keys: (C, 2) per-chain keys; transition t of a chain uses ``fold_in(key, t)``.
      transitions: kernel steps each chain has made after warmup.
      algorithm: "nuts" or "hmc"; ``integration_steps``: leapfrog steps per HMC trajectory.
    """

    states: Any
    step_size: jax.Array
    inverse_mass_matrix: jax.Array
    keys: jax.Array
    transitions: int
    algorithm: str = "nuts"
    integration_steps: int = HMC_INTEGRATION_STEPS

    @property
    def chains(self) -> int:
        """Number of chains C."""
        return int(self.keys.shape[0])


@dataclass(frozen=True)
class ChainRun:
    """One run of :func:`sample_chains`.

    Attributes:
      sums: the features' block sums (``chains · blocks_per_chain`` blocks, chain-major), with the
        largest per-draw contributions in ``sums.tail`` when tails were asked for.
      diagnostics: R̂, ESS, τ and transition statistics of this run's draws.
      state: the chains after the last draw (pass it back to continue).
    """

    sums: BlockSums
    diagnostics: Diagnostics
    state: ChainState


def chain_layout(samples: int, chains: int, blocks: int, thin: int) -> tuple[int, int, int]:
    """(draws per chain, blocks per chain used, blocks per chain compiled for) of a run.

    Each chain keeps ``samples // chains`` draws in kb = max(1, min(blocks // chains, per_chain // 2))
    contiguous blocks; the compiled step has room for max(1, blocks // chains).

    Raises:
      InputError: fewer than 2 chains (R̂ needs them), fewer than 4 draws per chain, or thin < 1.
    """
    if chains < 2:
        raise InputError("at least 2 chains are needed for R̂")
    per_chain = int(samples) // chains
    kb = max(1, min(blocks // chains, per_chain // 2))
    if per_chain < 4:
        raise InputError(f"samples={samples} gives {per_chain} draws per chain; need at least 4")
    if thin < 1:
        raise InputError("thin must be >= 1")
    return per_chain, kb, max(1, blocks // chains)


def _chunk_compiled(model: Model, points: np.ndarray, features: Callable, n_features: int, *, cache_key,
                    chains: int, thin: int, chunk: int, kb_max: int, dtype: str, has_ins: bool,
                    obs_cols: np.ndarray, algorithm: str, integration_steps: int):
    """The sampling step of one group of ``chains`` chains, ``chunk_fn(start, per_chain, kb, first, states,
    steps, imms, chain_keys, sums, weights, divergences, acceptance)``, run one group per device
    (:class:`~nnft.sample.groups.GroupDispatch`):
    ``chunk`` kept draws per chain (a fixed ``lax.scan`` length) from draw ``start`` on, kept on the
    model and reused for every number of draws.

    Compiled once per (model, features' ``cache_key``, group size, thin, chunk, blocks, dtype, kernel)
    and device: the
    draws per chain ``per_chain``, the blocks per chain ``kb`` (≤ ``kb_max``) and the transitions made
    before (``first``) are traced, the block sums have the fixed shape (chains, kb_max, F) of which the
    first kb blocks of each chain are used, and draws at or beyond ``per_chain`` skip the transition
    (``lax.cond``) and are masked. Draw i of a chain uses the key fold_in(chain_key, first + i·thin + t)
    whatever the chunk, and the running block sums, divergences and acceptance rates go in and come
    out (each draw is added to the total so far, in draw order), so every number is bitwise the same
    for any ``chunk``."""
    cache_key = ("mcmc-chunk", cache_key, chains, thin, chunk, kb_max, dtype, has_ins,
                 tuple(int(c) for c in obs_cols))
    if algorithm != "nuts":
        cache_key += (algorithm, int(integration_steps))
    if cache_key in model.jit_cache:
        return model.jit_cache[cache_key]
    dt = DTYPES[dtype]
    pts = jnp.asarray(points, dt)
    logdensity = noise_logdensity(model, dt)       # chain state float64, network in ``dtype``
    make = kernel(algorithm, logdensity, integration_steps)
    rows = kb_max * chains                          # fixed shape of the block sums

    def transition(state, k, eps_size, imm):
        return make(eps_size, imm).step(k, state)

    chain_ix = jnp.arange(chains)

    def draw_values(position):
        theta = jax.vmap(lambda e: theta_from_noise(model, e, dt))(position)
        vals = model.fields(theta, pts)                                       # (chains, P)
        extra = -jax.vmap(model.log_weight)(theta) if has_ins else jnp.mean(vals * vals, axis=1)
        return vals, extra

    def chunk_fn(start, per_chain, kb, first, states, steps, imms, chain_keys, sums_in, w_in, ndiv_in, acc_in):
        def one_draw(carry, j):
            states, sums, w, ndiv, acc, nbad = carry
            i = start + j                                                       # draw index in this run
            valid = i < per_chain

            def one_step(st, t):
                ks = jax.vmap(lambda ck: jax.random.fold_in(ck, first + i * thin + t))(chain_keys)
                st, info = jax.vmap(transition)(st, ks, steps, imms)
                return st, (info.is_divergent, info.acceptance_rate)

            def transitions(st):
                st, (div, accr) = jax.lax.scan(one_step, st, jnp.arange(thin))
                vals, extra = draw_values(st.position)
                return (st, jnp.sum(div, axis=0).astype(ndiv.dtype), jnp.sum(accr, axis=0).astype(acc.dtype),
                        vals, extra)

            def skip(st):                                                       # past the last draw: masked
                vals, extra = jax.eval_shape(draw_values, st.position)
                return (st, jnp.zeros_like(ndiv), jnp.zeros_like(acc), jnp.zeros(vals.shape, vals.dtype),
                        jnp.zeros(extra.shape, extra.dtype))

            states, div, accr, vals, extra = jax.lax.cond(valid, transitions, skip, states)
            feats = features(vals.astype(jnp.float64))                          # (chains, F)
            finite = jnp.all(jnp.isfinite(vals), axis=1) & jnp.all(jnp.isfinite(feats), axis=1)   # never masked
            blk = jnp.where(valid, chain_ix * kb_max + i * kb // per_chain, rows)
            sums = sums.at[blk].add(jnp.where((finite & valid)[:, None], feats, 0.0), mode="drop")
            w = w.at[blk].add(jnp.where(finite & valid, 1.0, 0.0), mode="drop")
            ndiv = ndiv + div
            acc = acc + accr
            nbad = nbad + jnp.sum(valid & ~finite)
            obs = jnp.concatenate([feats[:, obs_cols], extra.astype(jnp.float64)[:, None]], axis=1)
            return (states, sums, w, ndiv, acc, nbad), (obs, feats)

        carry0 = (states, sums_in.reshape(rows, n_features), w_in.reshape(rows), ndiv_in, acc_in,
                  jnp.zeros((), jnp.int64))
        (states, sums, w, ndiv, acc, nbad), (obs, feats) = jax.lax.scan(one_draw, carry0,
                                                                        jnp.arange(chunk, dtype=jnp.int64))
        return states, sums.reshape(chains, kb_max, n_features), w.reshape(chains, kb_max), ndiv, acc, nbad, obs, feats

    dispatch = GroupDispatch(chunk_fn, "chunk_fn")
    remember(model, cache_key, dispatch)
    return dispatch


def sample_chains(model: Model, points, features: Callable, n_features: int, *, samples: int,
                  observe: Sequence[int] = (), observable_names: Sequence[str] = (), cache_key=None,
                  chains: int = 4, warmup: int = 500, key=0, blocks: int = 64, thin: int = 1,
                  chunk: int = 1024, dtype: str = "float64", target_acceptance: float = 0.8,
                  step_size: float = 0.5, init_scale: float = 1.0, trace_max: int = TRACE_MAX,
                  tail_keep: int = 0, algorithm: str = "nuts", integration_steps: int = HMC_INTEGRATION_STEPS,
                  state: ChainState | None = None, chain_batch: int | None = None, devices: int | None = None,
                  warn: bool = True, stacklevel: int = 2) -> ChainRun:
    """Run MCMC chains on P̃(θ) ∝ P(θ)·e^{log_weight(θ)} and accumulate per-draw features.

    Each chain starts from ε ~ N(0, I)·init_scale (θ ~ P(θ) for ``init_scale = 1``), is tuned by
    ``blackjax.window_adaptation`` for ``warmup`` steps, then moves with the BlackJAX kernel
    ``algorithm`` over ε (``nnft.sample.noise``). After every ``thin`` transitions the draw θ = T(ε)
    gives field values φ(x_p) (chains, P) at ``points``; ``features`` maps them to (chains, F)
    float64 contributions, added to the chain's current block.

    Args:
      model: a compiled theory (``nnft.compile``); its ``log_weight`` defines the insertion.
      points: (P, d) float64 points at which the field is evaluated.
      features: (rows, P) float64 field values -> (rows, F) float64 per-draw features (traceable).
      n_features: F.
      samples: total kept draws over all chains (each chain keeps ``samples // chains``).
      observe: feature columns traced for R̂/ESS (at most :data:`MAX_OBSERVABLES` − 1), named by
        ``observable_names``; the action S = −log_weight (theories with insertions) or mean_p φ(x_p)²
        is always traced last.
      cache_key: identifies ``points`` and ``features`` for reusing the compiled step (hashable).
      chains: independent chains (vmapped), each with its own adaptation.
      warmup: adaptation steps per chain; 0 skips adaptation (``step_size``, unit mass matrix).
      key: integer seed or JAX key; results are bitwise the same for any ``chunk``.
      blocks: total jackknife blocks, ``blocks // chains`` contiguous ones per chain.
      thin: transitions per kept draw.
      chunk: kept draws per jitted ``lax.scan`` (memory O(chunk·chains·F)); the scan length is fixed,
        so the sampler compiles once per configuration whatever ``samples``.
      dtype: precision of the network evaluation, "float64" or "float32"; the chain state is float64.
      target_acceptance, step_size, init_scale: adaptation target, step size without warmup, scale of
        the initial noise (> 1 gives over-dispersed starts).
      trace_max: diagnostic trace entries kept per chain (strided beyond).
      tail_keep: keep this many largest (and most negative) per-draw contributions of every feature in
        ``sums.tail`` for a tail diagnostic; 0 keeps none.
      algorithm: "nuts" (default) or "hmc"; integration_steps: leapfrog steps per HMC trajectory.
      state: a previous run's :attr:`ChainRun.state`: continue those chains (no new initialisation or
        warmup; ``key``, ``warmup``, ``chains``, ``algorithm`` are taken from the state).
      chain_batch: G, chains vmapped together in one per-device program (must divide ``chains``;
        default ``nnft.sample.groups.chain_batch``: all chains on a one-device machine). The C/G groups
        run one per device; results depend on the key, ``chains`` and G, never on ``devices``.
      devices: local devices to run the groups on (default: those of ``nnft.runtime.settings``, else
        all; at most C/G are used).
      warn: emit the diagnostics' messages as :class:`~nnft.errors.ConvergenceWarning`, attributed
        ``stacklevel`` frames up as in ``warnings.warn``.

    Returns:
      :class:`ChainRun` (block sums of this run's draws, diagnostics, the chains' state).

    Raises:
      InputError: see :func:`chain_layout`; an unknown ``algorithm``; ``chain_batch`` not dividing
        ``chains``; ``devices`` not in [1, local devices].
      SamplingError: a draw gave non-finite field values or features (never masked).
      CheckpointError: the checkpoint of ``nnft.runtime.settings`` holds another run in this stream's
        section (the fields that differ are named), or a damaged one.
      KeyboardInterrupt: Ctrl-C; with a checkpoint, it is written first (at the end of a segment).
    """
    if state is not None:
        chains, algorithm, integration_steps = state.chains, state.algorithm, state.integration_steps
    check_algorithm(algorithm, integration_steps)
    per_chain, kb, kb_max = chain_layout(samples, chains, blocks, thin)
    g = group_size(chains, chain_batch)
    groups = chains // g
    devs = runtime.local_devices(devices if devices is not None else runtime.current().devices)[:groups]
    has_ins = bool(getattr(model.theory, "insertions", None))
    obs_names = list(observable_names) + ["S = -log_weight" if has_ins else "mean φ²"]
    obs_cols = np.asarray(observe, dtype=np.int64)
    n_blocks = kb * chains
    chunk = max(1, int(chunk))           # a fixed scan length: one compile whatever ``samples``
    stride = max(1, math.ceil(per_chain / trace_max))
    runtime.enable_compile_cache()

    def chains_first(tree):               # (groups, G, ...) -> (C, ...)
        return jax.tree_util.tree_map(lambda a: a.reshape((chains,) + a.shape[2:]), tree)

    with jax.enable_x64(True):
        chunk_fn = _chunk_compiled(model, np.asarray(points, np.float64), features, int(n_features),
                                   cache_key=cache_key, chains=g, thin=int(thin), chunk=chunk,
                                   kb_max=kb_max, dtype=dtype, has_ins=has_ins, obs_cols=obs_cols,
                                   algorithm=algorithm, integration_steps=int(integration_steps))
        ck = runtime.current().checkpoint
        section = ck.open_section() if ck is not None else None
        if state is None:
            k_init, k_warm, k_samp = jax.random.split(as_key(key), 3)
            chain_keys = jax.random.split(k_samp, chains)
            first = 0
        else:
            chain_keys, first = state.keys, int(state.transitions)
        n_obs = len(obs_cols) + 1
        fp = saved = None
        if ck is not None:
            fp = chain_checkpoint.fingerprint(
                model, as_key(key) if state is None else chain_keys, cache_key, start=state, samples=int(samples),
                chains=chains, warmup=int(warmup) if state is None else 0, blocks=int(blocks), thin=int(thin),
                dtype=str(dtype), n_features=int(n_features),
                observables=repr(obs_cols.tolist()), target_acceptance=float(target_acceptance),
                step_size=float(step_size), init_scale=float(init_scale), trace_max=int(trace_max),
                tail_keep=int(tail_keep), algorithm=algorithm, integration_steps=int(integration_steps),
                chain_batch=g)
            saved = ck.restore(section, fp)
        acc_sums = BlockSums(n_blocks, int(n_features))
        top_pos = top_neg = None
        n_div = np.zeros(chains, np.int64)
        acc_rate = np.zeros(chains)
        trace: list[np.ndarray] = []
        run_sums = np.zeros((chains, kb_max, int(n_features)))      # the running block sums, chain by chain
        run_w = np.zeros((chains, kb_max))
        done = 0
        if saved is not None:
            done, states, steps, imms = chain_checkpoint.check(
                ck, section, saved, model, shapes={"sums": acc_sums.sums.shape, "weights": acc_sums.weights.shape},
                chains=chains, per_chain=per_chain, stride=stride, n_obs=n_obs, dtype=dtype, algorithm=algorithm,
                integration_steps=int(integration_steps))
            run_sums[:, :kb] = saved["sums"].reshape(chains, kb, -1)
            run_w[:, :kb] = saved["weights"].reshape(chains, kb)
            acc_sums.n = int(saved["n"])
            top_pos, top_neg = saved["top_pos"], saved["top_neg"]
            n_div = saved["tallies"][:, 0].astype(np.int64)
            acc_rate = saved["tallies"][:, 1].copy()
            trace = [saved["trace"]]
        elif state is None:
            warm_fn = warmup_compiled(model, chains=g, warmup=int(warmup), dtype=dtype,
                                      target_acceptance=float(target_acceptance), algorithm=algorithm,
                                      integration_steps=int(integration_steps))
            init = jax.vmap(lambda k: sample_noise(model, k))(jax.random.split(k_init, chains))   # float64
            init = jax.tree_util.tree_map(lambda e: e * init_scale, init)
            states, steps, imms = chains_first(warm_fn((jnp.asarray(step_size, jnp.float64),),
                                                       (jax.random.split(k_warm, chains), init), groups, devs))
        else:
            states, steps, imms = state.states, state.step_size, state.inverse_mass_matrix
        consts = (jnp.asarray(per_chain, jnp.int64), jnp.asarray(kb, jnp.int64), jnp.asarray(first, jnp.int64))

        def snapshot() -> dict:
            acc_sums.sums[...] = run_sums[:, :kb].reshape(n_blocks, -1)
            acc_sums.weights[...] = run_w[:, :kb].reshape(n_blocks)
            tr = np.concatenate(trace, axis=0) if trace else np.zeros((0, chains, n_obs))
            return {"sums": acc_sums.sums, "weights": acc_sums.weights, "n": acc_sums.n, "next": done,
                    "top_pos": top_pos, "top_neg": top_neg, "chain": chain_checkpoint.pack(states, steps, imms),
                    "trace": tr, "tallies": np.stack([n_div.astype(np.float64), acc_rate], axis=1)}

        bar_ctx = runtime.progress_bar((per_chain - done) * chains, runtime.current().progress,
                                       printable(f"{model.theory.name}: {algorithm} chains")[:40])
        with bar_ctx as bar, runtime.deferred_interrupt(ck is not None) as interrupt:
            if ck is not None and saved is None:
                ck.save(section, fp, snapshot())         # the adapted chains: a kill now does not repeat the warmup
            last_save = time.monotonic()
            interrupt.check()
            for start in range(done, per_chain, chunk):
                out = chunk_fn((jnp.asarray(start, jnp.int64),) + consts,
                               (states, steps, imms, chain_keys, run_sums, run_w, n_div, acc_rate), groups, devs)
                states, sums, w, ndiv, acc, nbad, obs, feats = out
                states = chains_first(states)
                if int(np.sum(nbad)):
                    raise SamplingError(f"{int(np.sum(nbad))} MCMC draws in draws {start}..{start + chunk - 1} gave "
                                        "non-finite field values; they are not averaged.")
                count = min(chunk, per_chain - start)
                # group j holds chains jG..(j+1)G−1: (groups, G, ...) is chain-major, the rows of the run in order
                run_sums = np.asarray(sums).reshape(run_sums.shape)
                run_w = np.asarray(w).reshape(run_w.shape)
                acc_sums.n += count * chains
                obs = np.moveaxis(np.asarray(obs), 0, 1).reshape((chunk, chains, -1))       # (chunk, C, n_obs)
                if tail_keep:
                    f = np.moveaxis(np.asarray(feats), 0, 1).reshape((chunk, chains, -1))
                    c = f[:count].reshape(-1, int(n_features)).T                          # (F, draws)
                    top_pos, top_neg = merge_top(top_pos, c, tail_keep), merge_top(top_neg, -c, tail_keep)
                n_div = np.asarray(ndiv).reshape(chains)
                acc_rate = np.asarray(acc).reshape(chains)
                idx = np.arange(start, start + count)
                keep = idx % stride == 0
                trace.append(obs[:count][keep])                                    # (kept, chains, n_obs)
                done = start + count
                if bar is not None:
                    bar.update(count * chains)
                if ck is not None and (interrupt.requested or done == per_chain
                                       or time.monotonic() - last_save >= checkpoints.INTERVAL):
                    ck.save(section, fp, snapshot())
                    last_save = time.monotonic()
                interrupt.check()
        snapshot()                                      # the block sums of the run into acc_sums
        steps_np, acc_rate = np.asarray(steps), acc_rate / (per_chain * thin)
        if top_pos is not None:
            acc_sums.tail = (top_pos, top_neg)
    end = ChainState(states=states, step_size=steps, inverse_mass_matrix=imms, keys=chain_keys,
                     transitions=first + per_chain * int(thin), algorithm=algorithm,
                     integration_steps=int(integration_steps))

    x = np.moveaxis(np.concatenate(trace, axis=0), 1, 0)                       # (chains, n, n_obs)
    diag = diagnose(x, obs_names, stride=stride, draws_per_chain=per_chain, blocks_per_chain=kb,
                    divergences=n_div, acceptance=acc_rate, step_size=steps_np)
    if warn:
        diag.warn(stacklevel)
    return ChainRun(acc_sums, diag, end)
