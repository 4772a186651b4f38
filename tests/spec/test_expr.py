"""The expression grammar (nnft.spec.expr): parse, names, evaluate_constant, to_source."""

from __future__ import annotations

import math

import pytest

from nnft.spec.expr import (MAX_DEPTH, MAX_EXPR_CHARS, BinOp, Call, ExprError, Index, Name, Neg, Num,
                            evaluate_constant, names, parse, split_reduction, to_source)


def ev(source, **env) -> float:
    return evaluate_constant(parse(source), {k: float(v) for k, v in env.items()})


# --- precedence and associativity ----------------------------------------------------------------
@pytest.mark.parametrize("source, value", [
    ("1 + 2 * 3", 7.0),
    ("(1 + 2) * 3", 9.0),
    ("1 - 2 - 3", -4.0),          # left-associative
    ("10 / 4 / 5", 0.5),          # left-associative
    ("2 ** 3 ** 2", 512.0),       # right-associative
    ("(2 ** 3) ** 2", 64.0),
    ("-2 ** 2", -4.0),            # ** binds tighter than unary minus
    ("(-2) ** 2", 4.0),
    ("2 * -3", -6.0),
    ("- - 3", 3.0),
    ("+3", 3.0),
    ("2 ** -1", 0.5),
    ("6 / 2 * 3", 9.0),
    ("1 + 2 * 3 ** 2 / 6", 4.0),
    ("1.5e2", 150.0),
    (2, 2.0),                     # plain numbers from YAML
    (0.25, 0.25),
])
def test_precedence(source, value):
    assert ev(source) == pytest.approx(value)


def test_tree_shapes():
    assert parse("1 + 2 * 3") == BinOp("+", Num(1.0), BinOp("*", Num(2.0), Num(3.0)))
    assert parse("-a ** 2") == Neg(BinOp("**", Name("a"), Num(2.0)))
    assert parse("+a") == Name("a")
    assert parse("W0 @ x") == BinOp("@", Name("W0"), Name("x"))
    assert parse("x[1]") == Index(Name("x"), 1)
    assert parse("sum_N(W1)") == Call("sum", (Name("W1"),), axis="N")
    assert parse("mean_N2(W1)") == Call("mean", (Name("W1"),), axis="N2")
    assert parse("norm_d(W0)") == Call("norm", (Name("W0"),), axis="d")
    assert parse("prod_N(W1)") == Call("prod", (Name("W1"),), axis="N")
    assert parse("norm(W0)") == Call("norm", (Name("W0"),))
    assert parse("dot(a, b)") == Call("dot", (Name("a"), Name("b")))
    assert parse("maximum(a, 0)") == Call("maximum", (Name("a"), Num(0.0)))


def test_split_reduction():
    assert split_reduction("sum_N") == ("sum", "N")
    assert split_reduction("norm_d") == ("norm", "d")
    assert split_reduction("sum_") is None
    assert split_reduction("cos") is None
    assert split_reduction("summary") is None


def test_names():
    assert names(parse("sum_N(W1 * cos(W0 @ x + b0)) / sqrt(N) + pi")) == {"W1", "W0", "x", "b0", "N", "pi"}
    assert names(parse("x[0] + 1")) == {"x"}
    assert names(parse("3")) == set()


# --- constants and functions ---------------------------------------------------------------------
def test_pi_e_and_env():
    assert ev("pi") == math.pi
    assert ev("e") == math.e
    assert ev("2 * pi") == pytest.approx(2 * math.pi)
    assert ev("sigma / sqrt(d)", sigma=2.0, d=4) == pytest.approx(1.0)
    assert ev("sqrt(2 * Lambda / (2 * pi * s**2))", Lambda=4.0, s=1.0) == pytest.approx(math.sqrt(4 / math.pi))


