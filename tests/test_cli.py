"""The CLI is a thin shell: messages not tracebacks, exit status 2 on bad specs."""

import json
import re

from click.testing import CliRunner

from nnft.cli import main


def test_validate_prints_structure():
    r = CliRunner().invoke(main, ["validate", "rp_scalar_2d"])
    assert r.exit_code == 0, r.output
    assert "neuron sum: over N, readout W1" in r.output
    assert "k -> p0" in r.output


def test_run_prints_table_with_theory_and_z():
    r = CliRunner().invoke(main, ["run", "cos_net", "--samples", "2000", "--neurons", "2000", "--set", "N=4",
                                  "--points", "0,0;0.5,0", "--orders", "2,4"])
    assert r.exit_code == 0, r.output
    assert "G_c (theory)" in r.output and "neuron-level" in r.output
    assert "0.5 " in r.output          # G2(x,x) = σ_w1²/2


def test_schema_is_json():
    r = CliRunner().invoke(main, ["schema"])
    assert r.exit_code == 0
    schema = json.loads(r.output)
    assert "params" in schema["properties"]


def test_bad_spec_gives_message_and_status_2(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("nnft: 1\nname: bad\ndims: {d: 1, N: 2}\nparams:\n  W: {shape: [N], density: {norml: {std: 1}}}\n"
                 "field: sum_N(W)\n")
    r = CliRunner().invoke(main, ["validate", str(p)])
    assert r.exit_code == 2
    assert "bad.yaml" in r.output and "params.W.density" in r.output and "normal" in r.output
    assert "Traceback" not in r.output


def test_bad_set_option():
    r = CliRunner().invoke(main, ["validate", "cos_net", "--set", "N=abc"])
    assert r.exit_code == 2 and "integer" in r.output
    r = CliRunner().invoke(main, ["validate", "cos_net", "--set", "Q=3"])
    assert r.exit_code == 2 and "Q" in r.output


def test_specs_lists_shipped():
    r = CliRunner().invoke(main, ["specs"])
    assert r.exit_code == 0 and "cos_net" in r.output and "scalar_net" in r.output


def test_kernel_command():
    r = CliRunner().invoke(main, ["kernel", "relu_mlp", "--points", "1,0,0;0.6,0.8,0", "--layers"])
    assert r.exit_code == 0, r.output
    assert "NNGP" in r.output and "NTK" in r.output and "layer 5" in r.output


def test_criticality_command_finds_the_critical_points():
    r = CliRunner().invoke(main, ["criticality", "relu_mlp"])
    assert r.exit_code == 0, r.output
    assert "every" in r.output and "critical" in r.output
    r = CliRunner().invoke(main, ["criticality", "tanh_mlp_chaotic"])
    assert r.exit_code == 0 and "chaotic" in r.output, r.output
    r = CliRunner().invoke(main, ["criticality", "tanh_mlp_ordered"])
    assert r.exit_code == 0 and "ordered" in r.output, r.output
    r = CliRunner().invoke(main, ["criticality", "cos_net"])
    assert r.exit_code == 2 and "mlp" in r.output


def test_validate_shows_the_mlp_expanded():
    r = CliRunner().invoke(main, ["validate", "tanh_mlp", "--set", "L=2"])
    assert r.exit_code == 0, r.output
    assert "W2 [N2, N1] ~ normal" in r.output and "sum_N2" in r.output


def test_perturb_prints_sweep_with_first_order_and_z(tmp_path):
    r = CliRunner().invoke(main, ["perturb", "phi4_scalar_1d", "--lambdas", "0.01,3", "--samples", "3000",
                                  "--points", "0;0.5", "--orders", "2,4", "--seed", "1"])
    assert r.exit_code == 0, r.output
    assert "c1(N) = -0.0653" in r.output                  # exact finite-N coefficient of δG(0, 0.5)
    assert "1st order" in r.output and "ESS" in r.output
    assert re.search(r"^\s+3\s.*breaks$", r.output, re.MULTILINE)   # λ = 3 is flagged: first order fails
    assert "first order unavailable" in r.output and "order 8" in r.output    # δG_c⁽⁴⁾: Scalar-net has order ≤ 6
    r = CliRunner().invoke(main, ["perturb", "phi4_scalar_1d", "--lambdas", "0.1,x"])
    assert r.exit_code == 2 and "lambdas" in r.output
    r = CliRunner().invoke(main, ["perturb", "cos_net", "--samples", "100"])
    assert r.exit_code == 2 and "insertion" in r.output and "Traceback" not in r.output


def test_residual_spec_validates_with_definitions_and_is_critical():
    r = CliRunner().invoke(main, ["validate", "residual_relu"])
    assert r.exit_code == 0, r.output
    assert "z2 := ((W2 @ relu(z1)) + (g * as_N2(z1)))" in r.output
    r = CliRunner().invoke(main, ["criticality", "residual_relu"])
    assert r.exit_code == 0, r.output
    assert "residual γ = 0.707107" in r.output and "phase: critical" in r.output
    r = CliRunner().invoke(main, ["criticality", "residual_relu", "--set", "L=2"])
    assert "χ∥ = 1 " in r.output


def test_every_set_option_is_the_shared_one():
    """--set is declared once (nnft.cli.invocation.set_option): the same name, metavar and help on
    every command that loads a spec; the commands that sweep add the sweep sentence."""
    from pathlib import Path

    import nnft.cli as cli
    from nnft.cli.invocation import SET_HELP
    sweeping = {"run", "train"}
    pending: set[str] = set()
    seen = []
    for name, cmd in main.commands.items():
        opts = [p for p in cmd.params if "--set" in getattr(p, "opts", ())]
        if not opts or name in pending:
            continue
        (opt,) = opts
        seen.append(name)
        assert opt.name == "sets" and opt.multiple and opt.metavar == "NAME=VALUE", name
        suffix = "; a comma list NAME=v1,v2,... sweeps one name" if name in sweeping else ""
        assert opt.help == SET_HELP + suffix, name
    assert {"validate", "kernel", "criticality", "run", "check", "perturb", "local", "spectrum", "posterior",
            "couplings", "train"} <= set(seen)
    # the wrong twin: a hand-written --set anywhere else in the CLI package
    src = Path(cli.__file__).parent
    hand = [f.name for f in src.glob("*.py") if f.name not in ("invocation.py", *(f"{p}.py" for p in pending))
            and re.search(r'click\.option\(\s*"--set"', f.read_text(encoding="utf-8"))]
    assert not hand, hand
