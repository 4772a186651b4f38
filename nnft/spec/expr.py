"""The spec expression language: a small, safe grammar (never ``eval``).

An expression is parsed with Python's own tokenizer into a syntax tree (``ast.parse(...,
mode="eval")``), and only a whitelist of node types is translated into nnft's own tree below;
anything else (attribute access, strings, lambdas, comparisons, subscripts other than ``x[i]``,
keyword arguments, ...) is refused with a message. Nothing is ever executed.

Grammar (informally)::

    expr   := number | name | expr OP expr | -expr | +expr | func(expr, ...) | name[int] | (expr)
    OP     := + - * / ** @
    func   := cos sin tan exp log sqrt tanh erf relu abs sigmoid gelu softplus cosh sinh arctan
              gamma sign square (nnft.functions.FUNCTIONS) | sum_AXIS mean_AXIS norm_AXIS (reduce over a named axis) | norm
              | dot(a, b) (= a @ b) | maximum(a, b) | minimum(a, b)
              | as_AXIS(e) (the same values with their one axis renamed to AXIS, of equal size)

Names are constants, sizes (dims), parameters, the input ``x``, ``pi``/``e`` and the spec's named
definitions (``define:``).
``a @ b`` contracts the named axes the two operands share (``W0 @ x`` contracts ``d``).
"""

from __future__ import annotations

from nnft.errors import ExprError  # noqa: F401 - defined in nnft.errors, importable here too
from nnft.errors import lookalike_note
from nnft.functions import FUNCTIONS

import ast
import math
import re
from dataclasses import dataclass

MAX_EXPR_CHARS = 2000
MAX_DEPTH = 150

#: elementwise functions of one argument -> their float version (constant folding); a view of
#: ``nnft.functions.FUNCTIONS``, where each function is defined
UNARY: dict[str, object] = {name: f.scalar for name, f in FUNCTIONS.items() if f.arity == 1}
#: functions of two arguments: the elementwise ones (float versions) and ``dot(a, b)``, which is ``a @ b``
BINARY: dict[str, object] = {**{name: f.scalar for name, f in FUNCTIONS.items() if f.arity == 2}, "dot": None}
REDUCTIONS = ("sum", "mean", "norm", "prod")
CONSTANTS = {"pi": math.pi, "e": math.e}
#: ``as_M(e)``: relabel the single axis of e as M (a residual layer adds z⁽ˡ⁾ on the next layer's axis)
RENAME = "as"
RESERVED = set(UNARY) | set(BINARY) | set(CONSTANTS) | set(REDUCTIONS) | {"x", RENAME}

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@"}
_REFUSED = {
    ast.Attribute: "attribute access ('a.b')", ast.Constant: "this literal", ast.Lambda: "lambda",
    ast.Compare: "comparisons", ast.BoolOp: "and/or", ast.IfExp: "if/else",
    ast.ListComp: "comprehensions", ast.GeneratorExp: "comprehensions", ast.Dict: "dict literals",
    ast.List: "list literals", ast.Tuple: "tuples", ast.Set: "set literals",
    ast.Starred: "*args", ast.NamedExpr: "':='", ast.JoinedStr: "f-strings",
}
_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


# --- the tree -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Num:
    """A number literal (a float; integers are stored as floats)."""

    value: float


@dataclass(frozen=True)
class Name:
    """A name: a size, constant, parameter, definition, ``x``, ``pi`` or ``e``."""

    id: str


@dataclass(frozen=True)
class BinOp:
    """A binary operation; ``op`` is one of ``+ - * / ** @`` (``@``: contraction over the shared axis)."""

    op: str
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True)
class Neg:
    """Unary minus."""

    operand: "Expr"


@dataclass(frozen=True)
class Call:
    """A call of a grammar function (``nnft.functions``), or a reduction ``sum_AXIS``/``mean_AXIS``/
    ``norm_AXIS``/``prod_AXIS`` or the renaming ``as_AXIS`` (``func`` the full name, ``axis`` the axis)."""

    func: str
    args: tuple["Expr", ...]
    axis: str | None = None  # reductions sum_AXIS / mean_AXIS / norm_AXIS / prod_AXIS; the renaming as_AXIS


