"""Graph -> JAX: the compiled theory :class:`Model` and :func:`compile` (spec -> graph -> checks ->
analysis -> Model). Evaluating the graph (named axes, batches, the non-finite rule, float32 fast
trigonometry) is ``nnft.graph.evaluate``'s job.

Randomness (``Model.sample``): parameter ``j`` (in declaration order) of a run with key ``k`` is drawn
from ``k_j = fold_in(k, j)``; network ``i``'s block of it depends only on ``(k_j, i)``: for the densities
that are elementwise transforms of a uniform number (normal, uniform, cauchy, laplace, exponential),
element ``e`` of network ``i`` comes from the counter-based hash ``threefry2x32(k_j, (i mod 2³², c))``
(float32: both output words of ``c``, for elements 2c and 2c+1; float64: the 64 bits of ``c = e``), for
student_t and uniform_ball from the key ``fold_in(k_j, i)`` (``Density.sample_networks``). So network
``start + i`` of a call ``sample(k, n, start)`` has the same bits whatever ``n`` and ``start`` (chunking,
devices, processes); ``tests/speed/test_field.py`` checks it bitwise for every density family. Drawing a
chunk this way is ≈ 1.5–2× faster than one ``fold_in`` key per network and parameter (Cos-net, float32,
N = 16 and 1000, ``jax.jit`` of ``Model.sample``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import jax
import jax.numpy as jnp
import numpy as np
import networkx as nx

from nnft.densities import get_density
from nnft.errors import InputError, SpecError
from nnft.graph import ir
from nnft.graph.analyse import Structure, analyse
from nnft.graph.build import build
from nnft.graph.check import check
from nnft.graph.evaluate import BATCH_AXES, Evaluator, align
from nnft.materialise import materialised
from nnft.spec.models import Theory

#: the parameters of networks, parameter name -> array (one network: the block's shape; a batch of n:
#: (n,) + the block's shape)
Theta = dict[str, jax.Array]


@dataclass(frozen=True)
class Model:
    """A compiled theory: draw networks θ ~ P(θ) and evaluate their field φ_θ(x).

    θ (:data:`Theta`) is a dict parameter name -> array of the block's shape (its ``shape:`` axes'
    sizes), with a leading axis of n networks when batched.

    Attributes:
      theory: the validated spec.
      graph: the checked computation graph.
      structure: what ``graph.analyse`` found (neuron-sum form, independence).

    Source: not from a paper: the network φ_θ with its density P(θ) (arXiv:2008.08601 §2) as a compiled graph.
    """

    theory: Theory
    graph: nx.MultiDiGraph
    structure: Structure
    #: the theory's insertions (``nnft.insertions``): lattices and potentials
    insertions: tuple = field(default=(), compare=False, repr=False)
    #: compiled streaming steps, reused across estimator calls (internal)
    jit_cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def dims(self) -> dict[str, int]:
        """The named sizes of the theory, axis name -> size (the spec's ``dims:``, e.g. ``{"d": 2, "N": 64}``);
        a copy."""
        return dict(self.theory.dims)

    @property
    def param_elements(self) -> int:
        """Number of parameters of one network (sum of the blocks' sizes)."""
        return sum(math.prod(self.theory.dims[a] for a in p.shape) for p in self.theory.params.values())

    @cached_property
    def moments(self) -> dict:
        """Which moments every graph value has (``nnft.graph.moments.Moments`` per node), from the
        parameters' declared tails; ``moments["phi"]`` is the field's."""
        from nnft.graph.moments import analyse_moments
        return analyse_moments(self.graph)

    @cached_property
    def point_elements(self) -> int:
        """Array elements one evaluation of φ_θ(x) (one network, one point) creates: the sum of the sizes
        of the operation and constant nodes φ needs. Sizes step memory (``nnft.sample.iid.step_elements``)."""
        dims = self.theory.dims
        total = 0
        for n in self._ev.needed([ir.OUTPUT]):
            if ir.kind(self.graph, n) in ("op", "const", "output"):
                total += math.prod(dims.get(ax, 1) for ax in ir.axes(self.graph, n))
        return max(1, total)

    @property
    def components(self) -> int:
        """D, the number of components of the field φ: ℝᵈ → ℝᴰ (the size of the spec's ``components:``
        axis; 1 for a scalar field)."""
        c = self.theory.components
        return 1 if c is None else self.theory.dims[c]

    @property
    def is_vector(self) -> bool:
        """Whether the spec declares a component axis (``components:``), even of size 1."""
        return self.theory.components is not None

    def _scalar_only(self, what: str) -> None:
        if self.is_vector:
            raise InputError(f"{self.theory.source}: scalar correlators (nnft run/spectrum, measure; Model.{what}) "
                             f"need a scalar field, and this theory is a vector field with {self.components} "
                             f"components (components: {self.theory.components}); use Model.vector_fields, or "
                             "nnft.local_correlator (command line: nnft local SPEC 'phi[0](x) * phi[1](y)') "
                             "for correlators with component indices, and nnft check for its symmetries")

    def vector_fields(self, theta: Theta, points: jax.Array) -> jax.Array:
        """φ_a at a batch of networks and points: θ batched over axis 0, points (P, d) -> (n, P, D), D =
        :attr:`components` (1 for a scalar field); the non-finite rule of :meth:`field`, per component."""
        out = self._evaluate(ir.OUTPUT, theta, points, batched=True, points=True)
        return out if self.is_vector else out[..., None]

    @property
    def d(self) -> int:
        """The dimension d of the input space: a point x has shape (d,)."""
        return self.theory.dims["d"]

    @cached_property
    def _ev(self) -> Evaluator:
        return Evaluator(self.graph)

    # -- constants as runtime values ------------------------------------------------------------
    @cached_property
    def tunable_constants(self) -> tuple[str, ...]:
        """The constant nodes a compiled step takes as runtime (traced) arguments, in graph order: those
        folded from the spec's ``constants:`` that enter the field and the density arguments as numbers.
        Exponents of ``**`` stay compiled in (XLA rewrites x**2 as x·x, x**0.5 as a square root: not
        the same bits as a general power); sizes and shapes never are constants of the graph."""
        g = self.graph
        exponents = {ir.inputs(g, n)[1] for n in g if ir.kind(g, n) == "op" and ir.op(g, n) == "pow"}
        return tuple(n for n in self._ev.topo if ir.kind(g, n) == "const" and g.nodes[n].get("tunable")
                     and n not in exponents)

    def constant_values(self) -> tuple:
        """The values of :attr:`tunable_constants`: weakly typed float64 scalars (as ``jnp.asarray`` of the
        Python float baked in otherwise), so a step taking them as arguments promotes and rounds as one
        with the numbers compiled in: the same θ bit for bit, and the same φ except where XLA folds a
        product of two compiled-in numbers ((z·c₁)·c₂ -> z·(c₁c₂), e.g. a density's std times an
        amplitude in the field), which the argument form evaluates as written: then φ differs by at most
        (3 + N)·u·Σᵢ|termᵢ| over a sum of N terms (u the unit roundoff; tests/speed/test_traced_constants.py)."""
        return tuple(jnp.asarray(ir.value(self.graph, n)) for n in self.tunable_constants)

    @cached_property
    def step_key(self) -> tuple:
        """What a compiled step of this model depends on besides :meth:`constant_values` (hashable): the
        graph with the tunable constants' values left out, the sizes, the parameters' order and the
        analysis; a theory with insertions (potentials computed on the host) adds its whole spec. Two
        models with equal keys run the same compiled step with their own constant values."""
        g = self.graph
        tun = set(self.tunable_constants)
        def canon(v):
            return repr(sorted(map(repr, v))) if isinstance(v, (set, frozenset)) else repr(v)

        nodes = tuple((n, tuple(sorted((k, canon(v)) for k, v in a.items() if not (n in tun and k == "value"))))
                      for n, a in g.nodes(data=True))
        edges = tuple((u, v, tuple(sorted((k, canon(x)) for k, x in d.items())))
                      for u, v, d in g.edges(data=True))
        key = (nodes, edges, tuple(sorted(self.theory.dims.items())), tuple(self.theory.params), repr(self.structure))
        if self.insertions:
            key += (self.theory.model_dump_json(),)
        return key

    def traced_constants(self, values: tuple):
        """Context manager: evaluations of this model (:meth:`sample`, :meth:`fields`, ...) inside it use
        ``values`` (one per :attr:`tunable_constants`, e.g. tracers of a jitted step's arguments) for the
        tunable constants instead of the numbers in the graph."""
        import contextlib

        @contextlib.contextmanager
        def ctx():
            ev = self._ev
            saved = ev.consts
            ev.consts = {**saved, **dict(zip(self.tunable_constants, values, strict=True))}
            try:
                yield
            finally:
                ev.consts = saved
        return ctx()

    # -- parameters ----------------------------------------------------------------------------
    def density_args(self, name: str, values: dict[str, jax.Array], dtype,
                     axes: dict[str, tuple[str, ...]] | None = None) -> tuple:
        """(density, shape, args) of parameter ``name``: its arguments evaluated from constants and
        the parameters already in ``values`` (graph node -> value, updated in place), aligned to the
        parameter's batch axes, with the density's defaults filled in. With ``axes`` (the full axes of
        batched values, updated in place) the values are batches of networks and the arguments are
        aligned to (networks,) + batch axes."""
        g, ev = self.graph, self._ev
        node = ir.param_node(name)
        dens = get_density(ir.density(g, node))
        node_axes = ir.axes(g, node)
        batch_axes = tuple(node_axes[:len(node_axes) - dens.event_dims])
        if axes is not None:
            batch_axes = (BATCH_AXES[0],) + batch_axes
        arg_nodes = ir.density_args(g, node)
        axes_in = {} if axes is None else axes
        ev.run(ev.needed(list(arg_nodes.values()), stop=set(values)), values, axes_in)
        args = {k: align(values[u], axes_in.get(u, ir.axes(g, u)), batch_axes).astype(dtype)
                for k, u in arg_nodes.items()}
        args = {**{k: jnp.asarray(v, dtype) for k, v in dens.defaults.items()}, **args}
        return dens, tuple(self.theory.dims[a] for a in node_axes), args

    def sample_one(self, key: jax.Array, dtype=jnp.float32) -> Theta:
        """θ ~ P(θ) for one network (arrays of the blocks' shapes): network 0 of :meth:`sample` with
        this key."""
        return jax.tree.map(lambda a: a[0], self.sample(key, 1, 0, dtype))

    def sample(self, key: jax.Array, n: int, start: int | jax.Array = 0, dtype=jnp.float32) -> Theta:
        """A batch of ``n`` networks, ``start .. start+n−1``: θ with arrays (n,) + the blocks' shapes.

        Parameter ``j`` (declaration order) is drawn with ``fold_in(key, j)`` for all networks at once by
        ``Density.sample_networks``, where network ``i``'s block depends on (key, j, i) only: the same
        bits whatever ``n`` and ``start`` (see the module docstring). Arguments that depend on other
        parameters are evaluated per network.
        """
        key = jnp.asarray(key)
        if not jnp.issubdtype(key.dtype, jax.dtypes.prng_key):  # legacy uint32[2] key
            key = jax.random.wrap_key_data(key)
        declared = list(self.theory.params)
        values: dict[str, jax.Array] = {}
        axes: dict[str, tuple[str, ...]] = {}
        theta: Theta = {}
        for name in self.structure.order:
            dens, shape, args = self.density_args(name, values, dtype, axes)
            value = dens.sample_networks(jax.random.fold_in(key, declared.index(name)), start, n, shape,
                                         args, dtype)
            node = ir.param_node(name)
            values[node] = value
            axes[node] = (BATCH_AXES[0],) + tuple(ir.axes(self.graph, node))
            theta[name] = value
        return theta

    # -- the field -----------------------------------------------------------------------------
    def _evaluate(self, target: str, theta: Theta, x: jax.Array, batched: bool, points: bool,
                  readout_one: str | None = None) -> jax.Array:
        """``target`` at θ (batched over networks along axis 0 if ``batched``) and x ((P, d) if
        ``points``, else (d,)): (n?, P?, target axes...), NaN where any intermediate was non-finite."""
        net, pt = BATCH_AXES
        g = self.graph
        values, axes = {}, {}
        if batched and points:
            # θ computed once and stored: XLA would otherwise fuse whatever computed θ (a draw that is not
            # already in memory: student_t, uniform_ball; an update of θ) into the field's loop over
            # (network, point, neuron), redoing it at every point (and rounding differently)
            theta = _stored(dict(theta))
        for k, v in theta.items():
            values[ir.param_node(k)] = v
            if batched:
                axes[ir.param_node(k)] = (net,) + tuple(ir.axes(g, ir.param_node(k)))
        if readout_one is not None:
            values[ir.param_node(readout_one)] = jnp.ones_like(theta[readout_one])
        values[ir.INPUT] = jnp.asarray(x).astype(next(iter(theta.values())).dtype)
        if points:
            axes[ir.INPUT] = (pt, "d")
        return self._ev.evaluate(target, values, axes)

    def field(self, theta: Theta, x: jax.Array) -> jax.Array:
        """φ_θ(x) for one network (θ unbatched) and one point x of shape (d,): a scalar, shape ().

        NaN when any intermediate value overflowed or was undefined, even if a later operation
        swallowed it (relu/maximum of NaN may give 0 under XLA, 1/inf gives 0): non-finite values are
        propagated to the field, never masked, so the samplers report them (``SamplingError``).
        """
        self._scalar_only("field")
        return self._evaluate(ir.OUTPUT, theta, x, batched=False, points=False)

    def fields(self, theta: Theta, points: jax.Array) -> jax.Array:
        """φ at a batch of networks and points: θ batched over axis 0, points (P, d) -> (n, P).

        The graph is evaluated once on the whole batch (arrays (n, P, node axes...)), with the same
        per-(network, point) non-finite rule as :meth:`field`.
        """
        self._scalar_only("fields")
        return self._evaluate(ir.OUTPUT, theta, points, batched=True, points=True)

    def neurons(self, theta: Theta, x: jax.Array) -> jax.Array:
        """ψ_i(x), i = 1..W, for one network and one point x (d,): the neuron-sum body with readout
        v := 1, shape (W,) (TASI arXiv:2408.00082 eq. 39).

        Raises:
          InputError: when the analysis found no neuron-sum form.
        """
        ns = self.structure.neuron_sum
        if ns is None:
            raise InputError("this theory is not a neuron sum: " + "; ".join(self.structure.notes))
        body, = ir.inputs(self.graph, ns.sum_node)
        return self._evaluate(body, theta, x, batched=False, points=False, readout_one=ns.readout)

    def log_weight(self, theta: Theta) -> jax.Array:
        """log of the insertion weight, −Σ_insertions Σ_z w_z V(φ_θ(z)) (TASI arXiv:2408.00082 §5.2,
        docs/physics.md §7), for one network (θ unbatched): a scalar; 0 for a theory without insertions.

        Raises:
          InputError: θ is not one network (a parameter's shape differs from its declared block shape,
            e.g. a batch from :meth:`sample`: map over it with ``jax.vmap(model.log_weight)``).
        """
        self._one_network(theta, "log_weight")
        dtype = next(iter(theta.values())).dtype
        total = jnp.zeros((), dtype=dtype)
        for ins in self.insertions:
            pts = jnp.asarray(ins.points, dtype=dtype)
            phi = self._evaluate(ir.OUTPUT, theta, pts, batched=False, points=True)
            total = total - jnp.sum(jnp.asarray(ins.weights, dtype=dtype) * ins.V(phi))
        return total

    def _one_network(self, theta: Theta, what: str) -> None:
        """Refuse θ that is not one network's parameters (shapes are static, so this also holds under jit)."""
        for name, p in self.theory.params.items():
            want = tuple(self.theory.dims[a] for a in p.shape)
            got = tuple(np.shape(theta[name])) if name in theta else None
            if got != want:
                raise InputError(f"Model.{what} takes one network: parameter {name!r} has shape {got}, its "
                                 f"block is {want}; for a batch use jax.vmap(model.{what})")

    def log_prob(self, theta: Theta) -> jax.Array:
        """log P(θ) for one network (θ unbatched): the sum of the parameters' log-densities (arguments
        that depend on other parameters evaluated at θ), a scalar."""
        self._one_network(theta, "log_prob")
        values = {ir.param_node(k): v for k, v in theta.items()}
        total = 0.0
        for name in self.structure.order:
            dens, _, args = self.density_args(name, values, theta[name].dtype)
            total = total + jnp.sum(dens.log_prob(theta[name], args))
        return total

    def free(self) -> "Model":
        """The same theory without its insertions (the free theory P(θ)), compiled anew."""
        return compile(self.theory.model_copy(update={"insertions": []}))


def _stored(theta: Theta) -> Theta:
    """θ unchanged, but computed once and stored before the field uses it (``nnft.materialise``). The
    elementwise draws of :meth:`Model.sample` are stored already; without this the others (student_t,
    uniform_ball) fuse into the field and change its last bits."""
    arrays = [v for v in theta.values() if jnp.size(v)]
    if not arrays:
        return theta
    return materialised(lambda: theta, arrays[0])


def compile(theory: Theory) -> Model:  # noqa: A001 - the name a physicist expects
    """Spec -> graph -> checks -> analysis -> :class:`Model` (an ``mlp:`` is expanded into layers first).

    Args:
      theory: a validated :class:`~nnft.spec.models.Theory` (``nnft.load`` / ``nnft.from_dict``).

    Returns:
      :class:`Model`: the checked computation graph, its structure analysis (neuron sum or not) and
      compiled insertions; ``model.fields(theta, points)`` maps (P, d) points to φ values.

    Source: not from a paper: the network φ_θ and its parameter density P(θ) (arXiv:2008.08601 §2,
    arXiv:2408.00082 eq. 14) as a graph.

    Raises:
      SpecError / GraphError: naming file and field; about a value inherited from a private parent
        file (``extends:`` a file the user did not name), without quoting that value.
    """
    from nnft.spec.load import redact_inherited
    try:
        return _compile(theory)
    except SpecError as err:
        redacted = redact_inherited(theory, err)
        if redacted is err:
            raise
        raise redacted from None


def _compile(theory: Theory) -> Model:
    from nnft.spec.mlp import expand
    theory = expand(theory)
    from dataclasses import replace

    from nnft.insertions import compile_insertions
    g = check(build(theory))
    structure = analyse(g)
    insertions = compile_insertions(theory)
    if insertions and structure.neuron_sum is not None:
        # P̃(θ) ∝ P(θ)e^{−∫V(φ_θ)} does not factorise over neurons: the neuron-sum form is lost
        structure = replace(structure, neuron_sum=None, notes=structure.notes + (
            "the insertion e^{−∫V(φ)} couples the neurons (use model.free() for the free neuron sum)",))
    if theory.components is not None and structure.neuron_sum is not None:
        # the neuron-level estimators and references are for scalar fields: no neuron-sum form for φ_a
        structure = replace(structure, neuron_sum=None, notes=structure.notes + (
            f"a vector field (components: {theory.components}): the neuron-sum estimators are for scalar fields",))
    return Model(theory=theory, graph=g, structure=structure, insertions=insertions)
