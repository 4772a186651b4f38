"""Graph -> JAX functions (:class:`Model`).

Values carry named axes: every node's array is laid out in the order of its ``axes`` attribute,
and operations align operands by axis name (elementwise ops broadcast, ``@`` contracts the shared
axes). ``Model.field`` evaluates the graph for *one* network θ and *one* point x; ``Model.fields``
evaluates it once on whole batches: a batched value's array has the leading axes ``#networks`` and/or
``#points`` (:data:`BATCH_AXES`) before its node's axes, so XLA fuses the elementwise chain of the
field (e.g. W0·x + b → cos → ·W1) into one loop. Short contractions (``W0 @ x`` over d ≤
:data:`SMALL_CONTRACTION` terms) are written out as products and sums, longer ones are ``einsum``.

Non-finite values: any non-finite operation value of a network at a point makes φ NaN there, never
masked. Values from which a non-finite entry surely reaches φ (through +, −, ·, a numerator, @, sums,
cos, log, sqrt, abs...: :data:`_PROPAGATES`) are not checked one by one; the others (those feeding relu,
maximum, tanh, exp, a denominator, an index...) and φ itself are (``_Evaluator.unchecked``).

float32 cos/sin/tan are ``nnft.fastmath``'s vectorised polynomials (accuracy stated and tested
there), fused with their neighbours; an argument outside their fast domain (|x| > 65536, ±inf) gives
NaN, and a NaN in the result makes the whole evaluation be redone once with JAX's exact functions, so
results stay correct. float64 uses JAX's exact functions throughout.

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

from nnft.errors import InputError, SpecError

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

import jax
import jax.numpy as jnp
import networkx as nx

from nnft.densities import get_density
from nnft.functions import FUNCTIONS
from nnft.graph.analyse import Structure, analyse
from nnft.graph.build import build
import nnft.fastmath as fastmath
from nnft.graph.check import check
from nnft.spec.models import Theory

Theta = dict[str, jax.Array]

#: arithmetic ops -> JAX (the grammar's functions, ``fn:NAME`` and maximum/minimum, are ``nnft.functions``' JAX
#: versions: cos, sin, tan, arctan vectorised in float32 by ``nnft.fastmath``, exact JAX functions in float64)
_BIN: dict[str, Callable] = {"add": jnp.add, "sub": jnp.subtract, "mul": jnp.multiply, "div": jnp.divide,
                             "pow": jnp.power,
                             **{n: f.jnp for n, f in FUNCTIONS.items() if f.arity == 2}}


def align(value: jax.Array, src: tuple[str, ...], dst: tuple[str, ...]) -> jax.Array:
    """Lay out an array with named axes ``src`` in the order ``dst`` (size-1 axes where missing)."""
    perm = [src.index(a) for a in dst if a in src]
    value = jnp.transpose(value, perm) if perm != sorted(perm) else value
    shape = [1] * len(dst)
    present = [a for a in dst if a in src]
    for a, n in zip(present, value.shape):
        shape[dst.index(a)] = n
    return jnp.reshape(value, shape)


def _letters(axes_lists: list[tuple[str, ...]]) -> dict[str, str]:
    names: list[str] = []
    for axes in axes_lists:
        names += [a for a in axes if a not in names]
    return {a: chr(ord("a") + i) for i, a in enumerate(names)}


#: leading axes of batched values: networks and points (names no spec axis can take)
BATCH_AXES = ("#networks", "#points")

#: ops whose output is non-finite wherever an input is (at the input positions listed; None = every
#: input): a non-finite value upstream of only such ops reaches the field, so it needs no check of its own
_PROPAGATES: dict[str, tuple[int, ...] | None] = {
    "add": None, "sub": None, "mul": None, "div": (0,), "neg": None, "rename": None, "matmul": None,
    "reduce": None,
    **{f"fn:{n}": None for n, f in FUNCTIONS.items() if f.arity == 1 and f.keeps_nonfinite},
}


#: contractions of at most this many terms (``W0 @ x`` over d) are evaluated elementwise
SMALL_CONTRACTION = 16

#: ``domain`` marker of the exact fallback evaluation (``_Evaluator.evaluate``)
_EXACT: list = []


class _Evaluator:
    """Evaluates graph nodes for one network and one point, or for batches of them: a value's array
    carries its node's axes after any of the :data:`BATCH_AXES` it is batched over."""

    def __init__(self, g: nx.MultiDiGraph):
        self.g = g
        self.topo = list(nx.topological_sort(g))
        self.inputs = {n: [u for u, _, d in sorted(g.in_edges(n, data=True), key=lambda e: e[2].get("pos", 0))
                           if d["role"] == "in"] for n in g.nodes}

    def needed(self, targets: list[str], stop: set[str] = frozenset()) -> list[str]:
        """Nodes to evaluate (in order) to get ``targets``, not looking above ``stop`` nodes."""
        need: set[str] = set()
        stack = list(targets)
        while stack:
            n = stack.pop()
            if n in need:
                continue
            need.add(n)
            if n in stop or self.g.nodes[n]["kind"] == "param":
                continue
            stack.extend(self.inputs[n])
        return [n for n in self.topo if n in need]

    def unchecked(self, target: str, nodes: list[str]) -> list[str]:
        """The operation nodes among ``nodes`` whose non-finite values need a finiteness check of their
        own: all but those from which every non-finite value surely reaches ``target`` through
        :data:`_PROPAGATES` operations (inf − inf, 0·inf, Σ(inf, −inf) give NaN: still non-finite)."""
        reaches = {target}
        for n in reversed(nodes):
            if n not in reaches:
                continue
            a = self.g.nodes[n]
            if a["kind"] == "output":
                reaches.update(self.inputs[n])
            elif a["kind"] == "op" and a["op"] in _PROPAGATES:
                pos = _PROPAGATES[a["op"]]
                reaches.update(u for i, u in enumerate(self.inputs[n]) if pos is None or i in pos)
        return [n for n in nodes if self.g.nodes[n]["kind"] == "op" and n not in reaches]

    def run(self, nodes: list[str], values: dict[str, jax.Array],
            axes: dict[str, tuple[str, ...]] | None = None, domain: list | None = None) -> dict[str, jax.Array]:
        """Evaluate ``nodes`` in order into ``values``; ``axes`` (updated) holds the full axes of every
        batched value (missing: the node's own axes). With a ``domain`` list, float32 cos/sin/tan are
        ``fastmath.UNGUARDED``'s fast ones (NaN out of domain; their names are appended to the list),
        with ``_EXACT`` JAX's exact ones."""
        g = self.g
        axes = {} if axes is None else axes
        for n in nodes:
            if n in values:
                continue
            a = g.nodes[n]
            kind = a["kind"]
            if kind == "const":
                values[n] = jnp.asarray(a["value"])
            elif kind == "output":
                u = self.inputs[n][0]
                values[n] = values[u]
                if u in axes:
                    axes[n] = axes[u]
            elif kind == "op":
                ins = [axes.get(i, g.nodes[i]["axes"]) for i in self.inputs[n]]
                batch = tuple(b for b in BATCH_AXES if any(b in x for x in ins))
                values[n] = self._op(a, [values[i] for i in self.inputs[n]], ins, batch + tuple(a["axes"]), domain)
                if batch:
                    axes[n] = batch + tuple(a["axes"])
            elif kind in ("input", "param"):
                raise KeyError(f"value of {n} not supplied")  # pragma: no cover
        return values

    @staticmethod
    def _op(a: dict, args: list[jax.Array], ins: list[tuple[str, ...]], out: tuple[str, ...],
            domain: list | None = None) -> jax.Array:
        op = a["op"]
        if op in _BIN:
            return _BIN[op](align(args[0], ins[0], out), align(args[1], ins[1], out))
        if op == "neg":
            return -args[0]
        if op == "rename":
            return args[0]
        if op.startswith("fn:"):
            fn = op[3:]
            if fn in fastmath.UNGUARDED and args[0].dtype == jnp.float32 and domain is not None:
                fast, exact = fastmath.UNGUARDED[fn]
                if domain is _EXACT:
                    return exact(args[0])
                domain.append(fn)
                return fast(args[0])
            return FUNCTIONS[fn].jnp(args[0])
        if op == "index":
            return args[0][..., a["index"]]
        if op == "reduce":
            axis = ins[0].index(a["axis"])
            if a["reduce"] == "sum":
                return jnp.sum(args[0], axis=axis)
            if a["reduce"] == "mean":
                return jnp.mean(args[0], axis=axis)
            if a["reduce"] == "prod":
                return jnp.prod(args[0], axis=axis)
            return jnp.sqrt(jnp.sum(jnp.square(args[0]), axis=axis))
        if op == "matmul":
            shared = [x for x in ins[0] if x in ins[1] and x not in out]
            if math.prod(args[0].shape[ins[0].index(x)] for x in shared) <= SMALL_CONTRACTION:
                # a short contraction (W0 @ x over d) as broadcast products summed: one fused loop
                # with its neighbours instead of a matrix-product call and transposes
                # (terms summed in a fixed order, written out: no reduction op to break the fusion)
                full = out + tuple(shared)
                a0, a1 = align(args[0], ins[0], full), align(args[1], ins[1], full)
                a0 = a0.reshape(a0.shape[:len(out)] + (-1,))
                a1 = a1.reshape(a1.shape[:len(out)] + (-1,))
                terms = max(a0.shape[-1], a1.shape[-1])
                total = a0[..., 0] * a1[..., 0]
                for k in range(1, terms):
                    total = total + a0[..., k] * a1[..., k]
                return total
            let = _letters(ins)
            spec = ",".join("".join(let[x] for x in axes) for axes in ins) + "->" + "".join(let[x] for x in out)
            return jnp.einsum(spec, args[0], args[1])
        raise NotImplementedError(op)  # pragma: no cover

    def evaluate(self, target: str, values: dict[str, jax.Array], axes: dict[str, tuple[str, ...]]) -> jax.Array:
        """``target`` from the supplied ``values`` (graph node -> array, full ``axes`` of the batched ones),
        NaN wherever (per batch element) any operation's value was non-finite, even one a later operation
        swallowed (relu/maximum of NaN, 1/inf): only values that surely propagate to ``target`` are left
        to do so (:meth:`unchecked`); result axes: the batch axes present, in :data:`BATCH_AXES` order,
        then the target's own.

        float32 cos/sin/tan run vectorised and fused with their neighbours, giving NaN for arguments
        outside ``fastmath``'s fast domain (huge, ±inf); a NaN anywhere in the result makes the whole
        evaluation be redone with JAX's exact functions (one ``lax.cond``; both run when vmapped)."""
        nodes = self.needed([target], stop=set(values))
        sizes = {b: values[n].shape[ax.index(b)] for n, ax in axes.items() for b in ax if b in BATCH_AXES}
        domain: list = []
        fast = self._checked(target, nodes, dict(values), dict(axes), domain, sizes)
        if not domain:
            return fast
        # out-of-domain arguments gave NaN, which reached the result (see _checked); so did any other
        # non-finite value, for which the exact evaluation is equally right
        return jax.lax.cond(~jnp.any(jnp.isnan(fast)), lambda: fast,
                            lambda: self._checked(target, nodes, dict(values), dict(axes), _EXACT, sizes))

    def _checked(self, target, nodes, values, axes, domain, sizes: dict[str, int]) -> jax.Array:
        """``target`` with the non-finite rule, over every batch axis of the inputs (``sizes``), also those
        the target does not depend on."""
        self.run(nodes, values, axes, domain)
        batch = tuple(b for b in BATCH_AXES if b in sizes)
        own_axes = tuple(self.g.nodes[target]["axes"])
        out = batch + own_axes
        value = align(values[target], axes.get(target, own_axes), out)
        value = jnp.broadcast_to(value, tuple(sizes[b] for b in batch) + value.shape[len(batch):])
        ok = None
        for n in self.unchecked(target, nodes) + [target]:
            full = axes.get(n, self.g.nodes[n]["axes"])
            own = tuple(i for i, x in enumerate(full) if x not in BATCH_AXES)
            flag = jnp.all(jnp.isfinite(values[n]), axis=own)
            flag = align(flag, tuple(x for x in full if x in BATCH_AXES), batch)
            ok = flag if ok is None else ok & flag
        ok = align(ok, batch, out)
        return jnp.where(ok, value, jnp.nan)


