"""Graph -> JAX functions (:class:`Model`).

Values carry named axes: every node's array is laid out in the order of its ``axes`` attribute,
and operations align operands by axis name (elementwise ops broadcast, ``@`` contracts the shared
axes). Everything here works on *one* network θ and *one* point x; batching is ``jax.vmap``.

Randomness: network ``i`` of a run with key ``k`` uses ``fold_in(k, i)`` and parameter ``j``
(in declaration order) ``fold_in(fold_in(k, i), j)``, so numbers do not depend on chunking.
"""

from __future__ import annotations

from nnft.errors import InputError, SpecError

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

import jax
import jax.numpy as jnp
import networkx as nx

from nnft.densities import get_density
from nnft.graph.analyse import Structure, analyse
from nnft.graph.build import build
from nnft.graph.check import check
from nnft.spec.models import Theory

Theta = dict[str, jax.Array]

_FN: dict[str, Callable] = {
    "cos": jnp.cos, "sin": jnp.sin, "tan": jnp.tan, "exp": jnp.exp, "log": jnp.log, "sqrt": jnp.sqrt,
    "tanh": jnp.tanh, "erf": jax.scipy.special.erf, "abs": jnp.abs, "relu": jax.nn.relu,
    "sigmoid": jax.nn.sigmoid, "gelu": lambda v: jax.nn.gelu(v, approximate=False),
    "softplus": jax.nn.softplus, "cosh": jnp.cosh, "sinh": jnp.sinh, "arctan": jnp.arctan, "gamma": jax.scipy.special.gamma,
    "sign": jnp.sign, "square": jnp.square,
}
_BIN: dict[str, Callable] = {"add": jnp.add, "sub": jnp.subtract, "mul": jnp.multiply, "div": jnp.divide,
                             "pow": jnp.power, "maximum": jnp.maximum, "minimum": jnp.minimum}


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


