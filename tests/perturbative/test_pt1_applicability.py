"""First-order perturbation theory beside `nnft run` only where its shift is a small correction: at strong
coupling (φ⁴ Cos-net, λ = 1000) the first-order G⁽²⁾ is negative (G₀ + δ with δ ≈ −140 G₀) and its
allowance |δ| made any Monte Carlo value read z ≈ +1. Such rows now have no theory and a footnote naming
`nnft perturb`; at weak coupling (the twin) the PT1 theory is still printed."""

from click.testing import CliRunner

from nnft.cli import main

ARGS = ["run", "phi4_cos_1d", "--samples", "2000", "--points=-0.5;0.5", "--orders", "2", "--neurons", "0"]


def _rows(out):
    return [ln for ln in out.splitlines() if ln.startswith(" 2 ")]


def test_strong_coupling_has_no_first_order_theory():
    r = CliRunner().invoke(main, ARGS + ["--set", "lam=1000"])
    assert r.exit_code == 0, r.output
    rows = _rows(r.output)
    assert len(rows) == 3 and all("PT1" not in ln and "[1]" in ln for ln in rows), r.output
    assert "1st-order PT does not apply at this coupling" in r.output and "nnft perturb" in r.output


def test_weak_coupling_keeps_the_first_order_theory():
    r = CliRunner().invoke(main, ARGS + ["--set", "lam=0.5"])
    assert r.exit_code == 0, r.output
    rows = _rows(r.output)
    assert len(rows) == 3 and all("PT1" in ln and "~" in ln for ln in rows), r.output
    assert "does not apply" not in r.output
