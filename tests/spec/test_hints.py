"""Hints in spec errors (issue 11, item 8): what a message proposes, not only that it refuses.

- a name declared nowhere proposes declaring it (under ``constants:``, with the snippet; under
  ``params:`` when it is used as an array), beside the nearest declared name when there is one;
- a misspelt activation or density kind gets "did you mean"; the common aliases of densities
  (``gaussian`` for ``normal``) are accepted and normalised to the canonical name at validation;
- a field with a free axis points at the shape of the parameter that carries it;
- the JSON Schema enumerates the density, reference and potential kinds and states the runtime bounds.

No JAX here except the one end-to-end compile of the free-axis case.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import nnft
from nnft.errors import suggest
from nnft.inputs import COUNTS, MAX_CHUNK, MAX_COORDINATE, MAX_ORDER, MAX_POINTS, MAX_SAMPLES, MAX_SEED
from nnft.spec.constants import evaluate_constants
from nnft.spec.fields import MAX_INPUT_DIM
from nnft.spec.mlp import expand
from nnft.spec.hints import free_axis_error
from nnft.spec.models import Theory
from nnft.spec.signatures import (DENSITIES, DENSITY_ALIASES, POTENTIAL_ALIASES, POTENTIALS, REFERENCE_ALIASES,
                                  REFERENCES)

COS_NET = textwrap.dedent("""\
    nnft: 1
    name: cos-net
    dims: {d: 2, N: 4}
    constants: {sigma_w0: 1.0, sigma_w1: 1.0}
    params:
      W0: {shape: [N, d], density: {normal: {std: sigma_w0 / sqrt(d)}}}
      b0: {shape: [N],    density: {uniform: {low: -pi, high: pi}}}
      W1: {shape: [N],    density: {normal: {std: sigma_w1 / sqrt(N)}}}
    field: sum_N(W1 * cos(W0 @ x + b0))
""")

MLP = textwrap.dedent("""\
    nnft: 1
    name: tanh-mlp
    dims: {d: 3, N: 8, L: 2}
    constants: {C_W: 1.0, C_b: 0.0}
    mlp: {depth: L, width: N, activation: tanh, weight_var: C_W / fan_in, bias_var: C_b}