@dataclass(frozen=True)
class Model:
    """A compiled theory.

    Attributes:
      theory: the validated spec.
      graph: the checked computation graph.
      structure: what ``graph.analyse`` found (neuron-sum form, independence).
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
        return dict(self.theory.dims)

    @property
    def param_elements(self) -> int:
        """Number of parameters of one network (sum of the blocks' sizes)."""
        import math
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
        import math
        dims = self.theory.dims
        total = 0
        for n in self._ev.needed(["phi"]):
            a = self.graph.nodes[n]
            if a["kind"] in ("op", "const", "output"):
                total += math.prod(dims.get(ax, 1) for ax in a["axes"])
        return max(1, total)

    @property
    def d(self) -> int:
        return self.theory.dims["d"]

    @cached_property
    def _ev(self) -> _Evaluator:
        return _Evaluator(self.graph)

    # -- parameters ----------------------------------------------------------------------------
    def density_args(self, name: str, values: dict[str, jax.Array], dtype,
                     axes: dict[str, tuple[str, ...]] | None = None) -> tuple:
        """(density, shape, args) of parameter ``name``: its arguments evaluated from constants and
        the parameters already in ``values`` (graph node -> value, updated in place), aligned to the
        parameter's batch axes, with the density's defaults filled in. With ``axes`` (the full axes of
        batched values, updated in place) the values are batches of networks and the arguments are
        aligned to (networks,) + batch axes."""
        g, ev = self.graph, self._ev
        node = f"param:{name}"
        dens = get_density(g.nodes[node]["density"])
        node_axes = g.nodes[node]["axes"]
        batch_axes = tuple(node_axes[:len(node_axes) - dens.event_dims])
        if axes is not None:
            batch_axes = (BATCH_AXES[0],) + batch_axes
        arg_nodes = {d["role"][4:]: u for u, _, d in g.in_edges(node, data=True) if d["role"].startswith("arg:")}
        axes_in = {} if axes is None else axes
        ev.run(ev.needed(list(arg_nodes.values()), stop=set(values)), values, axes_in)
        args = {k: align(values[u], axes_in.get(u, g.nodes[u]["axes"]), batch_axes).astype(dtype)
                for k, u in arg_nodes.items()}
        args = {**{k: jnp.asarray(v, dtype) for k, v in dens.defaults.items()}, **args}
        return dens, tuple(self.theory.dims[a] for a in node_axes), args

    def sample_one(self, key: jax.Array, dtype=jnp.float32) -> Theta:
        """θ ~ P(θ) for one network: network 0 of :meth:`sample` with this key."""
        return jax.tree.map(lambda a: a[0], self.sample(key, 1, 0, dtype))

    def sample(self, key: jax.Array, n: int, start: int | jax.Array = 0, dtype=jnp.float32) -> Theta:
        """A batch of ``n`` networks, ``start .. start+n−1`` (θ batched over axis 0).

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
            values[f"param:{name}"] = value
            axes[f"param:{name}"] = (BATCH_AXES[0],) + tuple(self.graph.nodes[f"param:{name}"]["axes"])
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
        for k, v in theta.items():
            values[f"param:{k}"] = v
            if batched:
                axes[f"param:{k}"] = (net,) + tuple(g.nodes[f"param:{k}"]["axes"])
        if readout_one is not None:
            values[f"param:{readout_one}"] = jnp.ones_like(theta[readout_one])
        values["x"] = jnp.asarray(x).astype(next(iter(theta.values())).dtype)
        if points:
            axes["x"] = (pt, "d")
        return self._ev.evaluate(target, values, axes)

    def field(self, theta: Theta, x: jax.Array) -> jax.Array:
        """φ_θ(x) for one network and one point x of shape (d,).

        NaN when any intermediate value overflowed or was undefined, even if a later operation
        swallowed it (relu/maximum of NaN may give 0 under XLA, 1/inf gives 0): non-finite values are
        propagated to the field, never masked, so the samplers report them (``SamplingError``).
        """
        return self._evaluate("phi", theta, x, batched=False, points=False)

    def fields(self, theta: Theta, points: jax.Array) -> jax.Array:
        """φ at a batch of networks and points: θ batched over axis 0, points (P, d) -> (n, P).

        The graph is evaluated once on the whole batch (arrays (n, P, node axes...)), with the same
        per-(network, point) non-finite rule as :meth:`field`.
        """
        return self._evaluate("phi", theta, points, batched=True, points=True)

    def neurons(self, theta: Theta, x: jax.Array) -> jax.Array:
        """ψ_i(x), i = 1..W, for one network and one point: the neuron-sum body with readout v := 1.

        Raises:
          InputError: when the analysis found no neuron-sum form.
        """
        ns = self.structure.neuron_sum
        if ns is None:
            raise InputError("this theory is not a neuron sum: " + "; ".join(self.structure.notes))
        body = next(iter(self.graph.predecessors(ns.sum_node)))
        return self._evaluate(body, theta, x, batched=False, points=False, readout_one=ns.readout)

    def log_weight(self, theta: Theta) -> jax.Array:
        """log of the insertion weight, −Σ_insertions Σ_z w_z V(φ_θ(z)) (TASI §5.2, docs/physics.md §7), for one
        network; 0 for a theory without insertions."""
        dtype = next(iter(theta.values())).dtype
        total = jnp.zeros((), dtype=dtype)
        for ins in self.insertions:
            pts = jnp.asarray(ins.points, dtype=dtype)
            phi = self._evaluate("phi", theta, pts, batched=False, points=True)
            total = total - jnp.sum(jnp.asarray(ins.weights, dtype=dtype) * ins.V(phi))
        return total

    def log_prob(self, theta: Theta) -> jax.Array:
        """log P(θ) for one network: the sum of the parameters' log-densities (arguments that depend on
        other parameters evaluated at θ)."""
        values = {f"param:{k}": v for k, v in theta.items()}
        total = 0.0
        for name in self.structure.order:
            dens, _, args = self.density_args(name, values, theta[name].dtype)
            total = total + jnp.sum(dens.log_prob(theta[name], args))
        return total

    def free(self) -> "Model":
        """The same theory without its insertions (the free theory P(θ))."""
        return compile(self.theory.model_copy(update={"insertions": []}))


def compile(theory: Theory) -> Model:  # noqa: A001 - the name a physicist expects
    """Spec -> graph -> checks -> analysis -> :class:`Model` (an ``mlp:`` is expanded into layers first).

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
    return Model(theory=theory, graph=g, structure=structure, insertions=insertions)
