"""Expand the compact ``mlp:`` form into hand-written layers (the same graph either way).

Layer l = 1..L has its own axis (``N1 … NL`` when the width is the size ``N``; ``n1 … nL`` for
integer widths), parameters ``W1 [N1, d]``, ``b1 [N1]``, ``W{l} [Nl, N{l-1}]``, ``b{l} [Nl]`` and a
readout ``W{L+1} [NL]``, ``b{L+1} []``. Every preactivation is a named definition, one per layer,

    z1 = W1 @ x + b1,    z{l} = W{l} @ σ(z{l-1}) + b{l}    (l = 2..L),

and the field is ``sum_NL(W{L+1} * σ(zL)) + b{L+1}``, with W ~ N(0, weight_var(fan_in)) and
b ~ N(0, bias_var) (no biases when bias_var = 0). With ``residual: γ`` (Les Houches lectures eq. 25)

    z{l} = W{l} @ σ(z{l-1}) + b{l} + γ * as_N{l}(z{l-1})    (l = 2..L)

(``as_N{l}`` relabels layer l−1's axis as layer l's, so the widths must be equal).

The generated definitions are nnft's, not the user's: each is one short line whatever the depth, and
they are attached after the user's spec is validated, so the limits on what a user writes (expression
nesting, number of definitions) never refuse them. The depth itself is bounded by
:data:`MAX_MLP_DEPTH`, checked before anything is generated.
"""

from __future__ import annotations

from nnft.errors import SpecError, suggest
from nnft.spec import expr as E
from nnft.spec.constants import evaluate_constants
from nnft.spec.models import GENERATED_NAMES, Theory


def _err(theory: Theory, field: str, message: str, **kw) -> SpecError:
    return SpecError(message, file=theory.source, field=field, **kw)


#: most hidden layers an ``mlp:`` may have. The graph, the compiled sampler and the kernel recursion
#: all grow linearly with depth (about 1 s to build and 1-2 min to jit-compile and sample at depth
#: 1000); criticality studies need depths of 100-1000. Checked before any layer is generated.
MAX_MLP_DEPTH = 10_000


def depth(theory: Theory) -> int:
    """L = mlp.depth, an integer 1 … MAX_MLP_DEPTH (a size name is looked up first)."""
    value = theory.mlp.depth
    name = ""
    if isinstance(value, str):
        if value not in theory.dims:
            raise _err(theory, "mlp.depth", f"depth {value!r} is not a declared size", allowed=", ".join(theory.dims))
        name, value = f"{value} = ", theory.dims[value]
    if not 1 <= value <= MAX_MLP_DEPTH:
        shown = str(value) if len(str(value)) <= 20 else f"a {len(str(value))}-digit number"
        raise _err(theory, "mlp.depth", f"depth must be 1 … {MAX_MLP_DEPTH} hidden layers, got {name}{shown}",
                   allowed=f"an integer 1 … {MAX_MLP_DEPTH} (or a size name with such a value)",
                   hint="criticality studies need depths of 100-1000; deeper nets take minutes to compile "
                        "and their kernels have long reached the fixed point")
    return int(value)


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
        named = ["linear", *sorted(E.UNARY)]
        guess = suggest(act, named) if isinstance(ex, E.Name) else None
        if guess:       # a misspelt named activation ('tahn'), not an expression in z
            raise _err(theory, "mlp.activation", f"unknown activation {act!r}", got=act,
                       allowed=", ".join(named) + ", or an expression in z (e.g. z * sigmoid(z))",
                       hint=f"did you mean {guess!r}?")
        bad = sorted(unknown)[0]
        guess = suggest(bad, ["z", *named, *theory.constants, *theory.dims])
        raise _err(theory, "mlp.activation", f"the activation uses undefined name(s) {sorted(unknown)}", got=act,
                   allowed="a named activation (" + ", ".join(named) + "), or an expression in z (the "
                           "preactivation), constants, sizes, pi, e",
                   hint=f"did you mean {guess!r}?" if guess else
                   f"declare {bad!r} under constants: (constants: {{{bad}: <value>}})")
    return ex


def _residual(theory: Theory, env: dict, widths) -> E.Expr | None:
    """γ of ``mlp.residual`` as a constant expression (None: no skip connections)."""
    m = theory.mlp
    if m.residual is None:
        return None
    ex = E.parse(m.residual)
    try:
        value = E.evaluate_constant(ex, env)
    except E.ExprError as err:
        raise _err(theory, "mlp.residual", f"the residual strength γ must be a constant: {err}",
                   got=m.residual) from None
    sizes = sorted({n for n, _ in widths})
    if len(sizes) > 1:
        raise _err(theory, "mlp.residual", f"skip connections add z(l-1) to z(l), so all hidden widths must be "
                   f"equal; got widths {[n for n, _ in widths]}", got=m.width)
    return E.Num(value) if not E.names(ex) else ex