""")


def _write(tmp_path: Path, text: str, old: str = "", new: str = "") -> Path:
    assert old in text
    path = tmp_path / "spec.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _refused(tmp_path: Path, text: str, old: str, new: str) -> nnft.SpecError:
    with pytest.raises(nnft.SpecError) as info:
        nnft.load(_write(tmp_path, text, old, new))
    return info.value


# --- 1. a name declared nowhere ----------------------------------------------------------------

def test_forgotten_constant_in_a_density_proposes_declaring_it(tmp_path: Path):
    err = _refused(tmp_path, COS_NET, "sigma_w1 / sqrt(N)}", "sigma_w1 / sqrt(N) * lam}")
    assert err.file.endswith("spec.yaml") and err.field == "params.W1.density.normal.std"
    assert "undefined name 'lam'" in err.message and "sigma_w1 / sqrt(N) * lam" in err.message
    assert "constants (sigma_w0, sigma_w1)" in err.allowed
    assert err.hint == "declare it under constants:, e.g. constants: {sigma_w0: 1.0, sigma_w1: 1.0, lam: <value>}"
    assert "did you mean" not in err.hint         # no near name: not a guess at sigma_w0
    # the snippet, with a value, is a constants: block that makes the spec load
    snippet = yaml.safe_load(err.hint.split("e.g. ", 1)[1].replace("<value>", "0.5"))
    fixed = COS_NET.replace("sigma_w1 / sqrt(N)}", "sigma_w1 / sqrt(N) * lam}").replace(
        "constants: {sigma_w0: 1.0, sigma_w1: 1.0}", "constants: " + yaml.safe_dump(snippet["constants"],
                                                                                     default_flow_style=True).strip())
    assert nnft.load(_write(tmp_path, fixed)).constants["lam"] == 0.5


def test_forgotten_constant_in_the_field_is_refused_at_load(tmp_path: Path):
    err = _refused(tmp_path, COS_NET, "field: sum_N(W1 * cos(W0 @ x + b0))",
                   "field: lam * sum_N(W1 * cos(W0 @ x + b0))")
    assert err.field == "field" and "constants:" in err.hint and "lam: <value>" in err.hint
    assert "\n" not in err.message


def test_near_name_and_declaration_both_offered(tmp_path: Path):
    err = _refused(tmp_path, COS_NET, "sigma_w1 / sqrt(N)}", "sigma_w2 / sqrt(N)}")
    assert err.hint.startswith("did you mean 'sigma_w1'? If 'sigma_w2' is new, declare it under constants:")


def test_name_used_as_an_array_proposes_a_parameter(tmp_path: Path):
    err = _refused(tmp_path, COS_NET, "cos(W0 @ x + b0)", "cos(W2 @ x + b0)")
    assert err.field == "field"
    assert "declare it under params: with a shape and a density" in err.hint
    assert "params: {W2: {shape: [N, d], density: {normal: {std: 1.0}}}}" in err.hint
    assert "constants:" not in err.hint


def test_function_name_without_a_call(tmp_path: Path):
    err = _refused(tmp_path, COS_NET, "W1 * cos(W0 @ x + b0)", "W1 * cos")
    assert err.hint == "'cos' is a function: call it, e.g. cos(...)"


def test_forgotten_constant_inside_constants_and_mlp(tmp_path: Path):
    theory = nnft.load(_write(tmp_path, COS_NET, "sigma_w1: 1.0}", "sigma_w1: 2 * gain}"))
    with pytest.raises(nnft.SpecError) as info:
        evaluate_constants(theory)
    assert info.value.field == "constants.sigma_w1"
    assert info.value.hint.endswith("constants: {sigma_w0: 1.0, sigma_w1: \"2 * gain\", gain: <value>}")
    err = _refused(tmp_path, MLP, "weight_var: C_W / fan_in", "weight_var: gain / fan_in")
    assert err.field == "mlp.weight_var" and "declare it under constants:" in err.hint and "gain: <value>" in err.hint
    err = _refused(tmp_path, MLP, "weight_var: C_W / fan_in", "weight_var: C_WW / fan_in")
    assert err.hint.startswith("did you mean 'C_W'? If 'C_WW' is new, declare it under constants:")


def test_cli_message_is_one_line_naming_file_field_allowed_and_fix(tmp_path: Path):
    from nnft.cli import main
    path = _write(tmp_path, COS_NET, "sigma_w1 / sqrt(N)}", "sigma_w1 / sqrt(N) * lam}")
    r = CliRunner().invoke(main, ["validate", str(path)])
    assert r.exit_code == 2
    out = r.output.strip()
    assert len(out.splitlines()) == 1 and "Traceback" not in out
    assert f"{path}: params.W1.density.normal.std: undefined name 'lam'" in out
    assert "allowed: parameters (W0, b0, W1)" in out and "hint: declare it under constants:" in out


# --- 2. did you mean, and aliases ------------------------------------------------------------------

def test_activation_typo_suggests_the_activation(tmp_path: Path):
    for typo, meant in (("tahn", "tanh"), ("Tanh", "tanh"), ("rleu", "relu"), ("sigmiod", "sigmoid")):
        theory = nnft.load(_write(tmp_path, MLP, "activation: tanh", f"activation: {typo}"))
        with pytest.raises(nnft.SpecError) as info:
            expand(theory)
        err = info.value
        assert err.field == "mlp.activation" and f"unknown activation {typo!r}" in err.message
        assert err.hint == f"did you mean {meant!r}?", typo
        assert "tanh" in err.allowed and "an expression in z" in err.allowed
    # an expression in z with an undeclared name proposes a constant
    theory = nnft.load(_write(tmp_path, MLP, "activation: tanh", "activation: 'tanh(beta * z)'"))
    with pytest.raises(nnft.SpecError, match="undefined name") as info:
        expand(theory)
    assert "constants: {beta: <value>}" in info.value.hint
    # the named activations and expressions still expand
    for act in ("tanh", "linear", "'z * sigmoid(z)'"):
        assert expand(nnft.load(_write(tmp_path, MLP, "activation: tanh", f"activation: {act}"))).field


def test_suggest_prefers_a_transposition_and_case():
    assert suggest("tahn", ["tan", "tanh"]) == "tanh"      # difflib alone says 'tan'
    assert suggest("NORMAL", ["normal", "uniform"]) == "normal"
    assert suggest("nromal", ["normal", "uniform"]) == "normal"
    assert suggest("qqq", ["normal", "uniform"]) is None


def test_density_alias_is_accepted_and_normalised(tmp_path: Path):
    canonical = nnft.load(_write(tmp_path, COS_NET))
    aliased = nnft.load(_write(tmp_path, COS_NET, "W1: {shape: [N],    density: {normal:",
                               "W1: {shape: [N],    density: {gaussian:"))
    assert aliased.params["W1"].density_kind == "normal"
    assert aliased == canonical and "gaussian" not in str(aliased.model_dump())
    for alias, kind in DENSITY_ALIASES.items():
        assert kind in DENSITIES and alias not in DENSITIES
    assert not REFERENCE_ALIASES and not POTENTIAL_ALIASES


def test_density_typo_and_alias_argument_errors(tmp_path: Path):
    err = _refused(tmp_path, COS_NET, "density: {normal: {std: sigma_w1", "density: {gausian: {std: sigma_w1")
    assert err.field == "params.W1.density" and err.message == "unknown density 'gausian'"
    assert err.hint == "did you mean 'normal'?"            # through the alias 'gaussian', named canonically
    assert "normal" in err.allowed and "gaussian" not in err.allowed
    err = _refused(tmp_path, COS_NET, "density: {normal: {std: sigma_w1", "density: {gaussian: {sdt: sigma_w1")
    assert err.field == "params.W1.density.gaussian.sdt"   # the kind as the user wrote it
    assert err.hint == "did you mean 'std'?" and err.allowed == "normal(std, mean=0)"


# --- 3. a free axis points at the shape --------------------------------------------------------------

WIDE_READOUT = ("W1: {shape: [N],    density", "W1: {shape: [N, d], density")


def test_wrong_readout_shape_points_at_the_shape(tmp_path: Path):
    theory = nnft.load(_write(tmp_path, COS_NET, *WIDE_READOUT))          # well-formed: the graph refuses it
    field, message, got, hint = free_axis_error(theory, ("d",))
    assert field == "params.W1.shape" and got == ["N", "d"]
    assert "free axes ('d',)" in message and "W1 (shape [N, d])" in message
    assert hint == "give W1 the shape [N] (without 'd'), or contract 'd' where W1 is used"
    assert "sum_" not in hint                                              # not 'wrap the field in a sum'


def test_forgotten_sum_and_elementwise_product_keep_their_hints(tmp_path: Path):
    theory = nnft.load(_write(tmp_path, COS_NET, "field: sum_N(W1 * cos(W0 @ x + b0))",
                              "field: W1 * cos(W0 @ x + b0)"))
    field, message, _, hint = free_axis_error(theory, ("N",))
    assert field == "field" and "free axes ('N',)" in message and hint == "reduce it, e.g. sum_N(...)"
    theory = nnft.load(_write(tmp_path, COS_NET, "cos(W0 @ x + b0)", "cos(W0 * x + b0)"))
    field, message, _, hint = free_axis_error(theory, ("d",))
    assert field == "field" and "W0 (shape [N, d]), x (axis d)" in message
    assert hint.startswith("contract it where they meet (W0 @ x rather than W0 * x)")


def test_wrong_readout_shape_end_to_end(tmp_path: Path):
    theory = nnft.load(_write(tmp_path, COS_NET, *WIDE_READOUT))
    with pytest.raises(nnft.SpecError) as info:
        nnft.compile(theory)
    assert info.value.field == "params.W1.shape" and "shape [N]" in info.value.hint


# --- 4. the JSON Schema agrees with the runtime --------------------------------------------------------

def _resolve(schema: dict, node: dict) -> dict:
    ref = node.get("$ref")
    return schema["$defs"][ref.rsplit("/", 1)[1]] if ref else node


def _branch(schema: dict, node: dict, kind: str) -> dict:
    """The non-null branch of ``node`` (``X | None`` is an anyOf) of JSON type ``kind``."""
    node = _resolve(schema, node)
    for sub in node.get("anyOf", [node]):
        sub = _resolve(schema, sub)
        if sub.get("type") == kind:
            return sub
    raise AssertionError(f"no {kind} branch in {node}")


def _check_tagged(schema: dict, node: dict, table, aliases) -> None:
    node = _branch(schema, node, "object")
    assert set(node["propertyNames"]["enum"]) == set(table) | set(aliases)
    assert node["minProperties"] == node["maxProperties"] == 1 and node["additionalProperties"] is False
    for kind, sig in table.items():
        entry = node["properties"][kind]
        assert list(entry["properties"]) == list(sig.args) and entry["required"] == list(sig.required)
        assert entry["additionalProperties"] is False
    for alias, kind in aliases.items():
        assert node["properties"][alias]["required"] == node["properties"][kind]["required"]


def test_schema_enumerates_kinds_from_the_signature_tables():
    schema = Theory.model_json_schema()
    defs = schema["$defs"]
    _check_tagged(schema, defs["Param"]["properties"]["density"], DENSITIES, DENSITY_ALIASES)
    _check_tagged(schema, schema["properties"]["reference"], REFERENCES, REFERENCE_ALIASES)
    _check_tagged(schema, defs["Insertion"]["properties"]["potential"], POTENTIALS, POTENTIAL_ALIASES)
    assert "extends" in schema["properties"]


def test_schema_bounds_equal_the_runtime_bounds():
    schema = Theory.model_json_schema()
    defs = schema["$defs"]
    study = defs["Study"]["properties"]
    order = defs["Correlators"]["properties"]["orders"]["items"]
    assert (order["minimum"], order["maximum"]) == (1, MAX_ORDER) == (1, 8)
    samples = _branch(schema, study["samples"], "integer")
    assert samples["maximum"] == MAX_SAMPLES == COUNTS["samples"][1]
    assert samples["minimum"] >= COUNTS["samples"][0]      # a spec's run: at least 10 (the API: 2)
    assert _branch(schema, study["samples"], "string")["pattern"]   # 1e5 is a count
    assert (study["seed"]["minimum"], study["seed"]["maximum"]) == (0, MAX_SEED)
    assert study["chunk"]["maximum"] == MAX_CHUNK == COUNTS["chunk"][1]
    assert defs["Line"]["properties"]["n"]["maximum"] == MAX_POINTS
    points = _branch(schema, defs["Points"]["properties"]["list"], "array")
    assert points["maxItems"] == MAX_POINTS
    assert points["items"]["maxItems"] == MAX_INPUT_DIM
    assert points["items"]["items"]["maximum"] == MAX_COORDINATE == -points["items"]["items"]["minimum"]
    assert schema["properties"]["dims"]["properties"]["d"]["maximum"] == MAX_INPUT_DIM


def test_runtime_accepts_what_the_schema_bounds_say(tmp_path: Path):
    def study(block: str) -> Path:
        return _write(tmp_path, COS_NET + f"study: {block}\n")

    assert nnft.load(study("{correlators: {orders: [2, 8]}}")).study.correlators.orders == [2, 8]
    assert nnft.load(study(f"{{samples: {MAX_SAMPLES}, seed: {MAX_SEED}}}")).study.samples == MAX_SAMPLES
    assert nnft.load(study("{samples: 1e5}")).study.samples == 100_000
    for bad, where in (("{correlators: {orders: [9]}}", "study.correlators.orders"),
                       (f"{{samples: {MAX_SAMPLES + 1}}}", "study.samples"),
                       (f"{{seed: {MAX_SEED + 1}}}", "study.seed"),
                       (f"{{points: {{line: {{start: 0, stop: 1, n: {MAX_POINTS + 1}}}}}}}", "study.points.line.n")):
        with pytest.raises(nnft.SpecError) as info:
            nnft.load(study(bad))
        assert info.value.field.startswith(where), (bad, info.value.field)
