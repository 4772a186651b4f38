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
    with pytest.raises(nnft.SpecError, match="anchors"):
        parse_value("[&a 1, *a]")                                        # the safe spec reader decides
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
    (["C_W=0.9,1.0"], ["only 'nnft run' runs sweeps"]),
    (["study.seed=-1"], ["study.seed"]),
])
def test_cli_bad_set_is_one_line_exit_2(sets, words):
    args = ["validate", "tanh_mlp"]
    for s in sets:
        args += ["--set", s]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in r.output, r.output
    for w in words:
        assert w in r.output, r.output


def test_cli_set_constant_and_path():
    r = CliRunner().invoke(main, ["validate", "tanh_mlp", "--set", "C_W=0.9", "--set", "study.samples=1e3",
                                  "--set", "L=2"])
    assert r.exit_code == 0, r.output
    assert "W4" not in r.output and "W3 [N2]" in r.output       # depth 2: readout W3
