"""``nnft local``: correlators of local operators from the command line, against the kernel's derivatives
(Cos-net: ⟨(∂φ)²(x)⟩ = d·s·σ_w1²/2 = 0.5 with s = σ_w0²/d, TASI eq. 68-71) by |z|; bad products are one
line and exit 2."""

import re

from click.testing import CliRunner

from nnft.cli import main


def _row(output: str, start: str) -> tuple[float, float]:
    line = next(l for l in output.splitlines() if l.startswith(start))
    mean, err = re.findall(r"(-?[\d.]+) ± ([\d.]+)", line)[0]
    return float(mean), float(err)


def test_local_command_measures_the_kinetic_term():
    r = CliRunner().invoke(main, ["local", "cos_net", "(dphi)^2(0,0)", "d0 phi(0.3,-0.2) * d1 phi(-0.1,0.4)",
                                  "--samples", "4000", "--set", "N=4"])
    assert r.exit_code == 0, r.output
    mean, err = _row(r.output, "(dphi)^2(0,0)")
    assert abs(mean - 0.5) < 5 * err
    assert abs(mean - 0.0) > 5 * err                     # a kinetic term of zero is rejected
    assert "4,000 networks" in r.output


def test_local_command_refuses_bad_products_in_one_line():
    for args in (["cos_net", "d0 phi(0.3)"], ["cos_net", "d7 phi(0.3,0)"], ["gauss_net_vector", "phi(0.1)"],
                 ["cos_net", "psi(0,0)"], ["cos_net", "phi 0,0"]):
        r = CliRunner().invoke(main, ["local", *args, "--samples", "100"])
        assert r.exit_code == 2 and r.output.count("\n") == 1 and r.output.startswith("error:"), (args, r.output)
