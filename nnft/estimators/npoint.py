"""n-point functions G⁽ⁿ⁾ and connected correlators G_c⁽ⁿ⁾ from ensembles of whole networks.

G⁽ⁿ⁾(x₁..xₙ) = ⟨φ(x₁)…φ(xₙ)⟩ and G_c⁽ⁿ⁾ = joint cumulant κ(φ(x₁),…,φ(xₙ)) by the set-partition
formula (PHYSICS.md §0). Every product of field values that any requested cumulant needs is one
*feature*; features are accumulated in float64 block sums (``nnft.stats``) and G_c gets a jackknife
error over the whole non-linear estimator.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from nnft.estimators.partitions import all_masks, cumulants
from nnft.graph.compile import Model
from nnft.sample.iid import stream
from nnft.stats import BlockSums, Estimate

MAX_ORDER = 8
MAX_FEATURES = 200_000


@dataclass(frozen=True)
class Correlators:
    """Full and connected n-point functions at a list of point tuples (same order as given).

    Attributes:
      full: G⁽ⁿ⁾ per tuple.
      connected: G_c⁽ⁿ⁾ per tuple.
      orders: n per tuple.
    """

    full: Estimate
    connected: Estimate
    orders: tuple[int, ...]


class Plan:
    """Which products of field values the requested tuples need, with duplicates merged.

    Args:
      tuples: a list of arrays of shape (n_i, d): the point tuples (orders may differ).
    """

    def __init__(self, tuples, d: int):
        arrs = [np.atleast_2d(np.asarray(t, dtype=np.float64)) for t in tuples]
        if not arrs:
            raise ValueError("no point tuples given")
        for i, a in enumerate(arrs):
            if a.ndim != 2 or a.shape[1] != d:
                raise ValueError(f"tuple {i} has shape {a.shape}; expected (n, d) with d = {d}")
            if not 1 <= len(a) <= MAX_ORDER:
                raise ValueError(f"tuple {i} has {len(a)} points; orders 1..{MAX_ORDER} are supported")
            if not np.all(np.isfinite(a)):
                raise ValueError(f"tuple {i} has non-finite coordinates")
        self.points, inverse = np.unique(np.concatenate(arrs), axis=0, return_inverse=True)
        inverse = inverse.ravel()
        self.orders = tuple(len(a) for a in arrs)
        offs = np.cumsum((0,) + self.orders)
        self.ids = [tuple(int(i) for i in inverse[offs[k]:offs[k + 1]]) for k in range(len(arrs))]
        self.key_col: dict[tuple[int, ...], int] = {}
        for ids in self.ids:
            for m in all_masks(len(ids)):
                key = self.key(ids, m)
                if key not in self.key_col:
                    self.key_col[key] = len(self.key_col)
        if len(self.key_col) > MAX_FEATURES:
            raise ValueError(f"{len(self.key_col)} distinct products needed (at most {MAX_FEATURES}); ask for fewer tuples")
        by_size: dict[int, list[tuple[int, ...]]] = {}
        for key in self.key_col:
            by_size.setdefault(len(key), []).append(key)
        self.groups = [(np.asarray(keys, dtype=np.int32), np.asarray([self.key_col[k] for k in keys]))
                       for _, keys in sorted(by_size.items())]
        self.perm = np.argsort(np.concatenate([cols for _, cols in self.groups]))
        # per order: tuple indices and, per mask, the feature column for each tuple
        self.by_order: dict[int, tuple[np.ndarray, dict[int, np.ndarray]]] = {}
        for n in sorted(set(self.orders)):
            tix = np.asarray([i for i, o in enumerate(self.orders) if o == n])
            cols = {m: np.asarray([self.key_col[self.key(self.ids[i], m)] for i in tix]) for m in all_masks(n)}
            self.by_order[n] = (tix, cols)

    @property
    def signature(self) -> tuple:
        """Identifies the plan's points and features (for reusing compiled code)."""
        return (self.points.tobytes(), self.points.shape, tuple(self.key_col))

    @staticmethod
    def key(ids: tuple[int, ...], mask: int) -> tuple[int, ...]:
        return tuple(sorted(ids[i] for i in range(len(ids)) if mask >> i & 1))

    @property
    def n_features(self) -> int:
        return len(self.key_col)

    def features(self, values: jax.Array) -> jax.Array:
        """(rows, P) field values -> (rows, F) products, columns in ``key_col`` order."""
        parts = [jnp.prod(values[:, idx], axis=-1) for idx, _ in self.groups]
        return jnp.concatenate(parts, axis=1)[:, self.perm]

    def full(self, means: np.ndarray) -> np.ndarray:
        """G⁽ⁿ⁾ per tuple from the feature means (last axis = features)."""
        out = np.zeros(means.shape[:-1] + (len(self.ids),))
        for n, (tix, cols) in self.by_order.items():
            out[..., tix] = means[..., cols[2 ** n - 1]]
        return out

    def connected(self, means: np.ndarray) -> np.ndarray:
        """G_c⁽ⁿ⁾ per tuple: joint cumulants from the feature means (set-partition formula)."""
        out = np.zeros(means.shape[:-1] + (len(self.ids),))
        for n, (tix, cols) in self.by_order.items():
            full = 2 ** n - 1
            out[..., tix] = cumulants(lambda m: means[..., cols[m]], [full])[full]
        return out