@pytest.mark.parametrize("source, value", [
    ("sqrt(4)", 2.0), ("exp(0)", 1.0), ("log(e)", 1.0), ("cos(pi)", -1.0), ("sin(0)", 0.0),
    ("tanh(0)", 0.0), ("erf(0)", 0.0), ("relu(-1)", 0.0), ("relu(2)", 2.0), ("abs(-3)", 3.0),
    ("sigmoid(0)", 0.5), ("sign(-3)", -1.0), ("sign(0)", 0.0), ("square(3)", 9.0), ("gamma(5)", 24.0),
    ("maximum(1, 2)", 2.0), ("minimum(1, 2)", 1.0), ("arctan(1)", math.pi / 4), ("softplus(0)", math.log(2)),
    ("gelu(0)", 0.0), ("cosh(0)", 1.0), ("sinh(0)", 0.0), ("tan(0)", 0.0),
    ("sigmoid(-1000)", 0.0), ("sigmoid(1000)", 1.0), ("softplus(1000)", 1000.0), ("softplus(-1000)", 0.0),
])
def test_functions(source, value):
    assert ev(source) == pytest.approx(value)


@pytest.mark.parametrize("source", ["x", "W0", "x[0] + 1", "W0 @ x", "sum_N(W1)", "norm(W0)", "dot(a, b)", "undefined"])
def test_not_constant(source):
    with pytest.raises(ExprError):
        ev(source)


# --- overflow, domain errors, division by zero: refused, never hang ------------------------------
@pytest.mark.parametrize("source", [
    "10.0**10**10", "9**9**9", "2**2**2**2**2", "2.0**10000", "10.0**400", "1e308 * 10", "exp(1000)",
    "gamma(1000)", "cosh(1000)", "(1e200 * 1e200) - (1e200 * 1e200)",
])
def test_overflow_refused(source):
    with pytest.raises(ExprError):
        ev(source)


@pytest.mark.parametrize("source", ["1 / 0", "1 / (2 - 2)", "1 / (N - 4)", "0 ** -1"])
def test_division_by_zero(source):
    with pytest.raises(ExprError):
        ev(source, N=4)


@pytest.mark.parametrize("source", ["sqrt(-1)", "log(0)", "log(-1)", "(-8) ** 0.5"])
def test_domain_errors(source):
    with pytest.raises(ExprError):
        ev(source)


@pytest.mark.parametrize("source, fragment", [
    ("sum_N(1)", "reduces over an axis"), ("pi[0]", "indexing needs an array"), ("norm(2)", "needs arrays"),
    ("dot(1, 2)", "needs arrays"), ("2 @ 3", "'@' needs arrays"), ("W0", "'W0' is not a constant"),
])
def test_not_constant_messages(source, fragment):
    with pytest.raises(ExprError, match=fragment):
        ev(source, N=4)


def test_error_messages():
    with pytest.raises(ExprError, match="division by zero"):
        ev("1 / 0")
    with pytest.raises(ExprError, match="too large"):
        ev("9**9**9")
    with pytest.raises(ExprError, match="not a constant"):
        ev("W0")


# --- refused syntax --------------------------------------------------------------------------------
@pytest.mark.parametrize("source, fragment", [
    ("", "empty"),
    ("   ", "empty"),
    ("1 +", "cannot parse"),
    ("x.real", "attribute access"),
    ("'abc'", "only numbers"),
    ("b'abc'", "only numbers"),
    ("1j", "only numbers"),
    ("True", "only numbers"),
    ("None", "only numbers"),
    ("...", "only numbers"),
    ("lambda y: y", "lambda"),
    ("a if b else c", "if/else"),
    ("a < b", "comparisons"),
    ("a and b", "and/or"),
    ("[1, 2]", "list literals"),
    ("(1, 2)", "tuples"),
    ("{1: 2}", "dict literals"),
    ("{1, 2}", "set literals"),
    ("[y for y in x]", "comprehensions"),
    ("f'{x}'", "f-strings"),
    ("(a := 1)", "':='"),
    ("a ^ 2", "a**b"),
    ("a % 2", "not allowed"),
    ("a // 2", "not allowed"),
    ("~a", "not allowed"),
    ("not a", "not allowed"),
    ("x[i]", "constant integer index"),
    ("x[-1]", "constant integer index"),
    ("x[0:1]", "constant integer index"),
    ("x[True]", "constant integer index"),
    ("__import__('os')", "not allowed"),
    ("__class__", "not allowed"),
    ("_x", "not allowed"),
    ("(lambda: 1)()", "only named functions"),
    ("cos(x)(y)", "only named functions"),
    ("cos(x=1)", "keyword arguments"),
    ("coss(x)", "did you mean 'cos'"),
    ("eval(x)", "unknown function"),
    ("cos(x, y)", "one argument"),
    ("sum_N(a, b)", "one argument"),
    ("sum(a)", "named axis"),
    ("maximum(a)", "two arguments"),
    ("dot(a)", "two arguments"),
    ("yield", "cannot parse"),
    ("import os", "cannot parse"),
    ("a = 1", "cannot parse"),
    ("1; 2", "cannot parse"),
])
def test_refused(source, fragment):
    with pytest.raises(ExprError) as info:
        parse(source)
    text = str(info.value) + " " + (info.value.hint or "")
    assert fragment in text