def expand(theory: Theory) -> Theory:
    """The theory with ``mlp`` replaced by its dims, params and field."""
    from nnft.spec.load import from_dict
    m = theory.mlp
    if m is None:
        return theory
    L = depth(theory)
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
    env, _ = evaluate_constants(theory)
    try:
        bias_value = E.evaluate_constant(bvar, env)
    except E.ExprError as err:
        raise _err(theory, "mlp.bias_var", f"bias variance must be a constant: {err}") from None
    if bias_value < 0:
        raise _err(theory, "mlp.bias_var", f"bias variance must be ≥ 0, got {bias_value}")
    for fan, n_fan in [("d", dims["d"])] + [(ax, n) for ax, (n, _) in zip(axes, widths)]:
        try:
            w_value = E.evaluate_constant(_substitute(wvar, "fan_in", E.Num(float(n_fan))), env)
        except E.ExprError as err:
            raise _err(theory, "mlp.weight_var", f"weight variance must be a constant of fan_in: {err}",
                       got=m.weight_var) from None
        if not w_value > 0:
            raise _err(theory, "mlp.weight_var", f"weight variance must be > 0 (the variance of the normal law "
                       f"of the weights), got {w_value:.6g} at fan_in = {fan} = {n_fan}", got=m.weight_var,
                       hint="C_W > 0 in weight_var = C_W / fan_in")
    no_bias = bias_value == 0.0
    sigma = activation_expr(theory)
    gamma = _residual(theory, env, widths)
    params: dict[str, dict] = {}
    fan_in = ["d"] + axes[:-1]

    def weight(name: str, shape: list[str], fan: str) -> None:
        std = E.Call("sqrt", (_substitute(wvar, "fan_in", E.Name(fan)),))
        params[name] = {"shape": shape, "density": {"normal": {"std": E.to_source(std)}}}

    def bias(name: str, shape: list[str]) -> None:
        if not no_bias:
            params[name] = {"shape": shape, "density": {"normal": {"std": E.to_source(E.Call("sqrt", (bvar,)))}}}

    for l in range(1, L + 1):
        weight(f"W{l}", [axes[l - 1], fan_in[l - 1]], fan_in[l - 1])
        bias(f"b{l}", [axes[l - 1]])
    weight(f"W{L + 1}", [axes[-1]], axes[-1])
    bias(f"b{L + 1}", [])

    def layers(named: bool) -> tuple[dict[str, str], E.Expr]:
        """(definitions, field): preactivations inline, or as named definitions z1 … zL."""
        z: E.Expr = E.Name("x")
        define: dict[str, str] = {}
        for l in range(1, L + 1):
            inp = z if l == 1 else _substitute(sigma, "z", z)
            pre: E.Expr = E.BinOp("@", E.Name(f"W{l}"), inp)
            if not no_bias:
                pre = E.BinOp("+", pre, E.Name(f"b{l}"))
            if gamma is not None and l > 1:
                pre = E.BinOp("+", pre, E.BinOp("*", gamma, E.Call(E.RENAME, (z,), axis=axes[l - 1])))
            if named:
                define[f"z{l}"] = E.to_source(pre)
                z = E.Name(f"z{l}")
            else:
                z = pre
        out: E.Expr = E.Call("sum", (E.BinOp("*", E.Name(f"W{L + 1}"), _substitute(sigma, "z", z)),),
                             axis=axes[-1])
        if not no_bias:
            out = E.BinOp("+", out, E.Name(f"b{L + 1}"))
        return define, out

    # a residual layer uses z(l-1) twice, and so does an activation like z * sigmoid(z): written
    # inline the field would double per layer, so those get named definitions
    define, out = layers(named=True)
    data = theory.model_dump(mode="python")
    data.pop("mlp")
    clash = sorted((set(params) | set(define)) & (set(theory.constants) | set(dims) | set(theory.define)))
    if clash:
        raise _err(theory, "mlp", f"generated parameter name(s) {clash} clash with sizes or constants",
                   hint="rename those sizes/constants/definitions (W1, b1, ... are the layers' parameters, "
                        "z1, z2, ... a residual net's preactivations)")
    source = E.to_source(out)
    longest = max([source, *define.values()], key=len)
    if len(longest) > E.MAX_EXPR_CHARS:
        raise _err(theory, "mlp.activation", f"one layer of the expanded net is {len(longest)} characters (at most "
                   f"{E.MAX_EXPR_CHARS})", hint="use a named activation (relu, tanh, erf, gelu, sigmoid, ...) or "
                   "a shorter expression in z")
    # the user's part is validated as written (with the user's limits, e.g. on the number of
    # definitions); the generated preactivations z1 … zL are added after validation: they are nnft's,
    # one short definition per layer, so no limit meant for hand-written specs applies to them
    data.update(dims=dims, params=params, field=source, define=dict(theory.define))
    token = GENERATED_NAMES.set(frozenset(define))
    try:
        expanded = from_dict(data, source=theory.source)
    finally:
        GENERATED_NAMES.reset(token)
    return expanded.model_copy(update={"define": {**expanded.define, **define}})
