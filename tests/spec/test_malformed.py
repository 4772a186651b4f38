"""Malformed spec files: every kind is refused with a SpecError naming the file and field path.

Each case is a real file written to ``tmp_path`` (YAML mostly, a few TOML and JSON), loaded with
``nnft.load`` and, for semantic errors, compiled with ``nnft.compile``. The test checks

- the error is a :class:`nnft.SpecError` (``GraphError`` is a subclass) raised at the right stage
  (a semantic error must load fine and fail at compile; a syntactic one must fail at load);
- the first line of ``str(err)`` is ``<file>: <field path>: ...`` with the expected file and path;
- the message contains case-specific fragments (what is allowed, or the suggestion);
- nothing leaked from the internals (no pydantic boilerplate, no Python exception names).
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import nnft

BASE = textwrap.dedent("""\
    nnft: 1
    name: test-net
    description: a small cos-net
    dims: {d: 2, N: 4}
    constants: {sigma_w: 1.0}
    params:
      W0: {shape: [N, d], density: {normal: {std: sigma_w / sqrt(d)}}}
      b0: {shape: [N],    density: {uniform: {low: -pi, high: pi}}}
      W1: {shape: [N],    density: {normal: {std: 1 / sqrt(N)}}}
    field: sum_N(W1 * cos(W0 @ x + b0))
""")

BASE_TOML = textwrap.dedent("""\
    nnft = 1
    name = "test-net"
    field = "sum_N(W1 * cos(W0 @ x + b0))"

    [dims]
    d = 2
    N = 4

    [constants]
    sigma_w = 1.0

    [params.W0]
    shape = ["N", "d"]
    density = {normal = {std = "sigma_w / sqrt(d)"}}

    [params.b0]
    shape = ["N"]
    density = {uniform = {low = "-pi", high = "pi"}}

    [params.W1]
    shape = ["N"]
    density = {normal = {std = "1 / sqrt(N)"}}