def accumulate(model: Model, plan: Plan, *, samples: int, key=0, chunk: int = 4096, blocks: int = 64,
               dtype: str = "float32") -> BlockSums:
    """Stream whole networks and accumulate the plan's features."""
    pts = jnp.asarray(plan.points)

    def values(theta):
        return model.fields(theta, pts.astype(next(iter(theta.values())).dtype))[:, None, :]

    return stream(model, key, samples, values, plan.features, plan.n_features,
                  chunk=chunk, n_blocks=blocks, dtype=dtype, cache_key=("fields", plan.signature))


@dataclass(frozen=True)
class Ensemble:
    """Accumulated feature sums of one ensemble at a set of point tuples.

    Every estimate derived from it shares the same samples, so differences (e.g. G(x) − G(g·x) for
    a symmetry g) get the small variance of correlated differences, with jackknife errors.
    """

    plan: Plan
    sums: BlockSums

    @property
    def orders(self) -> tuple[int, ...]:
        return self.plan.orders

    def full(self) -> Estimate:
        """G⁽ⁿ⁾ per tuple."""
        return self.sums.jackknife(self.plan.full)

    def connected(self) -> Estimate:
        """G_c⁽ⁿ⁾ per tuple."""
        return self.sums.jackknife(self.plan.connected)

    def derived(self, fn) -> Estimate:
        """Any function ``fn(full, connected) -> array`` of the per-tuple correlators, with a
        jackknife error over the whole function."""
        return self.sums.jackknife(lambda m: fn(self.plan.full(m), self.plan.connected(m)))


def ensemble(model: Model, tuples, *, samples: int, key=0, chunk: int = 4096, blocks: int = 64,
             dtype: str = "float32") -> Ensemble:
    """Sample ``samples`` networks once and accumulate what the tuples' correlators need.

    Args:
      model: a compiled theory (``nnft.compile``).
      tuples: list of (n, d) arrays of points, n = 1..8.
      samples: number of networks.
      key: integer seed or JAX key; the numbers do not depend on ``chunk``.
      blocks: jackknife blocks.
      dtype: "float32" or "float64" sampling; sums are float64 either way.
    """
    plan = Plan(tuples, model.d)
    return Ensemble(plan, accumulate(model, plan, samples=samples, key=key, chunk=chunk, blocks=blocks, dtype=dtype))


def measure(model: Model, tuples, **kw) -> Correlators:
    """G⁽ⁿ⁾ and G_c⁽ⁿ⁾ at each point tuple from one ensemble (arguments of :func:`ensemble`)."""
    ens = ensemble(model, tuples, **kw)
    return Correlators(full=ens.full(), connected=ens.connected(), orders=ens.orders)


def correlator(model: Model, tuples, **kw) -> Estimate:
    """G⁽ⁿ⁾(x₁..xₙ) = ⟨φ(x₁)…φ(xₙ)⟩ per tuple, with standard errors (see :func:`measure`)."""
    return measure(model, tuples, **kw).full


def connected(model: Model, tuples, **kw) -> Estimate:
    """Connected G_c⁽ⁿ⁾ per tuple (joint cumulants), jackknife errors (see :func:`measure`)."""
    return measure(model, tuples, **kw).connected


def two_point(model: Model, points, **kw) -> Estimate:
    """The G⁽²⁾ matrix G(xᵢ, xⱼ) on a point set (P, d), from one ensemble."""
    pts = np.atleast_2d(np.asarray(points, dtype=np.float64))
    P = len(pts)
    pairs = [np.stack([pts[i], pts[j]]) for i in range(P) for j in range(i, P)]
    est = measure(model, pairs, **kw).full
    mean = np.zeros((P, P))
    err = np.zeros((P, P))
    iu = np.triu_indices(P)
    mean[iu], err[iu] = est.mean, est.stderr
    mean = mean + np.triu(mean, 1).T
    err = err + np.triu(err, 1).T
    return Estimate(mean, err, est.n)
