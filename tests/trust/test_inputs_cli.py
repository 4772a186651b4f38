"""Every CLI error is one line on stderr, exit 2, no traceback; bad options are refused before any work."""

from __future__ import annotations

import pytest

from .helpers_cli import assert_one_line_error, invoke

CASES = [
    # (args, fragments the one line must contain)
    (["run", "cos_net", "--points", "0,0,0;1,0,0"], ["--points", "d = 2"]),          # wrong d
    (["run", "cos_net", "--points", "0,0;1"], ["--points", "coordinates"]),          # ragged
    (["run", "cos_net", "--points", ""], ["--points", "no points"]),
    (["run", "cos_net", "--points", ";;;"], ["--points", "no points"]),
    (["run", "cos_net", "--points", "nan,0"], ["--points", "finite"]),
    (["run", "cos_net", "--points", "1e999,0"], ["--points", "finite"]),
    (["run", "cos_net", "--points", "1e13,0"], ["--points", "bound"]),
    (["check", "cos_net", "--only", "rotation", "--alpha", "nan"], ["--alpha"]),
    (["check", "cos_net", "--samples", "99999999999999"], ["--samples"]),
    (["check", "cos_net", "--seed", "99999999999999"], ["--seed"]),
    (["criticality", "relu_mlp", "--set", "L=10000000"], ["mlp.depth"]),
    (["run", "cos_net", "--points", "a,b"], ["--points", "numbers"]),
    (["run", "cos_net", "--points", ";".join(["0,0"] * 300)], ["--points", "300 points"]),
    (["run", "cos_net", "--orders", "0"], ["--orders", "1..8"]),
    (["run", "cos_net", "--orders", "9"], ["--orders", "1..8"]),
    (["run", "cos_net", "--orders", "2.5"], ["--orders"]),
    (["run", "cos_net", "--orders", ","], ["--orders"]),
    (["run", "cos_net", "--seed", str(2 ** 64)], ["--seed"]),
    (["run", "cos_net", "--seed", "2^64"], ["--seed"]),
    (["run", "cos_net", "--samples", str(10 ** 15)], ["--samples"]),
    (["run", "cos_net", "--samples", "1e4"], ["--samples"]),
    (["run", "cos_net", "--neurons", str(10 ** 15)], ["--neurons"]),
    (["run", "cos_net", "--chunk", "0"], ["--chunk"]),
    (["run", "cos_net", "--set", "d=100000"], ["dims.d", "4096"]),
    (["run", "cos_net", "--set", "N=" + "9" * 5000], ["--set"]),
    (["run", "cos_net", "--set", "N=-3"], ["--set"]),
    (["run", "cos_net", "--set", "=3"], ["--set"]),
    (["run", "cos_net", "--bogus"], ["--bogus"]),
    (["run"], ["SPEC"]),
    (["nosuchcommand"], ["nosuchcommand"]),
    (["run", "no_such_spec"], ["no such spec"]),
    (["run", "x" * 300 + ".yaml"], ["255 characters"]),
    (["perturb", "phi4_cos_1d", "--lambdas", "nan"], ["--lambdas", "finite"]),
    (["perturb", "phi4_cos_1d", "--lambdas", "inf,1"], ["--lambdas", "finite"]),
    (["perturb", "phi4_cos_1d", "--lambdas", ""], ["--lambdas"]),
    (["perturb", "phi4_cos_1d", "--lambdas", ",".join(["1"] * 100)], ["--lambdas"]),
    (["perturb", "phi4_cos_1d", "--threshold", "nan"], ["--threshold"]),
    (["perturb", "phi4_cos_1d", "--orders", "0"], ["--orders"]),
    (["kernel", "relu_mlp", "--points", "0;1;nan"], ["--points"]),
    (["validate", "cos_net", "--set", "N=100000000"], ["dims.N"]),
]


@pytest.mark.parametrize("args,fragments", CASES, ids=[" ".join(a)[:60] for a, _ in CASES])
def test_cli_error_is_one_line_and_exit_2(args, fragments):
    assert_one_line_error(args, *fragments)


def test_help_and_version_still_exit_0():
    code, out, err, exc = invoke("--help")
    assert code == 0 and exc is None and "validate" in out
    code, out, err, exc = invoke("run", "--help")
    assert code == 0 and "--points" in out


def test_spec_text_is_printed_without_terminal_control_characters(tmp_path):
    spec = tmp_path / "evil.yaml"
    spec.write_text('nnft: 1\nname: "\\e]0;pwned\\a\\e[2J\\u009b31m"\ndims: {d: 1, N: 2}\n'
                    'params:\n  W: {shape: [N], density: {normal: {std: 1.0}}}\nfield: sum_N(W * x[0])\n',
                    encoding="utf-8")
    code, out, err, exc = invoke("validate", str(spec))
    assert exc is None and code == 0, (out, err)
    assert "pwned" in out
    for ch in ("\x1b", "\x07", "\x9b"):
        assert ch not in out + err


def test_error_text_is_printed_without_control_characters(tmp_path):
    spec = tmp_path / "evil.yaml"
    spec.write_text('nnft: 1\nname: x\ndims: {d: 1}\n"bad\\e[31m": 1\n', encoding="utf-8")
    line = assert_one_line_error(["validate", str(spec)])
    assert "\x1b" not in line


def test_a_typo_in_mlp_weight_var_is_one_line_with_the_field(tmp_path):
    spec = tmp_path / "typo.yaml"
    spec.write_text('extends: relu_mlp\nname: t\nmlp: {weight_var: "C_W / fan_inn"}\n', encoding="utf-8")
    for cmd in ("criticality", "validate"):
        assert_one_line_error([cmd, str(spec)], "mlp.weight_var", "did you mean 'fan_in'")