def test_unknown_function_hint():
    with pytest.raises(ExprError) as info:
        parse("coss(x)")
    assert info.value.hint.startswith("did you mean 'cos'?")


@pytest.mark.parametrize("value", [True, False, float("nan"), float("inf"), -float("inf"), [1.0], {"a": 1}, None, 10**400])
def test_refused_values(value):
    with pytest.raises(ExprError):
        parse(value)


def test_length_limit():
    ok = "+".join(["1"] * 30)
    assert ev(ok) == 30.0
    long = "x" * (MAX_EXPR_CHARS + 1)
    with pytest.raises(ExprError, match="characters long"):
        parse(long)


def test_depth_limit():
    assert ev("-" * (MAX_DEPTH - 1) + "1") in (1.0, -1.0)
    with pytest.raises(ExprError, match="nested deeper"):
        parse("-" * (MAX_DEPTH + 5) + "1")
    with pytest.raises(ExprError, match="nested deeper"):
        parse("cos(" * (MAX_DEPTH + 5) + "x" + ")" * (MAX_DEPTH + 5))
    with pytest.raises(ExprError):                                 # Python's own parser limit
        parse("(" * 500 + "1" + ")" * 500)
    with pytest.raises(ExprError):                                 # long left-leaning chains too
        parse("+".join(["1"] * 500))


def test_huge_literal_refused():
    with pytest.raises(ExprError, match="too large"):
        parse("9" * 400)


# --- to_source -------------------------------------------------------------------------------------
@pytest.mark.parametrize("source", [
    "1 + 2 * 3", "(1 + 2) * 3", "2 ** 3 ** 2", "-2 ** 2", "(-2) ** 2", "1 - (2 - 3)", "a / b / c",
    "sum_N(W1 * cos(W0 @ x + b0))", "norm_d(W0) ** 2 + m ** 2", "x[0] * p0 + k * x[1]", "dot(a, b)",
    "maximum(a, minimum(b, 0))", "norm(W0)", "mean_N(relu(W0 @ x))", "-(-a)", "sigma_w0 / sqrt(d)",
])
def test_to_source_round_trip(source):
    tree = parse(source)
    text = to_source(tree)
    assert parse(text) == tree
    assert to_source(parse(text)) == text


def test_to_source_values_agree():
    for source in ["1 + 2 * 3", "2 ** 3 ** 2", "-2 ** 2", "10 / 4 / 5", "sqrt(2) * pi - e"]:
        assert ev(to_source(parse(source))) == pytest.approx(ev(source))


def test_to_source_reads_well():
    assert to_source(parse("sum_N(W1)")) == "sum_N(W1)"
    assert to_source(parse("x[1]")) == "x[1]"
    assert to_source(parse("W0 @ x")) == "(W0 @ x)"


def test_to_source_negative_numbers():
    tree = BinOp("**", Num(-2.0), Num(2.0))            # e.g. built from a YAML number -2
    assert evaluate_constant(parse(to_source(tree)), {}) == 4.0
    assert to_source(Neg(Num(2.0))) == "(-2.0)"
