"""Overrides: ``nnft.load(spec, **overrides)`` and ``--set`` on sizes, constants and dotted spec paths.

An override is the same as editing the spec: the same seed gives bitwise the same numbers. Bad
overrides are one SpecError naming the field (one line and exit 2 on the command line).
"""

import pytest
from click.testing import CliRunner

import nnft
from nnft.cli import main
from nnft.spec.load import parse_value, read_mapping, resolve, split_values

PTS = [[0.0, 0.0], [0.5, 0.0]]


def _one_line_error(args: list[str], words) -> None:
    """``nnft ARGS`` fails with one line "error: ..." holding every word, exit status 2, no traceback."""
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in r.output, r.output
    for w in words:
        assert w in r.output, r.output


def _edited(**changes):
    """cos_net's mapping with blocks edited by hand."""
    data = read_mapping(resolve("cos_net"))
    for block, values in changes.items():
        data[block] = {**data.get(block, {}), **values}
    return nnft.from_dict(data)


def test_constant_override_equals_edited_spec():
    over = nnft.load("cos_net", N=4, sigma_w1=0.7, sigma_w0=1.3)
    edited = _edited(dims={"N": 4}, constants={"sigma_w1": 0.7, "sigma_w0": 1.3})
    assert over.constants == edited.constants and over.dims == edited.dims
    a = nnft.run(over, samples=200, points=PTS, orders=[2], neurons=0)
    b = nnft.run(edited, samples=200, points=PTS, orders=[2], neurons=0)
    assert [r.full for r in a.rows] == [r.full for r in b.rows]          # bitwise: same seed, same spec
    assert [r.exact_full for r in a.rows] == [r.exact_full for r in b.rows]
    # the override reached the theory: G2(x, x) = σ_w1²/2 (cos_net reference)
    assert a.rows[0].exact_full == pytest.approx(0.7 ** 2 / 2)
    assert a.rows[0].exact_full != pytest.approx(0.5)                    # the unedited σ_w1 = 1 would give 1/2


def test_constant_given_as_text_is_read_in_spec_notation():
    assert nnft.load("tanh_mlp", C_W="0.9").constants["C_W"] == 0.9
    assert nnft.load("tanh_mlp", C_b="1e-3").constants["C_b"] == 1e-3
    assert nnft.load("tanh_mlp", N="8").dims["N"] == 8


def test_dotted_paths():
    t = nnft.load("cos_net", **{"study.samples": "1e5", "study.seed": 3, "study.dtype": "float64",
                                "constants.sigma_w1": 2.0, "dims.N": 8})
    assert (t.study.samples, t.study.seed, t.study.dtype) == (100_000, 3, "float64")
    assert t.constants["sigma_w1"] == 2.0 and t.dims["N"] == 8
    # a path to a block the spec does not write (study.correlators here) is created
    t = nnft.load("tanh_mlp", **{"study.correlators.orders": "[2]"})
    assert t.study.correlators.orders == [2]
    # a mapping for a block is the dotted paths below it (a tagged mapping such as points stays whole)
    t = nnft.load("cos_net", study={"samples": 20, "seed": 3, "points": {"list": [[0.0, 0.0]]}})
    assert (t.study.samples, t.study.seed) == (20, 3) and t.study.correlators.orders == [2, 4]
    with pytest.raises(nnft.SpecError, match="study.sampels"):
        nnft.load("cos_net", study={"sampels": 20})
    # the seed reaches run(): the same as an edited spec's
    assert nnft.load("cos_net", **{"study.seed": 3}).study == _edited(study={"seed": 3}).study


@pytest.mark.parametrize("over, words", [
    ({"sigma_w2": 1.0}, ["sigma_w2", "did you mean 'sigma_w1'", "sizes: d, N", "constants: sigma_w0, sigma_w1"]),
    ({"sigma_w1": "abc"}, ["constant sigma_w1 must be a number", "'abc'"]),
    ({"sigma_w1": True}, ["must be a number"]),
    ({"sigma_w1": [0.9, 1.0]}, ["must be a number", "sweep"]),
    ({"N": 4.5}, ["size N must be an integer", "4.5"]),
    ({"N": "4.5"}, ["size N must be an integer"]),       # "4.0" and 4.0 are the size 4
    ({"N": 0}, ["dims.N"]),
    ({"study.sampels": 10}, ["study.sampels", "did you mean 'samples'"]),
    ({"study.samples": 2.5}, ["study.samples"]),
    ({"study.dtype": "float16"}, ["study.dtype", "float32"]),
    ({"studdy.seed": 1}, ["'studdy' is not a block", "did you mean 'study'"]),
    ({"constants.sigma_w2": 1.0}, ["no 'sigma_w2' under constants", "constants.sigma_w1"]),
    ({"study..seed": 1}, ["malformed dotted path"]),
    ({"sigma_w1": "nan"}, ["must be a number"]),
])
def test_bad_overrides_name_the_field(over, words):
    with pytest.raises(nnft.SpecError) as err:
        nnft.load("cos_net", **over)
    msg = str(err.value)
    for w in words:
        assert w in msg, msg


