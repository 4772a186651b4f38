"""Look-alike letters in names: ``--set Ν=4`` (Greek capital Nu, U+039D) prints like ``N`` but is another
name. The refusal stays one line with exit 2 naming the field; its hint names the intended name and the
character that differs (Unicode UTS #39 confusables, a small table in ``nnft.errors``)."""

import pytest
from click.testing import CliRunner

import nnft
from nnft.cli import main
from nnft.errors import SpecError, did_you_mean, lookalike_note, suggest
from nnft.spec.load import read_mapping, resolve


def _one_line_exit_2(args):
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)
    lines = r.output.strip().splitlines()
    assert len(lines) == 1, r.output
    return lines[0]


@pytest.mark.parametrize("name, meant, char", [("Ν", "N", "U+039D"),          # Greek capital Nu
                                               ("Ν", "N", "GREEK CAPITAL LETTER NU"),
                                               ("sigma_wΟ", "sigma_w0", "U+039F"),   # Greek Omicron for a zero
                                               ("sigma_w1", "sigma_w1", None)])     # control: not a look-alike
def test_set_lookalike_names_the_meant_name_and_the_character(name, meant, char):
    if char is None:                                   # a declared name is accepted (no error at all)
        assert nnft.load("cos_net", sigma_w1=0.5).constants["sigma_w1"] == 0.5
        return
    line = _one_line_exit_2(["validate", "cos_net", "--set", f"{name}=4"])
    assert f"{name}:" in line                          # names the field
    assert f"did you mean {meant!r}?" in line and char in line


def test_sweep_and_dotted_path_get_the_hint_too():
    assert "GREEK CAPITAL LETTER NU" in _one_line_exit_2(["run", "cos_net", "--set", "Ν=4,8"])
    line = _one_line_exit_2(["validate", "cos_net", "--set", "constants.sigma_wΟ=1"])
    assert "constants.sigma_w0" in line and "U+039F" in line


def test_spec_name_lookalike():
    line = _one_line_exit_2(["validate", "cοs_net"])                 # Greek small omicron
    assert "did you mean 'cos_net'?" in line and "U+03BF" in line


def _edited(block, key, value):
    data = read_mapping(resolve("cos_net"))
    return nnft.from_dict({**data, block: {**data[block], key: value}})


def test_names_inside_a_spec_are_ascii_and_a_lookalike_is_named():
    # spec names are ASCII (the grammar's identifiers): a look-alike is refused with the character named
    with pytest.raises(SpecError) as err:
        _edited("params", "W1", {"shape": ["N"], "density": {"normal": {"std": "sigma_w1 / sqrt(Ν)"}}})
    assert err.value.field == "params.W1.density.normal.std" and "U+039D" in err.value.hint
    with pytest.raises(SpecError) as err:
        _edited("dims", "Ν", 3)
    assert err.value.field == "dims.Ν" and "ASCII" in err.value.allowed and "U+039D" in err.value.hint
    # a Greek letter that looks like no Latin one: the same refusal, no look-alike note
    with pytest.raises(SpecError) as err:
        _edited("constants", "α", 1.0)
    assert err.value.field == "constants.α" and err.value.hint is None and lookalike_note("α") is None
    assert _edited("constants", "alpha", 1.0).constants["alpha"] == 1.0     # the ASCII name is fine


def test_suggest_prefers_the_lookalike_over_difflib():
    assert suggest("Ν", ["d", "N"]) == "N"            # difflib alone finds nothing for one letter
    assert suggest("sigma_wΟ", ["sigma_w1", "sigma_w0"]) == "sigma_w0"   # difflib alone picks the first
    assert suggest("Ｎ", ["N"]) == "N"                # fullwidth, folded by NFKC
    assert did_you_mean("N2", "N") == "did you mean 'N'?"          # plain ASCII: no note
    assert did_you_mean("Ν", None) == lookalike_note("Ν") and "U+004E" in lookalike_note("Ν")
