"""Spec -> networkx graph (the layout of nodes and edges: ``nnft.graph.ir``).

The builder folds constant expressions, shares identical subexpressions (one node each), infers the
named axes of every value, so shape errors are reported with the spec field that caused them, and
writes edges through ``nnft.graph.ir`` (inputs by position, density arguments by name). A named
definition (``define: {z1: ...}``) is built once, where it is first used, and its nodes carry the
field ``define.z1``.
"""

from __future__ import annotations

import itertools
import math

import networkx as nx

from nnft.errors import GraphError, did_you_mean, suggest
from nnft.graph import ir
from nnft.spec import expr as E
from nnft.spec.constants import evaluate_constants
from nnft.spec.models import Theory

#: largest parameter block (elements per network sample) a spec may declare
MAX_PARAM_ELEMENTS = 50_000_000

ELEMENTWISE2 = {"+": "add", "-": "sub", "*": "mul", "/": "div", "**": "pow", "maximum": "maximum", "minimum": "minimum"}
OPS = (set(ELEMENTWISE2.values()) | {"neg", "matmul", "index", "reduce", "rename"} | {f"fn:{f}" for f in E.UNARY}
       | {"norm"})


def _err(theory: Theory, field: str, message: str, **kw) -> GraphError:
    return GraphError(message, file=theory.source, field=field, **kw)


def _foldable(ex: E.Expr) -> bool:
    """Whether an expression of constants can be folded to a number (no axes involved: reductions,
    indexing and '@' on constants are left to the builder, which reports them with their axes)."""
    if isinstance(ex, E.Index):
        return False
    if isinstance(ex, E.BinOp):
        return ex.op != "@" and _foldable(ex.left) and _foldable(ex.right)
    if isinstance(ex, E.Neg):
        return _foldable(ex.operand)
    if isinstance(ex, E.Call):
        return ex.axis is None and ex.func in (set(E.UNARY) | {"maximum", "minimum"}) and all(map(_foldable, ex.args))
    return True


