"""MCMC ensembles of an interacting theory with BlackJAX NUTS (docs/physics.md §7).

The interacting theory reweights the free parameter density by the insertion weight,

    P̃(θ) ∝ P(θ) · exp(log_weight(θ)),        log_weight(θ) = −Σ_z w_z V(φ_θ(z))   (docs/physics.md §7),

and is sampled with the No-U-Turn Sampler of BlackJAX (``blackjax.nuts``, tuned per chain by
``blackjax.window_adaptation``: Stan-style step-size dual averaging and a diagonal mass matrix).
No HMC is hand-written here. Reference: A. Cabezas, A. Corenflos, J. Lao, R. Louf et al.,
"BlackJAX: Composable Bayesian inference in JAX" (2024), https://github.com/blackjax-devs/blackjax.

**Noise parametrisation.** NUTS never meets a boundary of the support (uniform, exponential,
uniform_ball) or an infinitely stiff tail, because it runs on unconstrained noise: every parameter
is θ = T(ε) with ε ~ N(0, I) of the same shape, T the inverse-CDF map of its density
(:func:`theta_from_noise`). T pushes N(0, I) forward to P(θ) exactly, also when a density's
arguments depend on earlier parameters (they are evaluated in ``Model.structure.order`` exactly as
``Model.sample_one`` does), so the target over ε is exactly

    log p(ε) = −½|ε|² + log_weight(T(ε))        (up to a constant).

With ``log_weight = 0`` (no ``insertions:``) the chain samples the free theory, the λ = 0 test case.

**One estimator path.** The draws θ = T(ε) are streamed in chunks (``jax.lax.scan`` over steps)
through the *same* ``Plan.features`` and :class:`~nnft.stats.BlockSums` as i.i.d. ensembles. Each
chain owns ``blocks // chains`` contiguous blocks, so the delete-one-block jackknife is a
batch-means error that includes the autocorrelation when a block is long compared with the
integrated autocorrelation time (checked: see :class:`Diagnostics`). Device and host memory do not
grow with ``samples``: O(K·F) block sums plus bounded diagnostic traces.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from nnft.errors import InputError, SamplingError
from nnft.errors import ConvergenceWarning  # noqa: F401 - defined in nnft.errors, importable here too
from nnft.estimators.npoint import Ensemble, Plan
from nnft.graph.compile import Model, Theta
from nnft.sample.iid import DTYPES, as_key
from nnft.stats import BlockSums

__all__ = ["Diagnostics", "ConvergenceWarning", "mcmc_ensemble", "theta_from_noise", "noise_shapes",
           "sample_noise", "noise_logdensity", "transform", "split_rhat", "bulk_ess", "rank_normalise"]

#: R̂ above this flags non-convergence (Vehtari et al. 2021)
RHAT_MAX = 1.01
#: ESS below this many per chain flags too few effective draws
ESS_PER_CHAIN_MIN = 100
#: diagnostic trace entries kept per chain (longer runs are strided; memory independent of samples)
TRACE_MAX = 4096
#: at most this many field observables in the diagnostics
MAX_OBSERVABLES = 24


# ----------------------------------------------------------------------------------------- T(ε)
def _sf_tail(eps):
    """Φ(−|ε|), accurate in the tails (no 1 − Φ cancellation)."""
    return jax.scipy.special.ndtr(-jnp.abs(eps))


def _student_t_sf(x, df):
    """P(T > x) for x >= 0, T ~ t(df)."""
    return 0.5 * jax.scipy.special.betainc(0.5 * df, 0.5, df / (df + x * x))


@jax.custom_jvp
def _student_t_quantile(eps, df):
    """Standard t(df) quantile at Φ(ε): bisection in log|x| on the survival function (stable in
    both tails), derivative by implicit differentiation."""
    q = _sf_tail(eps)                       # target tail probability, ≤ ½
    dt = eps.dtype
    lo = jnp.full_like(eps, -60.0)
    hi = jnp.full_like(eps, 90.0)

    def body(_, bounds):
        lo, hi = bounds
        mid = 0.5 * (lo + hi)
        above = _student_t_sf(jnp.exp(mid), df) > q   # x too small
        return jnp.where(above, mid, lo), jnp.where(above, hi, mid)

    lo, hi = jax.lax.fori_loop(0, 64 if dt == jnp.float64 else 40, body, (lo, hi))
    x = jnp.exp(0.5 * (lo + hi))
    x = jnp.where(q >= 0.5, 0.0, x)
    return jnp.where(eps < 0, -x, x)


@_student_t_quantile.defjvp
def _student_t_quantile_jvp(primals, tangents):
    eps, df = primals
    deps, _ = tangents
    x = _student_t_quantile(eps, df)
    # dx/dε = φ(ε) / f_t(x). The df tangent is dropped (df is a constant in every shipped spec; an
    # inexact force only costs NUTS efficiency, the Metropolis/slice step keeps the target exact).
    log_ft = jax.scipy.stats.t.logpdf(x, df)
    dx = jnp.exp(jax.scipy.stats.norm.logpdf(eps) - log_ft) * deps
    return x, dx


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
    """Shape of ε (= shape of θ) for every parameter."""
    g = model.graph
    return {name: tuple(model.theory.dims[a] for a in g.nodes[f"param:{name}"]["axes"])
            for name in model.theory.params}


def sample_noise(model: Model, key: jax.Array, dtype=jnp.float64) -> dict[str, jax.Array]:
    """ε ~ N(0, I) for one network (one independent key per parameter, declaration order)."""
    return {name: jax.random.normal(jax.random.fold_in(key, j), shape, dtype)
            for j, (name, shape) in enumerate(noise_shapes(model).items())}


def theta_from_noise(model: Model, eps: dict[str, jax.Array], dtype=None) -> Theta:
    """θ = T(ε) for one network: mirrors ``Model.sample_one`` with noise in place of a key.

    Parameters are produced in ``model.structure.order``; each density's arguments are evaluated
    from the graph (constants and earlier parameters) and aligned to the parameter's batch axes
    exactly as in ``sample_one``, then broadcast as in ``Density.sample``.
    """
    dtype = dtype or next(iter(eps.values())).dtype
    values: dict[str, jax.Array] = {}
    theta: Theta = {}
    for name in model.structure.order:
        node = f"param:{name}"
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
    dtype, so the chain's bookkeeping can stay float64 while the field is evaluated in float32."""
    def logdensity(eps):
        out = next(iter(eps.values())).dtype
        gauss = -0.5 * sum(jnp.sum(e * e) for e in jax.tree_util.tree_leaves(eps))
        return gauss + model.log_weight(theta_from_noise(model, eps, dtype or out)).astype(out)
    return logdensity