def test_value_grammar_evaluates_nothing():
    assert parse_value("64") == 64 and parse_value("-0.5") == -0.5 and parse_value("1e5") == 1e5
    assert parse_value("__import__('os')") == "__import__('os')"       # text stays text
    assert parse_value("[2, 4]") == [2, 4]
    assert parse_value("[&a 1, *a]") == ["&a 1", "*a"]                 # no YAML here: anchors are plain text
    with pytest.raises(nnft.SpecError, match="expected ','"):
        parse_value("[!!python/object:os.system x]")                    # nor YAML tags: a malformed list
    with pytest.raises(nnft.SpecError):
        parse_value("1\nstudy: 2")
    assert split_values("0.9,1.0, 1.1") == ["0.9", "1.0", "1.1"] and split_values("[2, 4]") is None
    with pytest.raises(nnft.SpecError, match="empty item"):
        split_values("0.9,")


@pytest.mark.parametrize("sets, words", [
    (["C_W=0.9", "C_X=1"], ["C_X", "did you mean", "constants: C_W, C_b"]),
    (["C_W=abc"], ["C_W must be a number"]),
    (["N=64.5"], ["size N must be an integer"]),
    (["N=abc"], ["size N must be an integer"]),
    (["C_W="], ["C_W has no value"]),
    (["C_W"], ["expected NAME=VALUE"]),
    (["C_W=0.9", "C_W=1.0"], ["set twice"]),
    (["C_W=0.9,1.0"], ["only 'nnft run' and 'nnft train' run sweeps"]),
    (["study.seed=-1"], ["study.seed"]),
])
def test_cli_bad_set_is_one_line_exit_2(sets, words):
    args = ["validate", "tanh_mlp"]
    for s in sets:
        args += ["--set", s]
    _one_line_error(args, words)


def test_cli_set_constant_and_path():
    r = CliRunner().invoke(main, ["validate", "tanh_mlp", "--set", "C_W=0.9", "--set", "study.samples=1e3",
                                  "--set", "L=2"])
    assert r.exit_code == 0, r.output
    assert "W4" not in r.output and "W3 [N2]" in r.output       # depth 2: readout W3


# -- list and mapping values: our own grammar, bounded, validated by the models ----------------------

from nnft.cli.invocation import parse_sets  # noqa: E402
from nnft.spec.read import MAX_VALUE_CHARS, MAX_VALUE_DEPTH, MAX_VALUE_ITEMS  # noqa: E402


def _train_spec(**train) -> dict:
    """A one-layer erf net with a train: block (inputs as a line, targets as an expression)."""
    block = {"inputs": {"line": {"start": -1.0, "stop": 1.0, "n": 3}}, "target": "sin(pi * x)", "steps": 1}
    return {"nnft": 1, "name": "erf-train", "dims": {"d": 1, "N": 4}, "constants": {"s": 1.0},
            "params": {"W0": {"shape": ["N", "d"], "density": {"normal": {"std": "s"}}},
                       "W1": {"shape": ["N"], "density": {"normal": {"std": "s / sqrt(N)"}}}},
            "field": "sum_N(W1 * erf(W0 @ x))", "train": {**block, **train}}


