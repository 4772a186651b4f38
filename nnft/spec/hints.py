"""Hints of spec errors: what a message proposes beside what it refuses (no JAX, no graph library).

- :func:`undeclared_hint`: a name declared nowhere -> the nearest declared name, and how to declare
  it (under ``constants:`` with the spec snippet, under ``params:`` when it is used as an array);
- :func:`free_axis_error`: a field with a free axis -> the parameter whose ``shape`` carries it.

The functions take a validated ``nnft.spec.models.Theory`` (read by attribute: dims, constants,
params, define, field), and are called by the models' validators, ``nnft.spec.constants`` and the
graph's checks.
"""

from __future__ import annotations

import json

from nnft.errors import did_you_mean, lookalike_note, suggest
from nnft.spec import expr as E
from nnft.spec.expr import parse
from nnft.spec.fields import MAX_AXES


def declared_text(theory) -> str:
    """What the spec declares, by kind (parameters, definitions, sizes, constants): the "allowed" part of
    an undefined-name error."""
    parts = [f"{what} ({', '.join(list(names)[:8])}{', ...' if len(names) > 8 else ''})"
             for what, names in (("parameters", theory.params), ("definitions", theory.define),
                                 ("sizes", theory.dims), ("constants", theory.constants)) if names]
    return ", ".join(parts + ["x, pi, e"])


def _snippet_value(value: object) -> str:
    return repr(value) if isinstance(value, (int, float)) else json.dumps(str(value), ensure_ascii=False)


def undeclared_hint(theory, name: str, expr=None, also: tuple[str, ...] = ()) -> str:
    """The hint for a name declared nowhere: a near name if one exists ('did you mean'), and how to
    declare it -- under ``constants:`` (with the spec snippet), or under ``params:`` when the name is
    used as an array (an operand of ``@``, indexed). A function name used without a call says so."""
    if name in E.UNARY or name in E.BINARY or name in E.REDUCTIONS:
        return f"{name!r} is a function: call it, e.g. {name}(...)"
    options = [*theory.params, *theory.define, *theory.dims, *theory.constants, "x", "pi", "e", *also]
    guess = suggest(name, options)
    note = lookalike_note(name)
    near = (did_you_mean(name, guess) + f" If {name!r} is new, " if guess else
            f"{note}. If {name!r} is new, " if note else "")
    if expr is not None and _used_as_array(expr, name):
        axes = "[" + ", ".join([*(a for a in theory.dims if a != "d"), "d"][-MAX_AXES:]) + "]"
        return (near + f"declare it under params: with a shape and a density, e.g. "
                f"params: {{{name}: {{shape: {axes}, density: {{normal: {{std: 1.0}}}}}}}}")
    shown = list(theory.constants.items())[:3]
    entries = [f"{k}: {_snippet_value(v)}" for k, v in shown]
    if len(theory.constants) > len(shown):
        entries.append("...")
    entries.append(f"{name}: <value>")
    return near + "declare it under constants:, e.g. constants: {" + ", ".join(entries) + "}"


def _used_as_array(expr, name: str) -> bool:
    """Whether ``name`` is an operand of ``@``/``dot`` or indexed somewhere in ``expr``."""

    def is_name(e) -> bool:
        return isinstance(e, E.Name) and e.id == name

    todo = [expr]
    while todo:
        e = todo.pop()
        if isinstance(e, E.BinOp):
            if e.op == "@" and (is_name(e.left) or is_name(e.right)):
                return True
            todo += [e.left, e.right]
        elif isinstance(e, E.Call):
            if e.func == "dot" and any(is_name(a) for a in e.args):
                return True
            todo += list(e.args)
        elif isinstance(e, E.Index):
            if is_name(e.base):
                return True
            todo.append(e.base)
        elif isinstance(e, E.Neg):
            todo.append(e.operand)
    return False