# ----------------------------------------------------------------------------------- diagnostics
def rank_normalise(x: np.ndarray) -> np.ndarray:
    """Rank-normalised draws Φ⁻¹((r − 3/8)/(S + 1/4)) over the pooled (chains, draws) of each
    trailing element, ties averaged (Vehtari, Gelman, Simpson, Carpenter & Bürkner 2021, eq. 14)."""
    from scipy.special import ndtri
    from scipy.stats import rankdata
    m, n = x.shape[:2]
    flat = x.reshape(m * n, -1)
    r = rankdata(flat, axis=0, method="average")
    return ndtri((r - 0.375) / (m * n + 0.25)).reshape(x.shape)


def _split(x: np.ndarray) -> np.ndarray:
    """(M, n, ...) -> (2M, n//2, ...): each chain split in halves (odd n drops the middle draw)."""
    h = x.shape[1] // 2
    return np.concatenate([x[:, :h], x[:, x.shape[1] - h:]], axis=0)


def _psrf(x: np.ndarray) -> np.ndarray:
    """``blackjax.diagnostics.potential_scale_reduction`` per trailing element of x (chains, draws, ...).
    (Jitted per trace length: a small program, apart from the sampler, which compiles once per model.)"""
    from blackjax.diagnostics import potential_scale_reduction
    out = jax.jit(potential_scale_reduction)(jnp.asarray(x))
    return np.asarray(out, np.float64).reshape(x.shape[2:])


