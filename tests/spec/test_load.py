"""Loading well-formed specs: shipped specs, the three file formats, extends:, size overrides, schema."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import yaml

import nnft
from nnft.spec.load import SHIPPED

SHIPPED_FILES = sorted(p for p in Path(SHIPPED).iterdir() if p.suffix in (".yaml", ".yml", ".toml", ".json"))

YAML_TEXT = textwrap.dedent("""\
    nnft: 1
    name: three-formats
    description: the same theory in YAML, TOML and JSON
    dims: {d: 2, N: 8}
    constants: {sigma_w0: 1.5, sigma_w1: 1.0}
    params:
      W0: {shape: [N, d], density: {normal: {std: sigma_w0 / sqrt(d)}}}
      b0: {shape: [N], density: {uniform: {low: -pi, high: pi}}}
      W1: {shape: [N], density: {normal: {std: sigma_w1 / sqrt(N)}}}
    field: sum_N(W1 * cos(W0 @ x + b0))
    reference: {cos_net: {sigma_w0: sigma_w0}}
    study:
      samples: 1000
      seed: 3
      points: {line: {start: [0.0, 0.0], stop: [1.0, 0.0], n: 3}}
      correlators: {orders: [2, 4], connected: true}
""")

TOML_TEXT = textwrap.dedent("""\
    nnft = 1
    name = "three-formats"
    description = "the same theory in YAML, TOML and JSON"
    field = "sum_N(W1 * cos(W0 @ x + b0))"

    [dims]
    d = 2
    N = 8

    [constants]
    sigma_w0 = 1.5
    sigma_w1 = 1.0

    [params.W0]
    shape = ["N", "d"]
    density = {normal = {std = "sigma_w0 / sqrt(d)"}}

    [params.b0]
    shape = ["N"]
    density = {uniform = {low = "-pi", high = "pi"}}

    [params.W1]
    shape = ["N"]
    density = {normal = {std = "sigma_w1 / sqrt(N)"}}

    [reference.cos_net]
    sigma_w0 = "sigma_w0"

    [study]
    samples = 1000
    seed = 3
    points = {line = {start = [0.0, 0.0], stop = [1.0, 0.0], n = 3}}
    correlators = {orders = [2, 4], connected = true}
