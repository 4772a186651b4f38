"""Convergence diagnostics of MCMC chains: rank-normalised split-R̂, bulk ESS, integrated
autocorrelation time and the warnings they raise (Vehtari, Gelman, Simpson, Carpenter & Bürkner,
"Rank-normalization, folding, and localization: an improved R̂", Bayesian Analysis 16 (2021) 667).

The potential scale reduction and the effective sample size are the algorithms of BlackJAX's
``blackjax.diagnostics.potential_scale_reduction`` and ``effective_sample_size`` (Gelman & Rubin 1992;
Geyer's initial monotone sequence), ported to numpy so that no program is compiled per trace length
(a jitted BlackJAX diagnostic compiles anew for every number of draws, seconds each);
tests/mcmc/test_diagnostics.py holds the port to BlackJAX's own functions. This module ranks, splits
and folds the traces around them and decides what to flag (:func:`diagnose`). Plain numpy on the
host: the same traces give bitwise the same R̂, ESS and τ whatever the devices, processes or chunk.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from nnft.errors import ConvergenceWarning
from nnft.tables import TextTable

__all__ = ["Diagnostics", "diagnose", "split_rhat", "bulk_ess", "rank_normalise", "RHAT_MAX",
           "ESS_PER_CHAIN_MIN"]

#: R̂ above this flags non-convergence (Vehtari et al. 2021)
RHAT_MAX = 1.01
#: ESS below this many per chain flags too few effective draws
ESS_PER_CHAIN_MIN = 100


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
    """Gelman–Rubin potential scale reduction per trailing element of x (chains, draws, ...), float64:
    sqrt((B/W + n − 1)/n), B = n·var_chains(chain means), W = mean over chains of the within-chain
    variances (both ddof = 1). The formula of ``blackjax.diagnostics.potential_scale_reduction``; NaN for
    a component whose draws are all equal (0/0, which rounding would turn into inf or NaN)."""
    x = np.asarray(x, np.float64)
    n = x.shape[1]
    between = n * x.mean(axis=1).var(axis=0, ddof=1)
    within = x.var(axis=1, ddof=1).mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.sqrt((between / within + n - 1) / n)
    return np.where(np.all(x == x[:1, :1], axis=(0, 1)), np.nan, r)


def _ess(x: np.ndarray) -> np.ndarray:
    """Effective sample size M·n/τ̂ per trailing element of x (M chains, n draws, ...), float64.

    The algorithm of ``blackjax.diagnostics.effective_sample_size`` (1.7), step for step: FFT
    autocovariances of each chain, the multi-chain autocorrelation ρ̂_t = 1 − (W − mean_c acov_t)/V̂,
    Geyer's initial positive then monotone sequence over the pairs ρ̂_{2k} + ρ̂_{2k+1},
    τ̂ = max(−1 + 2Σρ̂ − ρ̂_{2K+2}, 1/log10(M·n)); 0 for a component without variation, NaN for one
    with a NaN draw. Where BlackJAX indexes one past the last pair, this reads the last pair (a
    clamped gather) and writes nothing (a dropped scatter), as JAX does.
    """
    from scipy.fft import irfft, next_fast_len, rfft
    x = np.asarray(x, np.float64)
    M, n = x.shape[:2]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        varies = np.any(x != x[:, :1], axis=(0, 1))                            # (...)
        mean = x.mean(axis=1, keepdims=True)                                  # (M, 1, ...)
        m = next_fast_len(2 * n)
        f = rfft(x - mean, n=m, axis=1)
        f *= np.conjugate(f)
        acov = irfft(f, n=m, axis=1)[:, :n] / n                                # (M, n, ...)
        mean_acov = acov.mean(axis=0)                                         # (n, ...)
        var0 = mean_acov[0] * n / (n - 1.0)                                   # (...)
        degenerate = np.isfinite(var0) & (~varies | (var0 <= 0.0))
        wvar = var0 * (n - 1.0) / n
        if M > 1:
            wvar = wvar + mean[:, 0].var(axis=0, ddof=1)
        wvar = np.where(degenerate, 1.0, wvar)
        n_even = n - n % 2
        rho = np.concatenate([np.ones_like(var0)[None], 1.0 - (var0 - mean_acov[1:n_even]) / wvar], axis=0)
        even, odd = rho[0::2], rho[1::2]                                      # (n_even/2, ...)
        mask = np.logical_and.accumulate((even + odd) > 0.0, axis=0)          # initial positive sequence
        t = np.arange(len(mask)).reshape((-1,) + (1,) * (mask.ndim - 1))
        max_t = np.max(np.where(mask, t, 0), axis=0)                          # last positive pair (0: none)
        nxt = max_t + 1
        inside = nxt < len(mask)
        clamped = np.minimum(nxt, len(mask) - 1)
        odd = np.where(mask, odd, 0.0)
        mask_even = mask.copy()
        even_next = np.take_along_axis(even, clamped[None], axis=0)[0]
        np.put_along_axis(mask_even, clamped[None], np.where(inside, even_next > 0,
                                                              np.take_along_axis(mask, clamped[None], axis=0)[0])[None],
                          axis=0)
        even = np.where(mask_even, even, 0.0)
        pair = even + odd
        upd = np.empty(pair.shape, bool)                                     # initial monotone sequence
        val = np.empty_like(pair)
        carry = pair[0]
        for k in range(len(pair)):
            upd[k] = pair[k] > carry
            carry = np.where(upd[k], carry, pair[k])
            val[k] = carry
        even_f = np.where(upd, val / 2.0, even)
        odd_f = np.where(upd, val / 2.0, odd)
        ess_raw = M * n
        tau = -1.0 + 2.0 * np.sum(even_f + odd_f, axis=0) - np.take_along_axis(even_f, clamped[None], axis=0)[0]
        tau = np.maximum(tau, 1 / np.log10(ess_raw))
        ess = np.where(degenerate, 0.0, ess_raw / tau)
        return np.where(np.any(np.isnan(x), axis=(0, 1)), np.nan, ess)


def split_rhat(x: np.ndarray) -> np.ndarray:
    """Rank-normalised split-R̂ per trailing element of x (chains, draws, ...).

    R̂ = max(R̂_bulk, R̂_tail): R̂_bulk is Gelman–Rubin's potential scale reduction (the formula of
    ``blackjax.diagnostics.potential_scale_reduction``) on the rank-normalised split chains, R̂_tail the same on the
    folded draws |x − median| (Vehtari et al. 2021). Splitting catches a drifting chain,
    ranking catches heavy tails, folding catches chains that differ only in scale."""
    s = _split(np.asarray(x, np.float64))
    bulk = _psrf(rank_normalise(s))
    folded = np.abs(s - np.median(s.reshape(-1, *s.shape[2:]), axis=0))
    tail = _psrf(rank_normalise(folded))
    return np.fmax(bulk, tail)


def bulk_ess(x: np.ndarray) -> np.ndarray:
    """Bulk ESS: the algorithm of ``blackjax.diagnostics.effective_sample_size`` (Geyer's initial
    monotone sequence on the multi-chain autocorrelation; ported to numpy, :func:`_ess`) of the
    rank-normalised split chains."""
    return _ess(rank_normalise(_split(np.asarray(x, np.float64))))


@dataclass(frozen=True)
class Diagnostics(TextTable):
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
        """Largest R̂ over the observables (NaN when none is finite)."""
        return float(np.nanmax(self.rhat)) if np.any(np.isfinite(self.rhat)) else float("nan")

    @property
    def min_ess(self) -> float:
        """Smallest bulk ESS over the observables (NaN when none is finite)."""
        return float(np.nanmin(self.ess)) if np.any(np.isfinite(self.ess)) else float("nan")

    @property
    def n_divergent(self) -> int:
        """Divergent transitions over all chains."""
        return int(np.sum(self.divergences))

    def summary(self) -> str:
        """A table of R̂, ESS and τ per observable, then the run's totals (:meth:`table`)."""
        return self.table()

    def table(self, width: int | None = None) -> str:
        """R̂, ESS and τ per observable fitted to ``width`` cells, then the totals and warnings (``print``
        shows it, Jupyter as HTML; :func:`nnft.result_tables.diagnostics`)."""
        from nnft.result_tables import diagnostics as text
        return text(self, width=width)

    def warn(self, stacklevel: int = 1) -> None:
        """Emit every message as a :class:`~nnft.errors.ConvergenceWarning`; ``stacklevel`` as in
        ``warnings.warn``, counted from the caller of this method (1: the caller)."""
        for m in self.messages:
            warnings.warn(m, ConvergenceWarning, stacklevel=stacklevel + 1)