@dataclass(frozen=True)
class Index:
    """``base[index]``: one component of a vector (e.g. ``x[0]``), the index a constant integer."""

    base: "Expr"
    index: int


Expr = Num | Name | BinOp | Neg | Call | Index


def split_reduction(func: str) -> tuple[str, str] | None:
    """``'sum_N'`` -> ``('sum', 'N')``, ``'as_M'`` -> ``('as', 'M')``; None when ``func`` is not a
    reduction (or renaming) with an axis."""
    for r in REDUCTIONS + (RENAME,):
        if func.startswith(r + "_") and len(func) > len(r) + 1:
            return r, func[len(r) + 1:]
    return None


def parse(source: str | float | int) -> Expr:
    """Parse an expression (or a plain number) into nnft's expression tree.

    Raises:
      ExprError: with a message saying what is not allowed and, where obvious, a hint.
    """
    if isinstance(source, bool):
        raise ExprError("booleans are not expressions", hint="write a number, e.g. 1.0")
    if isinstance(source, (int, float)):
        try:
            v = float(source)
        except OverflowError:
            raise ExprError(f"number too large ({len(str(abs(int(source))))} digits)") from None
        if not math.isfinite(v):
            raise ExprError(f"non-finite number {source!r}", hint="numbers must be finite")
        return Num(v)
    if not isinstance(source, str):
        raise ExprError(f"expected a number or an expression string, got {type(source).__name__}")
    if len(source) > MAX_EXPR_CHARS:
        raise ExprError(f"expression is {len(source)} characters long (at most {MAX_EXPR_CHARS})")
    if not source.strip():
        raise ExprError("empty expression")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as err:
        msg = getattr(err, "msg", None) or str(err) or type(err).__name__
        raise ExprError(f"cannot parse expression: {msg}") from None
    return _convert(tree.body, 0)


def _convert(node: ast.AST, depth: int) -> Expr:
    if depth > MAX_DEPTH:
        raise ExprError(f"expression nested deeper than {MAX_DEPTH} levels")
    d = depth + 1
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ExprError(f"only numbers are allowed as literals, got {node.value!r}")
        try:
            v = float(node.value)
        except OverflowError:
            raise ExprError(f"number too large ({len(str(abs(node.value)))} digits)") from None
        if not math.isfinite(v):
            raise ExprError(f"non-finite number {node.value!r}")
        return Num(v)
    if isinstance(node, ast.Name):
        if node.id.startswith("_") or not _IDENT.match(node.id):
            raise ExprError(f"name {node.id!r} is not allowed (names start with a letter and use ASCII "
                            "letters, digits and _)", hint=lookalike_note(node.id))
        return Name(node.id)
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.BitXor):
            raise ExprError("'^' is not a power here", hint="write powers as a**b")
        op = _BINOPS.get(type(node.op))
        if op is None:
            raise ExprError(f"operator {type(node.op).__name__} is not allowed",
                            hint="allowed operators: + - * / ** @")
        return BinOp(op, _convert(node.left, d), _convert(node.right, d))
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.USub):
            return Neg(_convert(node.operand, d))
        if isinstance(node.op, ast.UAdd):
            return _convert(node.operand, d)
        raise ExprError(f"unary operator {type(node.op).__name__} is not allowed")
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise ExprError("only named functions can be called, e.g. cos(x)")
        name = node.func.id
        if name.startswith("_") or not _IDENT.match(name):
            raise ExprError(f"function name {name!r} is not allowed (names start with a letter and use ASCII "
                            "letters, digits and _)", hint=lookalike_note(name))
        if node.keywords:
            raise ExprError(f"keyword arguments are not allowed in {name}(...)")
        args = tuple(_convert(a, d) for a in node.args)
        return _make_call(name, args)
    if isinstance(node, ast.Subscript):
        idx = node.slice
        if not (isinstance(idx, ast.Constant) and isinstance(idx.value, int) and not isinstance(idx.value, bool)):
            raise ExprError("only a constant integer index is allowed, e.g. x[0]")
        return Index(_convert(node.value, d), int(idx.value))
    what = _REFUSED.get(type(node), type(node).__name__)
    raise ExprError(f"{what} not allowed in an expression")