class _Builder:
    def __init__(self, theory: Theory):
        self.t = theory
        self.g = nx.MultiDiGraph(theory=theory, source=theory.source)
        self.env, self.uses = evaluate_constants(theory)
        self.constant_names = frozenset(self.env) | frozenset(E.CONSTANTS)   # (one set, not one per node)
        self.g.graph["constants"] = dict(self.env)
        self.g.graph["dims"] = dict(theory.dims)
        self.counter = itertools.count()
        self.memo: dict[E.Expr, str] = {}
        self.defined: dict[str, str] = {}       # define name -> node
        self.defining: list[str] = []            # definitions being built (to report cycles)

    # -- helpers --
    def size(self, axis: str) -> int:
        return self.t.dims[axis]

    def new(self, **attrs) -> str:
        node = f"n{next(self.counter)}"
        self.g.add_node(node, **attrs)
        return node

    def const(self, value: float, dims: frozenset[str], field: str, tunable: bool = False) -> str:
        return self.new(kind="const", value=float(value), dims=dims, axes=(), field=field, tunable=tunable)

    def op(self, op: str, inputs: list[str], field: str, axes: tuple[str, ...], **extra) -> str:
        node = self.new(kind="op", op=op, axes=axes, field=field, **extra)
        for pos, src in enumerate(inputs):
            ir.add_input(self.g, src, node, pos)
        return node

    def axes(self, node: str) -> tuple[str, ...]:
        return ir.axes(self.g, node)

    # -- expressions --
    def expr(self, ex: E.Expr, field: str, source: object) -> str:
        names = E.names(ex)
        if names <= self.constant_names and _foldable(ex):
            try:
                value = E.evaluate_constant(ex, self.env)
            except E.ExprError as err:
                raise _err(self.t, field, str(err), got=source) from None
            dims = frozenset().union(*(self.uses.get(n, frozenset()) for n in names))
            return self.const(value, dims, field, tunable=not names.isdisjoint(self.t.constants))
        return self._node(ex, field, source)

    def _node(self, ex: E.Expr, field: str, source: object) -> str:
        """The node of an expression; identical subexpressions share one node (evaluated once)."""
        if ex in self.memo:
            return self.memo[ex]
        node = self._new_node(ex, field, source)
        self.memo[ex] = node
        return node

    def _new_node(self, ex: E.Expr, field: str, source: object) -> str:
        if isinstance(ex, E.Num):
            return self.const(ex.value, frozenset(), field)
        if isinstance(ex, E.Name):
            return self._name(ex.id, field, source)
        if isinstance(ex, E.Neg):
            a = self.expr(ex.operand, field, source)
            return self.op("neg", [a], field, self.axes(a))
        if isinstance(ex, E.BinOp):
            a, b = self.expr(ex.left, field, source), self.expr(ex.right, field, source)
            if ex.op == "@":
                return self._matmul(a, b, field, source)
            return self._elementwise(ELEMENTWISE2[ex.op], a, b, field)
        if isinstance(ex, E.Index):
            a = self.expr(ex.base, field, source)
            ax = self.axes(a)
            if len(ax) != 1:
                raise _err(self.t, field, f"indexing needs an operand with exactly one axis; "
                           f"{E.to_source(ex.base)} has axes {ax}", got=source)
            n = self.size(ax[0])
            if not 0 <= ex.index < n:
                raise _err(self.t, field, f"index {ex.index} out of range for axis {ax[0]} of size {n}", got=source)
            return self.op("index", [a], field, (), index=ex.index)
        assert isinstance(ex, E.Call)
        args = [self.expr(a, field, source) for a in ex.args]
        if ex.func == E.RENAME:
            return self._rename(args[0], ex.axis, field, source)
        if ex.axis is not None:
            ax = self.axes(args[0])
            if ex.axis not in ax:
                guess = suggest(ex.axis, ax)
                raise _err(self.t, field, f"{ex.func}_{ex.axis}: the operand has no axis {ex.axis!r} "
                           f"(its axes are {ax or '()'})", got=source,
                           hint=f"did you mean {ex.func}_{guess}?" if guess else
                           f"reduce over one of its axes, e.g. {ex.func}_{ax[0]}(...)" if ax else
                           "the operand has no axes left to reduce")
            out = tuple(a for a in ax if a != ex.axis)
            return self.op("reduce", args, field, out, reduce=ex.func, axis=ex.axis)
        if ex.func == "norm":
            ax = self.axes(args[0])
            if len(ax) != 1:
                raise _err(self.t, field, f"norm(...) without an axis needs an operand with one axis, got axes {ax}",
                           got=source, hint="name the axis, e.g. norm_d(W0)")
            return self.op("reduce", args, field, (), reduce="norm", axis=ax[0])
        if ex.func == "dot":
            return self._matmul(args[0], args[1], field, source)
        if ex.func in ("maximum", "minimum"):
            return self._elementwise(ex.func, args[0], args[1], field)
        return self.op(f"fn:{ex.func}", args, field, self.axes(args[0]))

    def _name(self, name: str, field: str, source: object) -> str:
        if name == "x":
            return ir.INPUT
        if name in self.t.params:
            return ir.param_node(name)
        if name in self.t.define:
            return self._define(name)
        options = list(self.t.params) + list(self.t.define) + list(self.env) + ["x", "pi", "e"]
        guess = suggest(name, options)
        raise _err(self.t, field, f"undefined name {name!r}", got=source,
                   allowed="parameters (" + ", ".join(self.t.params) + "), definitions, sizes, constants, x, pi, e",
                   hint=did_you_mean(name, guess))

    def _define(self, name: str) -> str:
        """The node of a named definition (built once; definitions may use earlier ones)."""
        if name in self.defined:
            return self.defined[name]
        where = f"define.{name}"
        if name in self.defining:
            chain = self.defining[self.defining.index(name):] + [name]
            raise _err(self.t, where, "definitions refer to each other in a cycle: " + " -> ".join(chain))
        self.defining.append(name)
        src = self.t.define[name]
        node = self.expr(E.parse(src), where, src)
        self.defining.pop()
        self.defined[name] = node
        return node

    def _rename(self, a: str, axis: str, field: str, source: object) -> str:
        ax = self.axes(a)
        if len(ax) != 1:
            raise _err(self.t, field, f"as_{axis}(...) relabels the one axis of its operand, which has axes "
                       f"{ax or '()'}", got=source, hint="rename a vector (one named axis), e.g. as_M(z1)")
        if axis not in self.t.dims:
            guess = suggest(axis, self.t.dims)
            raise _err(self.t, field, f"as_{axis}: {axis!r} is not a declared size", got=source,
                       allowed=", ".join(self.t.dims), hint=f"did you mean {guess!r}?" if guess else None)
        if self.size(axis) != self.size(ax[0]):
            raise _err(self.t, field, f"as_{axis}: axis {ax[0]} has size {self.size(ax[0])} but {axis} has size "
                       f"{self.size(axis)}", got=source, hint="only an axis of the same size can be relabelled")
        if axis == ax[0]:
            return a
        return self.op("rename", [a], field, (axis,), axis=axis)

    def _elementwise(self, op: str, a: str, b: str, field: str) -> str:
        ax_a, ax_b = self.axes(a), self.axes(b)
        out = ax_a + tuple(x for x in ax_b if x not in ax_a)
        return self.op(op, [a, b], field, out)

    def _matmul(self, a: str, b: str, field: str, source: object) -> str:
        ax_a, ax_b = self.axes(a), self.axes(b)
        shared = [x for x in ax_a if x in ax_b]
        if not shared:
            raise _err(self.t, field, f"'@' needs a shared axis to contract, but the operands have axes "
                       f"{ax_a or '()'} and {ax_b or '()'}", got=source,
                       hint="'@' contracts the named axes the two operands share (W0 @ x contracts d)")
        out = tuple(x for x in ax_a if x not in shared) + tuple(x for x in ax_b if x not in shared)
        return self.op("matmul", [a, b], field, out, contract=tuple(shared))

    # -- the whole theory --
    def build(self) -> nx.MultiDiGraph:
        from nnft.densities import get_density
        t = self.t
        self.g.add_node(ir.INPUT, kind="input", axes=("d",), field="x")
        total = 0
        for name, p in t.params.items():
            where = f"params.{name}.shape"
            for ax in p.shape:
                if ax not in t.dims:
                    guess = suggest(ax, t.dims)
                    raise _err(t, where, f"axis {ax!r} is not a declared size", got=p.shape,
                               allowed="sizes declared in dims: " + ", ".join(t.dims),
                               hint=f"did you mean {guess!r}?" if guess else f"add {ax} to dims")
            n_el = math.prod(t.dims[a] for a in p.shape)
            if n_el > MAX_PARAM_ELEMENTS:
                raise _err(t, where, f"parameter block has {n_el} elements per network (at most {MAX_PARAM_ELEMENTS})",
                           got=p.shape, hint="use smaller sizes in dims (e.g. nnft.load(path, N=...))")
            total += n_el
            if total > MAX_PARAM_ELEMENTS:
                raise _err(t, where, f"the parameters up to {name} have {total} elements per network together "
                           f"(at most {MAX_PARAM_ELEMENTS})", got=p.shape,
                           hint="use smaller sizes in dims (e.g. nnft.load(path, N=...))")
            dens = get_density(p.density_kind)
            if dens.event_dims > len(p.shape):
                what = "vectors along the last axis" if dens.event_dims == 1 else \
                    f"one block over the last {dens.event_dims} axes (a matrix: its last two)"
                raise _err(t, where, f"density {p.density_kind} draws {what}; the parameter needs at least "
                           f"{dens.event_dims} axes", got=p.shape)
            self.g.add_node(ir.param_node(name), kind="param", name=name, axes=tuple(p.shape),
                            density=p.density_kind, field=f"params.{name}")
        self.build_definitions()
        for name, p in t.params.items():
            dens = get_density(p.density_kind)
            batch_axes = tuple(p.shape[:len(p.shape) - dens.event_dims])
            const_args = {}
            for arg, src in p.density_args.items():
                where = f"params.{name}.density.{p.density_kind}.{arg}"
                node = self.expr(E.parse(src), where, src)
                extra = [a for a in self.axes(node) if a not in batch_axes]
                if extra:
                    raise _err(t, where, f"argument has axes {self.axes(node)} but the parameter's "
                               f"{'batch ' if dens.event_dims else ''}axes are {batch_axes or '()'}", got=src,
                               hint="a density argument may vary along the parameter's own axes only")
                if ir.INPUT in nx.ancestors(self.g, node) | {node}:
                    raise _err(t, where, "a density argument cannot depend on the input x", got=src)
                ir.add_density_arg(self.g, node, ir.param_node(name), arg)
                if ir.kind(self.g, node) == "const":
                    const_args[arg] = ir.value(self.g, node)
            if len(const_args) == len(p.density_args):
                try:
                    dens.check({**dens.defaults, **const_args})
                except ValueError as err:
                    arg = getattr(err, "arg", None)
                    constraint = getattr(err, "constraint", None)
                    relation = bool(constraint) and arg in str(constraint).split()  # e.g. "low < high"
                    where = f"params.{name}.density.{p.density_kind}"
                    if arg in p.density_args and not relation:
                        where += f".{arg}"
                    if constraint and arg and not relation:
                        constraint = f"{arg}: {constraint}"
                    raise _err(t, where, str(err), got=dict(p.density_args), allowed=constraint) from None
        node = self.expr(E.parse(t.field), "field", t.field)
        self.g.add_node(ir.OUTPUT, kind="output", axes=self.axes(node), field="field")
        ir.add_input(self.g, node, ir.OUTPUT, 0)
        self.prune()
        self.check_reference()
        return self.g

    def build_definitions(self) -> None:
        """Build every definition in dependency order (so a chain of any length needs no recursion);
        cycles are refused. Definitions nothing uses are checked too, and pruned after the field."""
        deps = nx.DiGraph()
        deps.add_nodes_from(self.t.define)
        for name, src in self.t.define.items():
            try:
                used = E.names(E.parse(src))
            except E.ExprError as err:  # pragma: no cover - validated by the spec model
                raise _err(self.t, f"define.{name}", str(err), got=src) from None
            deps.add_edges_from((u, name) for u in used if u in self.t.define)
        try:
            cycle = nx.find_cycle(deps)
            raise _err(self.t, f"define.{cycle[0][0]}", "definitions refer to each other in a cycle: "
                       + " -> ".join(a for a, _ in cycle) + f" -> {cycle[0][0]}")
        except nx.NetworkXNoCycle:
            pass
        order = {name: i for i, name in enumerate(self.t.define)}
        for name in nx.lexicographical_topological_sort(deps, key=order.__getitem__):
            self._define(name)

    def prune(self) -> None:
        """Drop operations and constants that neither the field nor a density uses (unused definitions)."""
        live = nx.ancestors(self.g, ir.OUTPUT) | {ir.OUTPUT}
        for n in ir.params(self.g):
            live |= nx.ancestors(self.g, n) | {n}
        self.g.remove_nodes_from([n for n, a in list(self.g.nodes(data=True))
                                  if n not in live and a["kind"] in ("op", "const")])

    def check_reference(self) -> None:
        """The declared analytic reference: its arguments are constants and satisfy the family's
        constraints (so a bad reference fails at compile time, naming its field)."""
        from nnft.analytic import NEURONS
        from nnft.errors import NnftError
        t = self.t
        if not t.reference:
            return
        (kind, raw), = t.reference.items()
        args = {}
        for arg, src in raw.items():
            where = f"reference.{kind}.{arg}"
            ex = E.parse(src)
            unknown = sorted(E.names(ex) - set(self.env) - set(E.CONSTANTS))
            if unknown:
                n = unknown[0]
                what = ("a parameter" if n in t.params else "the input" if n == "x" else "undefined")
                guess = suggest(n, self.env) if what == "undefined" else None
                raise _err(t, where, f"reference argument refers to {n!r}, which is {what}", got=src,
                           allowed="numbers, sizes (dims), constants, pi, e",
                           hint=f"did you mean {guess!r}?" if guess else None)
            try:
                args[arg] = E.evaluate_constant(ex, self.env)
            except E.ExprError as err:
                raise _err(t, where, str(err), got=src) from None
        try:
            NEURONS[kind](t.dims["d"], **args)
        except (ValueError, NnftError) as err:
            raise _err(t, f"reference.{kind}", str(err), got=dict(raw)) from None


def build(theory: Theory) -> nx.MultiDiGraph:
    """Build the computation graph of a theory (TASI arXiv:2408.00082 eq. 131: the pair φ_θ, P(θ)).

    An ``mlp:`` block is expanded into layers first. The graph's layout (node kinds, attributes, edge
    roles) is described in ``nnft.graph.ir``; ``g.graph`` holds ``theory``, ``source``, ``constants``
    (name -> value) and ``dims`` (axis name -> size).

    Raises:
      GraphError: undefined names, axes that don't exist or can't be contracted, density
        arguments that vary along foreign axes or depend on x, bad constant arguments.
    """
    from nnft.spec.mlp import expand
    return _Builder(expand(theory)).build()
