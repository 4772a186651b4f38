"""n-point functions G⁽ⁿ⁾ and connected correlators G_c⁽ⁿ⁾ from ensembles of whole networks.

G⁽ⁿ⁾(x₁..xₙ) = ⟨φ(x₁)…φ(xₙ)⟩ and G_c⁽ⁿ⁾ = joint cumulant κ(φ(x₁),…,φ(xₙ)) by the set-partition
formula (docs/physics.md §0). Every product of field values that any requested G⁽ⁿ⁾ or G_c⁽ⁿ⁾ needs is one
*feature*; features are accumulated in float64 block sums (``nnft.stats``) and G_c gets a jackknife
error over the whole non-linear estimator.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import jax
import jax.numpy as jnp
import numpy as np

import warnings

from nnft.errors import InputError, TailWarning
from nnft.graph import ir
from nnft.graph.compile import Model
from nnft.graph.moments import field_moment_check
from nnft.partitions import all_masks, cumulants
from nnft.sample.iid import stream
from nnft.sample.step import Products
from nnft.stats import BlockSums, Estimate
from nnft.tables import TextTable

MAX_ORDER = 8
MAX_FEATURES = 200_000
#: float32 with a periodic function (cos, sin, tan) of the inputs: largest |coordinate| (2¹⁷; the
#: pre-activation's rounding |w·x|·2⁻²⁴ stays below 0.008 rad per unit weight)
PERIODIC_FLOAT32_MAX = float(2 ** 17)


@dataclass(frozen=True)
class Correlators(TextTable):
    """Full and connected n-point functions at a list of point tuples (same order as given).

    Attributes:
      full: G⁽ⁿ⁾ per tuple.
      connected: G_c⁽ⁿ⁾ per tuple.
      orders: n per tuple.

    Source: arXiv:2408.00082 eq. 14, 29-30 (G⁽ⁿ⁾) and eq. 49 (G_c⁽⁴⁾); the container itself is not from a paper.
    """

    full: Estimate
    connected: Estimate
    orders: tuple[int, ...]

    def table(self, width: int | None = None) -> str:
        """One row per tuple: G and G_c (mean ± standard error), fitted to ``width`` cells (``print``
        shows it, Jupyter as HTML; :func:`nnft.result_tables.correlators`)."""
        from nnft.result_tables import correlators
        return correlators(self, width=width)


class Plan:
    """Which products of field values the requested tuples need, with duplicates merged.

    Args:
      tuples: a list of arrays of shape (n_i, d): the point tuples (orders may differ).
    """

    def __init__(self, tuples, d: int):
        arrs = [np.atleast_2d(np.asarray(t, dtype=np.float64)) for t in tuples]
        if not arrs:
            raise InputError("no point tuples given")
        for i, a in enumerate(arrs):
            if a.ndim != 2 or a.shape[1] != d:
                raise InputError(f"tuple {i} has shape {a.shape}; expected (n, d) with d = {d}")
            if not 1 <= len(a) <= MAX_ORDER:
                raise InputError(f"tuple {i} has {len(a)} points; orders 1..{MAX_ORDER} are supported")
            if not np.all(np.isfinite(a)):
                raise InputError(f"tuple {i} has non-finite coordinates")
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
            raise InputError(f"{len(self.key_col)} distinct products needed (at most {MAX_FEATURES}); ask for fewer tuples")
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

    def uses(self, connected: bool) -> list[np.ndarray]:
        """Per tuple, the feature columns its G⁽ⁿ⁾ (only the full product) or G_c⁽ⁿ⁾ (every sub-product)
        is computed from (for the tail diagnostic; built once per plan and flag, read-only)."""
        memo = self.__dict__.setdefault("_uses", {})
        if connected not in memo:
            memo[connected] = self._uses_of(connected)
        return memo[connected]

    def _uses_of(self, connected: bool) -> list[np.ndarray]:
        out: list[np.ndarray] = [np.zeros(0, dtype=int)] * len(self.ids)
        for n, (tix, cols) in self.by_order.items():
            masks = list(cols) if connected else [2 ** n - 1]
            for j, t in enumerate(tix):
                out[t] = np.asarray(sorted({int(cols[m][j]) for m in masks}))
        return out

    def check_precision(self, dtype: str, periodic: bool = False) -> None:
        """Refuse points that the sampling precision cannot tell apart, or (``periodic``: the field
        applies cos/sin/tan) whose float32 pre-activations would carry phase errors.

        Raises:
          EstimatorError: two distinct points round to the same point in ``dtype`` (e.g. x = 10⁷ and
            10⁷ + 0.5 in float32, whose spacing there is 1): the correlator would silently be that of
            coincident points; or, in float32 with a periodic function, a |coordinate| above
            :data:`PERIODIC_FLOAT32_MAX`: w·x is rounded by ~|w·x|·2⁻²⁴ (≥ 0.008 rad per unit weight),
            a random phase that biases correlators (Cos-net G2 at x ≈ 3·10⁷ comes out 14σ off).
        """
        from nnft.errors import EstimatorError
        np_dt = np.dtype(dtype)
        rounded = self.points.astype(np_dt).astype(np.float64)
        if len(np.unique(rounded, axis=0)) < len(self.points):
            scale = float(np.max(np.abs(self.points)))
            raise EstimatorError(f"points that differ are equal in {dtype} (largest |coordinate| {scale:.3g}, where "
                                 f"the {dtype} spacing is {float(np.spacing(np_dt.type(scale))):.3g}); the result would "
                                 "be that of coincident points. Use dtype='float64', or shift the points nearer the "
                                 "origin if the theory is translation invariant")
        if not np.all(np.isfinite(rounded)):
            raise EstimatorError(f"point coordinates overflow {dtype} (largest |coordinate| "
                                 f"{float(np.max(np.abs(self.points))):.3g}); use dtype='float64'")
        if periodic and np_dt == np.float32 and float(np.max(np.abs(self.points))) > PERIODIC_FLOAT32_MAX:
            raise EstimatorError(f"largest |coordinate| {float(np.max(np.abs(self.points))):.3g} > "
                                 f"{PERIODIC_FLOAT32_MAX:g} with cos/sin/tan in float32: the pre-activations' rounding "
                                 "(|w·x|·2⁻²⁴) becomes a random phase that biases the correlators. Use dtype='float64'"
                                 ", or shift the points nearer the origin if the theory is translation invariant")

    @staticmethod
    def key(ids: tuple[int, ...], mask: int) -> tuple[int, ...]:
        """The feature of the sub-product ``mask`` (bit i: point i of the tuple) of a tuple of point
        indices ``ids``: its point indices, sorted (φ(x_a)φ(x_b) and φ(x_b)φ(x_a) are one feature)."""
        return tuple(sorted(ids[i] for i in range(len(ids)) if mask >> i & 1))

    @property
    def n_features(self) -> int:
        """F, the number of distinct products Π_{i∈S} φ(x_i) the plan accumulates (≤ MAX_FEATURES)."""
        return len(self.key_col)

    @property
    def products(self) -> Products:
        """The features as a :class:`~nnft.sample.step.Products` (block sums by matrix products, tail
        columns w·|φ(x_p)|ᵐ), built once per plan."""
        if getattr(self, "_products", None) is None:
            self._products = _products(tuple(self.key_col), len(self.points))
        return self._products

    def stream(self, model: Model, key, networks: int, values, **kw) -> BlockSums:
        """``nnft.sample.iid.stream`` of this plan's products; the returned sums map each feature to its
        tail columns (``BlockSums.tail_columns``), so k̂ per feature is the per-point-power bound of
        :class:`~nnft.sample.step.Products`. Keywords ``devices``, ``checkpoint``, ``resume``, ``progress``
        are passed on only when set."""
        for name in ("devices", "checkpoint", "resume", "progress"):
            if name in kw and (kw[name] is None or kw[name] is False):
                del kw[name]
        acc = stream(model, key, networks, values, self.products, self.n_features, **kw)
        acc.tail_columns = self.products.tail_columns
        acc.tail_one_sided = True
        return acc

    def features(self, values: jax.Array) -> jax.Array:
        """(rows, P) field values -> (rows, F) products, columns in ``key_col`` order (per row, by
        gathers; the streamed sums use :attr:`products`)."""
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
               dtype: str = "float32", devices=None, checkpoint=None, resume: bool = False,
               progress=None) -> BlockSums:
    """Stream whole networks and accumulate the plan's features (block sums by matrix products,
    ``Plan.products``).

    The points stay float64 on the host and are converted inside the step, in the sampling precision
    (under JAX's x64 mode), so ``dtype="float64"`` reaches every array the step touches.
    ``devices``, ``checkpoint``, ``resume``, ``progress`` go to ``nnft.sample.iid.stream`` when set.
    """
    plan.check_precision(dtype, periodic(model))
    pts = np.asarray(plan.points, dtype=np.float64)

    def values(theta):
        return model.fields(theta, jnp.asarray(pts, dtype=next(iter(theta.values())).dtype))[:, None, :]

    return plan.stream(model, key, samples, values, chunk=chunk, n_blocks=blocks, dtype=dtype,
                       cache_key=("fields", plan.signature), points=len(pts), devices=devices,
                       checkpoint=checkpoint, resume=resume, progress=progress)


@functools.lru_cache(maxsize=16)
def _products(keys: tuple, n_points: int) -> Products:
    """The :class:`Products` layout of a feature list (read-only; reused by later calls with the same plan,
    whose greedy split would otherwise be recomputed: ~0.4 s for 8192 features)."""
    return Products(list(keys), n_points)


def periodic(model: Model) -> bool:
    """Whether φ applies a periodic function (cos, sin, tan) anywhere (for :meth:`Plan.check_precision`)."""
    return any(ir.op(model.graph, n) in ("fn:cos", "fn:sin", "fn:tan") for n in model.graph.nodes)


@dataclass(frozen=True)
class Ensemble(TextTable):
    """Accumulated feature sums of one ensemble at a set of point tuples.

    Every estimate derived from it shares the same samples, so differences (e.g. G(x) − G(g·x) for
    a symmetry g) get the small variance of correlated differences, with jackknife errors.

    Source: not from a paper: a container of block sums (the estimators are those of :func:`measure`).
    """

    plan: Plan
    sums: BlockSums
    #: findings of the moment analysis (``nnft.graph.moments``) attached to every estimate
    notes: tuple[str, ...] = ()

    @property
    def orders(self) -> tuple[int, ...]:
        """The order n of each point tuple, in the order the tuples were given."""
        return self.plan.orders

    def full(self) -> Estimate:
        """G⁽ⁿ⁾ per tuple (with k̂ per tuple; EstimatorError when not estimable)."""
        return self._noted(self.sums.jackknife(self.plan.full, self.plan.uses(False), "G", batched=True))

    def connected(self) -> Estimate:
        """G_c⁽ⁿ⁾ per tuple (with k̂ per tuple; EstimatorError when not estimable)."""
        return self._noted(self.sums.jackknife(self.plan.connected, self.plan.uses(True), "G_c", batched=True))

    def derived(self, fn) -> Estimate:
        """Any function ``fn(full, connected) -> array`` of the per-tuple correlators, with a
        jackknife error over the whole function."""
        return self._noted(self.sums.jackknife(lambda m: fn(self.plan.full(m), self.plan.connected(m)),
                                               self.plan.uses(True), "derived estimate"))

    def table(self, width: int | None = None) -> str:
        """The ensemble's correlators as text, one row per tuple with its points (``print`` shows it,
        Jupyter as HTML); the reason when they are not estimable."""
        from nnft.errors import NnftError
        from nnft.result_tables import correlators
        try:
            corr = Correlators(full=self.full(), connected=self.connected(), orders=self.orders)
        except NnftError as err:
            return f"Ensemble: {len(self.orders)} point tuple(s), not estimable: {err}"
        return correlators(corr, tuples=[self.plan.points[list(ids)] for ids in self.plan.ids],
                           title=f"Ensemble: {len(self.orders)} point tuple(s)", width=width)

    def _noted(self, est: Estimate) -> Estimate:
        return replace(est, notes=est.notes + self.notes) if self.notes else est


def ensemble(model: Model, tuples, *, samples: int, key=0, chunk: int = 4096, blocks: int = 64,
             dtype: str = "float32", devices=None, checkpoint=None, resume: bool = False,
             progress=None) -> Ensemble:
    """Sample ``samples`` networks once and accumulate what the tuples' correlators need.

    Args:
      model: a compiled theory (``nnft.compile``).
      tuples: list of (n, d) arrays of points, n = 1..8.
      samples: number of networks.
      key: integer seed or JAX key; the numbers do not depend on ``chunk``.
      chunk: networks per compiled step (memory only; results do not depend on it).
      blocks: jackknife blocks.
      dtype: "float32" or "float64" sampling; sums are float64 either way.
      devices: passed to ``nnft.sample.iid.stream`` when set (as are the next three).
      checkpoint: checkpoint file.
      resume: resume from ``checkpoint``.
      progress: show a progress bar.

    Returns:
      :class:`Ensemble`: the float64 block sums of every product the tuples need; its ``full()``,
      ``connected()`` and ``derived(fn)`` give :class:`~nnft.stats.Estimate` of shape (T,).

    Raises:
      InputError: a tuple is not an (n, d) array of finite points with 1 <= n <= 8, or too many
        distinct products are needed (> 200 000).
      EstimatorError: before sampling, when E|φ|ⁿ is infinite for the highest order n asked
        (``nnft.graph.moments``: e.g. a Student-t(ν) readout and n ≥ ν), or when distinct points
        coincide in ``dtype``; after sampling, when an estimate is not estimable (NaN/inf, or
        fewer than 2 jackknife blocks).
      SamplingError: a network gave non-finite values (never masked).
    Warns:
      TailWarning: an estimate with Pareto k̂ > 0.7 (``nnft.tails``; per feature the bound
        max over its points p of k̂(|φ(x_p)|ⁿ), ``nnft.sample.step.Products``), or whose moments could
        not be decided from the graph.

    Source: G⁽ⁿ⁾ = ∫dθ P(θ) φ_θ(x₁)…φ_θ(xₙ) (arXiv:2408.00082 eq. 14, 29-30), estimated by the
    sample mean over i.i.d. networks.
    """
    plan = plan_for(tuples, model.d)
    notes = field_moment_check(model, max(plan.orders))
    for note in notes:
        warnings.warn(f"{model.theory.source}: {note}", TailWarning, stacklevel=2)
    acc = accumulate(model, plan, samples=samples, key=key, chunk=chunk, blocks=blocks, dtype=dtype,
                     devices=devices, checkpoint=checkpoint, resume=resume, progress=progress)
    return Ensemble(plan, acc, notes)


#: plans kept by :func:`plan_for` (the most recently built first to go when full)
PLANS_KEPT = 8
_PLANS: dict = {}


def plan_for(tuples, d: int) -> Plan:
    """``Plan(tuples, d)``, reused when the same tuples were planned before in this process (building
    the plan and its Gram layout takes ~1 s for 4096 tuples; a plan is never changed once built).

    Raises:
      InputError: as :class:`Plan`.
    """
    import hashlib
    h = hashlib.sha256(str(int(d)).encode())
    try:
        for t in tuples:
            a = np.ascontiguousarray(np.atleast_2d(np.asarray(t, dtype=np.float64)))
            h.update(repr(a.shape).encode())
            h.update(a.tobytes())
    except (TypeError, ValueError):
        return Plan(tuples, d)                    # Plan words the refusal
    key = h.hexdigest()
    plan = _PLANS.get(key)
    if plan is None:
        plan = Plan(tuples, d)
        if len(_PLANS) >= PLANS_KEPT:
            _PLANS.pop(next(iter(_PLANS)))
        _PLANS[key] = plan
    return plan


def measure(model: Model, tuples, **kw) -> Correlators:
    """G⁽ⁿ⁾ and G_c⁽ⁿ⁾ at each point tuple from one ensemble (arguments of :func:`ensemble`).

    Args:
      model: a compiled theory (``nnft.compile``).
      tuples: list of point tuples, each an (n, d) array-like (n = 1..8; orders may differ),
        coordinates in the spec's input units.
      **kw: ``samples``, ``key``, ``chunk``, ``blocks``, ``dtype``, ``devices``, ``checkpoint``,
        ``resume``, ``progress`` as in :func:`ensemble` (``samples`` is required).

    Returns:
      :class:`Correlators`: ``full`` and ``connected`` are :class:`~nnft.stats.Estimate` of shape
      (T,) for T tuples, in units of φⁿ, with standard errors (jackknife over blocks); ``orders`` gives
      n per tuple.

    Raises:
      InputError: a tuple is not an (n, d) array of finite points with 1 <= n <= 8, or the tuples
        need more than 200 000 distinct products (and, through ``nnft.measure``, a bad count or seed).
      EstimatorError: E|φ|ⁿ is infinite for the highest order n (checked before sampling), distinct
        points coincide in ``dtype``, or an estimate is not estimable (NaN/inf, < 2 jackknife blocks).
      SamplingError: a network gave non-finite field values.

    Source: G⁽ⁿ⁾ = ∫dθ P(θ) φ_θ(x₁)…φ_θ(xₙ) (arXiv:2408.00082 eq. 14, 29-30); G_c⁽ⁿ⁾ = joint cumulant
    (set-partition formula; the n = 4 case is arXiv:2408.00082 eq. 49).
    """
    ens = ensemble(model, tuples, **kw)
    return Correlators(full=ens.full(), connected=ens.connected(), orders=ens.orders)


def correlator(model: Model, tuples, **kw) -> Estimate:
    """G⁽ⁿ⁾(x₁..xₙ) = ⟨φ(x₁)…φ(xₙ)⟩ per tuple, with standard errors (see :func:`measure`).

    Args:
      model: a compiled theory (``nnft.compile``).
      tuples: list of point tuples, each an (n, d) array-like (n = 1..8; orders may differ),
        coordinates in the spec's input units.
      **kw: ``samples``, ``key``, ``chunk``, ``blocks``, ``dtype``, ``devices``, ``checkpoint``,
        ``resume``, ``progress`` as in :func:`ensemble` (``samples`` is required).

    Returns:
      :class:`~nnft.stats.Estimate` of shape (T,) for T tuples, in units of φⁿ.

    Raises:
      InputError: a tuple is not an (n, d) array of finite points with 1 <= n <= 8, or the tuples
        need more than 200 000 distinct products (and, through ``nnft.measure``, a bad count or seed).
      EstimatorError: E|φ|ⁿ is infinite for the highest order n (checked before sampling), distinct
        points coincide in ``dtype``, or an estimate is not estimable (NaN/inf, < 2 jackknife blocks).
      SamplingError: a network gave non-finite field values.

    Source: G⁽ⁿ⁾ = ∫dθ P(θ) φ_θ(x₁)…φ_θ(xₙ), arXiv:2408.00082 eq. 14, 29-30.
    """
    return measure(model, tuples, **kw).full


def connected(model: Model, tuples, **kw) -> Estimate:
    """Connected G_c⁽ⁿ⁾ per tuple (joint cumulants), jackknife errors (see :func:`measure`).

    Args:
      model: a compiled theory (``nnft.compile``).
      tuples: list of point tuples, each an (n, d) array-like (n = 1..8; orders may differ),
        coordinates in the spec's input units.
      **kw: ``samples``, ``key``, ``chunk``, ``blocks``, ``dtype``, ``devices``, ``checkpoint``,
        ``resume``, ``progress`` as in :func:`ensemble` (``samples`` is required).

    Returns:
      :class:`~nnft.stats.Estimate` of shape (T,) for T tuples, in units of φⁿ (jackknife error over
      the whole non-linear estimator).

    Raises:
      InputError: a tuple is not an (n, d) array of finite points with 1 <= n <= 8, or the tuples
        need more than 200 000 distinct products (and, through ``nnft.measure``, a bad count or seed).
      EstimatorError: E|φ|ⁿ is infinite for the highest order n (checked before sampling), distinct
        points coincide in ``dtype``, or an estimate is not estimable (NaN/inf, < 2 jackknife blocks).
      SamplingError: a network gave non-finite field values.

    Source: joint cumulants by the set-partition formula; the n = 4 case with vanishing odd moments is
    arXiv:2408.00082 eq. 49.
    """
    return measure(model, tuples, **kw).connected


def two_point(model: Model, points, **kw) -> Estimate:
    """The G⁽²⁾ matrix G(xᵢ, xⱼ) on a point set (P, d), from one ensemble.

    Args:
      model: a compiled theory (``nnft.compile``).
      points: (P, d) array-like of points (a single point (d,) is read as P = 1).
      **kw: ``samples``, ``key``, ``chunk``, ``blocks``, ``dtype``, ... as in :func:`ensemble`.

    Returns:
      :class:`~nnft.stats.Estimate` with ``mean``/``stderr`` (and ``khat`` when computed) of shape
      (P, P), symmetric, in units of φ²; the P(P+1)/2 distinct pairs are estimated from one ensemble.

    Raises:
      InputError: ``points`` is not a (P, d) array of finite points, or the pairs
        need more than 200 000 distinct products (and, through ``nnft.measure``, a bad count or seed).
      EstimatorError: E|φ|ⁿ is infinite for the highest order n (checked before sampling), distinct
        points coincide in ``dtype``, or an estimate is not estimable (NaN/inf, < 2 jackknife blocks).
      SamplingError: a network gave non-finite field values.

    Source: G⁽²⁾(x, y) = ∫dθ P(θ) φ_θ(x)φ_θ(y), arXiv:2408.00082 eq. 14.
    """
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
    khat = None
    if est.khat is not None:
        khat = np.full((P, P), np.nan)
        khat[iu] = est.khat
        khat = np.where(np.isnan(khat), khat.T, khat)
    return Estimate(mean, err, est.n, est.ess, khat, est.notes)