def _make_call(name: str, args: tuple[Expr, ...]) -> Call:
    red = split_reduction(name)
    if red is not None:
        if len(args) != 1:
            raise ExprError(f"{name}(...) takes one argument, got {len(args)}")
        return Call(red[0], args, axis=red[1])
    if name in UNARY or name == "norm":
        if len(args) != 1:
            raise ExprError(f"{name}(...) takes one argument, got {len(args)}")
        return Call(name, args)
    if name in BINARY:
        if len(args) != 2:
            raise ExprError(f"{name}(...) takes two arguments, got {len(args)}")
        return Call(name, args)
    from nnft.errors import suggest
    options = sorted(UNARY) + sorted(BINARY) + ["norm", "sum_AXIS", "mean_AXIS", "norm_AXIS", "prod_AXIS", "as_AXIS"]
    guess = suggest(name, options)
    if name in REDUCTIONS or name == RENAME:
        raise ExprError(f"{name}(...) needs a named axis, e.g. {name}_N(...)")
    raise ExprError(f"unknown function {name!r}",
                    hint=(f"did you mean {guess!r}? " if guess else "") + "functions: " + ", ".join(options))


def names(expr: Expr) -> set[str]:
    """All names an expression refers to."""
    if isinstance(expr, Name):
        return {expr.id}
    if isinstance(expr, BinOp):
        return names(expr.left) | names(expr.right)
    if isinstance(expr, Neg):
        return names(expr.operand)
    if isinstance(expr, Call):
        return set().union(*(names(a) for a in expr.args))
    if isinstance(expr, Index):
        return names(expr.base)
    return set()


ARITHMETIC = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
              "/": lambda a, b: a / b, "**": lambda a, b: a ** b}


def evaluate(expr: Expr, lookup, functions: dict, binary: dict | None = None):
    """Evaluate an elementwise expression (no axes, no ``@``) on numbers or arrays.

    Args:
      lookup: name -> value.
      functions: one-argument function name -> callable (e.g. numpy or jax.numpy versions).
      binary: two-argument function name -> callable (``maximum``, ``minimum``).

    Raises:
      ExprError: a division of numbers by zero, a value that overflows a float, a complex value (a
        negative number to a fractional power), or a node that is not elementwise.
    """
    return _real(_arithmetic(lambda: _evaluate(expr, lookup, functions, binary)))


def _arithmetic(compute, also: tuple = ()):
    """``compute()``, with Python's arithmetic failures (and ``also``) as one-line :class:`ExprError`."""
    try:
        return compute()
    except ExprError:
        raise
    except ZeroDivisionError:
        raise ExprError("division by zero") from None
    except OverflowError:
        raise ExprError("a value overflows a float (too large)") from None
    except also as err:
        raise ExprError(f"cannot evaluate: {err}") from None


def _real(v):
    """``v`` unless it is complex (a negative number to a fractional power): then an ExprError."""
    if isinstance(v, complex):
        raise ExprError(f"evaluates to a complex value ({v}), e.g. a negative number to a fractional power")
    return v


def _evaluate(expr: Expr, lookup, functions: dict, binary: dict | None):
    evaluate = _evaluate
    if isinstance(expr, Num):
        return expr.value
    if isinstance(expr, Name):
        return lookup(expr.id)
    if isinstance(expr, Neg):
        return -evaluate(expr.operand, lookup, functions, binary)
    if isinstance(expr, BinOp) and expr.op in ARITHMETIC:
        v = ARITHMETIC[expr.op](evaluate(expr.left, lookup, functions, binary),
                                evaluate(expr.right, lookup, functions, binary))
        if isinstance(v, complex) or getattr(getattr(v, "dtype", None), "kind", "") == "c":
            raise ExprError(f"{to_source(expr)} is complex, e.g. a negative number to a fractional power")
        return v
    if isinstance(expr, Call) and expr.axis is None and expr.func in functions:
        return functions[expr.func](evaluate(expr.args[0], lookup, functions, binary))
    if isinstance(expr, Call) and binary and expr.func in binary:
        return binary[expr.func](*(evaluate(a, lookup, functions, binary) for a in expr.args))
    raise ExprError(f"cannot evaluate {to_source(expr)} here")