def diagnose(trace: np.ndarray, names: Sequence[str], *, stride: int, draws_per_chain: int, blocks_per_chain: int,
             divergences: np.ndarray, acceptance: np.ndarray, step_size: np.ndarray) -> Diagnostics:
    """R̂, bulk ESS and τ of the observables' traces, and the messages for what fails.

    Args:
      trace: (chains, n, observables) float, every ``stride``-th kept draw of each chain.
      names: one label per observable.
      stride: kept draws between trace entries.
      draws_per_chain: kept draws per chain; ``blocks_per_chain``: jackknife blocks per chain (the block
        length is their ratio).
      divergences, acceptance, step_size: (chains,) per-chain transition statistics.

    Returns:
      :class:`Diagnostics`; ``messages`` name each observable with R̂ > :data:`RHAT_MAX` or bulk ESS
      < :data:`ESS_PER_CHAIN_MIN`·chains, a block shorter than 10·τ, and divergent transitions.
    """
    x = trace
    chains = x.shape[0]
    rhat = split_rhat(x)
    ess = bulk_ess(x)
    ess_raw = _ess(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = chains * x.shape[1] / ess_raw * stride
    block_len = draws_per_chain / blocks_per_chain
    msgs = []
    bad_r = np.nan_to_num(rhat, nan=1.0) > RHAT_MAX
    bad_e = np.nan_to_num(ess, nan=np.inf) < ESS_PER_CHAIN_MIN * chains
    for nm, r, e, br, be in zip(names, rhat, ess, bad_r, bad_e):
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
    if divergences.sum():
        msgs.append(f"{int(divergences.sum())} divergent transitions")
    return Diagnostics(names=tuple(names), rhat=rhat, ess=ess, tau=tau, divergences=divergences,
                       acceptance=acceptance, step_size=step_size, block_length=block_len,
                       draws_per_chain=draws_per_chain, trace_stride=stride, chains=chains,
                       converged=converged, blocks_ok=blocks_ok, messages=tuple(msgs))
