"""Analytic references for a compiled theory: exact G⁽ⁿ⁾ and G_c⁽ⁿ⁾ next to Monte Carlo.

A spec's ``reference:`` names the law of one neuron ψ (a family of ``nnft.analytic.NEURONS``,
e.g. ``cos_net: {sigma_w0: 1.0}``); the graph analysis supplies the rest: that φ is a neuron sum,
its width, and the readout and offset densities, whose moments are taken exactly. The correlators
then follow from the neuron-sum theorem (``nnft.estimators.neuron.combine``) for *any* readout
density (r = μ4/μ2² enters through E[v⁴]).

A declared reference is a claim about the spec's own parameter laws, so it is checked against them
(:func:`check_reference`, run by ``nnft validate`` and before any :func:`exact` value is used): the
reference's G2 at pairs of the study's points must agree with a fixed-key neuron-level estimate
from the spec's densities within |z| ≤ :data:`Z_MAX`. A contradicting reference is refused with
both values (:class:`~nnft.errors.ReferenceMismatchError`), never shown beside Monte Carlo.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nnft.analytic.neurons import NeuronArgError, QuadratureError
from nnft.errors import EstimatorError, NnftError, ReferenceMismatchError, SpecError
from nnft.estimators.neuron import _require, combine, width_moments
from nnft.estimators.npoint import Plan
from nnft.graph.compile import Model
from nnft.spec.constants import evaluate_constants
from nnft.spec.points import study_points
from nnft.stats import zscore
from nnft.tables import TextTable


@dataclass(frozen=True)
class Exact(TextTable):
    """Exact correlators, arrays (len(widths), T).

    Attributes:
      label: what kind of theory the values are: ``"exact"`` (at the given widths), or for an ``mlp:``
        net the kinds used, e.g. ``"NNGP (N→∞)"`` or ``"leading order"`` (``nnft.reference_mlp``).
      kinds: per tuple, the kind of its value (None: all ``"exact"``; ``"unavailable"``: see ``reasons``).
      reasons: tuple index -> why nnft has no theory for it; its values are NaN (None: every tuple has one).
    """

    widths: tuple[int, ...]
    full: np.ndarray
    connected: np.ndarray
    orders: tuple[int, ...]
    accuracy: float
    label: str = "exact"
    kinds: tuple[str, ...] | None = None
    reasons: dict[int, str] | None = None

    def table(self, width: int | None = None) -> str:
        """One row per (width, tuple): G and G_c of the theory (``print`` shows it, Jupyter as HTML)."""
        from nnft.result_tables import correlators
        return correlators(self, width=width)


#: a declared reference is refused when its G2 differs from the spec's neuron-level estimate by more
#: than Z_MAX standard errors (the error is the larger of the sample's and the reference's own
#: prediction sqrt(M4 − M2²)/sqrt(n), so a heavy-tailed sample cannot make it too small)
Z_MAX = 6.0
#: neurons drawn for the check (fixed key: the verdict is deterministic)
CHECK_NEURONS = 1 << 17
CHECK_KEY = 271828
#: at most this many distinct study points enter the check (all pairs of them)
CHECK_POINTS = 3


def neuron_reference(model: Model):
    """The declared per-neuron law (an ``nnft.analytic`` family instance), or raise.

    Raises:
      EstimatorError: the spec declares no reference.
      SpecError: the reference's arguments are invalid for this spec (naming ``reference.<kind>``).
    """
    from nnft.analytic import NEURONS
    from nnft.spec import expr as E
    ref = model.theory.reference
    if not ref:
        raise EstimatorError(f"{model.theory.source}: the spec declares no 'reference:' (no analytic reference)")
    (kind, raw), = ref.items()
    try:
        env, _ = evaluate_constants(model.theory)
        args = {k: E.evaluate_constant(E.parse(v), env) for k, v in raw.items()}
        return NEURONS[kind](model.d, **args)
    except NnftError as err:
        if isinstance(err, SpecError):
            raise
        raise SpecError(str(err).removeprefix(f"{kind}: "), file=model.theory.source,
                        field=f"reference.{kind}") from None
    except (ValueError, OverflowError, ZeroDivisionError, FloatingPointError) as err:
        raise SpecError(f"cannot build the reference: {err}", file=model.theory.source,
                        field=f"reference.{kind}") from None


@dataclass(frozen=True)
class ReferenceCheck:
    """The outcome of :func:`check_reference`.

    Attributes:
      reference: the reference's family name.
      checked: whether a comparison was made (False: ``reason`` says why not).
      tuples: the point pairs compared, (T, 2, d).
      reference_g2, estimate, stderr, z: per pair, G2 from the reference, from the spec's neuron-level
        estimate, its standard error and the z-score.
      neurons: neurons drawn for the check.
    """

    reference: str
    checked: bool
    reason: str = ""
    tuples: np.ndarray | None = None
    reference_g2: np.ndarray | None = None
    estimate: np.ndarray | None = None
    stderr: np.ndarray | None = None
    z: np.ndarray | None = None
    neurons: int = 0
    #: z of the per-neuron fourth moment at one point (None: the reference gives no M8)
    z4: float | None = None

    @property
    def summary(self) -> str:
        """One line: why the reference was not cross-checked, or the largest |z| of the check (G⁽²⁾ over
        point pairs, and of the per-neuron fourth moment E[ψ⁴] when the reference has it)."""
        if not self.checked:
            return f"not cross-checked: {self.reason}"
        return (f"agrees with the spec's parameter laws: max |z| = {float(np.max(np.abs(self.z))):.2f} "
                f"over {len(self.z)} point pairs" + (f", E[ψ⁴] |z| = {abs(self.z4):.2f}" if self.z4 is not None else "")
                + f", {self.neurons} neurons")


def _check_pairs(model: Model) -> list[np.ndarray]:
    try:
        pts = study_points(model.theory)
    except SpecError:           # study points of another d (e.g. after load(..., d=1)): the default points
        pts = study_points(model.theory.model_copy(update={"study": model.theory.study.model_copy(
            update={"points": None})}))
    uniq = []
    for p in pts:
        if not any(np.array_equal(p, q) for q in uniq):
            uniq.append(p)
        if len(uniq) == CHECK_POINTS:
            break
    if len(uniq) == 1:
        e = np.zeros(model.d)
        e[0] = 0.5
        uniq.append(uniq[0] + e)
    # one point off every axis and every coordinate plane (study points often lie on a line): a law
    # that differs from the reference only in some directions (anisotropy) is seen too
    g = np.sqrt(np.arange(2.0, model.d + 2.0)) * np.where(np.arange(model.d) % 2, -1.0, 1.0)
    uniq.append(uniq[0] + 0.7 * g / np.linalg.norm(g))
    return [np.stack([uniq[i], uniq[j]]) for i in range(len(uniq)) for j in range(i, len(uniq))]


#: verdicts by theory content, so the same spec compiled again is not re-sampled
_CHECKED: dict[str, ReferenceCheck] = {}


def _neuron_values(model: Model, points: np.ndarray, neurons: int) -> np.ndarray:
    """ψ at ``points`` for ``neurons`` single neurons of the spec (whole networks, fixed key), (n, P)."""
    import jax
    import jax.numpy as jnp

    ns = model.structure.neuron_sum
    W = model.theory.dims[ns.width]
    nets = max(1, -(-neurons // W))

    def values(key, pts):
        theta = model.sample(key, nets)
        per_point = jax.vmap(model.neurons, in_axes=(None, 0))
        return jax.vmap(per_point, in_axes=(0, None))(theta, pts)           # (nets, P, W)

    v = np.asarray(jax.jit(values)(jax.random.key(CHECK_KEY), jnp.asarray(points, dtype=jnp.float32)),
                   dtype=np.float64)
    return np.swapaxes(v, 1, 2).reshape(nets * W, len(points))


def check_reference(model: Model) -> ReferenceCheck:
    """Cross-check the declared reference against the spec's own parameter laws (cached).

    The reference's per-neuron M2(x, y) = E[ψ(x)ψ(y)] is compared with the mean of ψ(x)ψ(y) over
    :data:`CHECK_NEURONS` single neurons sampled from the spec's densities (fixed key, so the verdict
    is deterministic), at all pairs of up to :data:`CHECK_POINTS` study points. The standard error is
    the larger of the sample's and the one the reference itself predicts, sqrt((M4(x,x,y,y) −
    M2(x,y)²)/n), plus the reference's stated accuracy; values are reported as G2 = N E[v²] M2 + E[b²].

    Raises:
      ReferenceMismatchError: some |z| > Z_MAX; the message names the point pair and both G2 values.
      SpecError: the reference cannot be built or evaluated from its arguments.
    """
    cache_key = ("reference_check",)
    if cache_key in model.jit_cache:
        return model.jit_cache[cache_key]
    free = model.free() if model.insertions else model
    content = free.theory.model_dump_json()       # the free theory: an insertion does not change ψ's law
    if content in _CHECKED:
        model.jit_cache[cache_key] = _CHECKED[content]
        return _CHECKED[content]
    neuron = neuron_reference(model)
    kind = next(iter(model.theory.reference))
    ns = free.structure.neuron_sum

    def done(result: ReferenceCheck) -> ReferenceCheck:
        model.jit_cache[cache_key] = _CHECKED[content] = result
        return result

    if ns is None:
        return done(ReferenceCheck(kind, False, "φ is not a neuron sum (" + "; ".join(free.structure.notes)
                                   + "), so the reference is never used"))
    tuples = _check_pairs(free)
    try:
        v_mom, b_mom = width_moments(free, [free.theory.dims[ns.width]], 2)
    except EstimatorError as err:
        return done(ReferenceCheck(kind, False, str(err)))
    except ArithmeticError as err:     # a density's exact moments overflow (e.g. a loc of 1e308)
        raise SpecError(f"the exact moments of the readout/offset overflow ({err})", file=model.theory.source,
                        field=("params", ns.readout, "density")) from None
    try:
        m2m4 = [(neuron.moment(t), neuron.moment(np.stack([t[0], t[0], t[1], t[1]])) if neuron.max_order >= 4
                 else None) for t in tuples]
    except (NeuronArgError, QuadratureError) as err:
        raise SpecError(f"the reference cannot be evaluated at the study's points: "
                        f"{str(err).removeprefix(kind + ': ')}", file=model.theory.source,
                        field=f"reference.{kind}") from None
    pts = np.unique(np.concatenate(tuples), axis=0)
    sampler = free
    if free.theory.dims[ns.width] > CHECK_NEURONS and not ns.width_dependent:
        # ψ's law does not depend on the width: sample a narrower network, not one of N neurons
        from nnft.graph.compile import compile
        sampler = compile(free.theory.with_dims(**{ns.width: CHECK_NEURONS}))
        if sampler.structure.neuron_sum is None:       # pragma: no cover - same graph, smaller axis
            sampler = free
    vals = _neuron_values(sampler, pts, CHECK_NEURONS)
    n = len(vals)
    col = {p.tobytes(): i for i, p in enumerate(pts)}
    scale = free.theory.dims[ns.width] * float(v_mom[0, 2])
    offset = float(b_mom[2]) if b_mom is not None else 0.0
    ref, est, err = (np.zeros(len(tuples)) for _ in range(3))
    for i, (t, (m2, m4)) in enumerate(zip(tuples, m2m4)):
        prod = vals[:, col[t[0].tobytes()]] * vals[:, col[t[1].tobytes()]]
        se_mc = float(np.std(prod)) / math.sqrt(n)
        se_ref = math.sqrt(max(m4 - m2 * m2, 0.0) / n) if m4 is not None else 0.0
        floor = float(neuron.accuracy) + 1e-6 * (abs(m2) + abs(float(np.mean(prod)))) + 1e-300
        ref[i], est[i] = m2, float(np.mean(prod))
        err[i] = math.sqrt(max(se_mc, se_ref) ** 2 + floor ** 2)
    z = zscore((est, err), ref)
    g = lambda m: scale * m + offset                                     # noqa: E731
    result = ReferenceCheck(kind, True, tuples=np.stack(tuples), reference_g2=g(ref), estimate=g(est),
                            stderr=scale * err, z=z, neurons=n)
    worst = int(np.argmax(np.abs(z)))
    if not np.all(np.isfinite(z)) or abs(z[worst]) > Z_MAX:
        x, y = (",".join(f"{c:g}" for c in p) for p in tuples[worst])
        raise _contradiction(model, kind, f"x=({x}), y=({y})", f"G2 = {g(ref[worst]):.6g}",
                             f"{g(est[worst]):.6g} ± {scale * err[worst]:.2g}", n, z[worst], "sigma_w0")
    # the fourth moment at one point, where the reference gives M8 for its predicted error: catches laws
    # that agree in M2 but not beyond (e.g. Gauss-net's σ_b0 enters M4, not M2)
    z4 = None
    if neuron.max_order >= 8:
        best = None          # the point where the reference predicts the smallest relative error of M4
        for x in pts:
            try:
                m4, m8 = neuron.moment(np.stack([x] * 4)), neuron.moment(np.stack([x] * 8))
            except (NeuronArgError, QuadratureError):
                continue
            rel = math.sqrt(max(m8 - m4 * m4, 0.0)) / abs(m4) if m4 else math.inf
            if best is None or rel < best[0]:
                best = (rel, x, m4, m8)
        if best is not None:
            _, x0, m4, m8 = best
            p4 = vals[:, col[x0.tobytes()]] ** 4
            se4 = max(float(np.std(p4)), math.sqrt(max(m8 - m4 * m4, 0.0))) / math.sqrt(n)
            e4 = math.sqrt(se4 ** 2 + (float(neuron.accuracy) + 1e-6 * (abs(m4) + abs(float(np.mean(p4))))
                                       + 1e-300) ** 2)
            z4 = float(zscore((float(np.mean(p4)), e4), m4))
            if not math.isfinite(z4) or abs(z4) > Z_MAX:
                xs = ",".join(f"{c:g}" for c in x0)
                raise _contradiction(model, kind, f"x=({xs})", f"the per-neuron fourth moment E[ψ(x)⁴] = {m4:.6g}",
                                     f"{float(np.mean(p4)):.6g} ± {e4:.2g}", n, z4, "sigma_b0")
    if z4 is not None:
        from dataclasses import replace
        result = replace(result, z4=z4)
    return done(result)


def _exact(model: Model, tuples, neuron, widths=None) -> Exact:
    ns = _require(model)
    widths = tuple(int(w) for w in (widths or [model.theory.dims[ns.width]]))
    plan = Plan(tuples, model.d)
    kmax = max(plan.orders)
    if kmax > neuron.max_order:
        raise EstimatorError(f"reference {neuron.name} gives moments up to order {neuron.max_order}, asked {kmax}")
    M = np.zeros(plan.n_features)
    try:
        for key, col in plan.key_col.items():
            M[col] = neuron.moment(plan.points[list(key)])
    except (NeuronArgError, QuadratureError) as err:
        raise EstimatorError(f"reference {str(err)}") from None
    try:
        v_mom, b_mom = width_moments(model, widths, kmax)
    except ArithmeticError as err:
        raise EstimatorError(f"the exact moments of the readout/offset overflow ({err})") from None
    full, conn = combine(plan, M, widths, v_mom, b_mom)
    return Exact(widths=widths, full=full, connected=conn, orders=plan.orders, accuracy=float(neuron.accuracy))


def exact(model: Model, tuples, widths=None) -> Exact:
    """Exact G⁽ⁿ⁾ and G_c⁽ⁿ⁾ per width and tuple from the declared neuron reference, after
    :func:`check_reference` has confirmed the reference matches the spec (once per model).

    An ``mlp:`` net (not a neuron sum) gets its theory from ``nnft.reference_mlp.mlp_exact``: the NNGP
    G2 (exact for one hidden layer, linear nets and ReLU at one input), deep-linear G_c⁽⁴⁾ exactly,
    ReLU/smooth G_c⁽⁴⁾ at one input; ``Exact.label`` / ``Exact.kinds`` say which values are exact,
    ``"NNGP (N→∞)"`` or ``"leading order"``. A tuple nnft has no formula for (e.g. G_c⁽⁴⁾ of a residual
    net) gets NaN values, kind ``"unavailable"`` and its reason in ``Exact.reasons`` (the table footnotes
    it, as ``nnft run``'s theory column does); the others keep their values.

    Args:
      tuples: list of (n, d) point tuples.
      widths: widths N (default: the spec's; neuron sums only).

    Returns:
      :class:`Exact` with arrays (len(widths), T).

    Raises:
      EstimatorError: one line naming why there is no theory: an insertion (first-order perturbation
        theory is ``nnft.compare``), no ``reference:`` and not an ``mlp:`` net, no tuple asked within the
        formulas nnft has (for an ``mlp:`` net; some within: the others are NaN with a reason), or a
        reference without the moments asked.
    """
    if model.insertions:
        raise EstimatorError(f"{model.theory.source}: an insertion deforms the theory, which has no exact "
                             "correlators; first-order perturbation theory with c1(N) is nnft.compare (and the "
                             "theory column of nnft run)")
    if model.structure.neuron_sum is None:
        from nnft.reference_mlp import mlp_exact, mlp_info
        if mlp_info(model) is not None:
            th, kinds, width = mlp_exact(model, tuples, widths)
            bad = {j: th.reasons.get(j, "not available") for j in range(len(tuples))
                   if not (np.isfinite(th.full[j]) and np.isfinite(th.connected[j]))}
            return Exact(widths=(width,), full=th.full[None], connected=th.connected[None],
                         orders=tuple(len(t) for t in tuples), accuracy=0.0,
                         label=", ".join(dict.fromkeys(k for ks in kinds for k in ks.split(" / ") if k != "unavailable")), kinds=kinds,
                         reasons=bad or None)
    _require(model)
    neuron = neuron_reference(model)
    check_reference(model)
    return _exact(model, tuples, neuron, widths)


def _contradiction(model, kind: str, where: str, claim: str, measured: str, n: int, z: float,
                   example: str) -> ReferenceMismatchError:
    """The error for a reference whose prediction ``claim`` at ``where`` disagrees with the spec's own
    densities (``measured``, a neuron-level estimate of ``n`` neurons) by ``z`` standard errors."""
    return ReferenceMismatchError(
        f"the declared reference contradicts the spec's own parameter laws: at {where} the reference {kind} gives "
        f"{claim}, the spec's densities give {measured} (neuron-level estimate, {n} neurons, fixed key): "
        f"z = {z:+.1f}, allowed |z| ≤ {Z_MAX:g}",
        file=model.theory.source, field=f"reference.{kind}",
        hint=f"make the reference's arguments the ones the params' densities use (e.g. {example}: {example})")