def _ess(x: np.ndarray) -> np.ndarray:
    """``blackjax.diagnostics.effective_sample_size`` per trailing element of x (chains, draws, ...)."""
    from blackjax.diagnostics import effective_sample_size
    out = jax.jit(effective_sample_size)(jnp.asarray(x))
    return np.asarray(out, np.float64).reshape(x.shape[2:])


def split_rhat(x: np.ndarray) -> np.ndarray:
    """Rank-normalised split-R̂ per trailing element of x (chains, draws, ...).

    R̂ = max(R̂_bulk, R̂_tail): R̂_bulk is Gelman–Rubin's potential scale reduction (the formula of
    ``blackjax.diagnostics.potential_scale_reduction``) on the rank-normalised split chains, R̂_tail the same on the
    folded draws |x − median| (Vehtari et al. 2021). Splitting catches a drifting chain,
    ranking catches heavy tails, folding catches chains that differ only in scale."""
    with jax.enable_x64(True):
        s = _split(np.asarray(x, np.float64))
        bulk = _psrf(rank_normalise(s))
        folded = np.abs(s - np.median(s.reshape(-1, *s.shape[2:]), axis=0))
        tail = _psrf(rank_normalise(folded))
    return np.fmax(bulk, tail)


def bulk_ess(x: np.ndarray) -> np.ndarray:
    """Bulk ESS: the algorithm of ``blackjax.diagnostics.effective_sample_size`` (Geyer's initial
    monotone sequence on the multi-chain autocorrelation; ported to numpy, :func:`_ess`) of the
    rank-normalised split chains."""
    with jax.enable_x64(True):
        return _ess(rank_normalise(_split(np.asarray(x, np.float64))))


@dataclass(frozen=True)
class Diagnostics:
    """Convergence diagnostics on field-level observables (not raw parameters: a permutation of
    the neurons, or a sign flip of (w1, b), leaves φ unchanged, so parameter R̂ is meaningless).

    Attributes:
      names: observable labels (G2 at each tuple's first pair, the action S = −log_weight when the
        theory has insertions else mean_p φ(x_p)², and each tuple's full product φ(x₁)…φ(xₙ)).
      rhat: rank-normalised split-R̂ per observable (:func:`split_rhat`).
      ess: bulk ESS per observable (:func:`bulk_ess`) of the diagnostic trace; when the trace is
        strided (``trace_stride > 1``) this is a conservative lower bound for the whole run.
      tau: integrated autocorrelation time per observable in kept draws,
        τ = (chains · n_trace / ESS_raw) · trace_stride, ESS_raw = ``effective_sample_size`` of the
        raw (not ranked, not split) trace. With stride > 1, τ ≥ stride is an upper bound.
      divergences: divergent NUTS transitions per chain during sampling.
      acceptance: mean NUTS acceptance rate per chain during sampling.
      step_size: adapted step size per chain.
      block_length: kept draws per jackknife block (batch length).
      draws_per_chain: kept draws per chain; ``trace_stride``: trace entries every this many draws.
      converged: False when R̂ > 1.01 or ESS < 100·chains for some observable.
      blocks_ok: False when a block is shorter than 10·τ (batch-means errors may be too small).
      messages: the warnings raised.
    """

    names: tuple[str, ...]
    rhat: np.ndarray
    ess: np.ndarray
    tau: np.ndarray
    divergences: np.ndarray
    acceptance: np.ndarray
    step_size: np.ndarray
    block_length: float
    draws_per_chain: int
    trace_stride: int
    chains: int
    converged: bool
    blocks_ok: bool
    messages: tuple[str, ...] = field(default=())

    @property
    def max_rhat(self) -> float:
        return float(np.nanmax(self.rhat)) if np.any(np.isfinite(self.rhat)) else float("nan")

    @property
    def min_ess(self) -> float:
        return float(np.nanmin(self.ess)) if np.any(np.isfinite(self.ess)) else float("nan")

    @property
    def n_divergent(self) -> int:
        return int(np.sum(self.divergences))

    def summary(self) -> str:
        rows = [f"{'observable':<28} {'R̂':>7} {'ESS':>9} {'τ':>7}"]
        rows += [f"{n:<28} {r:7.4f} {e:9.1f} {t:7.2f}" for n, r, e, t in zip(self.names, self.rhat, self.ess, self.tau)]
        rows.append(f"chains {self.chains}, draws/chain {self.draws_per_chain}, block length {self.block_length:g}, "
                    f"divergences {self.n_divergent}, acceptance {np.mean(self.acceptance):.3f}, "
                    f"converged {self.converged}, blocks_ok {self.blocks_ok}")
        return "\n".join(rows)