""")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- shipped specs -------------------------------------------------------------------------------
def test_specs_are_shipped():
    assert len(SHIPPED_FILES) >= 1
    assert set(nnft.shipped_specs()) == {p.stem for p in SHIPPED_FILES}
    assert "cos_net" in nnft.shipped_specs()


@pytest.mark.parametrize("path", SHIPPED_FILES, ids=[p.stem for p in SHIPPED_FILES])
def test_shipped_spec_loads_and_compiles(path: Path):
    theory = nnft.load(path)
    assert theory.source == str(path)
    assert theory.nnft == 1 and theory.name
    model = nnft.compile(theory)
    assert model.graph.nodes["phi"]["axes"] == ((theory.components,) if theory.components else ())  # vector: D
    # by name too, with the same content
    by_name = nnft.load(path.stem)
    assert by_name == theory


@pytest.mark.parametrize("path", SHIPPED_FILES, ids=[p.stem for p in SHIPPED_FILES])
def test_shipped_spec_as_json_is_equal(tmp_path: Path, path: Path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    as_json = write(tmp_path / (path.stem + ".json"), json.dumps(data))
    assert nnft.load(as_json) == nnft.load(path)


# --- the same theory in three formats -----------------------------------------------------------
def test_yaml_toml_json_give_equal_theories(tmp_path: Path):
    y = nnft.load(write(tmp_path / "t.yaml", YAML_TEXT))
    t = nnft.load(write(tmp_path / "t.toml", TOML_TEXT))
    j = nnft.load(write(tmp_path / "t.json", json.dumps(yaml.safe_load(YAML_TEXT), indent=1)))
    assert y == t == j
    assert (y.source, t.source, j.source) == (str(tmp_path / "t.yaml"), str(tmp_path / "t.toml"), str(tmp_path / "t.json"))
    assert y.model_dump() == t.model_dump() == j.model_dump()
    assert y.params["W0"].density == {"normal": {"std": "sigma_w0 / sqrt(d)"}}
    assert y.study.points.line.n == 3
    nnft.compile(y)


def test_yml_suffix_and_from_dict(tmp_path: Path):
    y = nnft.load(write(tmp_path / "t.yml", YAML_TEXT))
    d = nnft.from_dict(yaml.safe_load(YAML_TEXT))
    assert y == d and d.source == "<dict>"


def test_different_content_is_not_equal(tmp_path: Path):
    a = nnft.load(write(tmp_path / "a.yaml", YAML_TEXT))
    b = nnft.load(write(tmp_path / "b.yaml", YAML_TEXT.replace("sigma_w0: 1.5", "sigma_w0: 2.5")))
    assert a != b


# --- extends: ------------------------------------------------------------------------------------
def test_extends_shipped_by_name(tmp_path: Path):
    base = nnft.load("cos_net")
    child = write(tmp_path / "laplace.yaml", textwrap.dedent("""\
        nnft: 1
        extends: cos_net
        name: cos-net-laplace
        constants: {sigma_w1: 2.0}
        params:
          W1: {density: {laplace: {scale: sigma_w1 / sqrt(2 * N)}}}
    """))
    t = nnft.load(child)
    assert t.name == "cos-net-laplace"
    assert t.source == str(child)
    # one constant overridden, the others kept (mappings merge)
    assert t.constants == {**base.constants, "sigma_w1": 2.0}
    # the density is replaced, not merged: no 'normal' left over next to 'laplace'
    assert t.params["W1"].density == {"laplace": {"scale": "sigma_w1 / sqrt(2 * N)"}}
    assert t.params["W1"].shape == base.params["W1"].shape          # the rest of the block merges
    assert t.params["W0"] == base.params["W0"]
    assert t.field == base.field and t.dims == base.dims and t.reference == base.reference
    model = nnft.compile(t)
    assert model.graph.nodes["param:W1"]["density"] == "laplace"


def test_extends_relative_path_chain(tmp_path: Path):
    # each file's parent is resolved relative to that file, and must lie under that file's directory
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    write(tmp_path / "sub" / "deeper" / "base.yaml", YAML_TEXT)
    write(tmp_path / "sub" / "mid.yaml", "extends: deeper/base.yaml\nname: mid\ndims: {N: 16}\n")
    leaf = write(tmp_path / "leaf.json", json.dumps({"extends": "sub/mid.yaml", "name": "leaf",
                                                     "constants": {"sigma_w0": 0.5}}))
    t = nnft.load(leaf)
    assert t.name == "leaf"
    assert t.dims == {"d": 2, "N": 16}
    assert t.constants == {"sigma_w0": 0.5, "sigma_w1": 1.0}
    assert t.study.samples == 1000
    nnft.compile(t)


def test_extends_by_absolute_path_to_a_shipped_spec(tmp_path: Path):
    # absolute paths are refused, except into the shipped specs (public, read-only)
    shipped = nnft.shipped_specs()["gauss_net"]
    child = write(tmp_path / "c.yaml", f"extends: {shipped}\nname: my-gauss\n")
    t = nnft.load(child)
    base = nnft.load("gauss_net")
    assert t.model_copy(update={"name": base.name}) == base


def test_extends_replaces_reference(tmp_path: Path):
    child = write(tmp_path / "c.yaml", "extends: cos_net\nreference: {cos_net: {sigma_w0: 2.0}}\n")
    assert nnft.load(child).reference == {"cos_net": {"sigma_w0": 2.0}}


# --- sizes ---------------------------------------------------------------------------------------
def test_load_with_size_override(tmp_path: Path):
    path = write(tmp_path / "t.yaml", YAML_TEXT)
    t = nnft.load(path, N=64)
    assert t.dims == {"d": 2, "N": 64}
    assert nnft.load(path).dims["N"] == 8
    assert nnft.compile(t).graph.graph["dims"]["N"] == 64
    assert nnft.load("cos_net", N=64).dims["N"] == 64


def test_size_override_after_extends(tmp_path: Path):
    child = write(tmp_path / "c.yaml", "extends: cos_net\nname: c\n")
    assert nnft.load(child, N=3).dims["N"] == 3


def test_with_dims():
    t = nnft.load("cos_net")
    small = t.with_dims(N=8)
    assert small.dims == {**t.dims, "N": 8}
    assert t.dims["N"] != 8 or t.dims == small.dims       # the original is untouched
    assert small.source == t.source
    assert small.params == t.params and small.field == t.field and small.constants == t.constants
    assert small == nnft.load("cos_net", N=8)
    nnft.compile(small)


# --- schema --------------------------------------------------------------------------------------
def test_json_schema_is_valid_json():
    schema = nnft.Theory.model_json_schema()
    text = json.dumps(schema)
    back = json.loads(text)
    assert back["type"] == "object"
    assert {"nnft", "name", "dims", "params", "field", "mlp"} <= set(back["properties"])
    assert set(back["required"]) >= {"nnft", "name"}   # params + field, or mlp
    assert back["else"]["required"] == ["dims"]           # dims required unless the spec extends a parent
    assert "source" not in back["properties"]
    # only JSON Schema keywords for bounds (pydantic-internal 'ge'/'le' would be ignored by editors)
    assert '"ge"' not in text and '"le"' not in text
    (dims,) = back["properties"]["dims"]["patternProperties"].values()
    assert dims["minimum"] == 1 and dims["type"] == "integer"


def test_spec_language_parses_the_examples_in_the_design():
    """The look the spec-language docs promise: cos-net as written there loads and compiles."""
    t = nnft.from_dict(yaml.safe_load(textwrap.dedent("""\
        nnft: 1
        name: cos-net
        description: Euclidean-invariant single-layer net (TASI eq. 68-69)
        dims: {d: 2, N: 1000}
        constants: {sigma_w0: 1.0, sigma_w1: 1.0}
        params:
          W0: {shape: [N, d], density: {normal: {std: sigma_w0 / sqrt(d)}}}
          b0: {shape: [N],    density: {uniform: {low: -pi, high: pi}}}
          W1: {shape: [N],    density: {normal: {std: sigma_w1 / sqrt(N)}}}
        field: sum_N(W1 * cos(W0 @ x + b0))
    """)))
    nnft.compile(t)
