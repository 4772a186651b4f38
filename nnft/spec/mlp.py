"""Expand the compact ``mlp:`` form into hand-written layers (the same graph either way).

Layer l = 1..L has its own axis (``N1 … NL`` when the width is the size ``N``; ``n1 … nL`` for
integer widths), parameters ``W1 [N1, d]``, ``b1 [N1]``, ``W{l} [Nl, N{l-1}]``, ``b{l} [Nl]`` and a
readout ``W{L+1} [NL]``, ``b{L+1} []``; the field is

    sum_NL(W{L+1} * σ(W{L} @ σ(… σ(W1 @ x + b1) …) + b{L})) + b{L+1}

with W ~ N(0, weight_var(fan_in)) and b ~ N(0, bias_var) (no biases when bias_var = 0).
"""

from __future__ import annotations

from nnft.errors import SpecError
from nnft.spec import expr as E
from nnft.spec.models import Theory


def _err(theory: Theory, field: str, message: str, **kw) -> SpecError:
    return SpecError(message, file=theory.source, field=field, **kw)


def _size(theory: Theory, value, field: str, what: str) -> tuple[int, str | None]:
    if isinstance(value, str):
        if value not in theory.dims:
            raise _err(theory, field, f"{what} {value!r} is not a declared size", allowed=", ".join(theory.dims))
        return theory.dims[value], value
    if value < 1:
        raise _err(theory, field, f"{what} must be a positive integer, got {value}")
    return int(value), None


def _substitute(ex: E.Expr, name: str, by: E.Expr) -> E.Expr:
    if isinstance(ex, E.Name):
        return by if ex.id == name else ex
    if isinstance(ex, E.BinOp):
        return E.BinOp(ex.op, _substitute(ex.left, name, by), _substitute(ex.right, name, by))
    if isinstance(ex, E.Neg):
        return E.Neg(_substitute(ex.operand, name, by))
    if isinstance(ex, E.Call):
        return E.Call(ex.func, tuple(_substitute(a, name, by) for a in ex.args), ex.axis)
    if isinstance(ex, E.Index):
        return E.Index(_substitute(ex.base, name, by), ex.index)
    return ex


def activation_expr(theory: Theory) -> E.Expr:
    """σ as an expression of the preactivation ``z``."""
    act = theory.mlp.activation.strip()
    if act == "linear":
        return E.Name("z")
    if act in E.UNARY:
        return E.Call(act, (E.Name("z"),))
    try:
        ex = E.parse(act)
    except E.ExprError as err:
        raise _err(theory, "mlp.activation", f"not a known activation nor an expression in z: {err}",
                   allowed="linear, " + ", ".join(sorted(E.UNARY)) + ", or an expression in z",
                   hint=err.hint) from None
    unknown = E.names(ex) - {"z", "pi", "e"} - set(theory.constants) - set(theory.dims)
    if unknown:
        raise _err(theory, "mlp.activation", f"the activation uses undefined name(s) {sorted(unknown)}",
                   allowed="z (the preactivation), constants, sizes, pi, e")
    return ex


def expand(theory: Theory) -> Theory:
    """The theory with ``mlp`` replaced by its dims, params and field."""
    from nnft.spec.load import from_dict
    m = theory.mlp
    if m is None:
        return theory
    L, _ = _size(theory, m.depth, "mlp.depth", "depth")
    if isinstance(m.width, list):
        if len(m.width) != L:
            raise _err(theory, "mlp.width", f"{len(m.width)} widths given for depth {L}",
                       hint="give one width for every hidden layer, or a single width for all")
        widths = [_size(theory, w, f"mlp.width[{i}]", "width") for i, w in enumerate(m.width)]
    else:
        widths = [_size(theory, m.width, "mlp.width", "width")] * L
    axes = []
    for i, (n, name) in enumerate(widths, start=1):
        base = name if (name and not isinstance(m.width, list)) else (name or "n")
        axes.append(f"{base}{i}" if not isinstance(m.width, list) or name is None else name)
    if len(set(axes)) != len(axes):
        raise _err(theory, "mlp.width", "per-layer widths must be different size names (or integers)",
                   got=m.width, hint="declare N1, N2, ... in dims")
    dims = dict(theory.dims)
    for ax, (n, _) in zip(axes, widths):
        if ax in dims and dims[ax] != n:
            raise _err(theory, "mlp.width", f"layer axis {ax!r} clashes with the declared size {ax} = {dims[ax]}")
        dims[ax] = n
    wvar = E.parse(m.weight_var)
    bvar = E.parse(m.bias_var)
    from nnft.graph.build import evaluate_constants
    env, _ = evaluate_constants(theory)
    try:
        bias_value = E.evaluate_constant(bvar, env)
    except E.ExprError as err:
        raise _err(theory, "mlp.bias_var", f"bias variance must be a constant: {err}") from None
    if bias_value < 0:
        raise _err(theory, "mlp.bias_var", f"bias variance must be ≥ 0, got {bias_value}")
    no_bias = bias_value == 0.0
    sigma = activation_expr(theory)
    params: dict[str, dict] = {}
    fan_in = ["d"] + axes[:-1]

    def weight(name: str, shape: list[str], fan: str) -> None:
        std = E.Call("sqrt", (_substitute(wvar, "fan_in", E.Name(fan)),))
        params[name] = {"shape": shape, "density": {"normal": {"std": E.to_source(std)}}}

    def bias(name: str, shape: list[str]) -> None:
        if not no_bias:
            params[name] = {"shape": shape, "density": {"normal": {"std": E.to_source(E.Call("sqrt", (bvar,)))}}}

    z: E.Expr = E.Name("x")
    for l in range(1, L + 1):
        weight(f"W{l}", [axes[l - 1], fan_in[l - 1]], fan_in[l - 1])
        bias(f"b{l}", [axes[l - 1]])
        inp = z if l == 1 else _substitute(sigma, "z", z)
        z = E.BinOp("@", E.Name(f"W{l}"), inp)
        if not no_bias:
            z = E.BinOp("+", z, E.Name(f"b{l}"))
    weight(f"W{L + 1}", [axes[-1]], axes[-1])
    bias(f"b{L + 1}", [])
    out: E.Expr = E.Call("sum", (E.BinOp("*", E.Name(f"W{L + 1}"), _substitute(sigma, "z", z)),), axis=axes[-1])
    if not no_bias:
        out = E.BinOp("+", out, E.Name(f"b{L + 1}"))
    data = theory.model_dump(mode="python")
    data.pop("mlp")
    clash = sorted(set(params) & (set(theory.constants) | set(dims)))
    if clash:
        raise _err(theory, "mlp", f"generated parameter name(s) {clash} clash with sizes or constants",
                   hint="rename those sizes/constants (W1, b1, ... are the layers' parameters)")
    source = E.to_source(out)
    if len(source) > E.MAX_EXPR_CHARS:
        raise _err(theory, "mlp.activation", f"the expanded field is {len(source)} characters (at most "
                   f"{E.MAX_EXPR_CHARS}): an activation that uses z more than once doubles the expression per layer",
                   hint="use a named activation (relu, tanh, erf, gelu, sigmoid, softplus, ...) or fewer layers")
    data.update(dims=dims, params=params, field=source)
    return from_dict(data, source=theory.source)