def _observables(model: Model, plan: Plan) -> tuple[list[str], np.ndarray, bool]:
    """Names and feature columns of the diagnostic observables; whether the action is included."""
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
    has_insertions = bool(getattr(model.theory, "insertions", None))
    names.append("S = -log_weight" if has_insertions else "mean φ²")
    return names, np.asarray(cols, dtype=np.int64), has_insertions


# --------------------------------------------------------------------------------------- sampler
def _warm_compiled(model: Model, *, chains: int, warmup: int, dtype: str, target_acceptance: float):
    """The jitted per-chain adaptation ``warm_fn(keys, init, step_size) -> (states, step sizes,
    inverse mass matrices)``, kept on the model. It depends on the sampler configuration only,
    never on the number of draws, the plan or the chunk."""
    import blackjax

    cache_key = ("mcmc-warmup", chains, warmup, dtype, target_acceptance)
    if cache_key in model.jit_cache:
        return model.jit_cache[cache_key]
    dt = DTYPES[dtype]
    logdensity = noise_logdensity(model, dt)       # chain state float64, network in ``dtype``
    size = sum(int(np.prod(s)) for s in noise_shapes(model).values())
    if warmup > 0:
        try:
            from blackjax.adaptation.base import get_filter_adapt_info_fn
            extra = {"adaptation_info_fn": get_filter_adapt_info_fn()}
        except ImportError:  # pragma: no cover - older BlackJAX
            extra = {}
        adapt = blackjax.window_adaptation(blackjax.nuts, logdensity,
                                           target_acceptance_rate=target_acceptance, **extra)

        def warm_one(k, pos):
            (state, params), _ = adapt.run(k, pos, num_steps=warmup)
            return state, params["step_size"], params["inverse_mass_matrix"]

        @jax.jit
        def warm_fn(keys, init, step_size):
            return jax.vmap(warm_one)(keys, init)
    else:
        @jax.jit
        def warm_fn(keys, init, step_size):
            imm = jnp.ones(size, jnp.float64)
            states = jax.vmap(lambda p: blackjax.nuts(logdensity, step_size=step_size,
                                                      inverse_mass_matrix=imm).init(p))(init)
            return states, jnp.full((chains,), step_size, jnp.float64), jnp.ones((chains, size), jnp.float64)

    _remember(model, cache_key, warm_fn)
    return warm_fn


def _remember(model: Model, cache_key, value) -> None:
    if len(model.jit_cache) >= 32:
        model.jit_cache.pop(next(iter(model.jit_cache)))
    model.jit_cache[cache_key] = value