""")

BASE_DICT = {
    "nnft": 1, "name": "test-net", "dims": {"d": 2, "N": 4}, "constants": {"sigma_w": 1.0},
    "params": {"W0": {"shape": ["N", "d"], "density": {"normal": {"std": "sigma_w / sqrt(d)"}}},
               "b0": {"shape": ["N"], "density": {"uniform": {"low": "-pi", "high": "pi"}}},
               "W1": {"shape": ["N"], "density": {"normal": {"std": "1 / sqrt(N)"}}}},
    "field": "sum_N(W1 * cos(W0 @ x + b0))",
}


def sub(text: str, old: str, new: str) -> str:
    """``text`` with exactly one occurrence of ``old`` replaced (fails loudly if the base drifts)."""
    assert text.count(old) == 1, f"{old!r} must occur exactly once in the base spec"
    return text.replace(old, new)


def yml(old: str, new: str) -> str:
    return sub(BASE, old, new)


def js(**changes) -> str:
    data = json.loads(json.dumps(BASE_DICT))
    for path, value in changes.items():
        node = data
        keys = path.split("__")
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value
    return json.dumps(data, indent=2)


@dataclass
class Case:
    id: str
    text: str | bytes                  # file content; "@TMP@" is replaced by tmp_path
    field: str                         # expected field path (first line: "<file>: <field>: ...")
    fragments: tuple[str, ...]         # must all occur in str(err)
    stage: str = "load"                # "load": nnft.load fails; "compile": load ok, compile fails
    name: str = "spec.yaml"
    extra: dict[str, str] = field(default_factory=dict)   # other files next to it
    sizes: dict[str, int] = field(default_factory=dict)   # nnft.load(path, **sizes)
    err_file: str | None = None        # file the error names (default: the loaded file)
    # other field paths that are as good for the user: which layer refuses first (nnft's own walk, or
    # the parser library of the day) may change with a dependency release; the user's facts must not
    also_fields: tuple[str, ...] = ()


CASES = [
    # --- top-level structure and version ---------------------------------------------------------
    Case("unknown-top-level-field", yml("description: a small cos-net", "descripton: a small cos-net"),
         "descripton", ("unknown field 'descripton'", "did you mean 'description'?", "allowed: ")),
    Case("misspelt-field-key", yml("field: sum_N", "feild: sum_N"),
         "feild", ("unknown field 'feild'", "did you mean 'field'?")),
    Case("missing-field", yml("field: sum_N(W1 * cos(W0 @ x + b0))\n", ""),
         "field", ("required field 'field' is missing",)),
    Case("missing-version", yml("nnft: 1\n", ""), "nnft", ("required field 'nnft' is missing", "nnft: 1")),
    Case("wrong-version", yml("nnft: 1\n", "nnft: 2\n"), "nnft", ("unsupported spec format version", "allowed: nnft: 1")),
    Case("boolean-version", yml("nnft: 1\n", "nnft: true\n"), "nnft", ("unsupported spec format version", "nnft: 1")),
    Case("top-level-not-a-mapping", "- nnft: 1\n- name: x\n", "<top level>", ("must be a mapping",)),
    Case("source-in-spec", BASE + "source: /etc/passwd\n", "source", ("unknown field 'source'", "cannot be set")),
    Case("unknown-study-field", BASE + "study: {sampels: 1000}\n", "study.sampels",
         ("unknown field 'sampels'", "did you mean 'samples'?")),
    # --- densities -------------------------------------------------------------------------------
    Case("unknown-density", yml("{normal: {std: sigma_w", "{norml: {std: sigma_w"), "params.W0.density",
         ("unknown density 'norml'", "did you mean 'normal'?", "uniform")),
    Case("unknown-density-argument", yml("{normal: {std: sigma_w", "{normal: {sd: sigma_w"),
         "params.W0.density.normal.sd", ("no argument 'sd'", "did you mean 'std'?", "normal(std, mean=0)")),
    Case("missing-density-argument", yml("{low: -pi, high: pi}", "{low: -pi}"), "params.b0.density.uniform",
         ("needs argument(s) high", "uniform(low, high)")),
    Case("two-density-kinds", yml("{normal: {std: 1 / sqrt(N)}}", "{normal: {std: 1}, cauchy: {scale: 1}}"),
         "params.W1.density", ("exactly one key", "normal")),
    Case("negative-std", yml("{std: 1 / sqrt(N)}", "{std: -1.0}"), "params.W1.density.normal.std",
         ("std must be positive", "got -1.0"), stage="compile"),
    Case("zero-std", yml("{std: 1 / sqrt(N)}", "{std: 0}"), "params.W1.density.normal.std",
         ("std must be positive", "got 0.0"), stage="compile"),
    Case("negative-std-via-constant", yml("{sigma_w: 1.0}", "{sigma_w: -1.0}"), "params.W0.density.normal.std",
         ("std must be positive", "got -0.7071"), stage="compile"),
    Case("uniform-low-not-below-high", yml("{low: -pi, high: pi}", "{low: pi, high: -pi}"),
         "params.b0.density.uniform", ("low must be < high", "low < high"), stage="compile"),
    Case("boolean-for-number", yml("{std: 1 / sqrt(N)}", "{std: true}"), "params.W1.density.normal.std",
         ("got a boolean", "a number")),
    Case("list-for-number", yml("{std: 1 / sqrt(N)}", "{std: [1, 2]}"), "params.W1.density.normal.std",
         ("expected a number or an expression string, got a list",)),
    Case("list-for-constant-named-like-a-type", yml("{sigma_w: 1.0}", "{sigma_w: 1.0, strength: [1], integer: 2}"),
         "constants.strength", ("got a list",)),
    Case("wrong-type-in-line-point", BASE + "study: {points: {line: {start: [0, 'a'], stop: 1, n: 2}}}\n",
         "study.points.line.start[1]", ("valid number", "'a'")),
    Case("nan-in-yaml", yml("{std: 1 / sqrt(N)}", "{std: .nan}"), "params.W1.density.normal.std",
         ("non-finite number", "finite numbers")),
    Case("inf-in-yaml", yml("{sigma_w: 1.0}", "{sigma_w: .inf}"), "constants.sigma_w", ("non-finite number",)),
    Case("density-arg-depends-on-x", yml("{std: 1 / sqrt(N)}", "{std: '1 + abs(x[0])'}"),
         "params.W1.density.normal.std", ("cannot depend on the input x",), stage="compile"),
    Case("density-arg-foreign-axis", yml("{std: 1 / sqrt(N)}", "{std: 1 + abs(W0)}"),
         "params.W1.density.normal.std", ("axes ('N', 'd')", "parameter's own axes"), stage="compile"),
    Case("cyclic-densities",
         yml("  W1: {shape: [N],    density: {normal: {std: 1 / sqrt(N)}}}\n",
             "  W1: {shape: [N],    density: {normal: {std: 1 / sqrt(N)}}}\n"
             "  A: {shape: [N], density: {normal: {std: 1 + abs(B)}}}\n"
             "  B: {shape: [N], density: {normal: {std: 1 + abs(A)}}}\n"),
         "params.A.density", ("cycle", "A -> B", "break the cycle"), stage="compile"),
    Case("self-referencing-density", yml("{std: 1 / sqrt(N)}", "{std: 1 + abs(W1)}"), "params.W1.density",
         ("cycle", "W1 -> W1"), stage="compile"),
    Case("unknown-reference", BASE + "reference: {cosnet: {sigma_w0: sigma_w}}\n", "reference",
         ("unknown reference 'cosnet'", "did you mean 'cos_net'?")),
    Case("reference-arg-is-a-parameter", BASE + "reference: {cos_net: {sigma_w0: W0}}\n", "reference.cos_net.sigma_w0",
         ("refers to 'W0', which is a parameter", "constants"), stage="compile"),
    Case("reference-arg-violates-constraint", BASE + "reference: {cos_net: {sigma_w0: -sigma_w}}\n", "reference.cos_net",
         ("sigma_w0", "nonnegative"), stage="compile"),
    # --- sizes and shapes ------------------------------------------------------------------------
    Case("negative-width", yml("N: 4}", "N: -3}"), "dims.N", ("greater than or equal to 1",)),
    Case("zero-width", yml("N: 4}", "N: 0}"), "dims.N", ("greater than or equal to 1",)),
    Case("fractional-width", yml("N: 4}", "N: 2.5}"), "dims.N", ("integer",)),
    Case("boolean-width", yml("N: 4}", "N: true}"), "dims.N", ("expected an integer, got a boolean",)),
    Case("missing-d", yml("{d: 2, N: 4}", "{N: 4}"), "dims", ("input dimension 'd'",)),
    Case("bad-size-name", yml("{d: 2, N: 4}", "{d: 2, N: 4, 2N: 8}"), "dims.2N", ("invalid name '2N'", "start with a letter")),
    Case("undeclared-size-in-shape", yml("[N, d]", "[M, d]"), "params.W0.shape",
         ("axis 'M' is not a declared size", "d, N"), stage="compile"),
    Case("repeated-axis", yml("[N, d]", "[N, N]"), "params.W0.shape", ("appears twice",)),
    Case("huge-parameter-block", yml("{d: 2, N: 4}", "{d: 2, N: 10000000, M: 10000000}").replace("[N, d]", "[N, M]"),
         "params.W0.shape", ("100000000000000 elements per network", "at most"), stage="compile"),
    Case("huge-square-block", yml("{d: 2, N: 4}", "{d: 2, N: 10000000}").replace("[N, d]", "[N, N]"),
         "params.W0.shape", ("appears twice",)),
    Case("huge-total-parameters", yml("{d: 2, N: 4}", "{d: 4, N: 10000000}"), "params.W1.shape",
         ("together", "at most"), stage="compile"),
    Case("override-unknown-size", BASE, "M", ("no size or constant", "'M'", "sizes: d, N"), sizes={"M": 3}),
    # --- expressions (syntax: refused at load) ---------------------------------------------------
    Case("unknown-function", yml("cos(W0", "coss(W0"), "field", ("unknown function 'coss'", "did you mean 'cos'?")),
    Case("dunder-import", yml("field: sum_N(W1 * cos(W0 @ x + b0))", "field: __import__('os')"), "field",
         ("'__import__' is not allowed",)),
    Case("attribute-access", yml("@ x +", "@ x.real +"), "field", ("attribute access",)),
    Case("string-literal", yml("field: sum_N(W1 * cos(W0 @ x + b0))", "field: sum_N(W1) * 'abc'"), "field",
         ("only numbers are allowed as literals", "'abc'")),
    Case("lambda", yml("field: sum_N(W1 * cos(W0 @ x + b0))", "field: 'lambda y: y'"), "field", ("lambda",)),
    Case("caret-as-power", yml("field: sum_N(W1 * cos(W0 @ x + b0))", "field: sum_N(W1 * cos(W0 @ x + b0))^2"),
         "field", ("'^' is not a power", "a**b")),
    Case("comparison", yml("{std: 1 / sqrt(N)}", "{std: N > 2}"), "params.W1.density.normal.std", ("comparisons",)),
    Case("keyword-argument", yml("cos(W0 @ x + b0)", "cos(W0 @ x + b0, out=W1)"), "field", ("keyword arguments",)),
    Case("expression-too-long", yml("field: sum_N(W1 * cos(W0 @ x + b0))",
                                    "field: sum_N(W1)" + " + sum_N(W1)" * 200), "field",
         ("characters long", "at most 2000")),
    Case("deeply-nested-parentheses", yml("field: sum_N(W1 * cos(W0 @ x + b0))",
                                          "field: " + "(" * 500 + "sum_N(W1)" + ")" * 500), "field",
         ("cannot parse expression", "nested")),
    Case("deeply-nested-calls", yml("field: sum_N(W1 * cos(W0 @ x + b0))",
                                    "field: sum_N(W1 * " + "cos(" * 170 + "b0" + ")" * 170 + ")"), "field",
         ("nested deeper than 150",)),
    Case("huge-integer-literal", yml("{sigma_w: 1.0}", "{sigma_w: " + "9" * 400 + "}"), "constants.sigma_w",
         ("number too large", "400 digits")),
    # --- expressions (semantics: refused at compile) ---------------------------------------------
    Case("undefined-name", yml("+ b0))", "+ bb0))"), "field", ("undefined name 'bb0'", "did you mean 'b0'?"),
         stage="load"),
    Case("matmul-without-shared-axis", yml("cos(W0 @ x + b0)", "cos(W1 @ x)"), "field",
         ("'@' needs a shared axis", "('N',) and ('d',)"), stage="compile"),
    Case("sum-over-missing-axis", yml("field: sum_N(", "field: sum_M("), "field",
         ("no axis 'M'", "e.g. sum_N(...)"), stage="compile"),
    Case("forgotten-sum", yml("field: sum_N(W1 * cos(W0 @ x + b0))", "field: W1 * cos(W0 @ x + b0)"), "field",
         ("free axes ('N',)", "sum_N("), stage="compile"),
    Case("index-out-of-range", yml("@ x + b0", "@ x + b0 + x[5]"), "field",
         ("index 5 out of range", "size 2"), stage="compile"),
    Case("constant-with-reduction", yml("{sigma_w: 1.0}", "{sigma_w: sum_N(2)}"), "constants.sigma_w",
         ("reduces over an axis",), stage="compile"),
    Case("reduction-of-a-constant", yml("field: sum_N(W1 * cos(W0 @ x + b0))", "field: sum_N(W1) + sum_N(N)"),
         "field", ("no axis 'N'", "its axes are ()"), stage="compile"),
    Case("constants-cycle", yml("{sigma_w: 1.0}", "{sigma_w: 1.0, a: b + 1, b: a + 1}"), "constants.a",
         ("cycle", "a -> b -> a"), stage="compile"),
    Case("constant-refers-to-parameter", yml("{sigma_w: 1.0}", "{sigma_w: 1.0, c: 2 * W1}"), "constants.c",
         ("'W1'", "a parameter", "allowed: numbers, sizes"), stage="compile"),
    Case("constant-undefined-name", yml("{sigma_w: 1.0}", "{sigma_w: 1.0, c: 2 * sigma_ww}"), "constants.c",
         ("'sigma_ww'", "did you mean 'sigma_w'?"), stage="compile"),
    Case("division-by-zero-in-constant", yml("{sigma_w: 1.0}", "{sigma_w: 1 / (N - 4)}"), "constants.sigma_w",
         ("division by zero",), stage="compile"),
    Case("power-overflow-in-constant", yml("{sigma_w: 1.0}", "{sigma_w: 9**9**9}"), "constants.sigma_w",
         ("too large",), stage="compile"),
    Case("name-collision", yml("{sigma_w: 1.0}", "{sigma_w: 1.0, W1: 2.0}"), "params.W1",
         ("declared in both constants and params",)),
    Case("reserved-name", yml("{sigma_w: 1.0}", "{sigma_w: 1.0, cos: 2.0}"), "constants.cos", ("reserved name",)),
    # --- YAML safety ----------------------------------------------------------------------------
    Case("yaml-python-tag", yml("{std: 1 / sqrt(N)}", '{std: !!python/object/apply:os.system ["touch @TMP@/pwned"]}'),
         "params.W1.density.normal.std", ("YAML tag", "python/object/apply:os.system", "not allowed")),
    Case("yaml-alias-bomb", "nnft: 1\n" + "".join(
        f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}" if i else '"lol"'] * 9) + "]\n" for i in range(9)),
         "l0", ("anchors and aliases",)),
    Case("yaml-merge-key", yml("  W1: {shape: [N],", "  W1: {<<: {shape: [N]},"), "params.W1", ("merge keys",)),
    Case("yaml-duplicate-key", BASE + "field: W1\n", "field", ("duplicate key 'field'",)),
    Case("yaml-syntax-error", yml("{d: 2, N: 4}", "{d: 2, N: 4"), "<file>", ("not valid YAML", "line")),
    Case("yaml-deep-nesting", "nnft: 1\na: " + "[" * 20000 + "]" * 20000 + "\n", "a" + "[0]" * 31,
         ("nested deeper than 32",), also_fields=("<file>",)),
    Case("yaml-moderate-nesting", "nnft: 1\na: " + "[" * 40 + "]" * 40 + "\n", "a" + "[0]" * 31,
         ("nested deeper than 32",)),
    Case("yaml-deep-block-nesting", "nnft: 1\n" + "".join("  " * i + f"k{i}:\n" for i in range(40)) + "  " * 40
         + "v: 1\n", "k0." + ".".join(f"k{i}" for i in range(1, 32)), ("nested deeper than 32",),
         also_fields=("<file>",)),
    Case("yaml-explicit-set-tag", yml("name: test-net", "name: !!set {a, b}"), "name", ("YAML tag", "set")),
    Case("yaml-local-tag", yml("nnft: 1", "nnft: !v 1"), "nnft", ("YAML tag '!v'",)),
    Case("yaml-two-documents", BASE + "---\nnnft: 2\n", "<file>", ("single document",)),
    Case("empty-file", "", "<top level>", ("must be a mapping",)),
    Case("non-mapping-key", "nnft: 1\n? [a, b]\n: 1\n", "<top level>", ("mapping keys",)),
    # --- files ------------------------------------------------------------------------------------
    Case("unsupported-extension", BASE, "<file>", ("unsupported spec file extension '.txt'", ".yaml"), name="spec.txt"),
    Case("file-too-large", BASE + "#" * 1_100_000 + "\n", "<file>", ("bytes", "at most 1000000")),
    Case("non-utf8", BASE.encode() + b"description: caf\xe9\n", "<file>", ("not UTF-8",)),
    Case("extends-missing", "extends: cos_nett\nname: mine\n", "extends",
         ("no such spec file", "did you mean 'cos_net'?")),
    Case("extends-not-a-name", "extends: [cos_net]\nname: mine\n", "extends", ("names one spec file",)),
    Case("extends-null", "extends: null\nname: mine\n", "extends", ("names one spec file",)),
    Case("extends-cycle", "extends: b.yaml\nname: a\n", "extends", ("forms a cycle", "a.yaml", "b.yaml"),
         name="a.yaml", extra={"b.yaml": "extends: a.yaml\nname: b\n"}),   # located in the file the user named
    # --- TOML ------------------------------------------------------------------------------------
    Case("toml-unknown-density", sub(BASE_TOML, "{normal = {std = \"sigma_w", "{norml = {std = \"sigma_w"),
         "params.W0.density", ("did you mean 'normal'?",), name="spec.toml"),
    Case("toml-nan", sub(BASE_TOML, "sigma_w = 1.0", "sigma_w = nan"), "constants.sigma_w", ("non-finite",),
         name="spec.toml"),
    Case("toml-missing-d", sub(BASE_TOML, "d = 2\n", ""), "dims", ("'d'",), name="spec.toml"),
    Case("toml-syntax-error", sub(BASE_TOML, 'name = "test-net"', "name = "), "<file>", ("not valid TOML",),
         name="spec.toml"),
    Case("toml-forgotten-sum", sub(BASE_TOML, 'field = "sum_N(W1 * cos(W0 @ x + b0))"', 'field = "W1"'),
         "field", ("free axes",), name="spec.toml", stage="compile"),
    # --- JSON ------------------------------------------------------------------------------------
    Case("json-wrong-version", js(nnft=2), "nnft", ("unsupported spec format version",), name="spec.json"),
    Case("json-nan", js(params__W1__density={"normal": {"std": float("nan")}}), "params.W1.density.normal.std",
         ("non-finite",), name="spec.json"),
    Case("json-duplicate-key", js().replace('"name": "test-net"', '"name": "a", "name": "b"'), "name",
         ("duplicate key 'name'",), name="spec.json"),
    Case("json-syntax-error", js()[:-3], "<file>", ("not valid JSON",), name="spec.json"),
    Case("json-top-level-list", "[1, 2, 3]", "<top level>", ("must be a mapping",), name="spec.json"),
    Case("json-deep-nesting", '{"a": ' + "[" * 900 + "]" * 900 + "}", "a" + "[0]" * 31, ("nested deeper than 32",),
         name="spec.json"),
    Case("json-shape-not-a-list", js(params__W1__shape="N"), "params.W1.shape", ("valid list",), name="spec.json"),
]

#: fragments that would mean an internal error leaked out instead of a spec message
LEAKS = ("Traceback", "pydantic", "errors.pydantic.dev", "KeyError", "function-after", "function-before",
         "union[", "[key]", "Value error,")


def _write(tmp_path: Path, case: Case) -> Path:
    for name, text in case.extra.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    path = tmp_path / case.name
    if isinstance(case.text, bytes):
        path.write_bytes(case.text)
    else:
        path.write_text(case.text.replace("@TMP@", str(tmp_path)), encoding="utf-8")
    return path


def test_enough_kinds():
    assert len(CASES) >= 35
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed(tmp_path: Path, case: Case):
    path = _write(tmp_path, case)
    if case.stage == "load":
        with pytest.raises(nnft.SpecError) as info:
            nnft.load(path, **case.sizes)
    else:
        assert case.stage == "compile"
        theory = nnft.load(path, **case.sizes)       # a semantic error must get past the loader
        with pytest.raises(nnft.SpecError) as info:
            nnft.compile(theory)
    err = info.value
    msg = str(err)
    err_path = tmp_path / case.err_file if case.err_file else path
    first = msg.splitlines()[0]
    assert err_path.name in msg
    fields = (case.field, *case.also_fields)
    assert any(first.startswith(f"{err_path}: {f}: ") for f in fields), msg
    assert err.field in fields
    for frag in case.fragments:
        assert frag in msg, f"{frag!r} not in:\n{msg}"
    for leak in LEAKS:
        assert leak not in msg, f"internal detail {leak!r} leaked into:\n{msg}"


def test_python_tag_executes_nothing(tmp_path: Path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.yaml"
    path.write_text(f'nnft: 1\nname: !!python/object/apply:os.system ["touch {marker}"]\n', encoding="utf-8")
    with pytest.raises(nnft.SpecError, match="YAML tag"):
        nnft.load(path)
    assert not marker.exists()


def test_alias_bomb_is_refused_before_expansion(tmp_path: Path):
    # 10 levels of 10 aliases: 10**10 leaves if it were ever expanded
    lines = ['a0: &a0 ["lol"]'] + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(nnft.SpecError, match="anchors and aliases"):
        nnft.load(path)


def test_pure_python_yaml_parser_refuses_the_same(tmp_path: Path, monkeypatch):
    """Without libyaml the pure-Python parser is used; it stops at the first problem too."""
    import yaml

    import nnft.spec.read as load_mod
    monkeypatch.setattr(load_mod, "_YAML_LOADER", yaml.SafeLoader)
    for case in [c for c in CASES if c.id.startswith("yaml-") and c.id != "yaml-syntax-error"]:
        path = _write(tmp_path, case)
        with pytest.raises(nnft.SpecError) as info:
            nnft.load(path)
        assert info.value.field == case.field, case.id
    good = tmp_path / "good.yaml"
    good.write_text(BASE, encoding="utf-8")
    assert nnft.load(good).name == "test-net"


def test_from_dict_names_the_field():
    data = json.loads(js(params__W0__density={"norml": {"std": 1.0}}))
    with pytest.raises(nnft.SpecError) as info:
        nnft.from_dict(data, source="inline")
    assert info.value.file == "inline"
    assert info.value.field == "params.W0.density"
    assert "did you mean 'normal'?" in str(info.value)


def test_with_dims_refuses_bad_sizes():
    theory = nnft.from_dict(json.loads(js()))
    with pytest.raises(nnft.SpecError, match="unknown size"):
        theory.with_dims(M=3)
    with pytest.raises(nnft.SpecError) as info:
        theory.with_dims(N=0)
    assert info.value.field == "dims.N"
    with pytest.raises(nnft.SpecError) as info:
        theory.with_dims(N=True)
    assert info.value.field == "dims.N"
    np = pytest.importorskip("numpy")
    with pytest.raises(nnft.SpecError, match="boolean"):
        theory.with_dims(N=np.bool_(True))
    assert theory.with_dims(N=np.int64(3)).dims["N"] == 3


def test_directory_is_not_a_spec(tmp_path: Path):
    (tmp_path / "dir.yaml").mkdir()
    with pytest.raises(nnft.SpecError, match="not a regular file") as info:
        nnft.load(tmp_path / "dir.yaml")
    assert info.value.field == "<file>"
    child = tmp_path / "child.yaml"
    child.write_text("extends: dir.yaml\nname: c\n", encoding="utf-8")
    with pytest.raises(nnft.SpecError, match="not a regular file"):
        nnft.load(child)


def test_override_size_refuses_bad_values(tmp_path: Path):
    path = tmp_path / "spec.yaml"
    path.write_text(BASE, encoding="utf-8")
    with pytest.raises(nnft.SpecError) as info:
        nnft.load(path, N=-1)
    assert info.value.field == "dims.N" and "spec.yaml" in str(info.value)


def test_spec_error_attributes(tmp_path: Path):
    path = tmp_path / "spec.yaml"
    path.write_text(yml("{normal: {std: sigma_w", "{norml: {std: sigma_w"), encoding="utf-8")
    with pytest.raises(nnft.SpecError) as info:
        nnft.load(path)
    err = info.value
    assert err.file == str(path)
    assert err.field == "params.W0.density"
    assert err.hint == "did you mean 'normal'?"
    assert "normal" in err.allowed and "uniform" in err.allowed
