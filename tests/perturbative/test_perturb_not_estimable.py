"""`nnft perturb` with a λ whose importance weights collapse: the row says "not estimable" (no number, no
z) and the command says so on stderr and exits 1, like a refused value; a sweep of measurable values exits 0."""

from click.testing import CliRunner

from nnft.cli import main

ARGS = ["perturb", "phi4_scalar_1d", "--set", "N=8", "--samples", "400", "--orders", "2", "--points", "0;0.5",
        "--quiet"]


def test_collapsed_weights_exit_1_with_one_line():
    r = CliRunner().invoke(main, ARGS + ["--lambdas", "0.1,1e4"])
    assert r.exit_code == 1, r.output
    lines = [x for x in r.stderr.splitlines() if x.startswith("not estimable: ")]
    assert len(lines) == 1 and "lam = 10000" in lines[0] and "ESS" in lines[0], r.stderr
    assert "not estimable" in r.stdout and "0.1" in r.stdout


def test_measurable_sweep_exits_0():
    r = CliRunner().invoke(main, ARGS + ["--lambdas", "0.1"])
    assert r.exit_code == 0, r.output
    assert "not estimable" not in r.stderr