def _chunk_compiled(model: Model, plan: Plan, *, chains: int, thin: int, chunk: int, kb_max: int,
                    dtype: str, has_ins: bool, obs_cols: np.ndarray):
    """The jitted sampling step ``chunk_fn(states, steps, imms, chain_keys, start, per_chain, kb)``:
    ``chunk`` kept draws per chain (a fixed ``lax.scan`` length) from global draw ``start`` on,
    kept on the model and reused for every number of draws.

    Compiled once per (model, plan, chains, thin, chunk, blocks, dtype): the draws per chain
    ``per_chain`` and the blocks per chain ``kb`` (≤ ``kb_max``) are traced, the block sums have
    the fixed shape (chains·kb_max, F) of which the first chains·kb rows are used, and draws at
    or beyond ``per_chain`` skip the NUTS transition (``lax.cond``) and are masked. Draw i of a
    chain uses the key fold_in(chain_key, i·thin + t) whatever the chunk, so results depend on
    the key only."""
    import blackjax

    cache_key = ("mcmc-chunk", plan.signature, chains, thin, chunk, kb_max, dtype, has_ins,
                 tuple(int(c) for c in obs_cols))
    if cache_key in model.jit_cache:
        return model.jit_cache[cache_key]
    dt = DTYPES[dtype]
    pts = jnp.asarray(plan.points, dt)
    logdensity = noise_logdensity(model, dt)       # chain state float64, network in ``dtype``
    rows = kb_max * chains                          # fixed shape of the block sums

    def nuts_step(state, k, eps_size, imm):
        return blackjax.nuts(logdensity, step_size=eps_size, inverse_mass_matrix=imm).step(k, state)

    chain_ix = jnp.arange(chains)

    def draw_values(position):
        theta = jax.vmap(lambda e: theta_from_noise(model, e, dt))(position)
        vals = model.fields(theta, pts)                                       # (chains, P)
        extra = -jax.vmap(model.log_weight)(theta) if has_ins else jnp.mean(vals * vals, axis=1)
        return vals, extra

    @jax.jit
    def chunk_fn(states, steps, imms, chain_keys, start, per_chain, kb):
        def one_draw(carry, j):
            states, sums, w, ndiv, acc, nbad = carry
            i = start + j                                                       # global draw index
            valid = i < per_chain

            def one_step(st, t):
                ks = jax.vmap(lambda ck: jax.random.fold_in(ck, i * thin + t))(chain_keys)
                st, info = jax.vmap(nuts_step)(st, ks, steps, imms)
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
            feats = plan.features(vals.astype(jnp.float64))                     # (chains, F)
            finite = jnp.all(jnp.isfinite(vals), axis=1) & jnp.all(jnp.isfinite(feats), axis=1)   # never masked
            blk = jnp.where(valid, chain_ix * kb + i * kb // per_chain, rows)
            sums = sums.at[blk].add(jnp.where((finite & valid)[:, None], feats, 0.0), mode="drop")
            w = w.at[blk].add(jnp.where(finite & valid, 1.0, 0.0), mode="drop")
            ndiv = ndiv + div
            acc = acc + accr
            nbad = nbad + jnp.sum(valid & ~finite)
            obs = jnp.concatenate([feats[:, obs_cols], extra.astype(jnp.float64)[:, None]], axis=1)
            return (states, sums, w, ndiv, acc, nbad), (obs, feats)

        carry0 = (states, jnp.zeros((rows, plan.n_features)), jnp.zeros(rows),
                  jnp.zeros(chains, jnp.int64), jnp.zeros(chains), jnp.zeros((), jnp.int64))
        (states, sums, w, ndiv, acc, nbad), (obs, feats) = jax.lax.scan(one_draw, carry0,
                                                                        jnp.arange(chunk, dtype=jnp.int64))
        return states, sums, w, ndiv, acc, nbad, obs, feats

    _remember(model, cache_key, chunk_fn)
    return chunk_fn


def mcmc_ensemble(model: Model, tuples, *, samples: int, chains: int = 4, warmup: int = 500, key=0,
                  blocks: int = 64, thin: int = 1, chunk: int = 1024, dtype: str = "float64",
                  target_acceptance: float = 0.8, step_size: float = 0.5, init_scale: float = 1.0,
                  trace_max: int = TRACE_MAX, warn: bool = True) -> tuple[Ensemble, "Diagnostics"]:
    """An ensemble of networks from P̃(θ) ∝ P(θ)·e^{log_weight(θ)} by BlackJAX NUTS (docs/physics.md §7).

    Each chain starts from ε ~ N(0, I)·init_scale (i.e. θ ~ P(θ) for ``init_scale = 1``), is tuned
    by ``blackjax.window_adaptation(blackjax.nuts, ...)`` for ``warmup`` steps, then runs NUTS
    over the noise ε (see the module docstring). Kept draws θ = T(ε) go through ``Plan.features``
    into :class:`~nnft.stats.BlockSums` exactly like :func:`nnft.ensemble`, so ``Ensemble.full()``,
    ``.connected()`` and ``.derived()`` work unchanged, with batch-means jackknife errors.

    Args:
      model: a compiled theory (``nnft.compile``); its ``log_weight`` defines the insertion.
      tuples: list of (n, d) arrays of points, n = 1..8.
      samples: total kept draws over all chains (each chain keeps ``samples // chains``).
      chains: independent chains (vmapped), each with its own adaptation.
      warmup: adaptation steps per chain; 0 skips adaptation (``step_size``, unit mass matrix).
      key: integer seed or JAX key; results do not depend on ``chunk``.
      blocks: total jackknife blocks, ``blocks // chains`` contiguous ones per chain.
      thin: NUTS steps per kept draw.
      chunk: kept draws per jitted ``lax.scan`` (memory O(chunk·chains·observables)); the scan
        length is fixed, so the sampler compiles once per (model, tuples, chains, warmup, thin,
        chunk, blocks, dtype) whatever ``samples`` (draws past the last one skip NUTS).
      dtype: precision of the network evaluation, "float64" (default) or "float32"; the chain
        state (ε, energies, adaptation) is float64 either way.
      init_scale: scale of the initial noise (> 1 gives over-dispersed starts).
      trace_max: diagnostic trace entries kept per chain (strided beyond).
      warn: emit :class:`ConvergenceWarning` when a diagnostic fails.

    Returns:
      (Ensemble, Diagnostics).
    """

    if chains < 2:
        raise InputError("at least 2 chains are needed for R̂")
    per_chain = int(samples) // chains
    kb = max(1, min(blocks // chains, per_chain // 2))
    if per_chain < 4:
        raise InputError(f"samples={samples} gives {per_chain} draws per chain; need at least 4")
    if thin < 1:
        raise InputError("thin must be >= 1")
    plan = Plan(tuples, model.d)
    obs_names, obs_cols, has_ins = _observables(model, plan)
    n_blocks = kb * chains
    chunk = max(1, int(chunk))           # a fixed scan length: one compile whatever ``samples``
    kb_max = max(1, blocks // chains)
    stride = max(1, math.ceil(per_chain / trace_max))
    key = as_key(key)
    k_init, k_warm, k_samp = jax.random.split(key, 3)

    with jax.enable_x64(True):
        dt = DTYPES[dtype]
        warm_fn = _warm_compiled(model, chains=chains, warmup=int(warmup), dtype=dtype,
                                 target_acceptance=float(target_acceptance))
        chunk_fn = _chunk_compiled(model, plan, chains=chains, thin=int(thin), chunk=chunk, kb_max=kb_max,
                                   dtype=dtype, has_ins=has_ins, obs_cols=obs_cols)
        init = jax.vmap(lambda k: sample_noise(model, k))(jax.random.split(k_init, chains))   # float64
        init = jax.tree_util.tree_map(lambda e: e * init_scale, init)
        states, steps, imms = warm_fn(jax.random.split(k_warm, chains), init, jnp.asarray(step_size, jnp.float64))
        chain_keys = jax.random.split(k_samp, chains)
        n_per = jnp.asarray(per_chain, jnp.int64)
        kb_t = jnp.asarray(kb, jnp.int64)

        acc_sums = BlockSums(n_blocks, plan.n_features)
        # the largest per-draw contributions of every feature, for the Pareto k̂ tail diagnostic
        # (nnft.estimators.tails; PSIS, arXiv:1507.02646): the marginal tail of the draws
        from nnft.estimators.tails import MIN_TAIL, tail_size
        from nnft.sample.iid import TAIL_ELEMENTS, _merge_top
        n_top = min(tail_size(per_chain * chains) + 1, TAIL_ELEMENTS // max(1, plan.n_features))
        top_pos = top_neg = None
        n_div = np.zeros(chains, np.int64)
        acc_rate = np.zeros(chains)
        trace: list[np.ndarray] = []
        for start in range(0, per_chain, chunk):
            states, sums, w, ndiv, acc, nbad, obs, feats = chunk_fn(states, steps, imms, chain_keys,
                                                                    jnp.asarray(start, jnp.int64), n_per, kb_t)
            if int(nbad):
                raise SamplingError(f"{int(nbad)} MCMC draws in draws {start}..{start + chunk - 1} gave "
                                    "non-finite field values; they are not averaged.")
            count = min(chunk, per_chain - start)
            acc_sums.add(np.asarray(sums)[:n_blocks], np.asarray(w)[:n_blocks], count * chains)
            if n_top > MIN_TAIL:
                c = np.asarray(feats)[:count].reshape(-1, plan.n_features).T              # (F, draws)
                top_pos, top_neg = _merge_top(top_pos, c, n_top), _merge_top(top_neg, -c, n_top)
            n_div += np.asarray(ndiv)
            acc_rate += np.asarray(acc)
            idx = np.arange(start, start + count)
            keep = idx % stride == 0
            trace.append(np.asarray(obs)[:count][keep])                      # (kept, chains, n_obs)
        steps_np, acc_rate = np.asarray(steps), acc_rate / (per_chain * thin)
        if top_pos is not None:
            acc_sums.tail = (top_pos, top_neg)

    x = np.moveaxis(np.concatenate(trace, axis=0), 1, 0)                       # (chains, n, n_obs)
    rhat = split_rhat(x)
    ess = bulk_ess(x)
    with jax.enable_x64(True):
        ess_raw = _ess(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = chains * x.shape[1] / ess_raw * stride
    block_len = per_chain / kb
    msgs = []
    bad_r = np.nan_to_num(rhat, nan=1.0) > RHAT_MAX
    bad_e = np.nan_to_num(ess, nan=np.inf) < ESS_PER_CHAIN_MIN * chains
    for nm, r, e, br, be in zip(obs_names, rhat, ess, bad_r, bad_e):
        if br:
            msgs.append(f"R̂ = {r:.4f} > {RHAT_MAX} for {nm}: chains have not mixed")
        if be:
            msgs.append(f"bulk ESS = {e:.0f} < {ESS_PER_CHAIN_MIN * chains} for {nm}: too few effective draws")
    converged = not (bad_r.any() or bad_e.any())
    tau_max = float(np.nanmax(tau)) if np.any(np.isfinite(tau)) else float("inf")
    blocks_ok = block_len >= 10 * tau_max
    if not blocks_ok:
        msgs.append(f"block length {block_len:g} < 10·τ = {10 * tau_max:.1f}: batch-means errors may be "
                    "underestimated (more samples or fewer blocks)")
    if n_div.sum():
        msgs.append(f"{int(n_div.sum())} divergent transitions")
    if warn:
        for m in msgs:
            warnings.warn(m, ConvergenceWarning, stacklevel=2)
    diag = Diagnostics(names=tuple(obs_names), rhat=rhat, ess=ess, tau=tau, divergences=n_div,
                       acceptance=acc_rate, step_size=steps_np, block_length=block_len,
                       draws_per_chain=per_chain, trace_stride=stride, chains=chains,
                       converged=converged, blocks_ok=blocks_ok, messages=tuple(msgs))
    return Ensemble(plan, acc_sums), diag
