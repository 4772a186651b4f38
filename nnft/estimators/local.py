"""Correlators of local operators: components φ_a(x) of a vector field, derivatives ∂_μφ(x), ∂_μ∂_νφ(x)
and the composites φ·φ and ∂φ·∂φ, with standard errors.

⟨O₁(x₁)…Oₙ(xₙ)⟩ and its connected part (joint cumulant) for local operators Oᵢ of the field, from one
ensemble of whole networks. Derivatives are taken by forward-mode automatic differentiation of the
compiled field in its input coordinates (``jax.jvp``: exact to rounding, no finite differences), so
⟨∂_μφ(x)∂_νφ(y)⟩ = ∂_{x_μ}∂_{y_ν}G(x, y) can be compared with the kernel's derivatives
(Halverson–Maiti–Stoner arXiv:2008.08601; TASI arXiv:2408.00082 eq. 52-54 for vector fields
φ: ℝᵈ → ℝᴰ, whose correlators carry component indices G_{a₁…aₙ}(x₁…xₙ)).

Each distinct (point, operator) pair is one column of the streamed field values, so the moment and
cumulant machinery of :mod:`nnft.estimators.npoint` (features, block jackknife, k̂ tail diagnostic)
applies unchanged: an operator at a point plays the role of a point.

Operators (:func:`operator`): ``"phi"`` (a scalar field), ``"phi[a]"`` (component a),
``"d0 phi"``, ``"d0 d1 phi[2]"`` (up to two derivatives, coordinates 0 … d−1), ``"phi^2"`` (φ_aφ_a, summed
over components), ``"(dphi)^2"`` (∂_μφ_a∂_μφ_a, summed over μ and a), or an :class:`Operator` with a
direction c in component space (c·φ, used by the SO(D) checker); they and :func:`parse_product` live in
``nnft.estimators.operators`` (importable from here).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np

from nnft.errors import InputError, SamplingError, TailWarning
from nnft.estimators.npoint import Correlators, Ensemble, Plan, periodic
from nnft.graph import ir
from nnft.graph.compile import Model
from nnft.graph.moments import field_moment_check
from nnft.estimators.operators import (KINDS, MAX_DERIVATIVES, MAX_OPERATORS, MAX_PRODUCT_CHARS,  # noqa: F401
                                       Operator, operator, parse_product)

class LocalPlan:
    """The (point, operator) columns a list of tuples needs, and the :class:`Plan` of their products.

    Args:
      tuples: list of (n_i, d) point arrays.
      operators: per tuple, n_i operators (strings or :class:`Operator`), or one operator for every
        point of every tuple.
    """

    def __init__(self, model: Model, tuples, operators):
        d, D = model.d, model.components
        arrs = [np.atleast_2d(np.asarray(t, dtype=np.float64)) for t in tuples]
        if not arrs:
            raise InputError("no point tuples given")
        if isinstance(operators, (str, Operator)):
            operators = [[operators] * len(a) for a in arrs]
        operators = list(operators)
        if len(operators) != len(arrs):
            raise InputError(f"{len(arrs)} tuples but {len(operators)} operator lists")
        self.ops: list[Operator] = []
        self.given: list[tuple[Operator, ...]] = []          # per tuple, its operators as given (point order)
        index: dict[Operator, int] = {}
        rows = []
        for i, (a, ops) in enumerate(zip(arrs, operators)):
            ops = [ops] if isinstance(ops, (str, Operator)) else list(ops)
            if a.ndim != 2 or a.shape[1] != d:
                raise InputError(f"tuple {i} has shape {a.shape}; expected (n, d) with d = {d}")
            if len(ops) != len(a):
                raise InputError(f"tuple {i} has {len(a)} points but {len(ops)} operators")
            ids = []
            for o in ops:
                op = operator(o, d, D)
                if op not in index:
                    index[op] = len(self.ops)
                    self.ops.append(op)
                ids.append(index[op])
            rows.append(np.concatenate([a, np.asarray(ids, dtype=np.float64)[:, None]], axis=1))
            self.given.append(tuple(self.ops[j] for j in ids))
        if len(self.ops) > MAX_OPERATORS:
            raise InputError(f"{len(self.ops)} distinct operators (at most {MAX_OPERATORS})")
        self.plan = Plan(rows, d + 1)
        cols = self.plan.points                                  # (K, d+1): point, operator id
        self.xs, self.x_of_col = np.unique(cols[:, :d], axis=0, return_inverse=True)
        self.x_of_col = self.x_of_col.ravel()
        self.op_of_col = cols[:, d].astype(int)
        self.d, self.D = d, D

    def tuple_ops(self) -> list[list[Operator]]:
        """Per tuple, its operators (in the order given)."""
        return [[self.ops[self.op_of_col[i]] for i in ids] for ids in self.plan.ids]

    def field_order(self) -> int:
        """The highest power of the field a tuple's product holds (φ² and (∂φ)² count twice): the order
        whose moment E|φ|ⁿ must exist."""
        return max(sum(1 if op.kind == "linear" else 2 for op in ops) for ops in self.tuple_ops())

    def derivative_power(self) -> int:
        """max over tuples of the total number of derivatives of its factors ((∂φ)² counts 2): one neuron's
        term of the product carries each weight W that x passes through (W @ x, or a factor inside a
        nonlinearity) once per derivative, so the tuple needs E|W|^p < ∞ for this p; 0 without derivatives."""
        return max(sum(len(op.derivs) if op.kind == "linear" else 2 if op.kind == "(dphi)^2" else 0 for op in ops)
                   for ops in self.tuple_ops())

    def derivative_sets(self) -> tuple[set, set, bool]:
        """(first-derivative coordinates, second-derivative pairs, whether φ itself is needed)."""
        first, second, plain = set(), set(), False
        for op in self.ops:
            if op.kind == "phi^2" or (op.kind == "linear" and not op.derivs):
                plain = True
            elif op.kind == "(dphi)^2":
                first |= set(range(self.d))
            elif len(op.derivs) == 1:
                first.add(op.derivs[0])
            else:
                second.add(tuple(op.derivs))
        return first, second, plain

    def values_fn(self, model: Model):
        """θ-batch -> (n, 1, K) values of the K columns (operator at point), in the plan's column order.

        Linear operators with the same derivatives share one product with the matrix of their
        directions, and every column is one gather, so the compiled step has a few operations whatever
        the number of operators (a symmetry check asks for ~100 directions)."""
        first, second, _ = self.derivative_sets()
        d = self.d
        xs = self.xs
        sources: dict = {}                                    # source -> operator ids
        for j, op in enumerate(self.ops):
            src = op.kind if op.kind != "linear" else ("d",) + op.derivs
            sources.setdefault(src, []).append(j)
        plan = []                                             # (source, direction matrix, columns, x idx, local op idx)
        for src, ids in sources.items():
            local = {j: i for i, j in enumerate(ids)}
            cols = np.flatnonzero(np.isin(self.op_of_col, ids))
            C = np.asarray([self.ops[j].direction for j in ids], dtype=np.float64).T      # (D, J)
            plan.append((src, C, cols, self.x_of_col[cols], np.asarray([local[j] for j in self.op_of_col[cols]])))
        perm = np.argsort(np.concatenate([p[2] for p in plan]))

        def values(theta):
            dt = next(iter(theta.values())).dtype
            pts = jnp.asarray(xs, dtype=dt)

            def f(p):
                return model.vector_fields(theta, p)           # (n, P, D)

            def tangent(mu):
                return jnp.zeros_like(pts).at[:, mu].set(1.0)

            arrays = {("d",): f(pts)}
            for mu in sorted(first):
                arrays[("d", mu)] = jax.jvp(f, (pts,), (tangent(mu),))[1]
            for mu, nu in sorted(second):
                def g(p, nu=nu):
                    return jax.jvp(f, (p,), (tangent(nu),))[1]
                arrays[("d", mu, nu)] = jax.jvp(g, (pts,), (tangent(mu),))[1]
            parts = []
            for src, C, cols, xi, jl in plan:
                if src == "phi^2":
                    parts.append(jnp.sum(arrays[("d",)] ** 2, axis=-1)[:, xi])
                elif src == "(dphi)^2":
                    parts.append(sum(jnp.sum(arrays[("d", mu)] ** 2, axis=-1) for mu in range(d))[:, xi])
                else:
                    parts.append((arrays[src] @ jnp.asarray(C, dtype=dt))[:, xi, jl])
            return jnp.concatenate(parts, axis=1)[:, perm][:, None, :]

        return values


def local_ensemble(model: Model, tuples, operators, *, samples: int, key=0, chunk: int = 4096, blocks: int = 64,
                   dtype: str = "float32") -> Ensemble:
    """Sample ``samples`` networks once and accumulate what ⟨O₁(x₁)…Oₙ(xₙ)⟩ per tuple needs.

    Args:
      model: a compiled theory (scalar, or vector with ``components:``).
      tuples: list of (n, d) arrays of points, n = 1..8.
      operators: per tuple, n local operators (see :func:`operator`), or one for every point.
      samples, key, chunk, blocks, dtype: as for ``nnft.estimators.npoint.ensemble``.

    Returns:
      An :class:`~nnft.estimators.npoint.Ensemble` whose ``full()`` / ``connected()`` are the correlators
      and their joint cumulants per tuple, with jackknife standard errors. Its plan's "points" are the
      columns (x₁..x_d, operator id) into :class:`LocalPlan`'s operator list; save the
      :func:`local_correlator` result with ``tuples=`` the point tuples instead.

    Raises:
      InputError: bad operators or tuples (see :func:`operator`), or a second derivative at a point where
        a norm of x in the field vanishes (|x| has no second derivative there).
      EstimatorError: as ``npoint.ensemble`` (infinite moments of the field, points that coincide in ``dtype``).
      SamplingError: a network gave non-finite values.

    Source: derivatives of G⁽ⁿ⁾ = ∫dθ P(θ) φ_θ(x₁)…φ_θ(xₙ) (arXiv:2408.00082 eq. 14, 29-30).
    """
    lp = LocalPlan(model, tuples, operators)
    first, second, _ = lp.derivative_sets()
    if second and _norm_of_x(model) and np.any(np.all(lp.xs == 0.0, axis=1)):
        raise InputError("a second derivative at x = 0 of a field that uses norm(x): |x| has no second "
                         "derivative at the origin; use points away from it")
    notes = field_moment_check(model, lp.field_order()) + _derivative_moments(model, lp)
    for note in notes:
        warnings.warn(f"{model.theory.source}: {note}", TailWarning, stacklevel=2)
    Plan.check_precision(SimpleNamespace(points=lp.xs), dtype, periodic(model))
    try:
        acc = lp.plan.stream(model, key, samples, lp.values_fn(model), chunk=chunk, n_blocks=blocks, dtype=dtype,
                             cache_key=("local", lp.plan.signature, tuple(lp.ops)),
                             points=len(lp.xs) * (1 + len(first) + 2 * len(second)))
    except SamplingError as err:
        if second and _norm_of_x(model):      # the norm's kink: its second derivative is NaN by design
            raise InputError("a second derivative where a norm in the field vanishes (|v| has no second "
                             "derivative at v = 0, e.g. norm(x - c) at x = c); use points away from it "
                             f"({err})") from None
        raise
    return Ensemble(lp.plan, acc, notes)


@dataclass(frozen=True)
class LocalCorrelators(Correlators):
    """:class:`~nnft.estimators.npoint.Correlators` of local operators, with what they were measured at.

    Attributes:
      full, connected, orders: as for Correlators (Estimates of shape (T,); the connected part is the joint
        cumulant of the operators, e.g. ⟨φ²(x)φ²(y)⟩ − ⟨φ²(x)⟩⟨φ²(y)⟩).
      tuples: per tuple, its (n, d) points.
      operators: per tuple, its n :class:`Operator` objects.

    Saved by ``nnft.results`` (``--out`` of ``nnft local``) with an ``operator`` coordinate.
    """

    tuples: tuple = ()
    operators: tuple = ()

    def labels(self) -> list[str]:
        """Per tuple, the product as ``nnft local`` writes it: ``d0 phi(0.3,-0.2) * phi^2(0.1,0)``."""
        return [" * ".join(f"{o.label()}({','.join(f'{v:g}' for v in x)})" for o, x in zip(ops, pts))
                for pts, ops in zip(self.tuples, self.operators)]

    def table(self, width: int | None = None) -> str:
        """The text table ``nnft local`` and ``nnft show`` print: one line per product, G and G_c ± error
        (in the notation of ``--notation`` / ``NNFT_NOTATION``)."""
        from nnft.tables import estimate, render
        rows = [(lab, estimate(self.full.mean[i], self.full.stderr[i]),
                 estimate(self.connected.mean[i], self.connected.stderr[i])) for i, lab in enumerate(self.labels())]
        lines = render(("correlator", "full", "connected"), rows, align="<>>", width=width, label=0, label_sep="*",
                       gap="  ")
        return "\n".join(lines) + f"\n{self.full.n:,} networks; errors: block jackknife"


def local_correlator(model: Model, tuples, operators, **kw) -> LocalCorrelators:
    """⟨O₁(x₁)…Oₙ(xₙ)⟩ and its connected part per tuple, with standard errors.

    ``local_correlator(m, [[x, y]], [["d0 phi", "d0 phi"]])`` is ⟨∂₀φ(x)∂₀φ(y)⟩ = ∂_{x₀}∂_{y₀}G(x, y);
    ``local_correlator(m, [[x, y]], [["phi[0]", "phi[1]"]])`` is G₀₁(x, y) of a vector field. Arguments
    are those of :func:`local_ensemble`; the result is a :class:`LocalCorrelators` (``full``,
    ``connected``: Estimates of shape (T,), ``orders``, ``tuples``, ``operators``).

    Args:
      model: a compiled theory (scalar, or vector with ``components:``).
      tuples: list of T point tuples, each an (n, d) array-like, n = 1..8.
      operators: per tuple, n local operators (``"phi"``, ``"d0 phi"``, ``"phi[1]"``, ...; see
        :func:`operator`), or one list used for every tuple.
      **kw: ``samples`` (required), ``key``, ``chunk``, ``blocks``, ``dtype`` as in
        :func:`local_ensemble`.

    Returns:
      :class:`LocalCorrelators` with ``full`` and ``connected`` :class:`~nnft.stats.Estimate` of shape
      (T,), in units of φⁿ divided by a length per derivative.

    Raises:
      InputError: bad operators or tuples, or a second derivative at a point where a norm of x in the
        field vanishes.
      EstimatorError: infinite moments of the field or its derivatives, points that coincide in
        ``dtype``, or a non-estimable estimate.
      SamplingError: a network gave non-finite values.

    Source: derivatives of G⁽ⁿ⁾ = ∫dθ P(θ) φ_θ(x₁)…φ_θ(xₙ) (arXiv:2408.00082 eq. 14, 29-30),
    differentiated under the parameter integral sample by sample.
    """
    lp = LocalPlan(model, tuples, operators)
    ens = local_ensemble(model, tuples, operators, **kw)
    pts = tuple(np.atleast_2d(np.asarray(t, dtype=np.float64)) for t in tuples)
    return LocalCorrelators(full=ens.full(), connected=ens.connected(), orders=ens.orders, tuples=pts,
                            operators=tuple(lp.given))


def component_two_point(model: Model, x, y, **kw):
    """The D × D matrix G_ab(x, y) = ⟨φ_a(x)φ_b(y)⟩ of a vector field at two points (each (d,)), one
    ensemble: an :class:`~nnft.stats.Estimate` of shape (D, D) (arguments of :func:`local_ensemble`)."""
    from nnft.stats import Estimate
    D = model.components
    pair = np.stack([np.asarray(x, dtype=np.float64).reshape(-1), np.asarray(y, dtype=np.float64).reshape(-1)])
    ab = [(a, b) for a in range(D) for b in range(D)]
    est = local_correlator(model, [pair] * len(ab), [[f"phi[{a}]", f"phi[{b}]"] if D > 1 else ["phi", "phi"]
                                                     for a, b in ab], **kw).full
    khat = None if est.khat is None else np.asarray(est.khat).reshape(D, D)
    return Estimate(np.asarray(est.mean).reshape(D, D), np.asarray(est.stderr).reshape(D, D), est.n, est.ess, khat,
                    est.notes)


def _derivative_moments(model: Model, lp: LocalPlan) -> tuple[str, ...]:
    """Refuse, before sampling, derivative correlators whose moments are infinite because a parameter
    that derivatives bring down (:func:`_brought_down`) has a heavy tail (∂_μ cos(w·x + b) = −w_μ sin(...):
    Cauchy w gives E|∂φ|² = ∞ although φ is bounded); notes when the error bar's moment E|W|^{2p} is
    infinite or a law's tail is not known (arguments that depend on other parameters). Conservative: a
    saturating activation (tanh(w·x) with w·x ≠ 0) can make E|w ∂tanh| finite where E|w| is not; refused
    all the same.

    Raises:
      EstimatorError: E|W|^p is infinite for p = :meth:`LocalPlan.derivative_power`.
    """
    import networkx as nx

    from nnft.densities import get_density
    from nnft.errors import EstimatorError
    power = lp.derivative_power()
    if power == 0:
        return ()
    g = model.graph
    weights = set()
    for n in _brought_down(g):
        weights |= {p for p in nx.ancestors(g, n) | {n} if ir.kind(g, p) == "param"}
    notes = []
    for p in sorted(weights):
        args = ir.constant_args(g, p)
        name, kind = ir.name(g, p), ir.density(g, p)
        if args is None:
            notes.append(f"the moments of the derivative could not be decided: {name} ~ {kind} multiplies x and its "
                         "arguments depend on other parameters; judge the estimate by its tail diagnostic k̂")
            continue
        dens = get_density(kind)
        tail = dens.tail({**dens.defaults, **args})
        if not tail.has_moment(power):
            raise EstimatorError(f"{model.theory.source}: a derivative correlator needing E|{name}|^{power} does not "
                                 f"exist: {name} ~ {kind} multiplies an x-dependent value, so each derivative brings "
                                 f"it down, and it has finite moments only of order < {tail.alpha:g}. Fix: fewer "
                                 f"derivatives, or a density for {name} with more moments")
        if not tail.has_moment(2 * power):
            notes.append(f"the error bar needs E|{name}|^{2 * power}, which is infinite ({name} ~ {kind}, brought down "
                         "by the derivatives): the estimate exists, its error bar is not reliable")
    return tuple(notes)


def _brought_down(g) -> set:
    """The x-free inputs of x-dependent operations that a derivative in x brings down (factors, not shifts):
    those of W @ x and of every operation followed by a nonlinearity on its way to φ. A readout
    W2 * ψ(x) (linear all the way to φ) or a bias is not; W0 in cos(W0 @ x + b), s in cos((W0 @ x) * s)
    and W1 in tanh(W1 @ tanh(W0 @ x)) are."""
    import networkx as nx
    xdep = nx.descendants(g, ir.INPUT) | {ir.INPUT}
    memo: dict = {}

    def linear_in(n, u) -> bool:          # is node n linear in its x-dependent input u (others x-free)?
        op, ins = ir.op(g, n), ir.inputs(g, n)
        if ir.kind(g, n) == "output":
            return True
        dep = [i in xdep for i in ins]
        if op in ("mul", "matmul"):
            return sum(dep) == 1
        if op == "div":
            return dep == [True, False]
        if op in ("add", "sub", "neg"):
            return True
        return op == "reduce" and g.nodes[n].get("reduce") in ("sum", "mean")

    def linear_to_out(n) -> bool:
        if n not in memo:
            memo[n] = n == ir.OUTPUT or all(linear_in(c, n) and linear_to_out(c) for c, _ in ir.consumers(g, n)
                                            if c in xdep)
        return memo[n]

    out = set()
    for n in xdep - {ir.INPUT}:
        if ir.kind(g, n) != "op":
            continue
        side = [u for u in ir.inputs(g, n) if u not in xdep]
        if not side or ir.op(g, n) in ("add", "sub"):       # a shift stays inside: ∂f(h + b) = f'(h + b) ∂h
            continue
        if ir.INPUT in ir.inputs(g, n) or not linear_to_out(n):
            out |= set(side)
    return out


def _norm_of_x(model: Model) -> bool:
    """Whether the field takes a norm of something that depends on x."""
    import networkx as nx
    g = model.graph
    below = nx.descendants(g, ir.INPUT)
    return any(ir.is_op(g, n, "reduce") and g.nodes[n].get("reduce") == "norm" for n in below)