def evaluate_constant(expr: Expr, env: dict[str, float]) -> float:
    """Evaluate an expression of numbers and names bound in ``env`` to a finite float.

    Raises:
      ExprError: unknown names, parameters or ``x`` (not constants), non-finite results.
    """
    def ev(e: Expr) -> float:
        if isinstance(e, Num):
            return e.value
        if isinstance(e, Name):
            if e.id in env:
                return float(env[e.id])
            if e.id in CONSTANTS:
                return CONSTANTS[e.id]
            raise ExprError(f"{e.id!r} is not a constant here")
        if isinstance(e, Neg):
            return -ev(e.operand)
        if isinstance(e, BinOp):
            a, b = ev(e.left), ev(e.right)
            if e.op == "+":
                return a + b
            if e.op == "-":
                return a - b
            if e.op == "*":
                return a * b
            if e.op == "/":
                if b == 0:
                    raise ExprError("division by zero")
                return a / b
            if e.op == "**":
                if abs(b) > 1e4:
                    raise ExprError(f"exponent {b} too large")
                if a == 0 and b < 0:
                    raise ExprError("division by zero (0 to a negative power)")
                return a ** b
            raise ExprError("'@' needs arrays, not constants")
        if isinstance(e, Call) and e.axis is None and e.func in UNARY:
            u = ev(e.args[0])
            try:
                return UNARY[e.func](u)  # type: ignore[operator]
            except (ValueError, ZeroDivisionError):       # outside the domain: say which value, and the domain
                raise ExprError(f"{e.func}(u) needs {FUNCTIONS[e.func].domain}, got u = {to_source(e.args[0])} = "
                                f"{u:.6g}" + (" (a variance must be ≥ 0)" if e.func == "sqrt" else "")) from None
        if isinstance(e, Call) and e.func in ("maximum", "minimum"):
            return BINARY[e.func](ev(e.args[0]), ev(e.args[1]))  # type: ignore[operator]
        if isinstance(e, Call) and e.axis is not None:
            verb = "relabels an axis" if e.func == RENAME else "reduces over an axis"
            raise ExprError(f"{e.func}_{e.axis}(...) {verb}, but a constant has no axes")
        if isinstance(e, Index):
            raise ExprError(f"indexing needs an array with an axis, but {to_source(e.base)} is a constant")
        raise ExprError(f"{e.func}(...) needs arrays, not constants" if isinstance(e, Call) else "not a constant expression")

    v = _real(_arithmetic(lambda: ev(expr), also=(ValueError, TypeError)))
    if not math.isfinite(v):
        raise ExprError(f"evaluates to a non-finite value ({v})")
    return float(v)


def to_source(expr: Expr) -> str:
    """Readable source text of an expression tree (for messages and reports)."""
    # every compound node is parenthesised, so the text parses back to the same tree
    # (e.g. Neg inside '**': (-2) ** 2 must not print as -2 ** 2, which is -(2 ** 2))
    if isinstance(expr, Num):
        return repr(expr.value) if expr.value >= 0 else f"({expr.value!r})"
    if isinstance(expr, Name):
        return expr.id
    if isinstance(expr, Neg):
        return f"(-{to_source(expr.operand)})"
    if isinstance(expr, BinOp):
        return f"({to_source(expr.left)} {expr.op} {to_source(expr.right)})"
    if isinstance(expr, Index):
        return f"{to_source(expr.base)}[{expr.index}]"
    fn = f"{expr.func}_{expr.axis}" if expr.axis else expr.func
    return f"{fn}({', '.join(to_source(a) for a in expr.args)})"
