"""Importance reweighting of free networks by an insertion: the one place the weights e^{−S} are formed.

A local insertion deforms the parameter density, P̃(θ) ∝ P(θ) e^{−S(θ)} with S = Σ_z w_z V(φ_θ(z)) on
the insertion's lattice (docs/physics.md §7; TASI §5.2 eq. 135-137 with the sign erratum of
docs/physics.md §10), so an expectation under P̃ is a ratio of free expectations,

    ⟨O⟩_S = ⟨O e^{−S}⟩ / ⟨e^{−S}⟩ .

Per network the importance weight is e^{ℓ − c}, ℓ = −S the log-weight (``Model.log_weight``) and c the
shift of ``nnft.insertions.log_weight_shift`` (an upper bound of ℓ for potentials bounded below, so
the weights lie in [0, 1] and never overflow; c cancels from every ratio). :func:`importance_weights`
is that map, used by the streaming step (``nnft.sample.step``) and by the multi-λ accumulator below.
The quality of the weights is measured by the Kish effective sample size
(``nnft.stats.kish_ess``, (Σw)²/Σw²), the only ESS of reweighting in nnft; the autocorrelation
ESS of a Markov chain is a different quantity (``nnft.sample.diagnostics.bulk_ess``).

**Multi-λ accumulator.** A sweep over a coupling λ reweights the *same* free networks by L different
weights w_λ = e^{ℓ_λ − c_λ}. :class:`MultiLambda` lays out, per network, the features f (F of them:
products of field values), the weighted features f·w_λ, the weights w_λ and their squares w_λ²,
so that one pass of ``nnft.sample.iid.stream`` into one ``nnft.stats.BlockSums`` gives, for every λ,
the ratio estimator ⟨f⟩_λ = mean(f w_λ)/mean(w_λ), the free ⟨f⟩_0 from the same networks and blocks
(so a delete-one-block jackknife of a difference keeps the correlation), and the Kish ESS of w_λ.
Nothing per network is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import jax.numpy as jnp
import numpy as np

from nnft.errors import InputError
from nnft.stats import BlockSums, kish_ess

__all__ = ["MultiLambda", "importance_weights", "lattice_log_weight", "sweep_values"]


#: a reweighted ensemble whose Kish ESS is below max(ESS_MIN, ESS_FRACTION·n) gets a ReweightingWarning
ESS_MIN, ESS_FRACTION = 100.0, 0.01


def ess_floor(n: int) -> float:
    """The Kish ESS below which a reweighted ensemble of ``n`` networks is flagged (ReweightingWarning;
    ``nnft.perturbation.compare`` marks such λ): max(ESS_MIN, ESS_FRACTION·n)."""
    return max(ESS_MIN, ESS_FRACTION * n)


def importance_weights(log_weight, shift: float = 0.0):
    """Importance weights e^{ℓ − c} of networks with log-weights ℓ = −S(θ) (docs/physics.md §7).

    Args:
      log_weight: ℓ per network, jax array (n,) (any float dtype; computed in float64).
      shift: c, ``nnft.insertions.log_weight_shift`` of the insertions (≥ max ℓ for potentials
        bounded below, so the weights are ≤ 1; it cancels from every ratio ⟨O w⟩/⟨w⟩).

    Returns:
      (n,) float64 jax array, dimensionless. Non-finite log-weights give non-finite (or zero) weights;
      the streaming step reports such networks, it never averages them.
    """
    return jnp.exp(jnp.asarray(log_weight).astype(jnp.float64) - shift)


def lattice_log_weight(insertions: Sequence, phi):
    """ℓ = −Σ_insertions Σ_z w_z V(φ(z)) per network from field values already evaluated on the lattices
    (the batched form of ``Model.log_weight``, for a caller that evaluates φ on its own points and the
    lattices in one call; docs/physics.md §7, TASI §5.2 eq. 135).

    Args:
      insertions: compiled insertions (``nnft.insertions.CompiledInsertion``: ``points`` (M_k, d),
        ``weights`` (M_k,), ``V`` jnp elementwise).
      phi: (n, Σ_k M_k) field values, the lattices concatenated in the order of ``insertions``.

    Returns:
      (n,) log-weights in the dtype of ``phi``.

    Raises:
      InputError: ``phi`` has not Σ_k M_k columns.
    """
    sizes = [len(ins.points) for ins in insertions]
    if phi.shape[-1] != sum(sizes):
        raise InputError(f"field values on the lattices have {phi.shape[-1]} columns; the insertions have "
                         f"{sum(sizes)} lattice points")
    offsets = np.cumsum([0] + sizes)
    lw = jnp.zeros(phi.shape[0], dtype=phi.dtype)
    for k, ins in enumerate(insertions):
        z = phi[:, offsets[k]:offsets[k + 1]]
        lw = lw - jnp.sum(jnp.asarray(ins.weights, dtype=phi.dtype)[None, :] * ins.V(z), axis=1)
    return lw


@dataclass(frozen=True)
class MultiLambda:
    """Layout of the per-network columns of a reweighted sweep over L couplings, F features each.

    Columns (n_columns = F(L + 1) + 2L): ``[f (F) | f·w_λ (L·F, λ-major) | w_λ (L) | w_λ² (L)]``.

    Attributes:
      n_features: F, features per network (products of field values).
      n_lambdas: L, the number of reweightings.
    """

    n_features: int
    n_lambdas: int

    @property
    def n_columns(self) -> int:
        """Columns per network: F(L + 1) + 2L."""
        return self.n_features * (self.n_lambdas + 1) + 2 * self.n_lambdas

    def columns(self, features, log_weights):
        """Per network, the accumulated columns from the free features and the log-weights of every λ.

        Args:
          features: (r, F) float64 jax array, f per network.
          log_weights: (r, L) float64 jax array, ℓ_λ − c_λ per network (already shifted).

        Returns:
          (r, n_columns) float64 jax array ``[f | f·w_λ | w_λ | w_λ²]``, w_λ = :func:`importance_weights`.
        """
        w = importance_weights(log_weights)                                  # (r, L)
        fw = (features[:, None, :] * w[:, :, None]).reshape(features.shape[0], self.n_lambdas * self.n_features)
        return jnp.concatenate([features, fw, w, w * w], axis=1)

    def free(self, means: np.ndarray) -> np.ndarray:
        """⟨f⟩_0, shape (..., F), from column means (..., n_columns)."""
        return means[..., :self.n_features]

    def reweighted(self, means: np.ndarray) -> np.ndarray:
        """⟨f⟩_λ = mean(f w_λ)/mean(w_λ), shape (..., L, F), from column means (..., n_columns)."""
        F, L = self.n_features, self.n_lambdas
        fw = means[..., F:F * (L + 1)].reshape(means.shape[:-1] + (L, F))
        w = means[..., F * (L + 1):F * (L + 1) + L]
        return fw / w[..., None]

    def ess(self, acc: BlockSums) -> np.ndarray:
        """Kish ESS (Σw_λ)²/Σw_λ² per λ, shape (L,) (``nnft.stats.kish_ess``), from the block sums."""
        F, L = self.n_features, self.n_lambdas
        tot = acc.sums.sum(0)
        return np.atleast_1d(kish_ess(tot[F * (L + 1):F * (L + 1) + L], tot[F * (L + 1) + L:]))

    def tail_columns(self, cols, lam: int) -> np.ndarray:
        """The columns whose per-network contributions bound the tail of ⟨f_cols⟩_λ − ⟨f_cols⟩_0: the free
        features ``cols``, the weighted ones f·w_λ and the weight w_λ (for the k̂ diagnostic of
        ``nnft.tails``; PSIS, arXiv:1507.02646)."""
        F, L = self.n_features, self.n_lambdas
        cols = np.asarray(cols, dtype=int)
        return np.concatenate([cols, F + lam * F + cols, [F * (L + 1) + lam]]).astype(int)


def sweep_values(free_fields: Callable, points: np.ndarray, insertions_per_lambda: Sequence[Sequence],
                 shifts: Sequence[float]) -> Callable:
    """The per-chunk value map of a reweighted sweep for ``nnft.sample.iid.stream``.

    Evaluates φ once on ``points`` (P, d) and every insertion lattice and returns per network
    ``[φ(points) (P) | ℓ_λ − c_λ (L)]`` in float64 as rows (chunk, 1, P + L); the stream's ``points``
    (for its memory estimate) is P + Σ_k M_k.

    Args:
      free_fields: ``Model.fields`` of the free theory, (θ batch, (Q, d) points) -> (chunk, Q).
      points: (P, d) the points of the features.
      insertions_per_lambda: L tuples of compiled insertions (``nnft.insertions.compile_insertions``)
        whose lattices are the same at every λ (a sweep changes couplings only; the caller checks).
      shifts: c_λ per λ (``nnft.insertions.log_weight_shift``).
    """
    lattices = [ins.points for ins in insertions_per_lambda[0]]
    P = len(points)
    all_pts = np.concatenate([np.asarray(points, dtype=np.float64)] + list(lattices))

    def values(theta):
        dt = next(iter(theta.values())).dtype
        phi = free_fields(theta, jnp.asarray(all_pts, dtype=dt))            # (chunk, P + ΣM)
        lws = [lattice_log_weight(inss, phi[:, P:]).astype(jnp.float64) - c
               for inss, c in zip(insertions_per_lambda, shifts)]
        return jnp.concatenate([phi[:, :P].astype(jnp.float64), jnp.stack(lws, axis=1)], axis=1)[:, None, :]

    return values