def free_axis_error(theory, axes: tuple[str, ...]) -> tuple[str, str, object, str]:
    """What to say when the field keeps free axes (φ(x) must be one number per point): ``(field,
    message, got, hint)`` for a :class:`~nnft.errors.GraphError`.

    The first free axis is traced back through the field and its definitions to the parameters (or
    ``x``) that carry it there unreduced. One parameter: the error points at its ``shape`` (a readout
    declared ``[N, d]`` instead of ``[N]`` is the usual cause) and proposes the shape without the
    axis. Several: the error points at the field and names them. The trace follows the grammar's
    axis rules (``@`` contracts shared axes, ``sum_A`` removes A, ``as_A`` renames, elementwise
    operations broadcast by name); it only chooses the words of a message the graph has decided on.
    """
    axis = axes[0]
    fallback = ("field", f"the field has free axes {axes}; φ(x) must be one number per point", theory.field,
                f"reduce them, e.g. sum_{axis}(...)")
    if theory.field is None:
        return fallback
    try:
        carriers = sorted(_Axes(theory).sources(parse(theory.field), axis))
    except Exception:       # a hint must never hide the error it explains
        return fallback
    params = [c for c in carriers if c in theory.params]

    def shape_of(p: str) -> str:
        return "[" + ", ".join(theory.params[p].shape) + "]"

    if len(carriers) == 1 and params and len(theory.params[params[0]].shape) > 1:
        p = params[0]
        shape = theory.params[p].shape
        fixed = "[" + ", ".join(a for a in shape if a != axis) + "]"
        return (f"params.{p}.shape",
                f"the field has free axes {axes}, but φ(x) must be one number per point: {axis!r} is an axis of "
                f"{p} (shape {shape_of(p)}) that nothing in the field contracts or reduces", shape,
                f"give {p} the shape {fixed} (without {axis!r}), or contract {axis!r} where {p} is used")
    if carriers:
        what = ", ".join(f"{c} (shape {shape_of(c)})" if c in theory.params else
                         f"{c} (axis d)" if c == "x" else c for c in carriers)
        hint = f"reduce it, e.g. sum_{axis}(...)"
        if "x" in carriers and params:
            hint = f"contract it where they meet ({params[0]} @ x rather than {params[0]} * x), or " + hint
        elif len(carriers) == 1:
            hint += f", or give {carriers[0]} the shape []"
        return ("field", f"the field has free axes {axes}, but φ(x) must be one number per point: {axis!r} "
                         f"reaches it unreduced from {what}", theory.field, hint)
    return fallback


class _Axes:
    """The named axes of expressions of a theory, and which parameters (or ``x``) bring an axis to
    an expression's value (a light mirror of the graph builder's rules, for messages only)."""

    def __init__(self, theory):
        self.t = theory
        self.defs = {k: parse(v) for k, v in theory.define.items()}

    def axes(self, ex) -> tuple[str, ...]:
        if isinstance(ex, E.Name):
            if ex.id in self.t.params:
                return tuple(self.t.params[ex.id].shape)
            if ex.id in self.defs:
                return self.axes(self.defs[ex.id])
            return ("d",) if ex.id == "x" else ()
        if isinstance(ex, E.Neg):
            return self.axes(ex.operand)
        if isinstance(ex, E.Index):
            return self.axes(ex.base)[:-1]
        if isinstance(ex, E.BinOp) and ex.op == "@" or isinstance(ex, E.Call) and ex.func == "dot":
            a, b = (self.axes(x) for x in ((ex.left, ex.right) if isinstance(ex, E.BinOp) else ex.args))
            return tuple(x for x in dict.fromkeys(a + b) if not (x in a and x in b))
        if isinstance(ex, E.BinOp):
            return tuple(dict.fromkeys(self.axes(ex.left) + self.axes(ex.right)))
        if isinstance(ex, E.Call):
            if ex.axis is not None:
                return (ex.axis,) if ex.func == E.RENAME else tuple(a for a in self.axes(ex.args[0]) if a != ex.axis)
            if ex.func == "norm":
                return ()
            return tuple(dict.fromkeys(sum((self.axes(a) for a in ex.args), ())))
        return ()

    def sources(self, ex, axis: str) -> set[str]:
        """The parameters (and ``x``) through which ``axis`` reaches the value of ``ex`` unreduced."""
        if axis not in self.axes(ex):
            return set()
        if isinstance(ex, E.Name):
            return self.sources(self.defs[ex.id], axis) if ex.id in self.defs else {ex.id}
        if isinstance(ex, E.Neg):
            return self.sources(ex.operand, axis)
        if isinstance(ex, E.Index):
            return self.sources(ex.base, axis)
        if isinstance(ex, E.Call) and ex.func == E.RENAME:
            inner = self.axes(ex.args[0])
            return self.sources(ex.args[0], inner[0]) if inner else set()
        children = (ex.left, ex.right) if isinstance(ex, E.BinOp) else ex.args if isinstance(ex, E.Call) else ()
        return set().union(*(self.sources(c, axis) for c in children))