@pytest.mark.parametrize("text, value", [
    ("[0.1,0.2]", [0.1, 0.2]),
    (" [ 0.1 , -0.2 ] ", [0.1, -0.2]),
    ("[[0.1],[0.2]]", [[0.1], [0.2]]),
    ("[[0.1, 2], [0.2, 3]]", [[0.1, 2], [0.2, 3]]),
    ("[1e-3, +2, .5, 7]", [1e-3, 2, 0.5, 7]),
    ("[N, d]", ["N", "d"]),
    ("[true, false]", [True, False]),
    ("['sin(x[0])', \"a, b\"]", ["sin(x[0])", "a, b"]),
    ("[]", []),
    ("{list: [[0.1], [0.2]]}", {"list": [[0.1], [0.2]]}),
    ("{line: {start: 0, stop: 1.5, n: 4}}", {"line": {"start": 0, "stop": 1.5, "n": 4}}),
    ("[" * MAX_VALUE_DEPTH + "1" + "]" * MAX_VALUE_DEPTH, [[[[[[[[1]]]]]]]]),
    ("[" + ",".join(["0"] * (MAX_VALUE_ITEMS - 1)) + "]", [0] * (MAX_VALUE_ITEMS - 1)),
])
def test_list_values_are_read_by_our_grammar(text, value):
    got = parse_value(text, "train.targets")
    assert got == value and type(got) is type(value)
    if isinstance(value, list) and value and not isinstance(value[0], list):
        assert [type(v) for v in got] == [type(v) for v in value]        # 7 stays an int, 0.5 a float