class _Evaluator:
    """Evaluates graph nodes for one network and one point."""

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

    def run(self, nodes: list[str], values: dict[str, jax.Array]) -> dict[str, jax.Array]:
        g = self.g
        for n in nodes:
            if n in values:
                continue
            a = g.nodes[n]
            kind = a["kind"]
            if kind == "const":
                values[n] = jnp.asarray(a["value"])
            elif kind == "output":
                values[n] = values[self.inputs[n][0]]
            elif kind == "op":
                values[n] = self._op(n, a, [values[i] for i in self.inputs[n]])
            elif kind in ("input", "param"):
                raise KeyError(f"value of {n} not supplied")  # pragma: no cover
        return values

    def _op(self, n: str, a: dict, args: list[jax.Array]) -> jax.Array:
        op = a["op"]
        ins = [self.g.nodes[i]["axes"] for i in self.inputs[n]]
        out = a["axes"]
        if op in _BIN:
            return _BIN[op](align(args[0], ins[0], out), align(args[1], ins[1], out))
        if op == "neg":
            return -args[0]
        if op == "rename":
            return args[0]
        if op.startswith("fn:"):
            return _FN[op[3:]](args[0])
        if op == "index":
            return args[0][a["index"]]
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
            let = _letters(ins)
            spec = ",".join("".join(let[x] for x in axes) for axes in ins) + "->" + "".join(let[x] for x in out)
            return jnp.einsum(spec, args[0], args[1])
        raise NotImplementedError(op)  # pragma: no cover


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
    def density_args(self, name: str, values: dict[str, jax.Array], dtype) -> tuple:
        """(density, shape, args) of parameter ``name``: its arguments evaluated from constants and
        the parameters already in ``values`` (graph node -> value, updated in place), aligned to the
        parameter's batch axes, with the density's defaults filled in."""
        g, ev = self.graph, self._ev
        node = f"param:{name}"
        dens = get_density(g.nodes[node]["density"])
        axes = g.nodes[node]["axes"]
        batch_axes = axes[:len(axes) - dens.event_dims]
        arg_nodes = {d["role"][4:]: u for u, _, d in g.in_edges(node, data=True) if d["role"].startswith("arg:")}
        ev.run(ev.needed(list(arg_nodes.values()), stop=set(values)), values)
        args = {k: align(values[u], g.nodes[u]["axes"], batch_axes).astype(dtype) for k, u in arg_nodes.items()}
        args = {**{k: jnp.asarray(v, dtype) for k, v in dens.defaults.items()}, **args}
        return dens, tuple(self.theory.dims[a] for a in axes), args

    def sample_one(self, key: jax.Array, dtype=jnp.float32) -> Theta:
        """θ ~ P(θ) for one network (parameters in dependency order)."""
        declared = list(self.theory.params)
        values: dict[str, jax.Array] = {}
        theta: Theta = {}
        for name in self.structure.order:
            dens, shape, args = self.density_args(name, values, dtype)
            value = dens.sample(jax.random.fold_in(key, declared.index(name)), shape, args, dtype)
            values[f"param:{name}"] = value
            theta[name] = value
        return theta

    def sample(self, key: jax.Array, n: int, start: int = 0, dtype=jnp.float32) -> Theta:
        """A batch of ``n`` networks: network ``start + i`` uses ``fold_in(key, start + i)``."""
        idx = start + jnp.arange(n)
        return jax.vmap(lambda i: self.sample_one(jax.random.fold_in(key, i), dtype))(idx)

    # -- the field -----------------------------------------------------------------------------
    def field(self, theta: Theta, x: jax.Array) -> jax.Array:
        """φ_θ(x) for one network and one point x of shape (d,).

        NaN when any intermediate value overflowed or was undefined, even if a later operation
        swallowed it (relu/maximum of NaN may give 0 under XLA, 1/inf gives 0): non-finite values are
        propagated to the field, never masked, so the samplers report them (``SamplingError``).
        """
        values = {f"param:{k}": v for k, v in theta.items()}
        values["x"] = x.astype(next(iter(theta.values())).dtype)
        nodes = self._ev.needed(["phi"], stop=set(values))
        self._ev.run(nodes, values)
        ops = [values[n] for n in nodes if self.graph.nodes[n]["kind"] == "op"]
        if not ops:
            return values["phi"]
        ok = jnp.all(jnp.stack([jnp.all(jnp.isfinite(v)) for v in ops]))
        return jnp.where(ok, values["phi"], jnp.nan)

    def fields(self, theta: Theta, points: jax.Array) -> jax.Array:
        """φ at a batch of networks and points: θ batched over axis 0, points (P, d) -> (n, P)."""
        per_net = jax.vmap(self.field, in_axes=(None, 0))
        return jax.vmap(per_net, in_axes=(0, None))(theta, points)

    def neurons(self, theta: Theta, x: jax.Array) -> jax.Array:
        """ψ_i(x), i = 1..W, for one network and one point: the neuron-sum body with readout v := 1.

        Raises:
          ValueError: when the analysis found no neuron-sum form.
        """
        ns = self.structure.neuron_sum
        if ns is None:
            raise InputError("this theory is not a neuron sum: " + "; ".join(self.structure.notes))
        body = next(iter(self.graph.predecessors(ns.sum_node)))
        values = {f"param:{k}": v for k, v in theta.items()}
        values[f"param:{ns.readout}"] = jnp.ones_like(theta[ns.readout])
        values["x"] = x.astype(theta[ns.readout].dtype)
        nodes = self._ev.needed([body], stop=set(values))
        self._ev.run(nodes, values)
        ops = [values[n] for n in nodes if self.graph.nodes[n]["kind"] == "op"]
        if not ops:
            return values[body]
        ok = jnp.all(jnp.stack([jnp.all(jnp.isfinite(v)) for v in ops]))     # never mask (see field)
        return jnp.where(ok, values[body], jnp.nan)

    def log_weight(self, theta: Theta) -> jax.Array:
        """log of the insertion weight, −Σ_insertions Σ_z w_z V(φ_θ(z)) (TASI §5.2, docs/physics.md §7), for one
        network; 0 for a theory without insertions."""
        dtype = next(iter(theta.values())).dtype
        total = jnp.zeros((), dtype=dtype)
        for ins in self.insertions:
            pts = jnp.asarray(ins.points, dtype=dtype)
            phi = jax.vmap(lambda x: self.field(theta, x))(pts)
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