@pytest.mark.parametrize("text, words", [
    ("[0.1,", ["not closed", "column", "end it with ']'"]),
    ("[[0.1], [0.2]", ["not closed"]),
    ("[0.1,,0.2]", ["empty item", "column 6", "remove the extra comma"]),
    ("[0.1,]", ["empty item"]),
    ("[,]", ["empty item"]),
    ("[0.1]]", ["text after the end of the list"]),
    ("[0.1],[0.2]", ["text after the end", "not a sweep"]),
    ("[0.1 [0.2]]", ["expected ',' or ']'"]),
    ("{a 1}", ["expected ':' after the key 'a 1'"]),
    ("{a: 1, a: 2}", ["duplicate key 'a'"]),
    ("{: 1}", ["key is empty"]),
    ("['a]", ["quote", "not closed"]),
    ("[1e999]", ["non-finite number '1e999'", "column 2"]),
    ("[" * (MAX_VALUE_DEPTH + 1) + "1" + "]" * (MAX_VALUE_DEPTH + 1), [f"deeper than {MAX_VALUE_DEPTH}"]),
    ("[" + ",".join(["0"] * (MAX_VALUE_ITEMS + 1)) + "]", [f"more than {MAX_VALUE_ITEMS} items"]),
    ("[" + "0," * (MAX_VALUE_CHARS // 2) + "0]", [f"at most {MAX_VALUE_CHARS}"]),
    ("[0.1,\n0.2]", ["one line"]),
])
def test_malformed_list_values_name_the_option_what_is_allowed_and_the_fix(text, words):
    with pytest.raises(nnft.SpecError) as err:
        parse_value(text, "train.targets")
    e = err.value
    assert e.field == "train.targets" and e.allowed and "[0.1, 0.2]" in e.allowed
    for w in words:
        assert w in str(e), str(e)
    assert e.hint, str(e)                                            # every grammar error says the fix


def test_list_values_are_text_never_code():
    with pytest.raises(nnft.SpecError):                             # brackets inside a word must be quoted
        parse_value("[__import__('os').system('x')]")
    assert parse_value("['__import__(1)']") == ["__import__(1)"]     # quoted: text, as it is


def test_list_overrides_are_validated_by_the_models():
    t = nnft.from_dict(_train_spec(), overrides={"train.targets": "[0.1, 0.2, 0.3]"})
    assert t.train.targets == [0.1, 0.2, 0.3] and t.train.target is None     # replaces the spec's target
    t = nnft.from_dict(_train_spec(), overrides={"train.inputs": "[[0.1], [0.2]]"})
    assert t.train.inputs.list == [[0.1], [0.2]] and t.train.inputs.line is None   # a bare list is the list:
    t = nnft.from_dict(_train_spec(), overrides={"train.inputs.list": "[[0.5]]"})  # list: replaces line:
    assert t.train.inputs.list == [[0.5]] and t.train.inputs.line is None
    t = nnft.from_dict(_train_spec(), overrides={"train.test": "[[0.0], [0.25]]", "train.record": "[0, 1]"})
    assert t.train.test.list == [[0.0], [0.25]] and t.train.record == [0, 1]
    t = nnft.load("cos_net", **{"study.points": "[[0, 0], [0.5, 0]]", "study.correlators.orders": "[2, 4]"})
    assert t.study.points.list == [[0, 0], [0.5, 0]] and t.study.correlators.orders == [2, 4]
    # the same spec written out by hand validates to the same theory
    edited = _train_spec(inputs={"list": [[0.1], [0.2]]})
    assert nnft.from_dict(edited).train == nnft.from_dict(_train_spec(), overrides={"train.inputs": "[[0.1], [0.2]]"}).train


@pytest.mark.parametrize("over, field", [
    ({"train.lr": "[0.1]"}, "train.lr"),                             # a list where an expression is expected
    ({"train.steps": "[1, 2]"}, "train.steps"),
    ({"train.targets": "[[0.1], [0.2]]"}, "train.targets"),         # a point list where numbers are expected
    ({"train.inputs": "[[0.1], [0.2, 0.3]]"}, "train.inputs"),      # ragged points
    ({"train.inputs": "[0.1, 0.2]"}, "train.inputs"),               # points are lists of coordinates
    ({"train.targets": "[0.1]", "train.target": "x"}, "train.target"),   # both alternatives: refused
    ({"N": "[4]"}, "N"),
    ({"s": "[1.0]"}, "s"),
])
def test_list_where_the_models_want_something_else_is_refused(over, field):
    with pytest.raises(nnft.SpecError) as err:
        nnft.from_dict(_train_spec(), overrides=over)
    assert (err.value.field or "").startswith(field), str(err.value)


def test_sweep_syntax_keeps_its_meaning():
    assert parse_sets(("N=16,64",)) == ({}, ("N", ["16", "64"]))
    assert parse_sets(("C_W=0.9, 1.0,1.1",)) == ({}, ("C_W", ["0.9", "1.0", "1.1"]))
    assert parse_sets(("N=16",)) == ({"N": "16"}, None)
    # a value starting with [ or { is one value, whatever commas it holds; beside a sweep it is fixed
    assert parse_sets(("study.correlators.orders=[2,4]",)) == ({"study.correlators.orders": "[2,4]"}, None)
    over, sweep = parse_sets(("N=16,64", "train.inputs=[[0.1],[0.2]]"))
    assert over == {"train.inputs": "[[0.1],[0.2]]"} and sweep == ("N", ["16", "64"])
    # the wrong twin: the same commas without brackets are a sweep, not a list
    assert parse_sets(("train.targets=0.1,0.2",))[1] == ("train.targets", ["0.1", "0.2"])


@pytest.mark.parametrize("value, words", [
    ("[0.1,", ["Invalid value for --set", "train.targets", "not closed", "allowed:", "fix: end it with ']'"]),
    ("[0.1],[0.2]", ["train.targets", "not a sweep", "fix:"]),
    ("[" * 9 + "1" + "]" * 9, ["deeper than 8", "fix:"]),
    ("[" + ",".join(["0"] * 20000) + "]", ["more than 16384 items", "fix:"]),
])
@pytest.mark.parametrize("command", ["validate", "train"])
def test_cli_malformed_list_is_one_line_exit_2_on_every_command(tmp_path, command, value, words):
    """``nnft train`` reads --set with the same parser (nnft.cli.invocation.parse_sets) as the others."""
    import yaml
    path = tmp_path / "erf_train.yaml"
    path.write_text(yaml.safe_dump(_train_spec()))
    _one_line_error([command, str(path), "--set", f"train.targets={value}"], words)


@pytest.mark.parametrize("sets, words", [
    (["train.lr=[0.1]"], ["train.lr", "got a list", "set by --set train.lr=[0.1]"]),
    (["N=[4]"], ["size N must be an integer", "set by --set N=[4]"]),
    (["s=[1.0]"], ["constant s must be a number"]),
    (["train.inputs=[[0.1],[0.2,0.3]]"], ["train.inputs.list[1]", "set by --set train.inputs="]),
])
def test_cli_list_where_a_scalar_is_expected_is_one_line_exit_2(tmp_path, sets, words):
    import yaml
    path = tmp_path / "erf_train.yaml"
    path.write_text(yaml.safe_dump(_train_spec()))
    args = ["validate", str(path)]
    for s in sets:
        args += ["--set", s]
    _one_line_error(args, words)


def test_cli_accepts_lists(tmp_path):
    import yaml
    path = tmp_path / "erf_train.yaml"
    path.write_text(yaml.safe_dump(_train_spec()))
    r = CliRunner().invoke(main, ["validate", str(path), "--set", "train.targets=[0.1, 0.2, 0.3]",
                                  "--set", "train.inputs=[[0.1],[0.2],[0.3]]", "--set", "study.points=[[0.0],[0.5]]"])
    assert r.exit_code == 0, r.output
    assert "study points: 2" in r.output
