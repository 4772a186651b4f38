"""A λ sweep with some values the theory refuses: the others are measured (the very numbers of a sweep
without the refused values), each refused value is listed with its reason (one line each on the command
line, exit 1); every value refused is the spec error itself (exit 2)."""

import numpy as np
import pytest
from click.testing import CliRunner

import nnft
from nnft.cli import main
from nnft.errors import SpecError

PAIR = np.array([[0.0], [0.5]])


@pytest.fixture(scope="module")
def model():
    return nnft.compile(nnft.load("phi4_scalar_1d", N=8))


@pytest.fixture(scope="module")
def alone(model):
    return nnft.compare(model, [PAIR], lambdas=(0.1,), samples=200, key=3)


@pytest.fixture(scope="module")
def part(model):
    return nnft.compare(model, [PAIR], lambdas=(-0.5, 0.1), samples=200, key=3)


def _numbers(cmp, lam):
    return [(float(r.mc.mean), float(r.mc.stderr), r.ess) for r in cmp.rows if r.lam == lam]


def test_unbounded_value_is_refused_and_the_others_are_the_same_numbers(model, part, alone):
    assert part.lambdas == (0.1,) and {r.lam for r in part.rows} == {0.1}
    (lam, why), = part.refused
    assert lam == -0.5 and "unbounded below" in why and "insertions[0].potential" in why and "\n" not in why
    assert _numbers(part, 0.1) == _numbers(alone, 0.1) and len(_numbers(part, 0.1)) == 1
    other = nnft.compare(model, [PAIR], lambdas=(0.2,), samples=200, key=3)
    assert _numbers(part, 0.1) != _numbers(other, 0.2)   # twin: another λ differs
    text = part.table(width=200)
    assert "refused: lam = -0.5: insertions[0].potential: the potential is unbounded below" in text
    assert sum("refused (see above)" in line for line in text.splitlines()) == 1    # one row per tuple


def test_every_value_refused_is_the_spec_error(model):
    with pytest.raises(SpecError, match="unbounded below"):
        nnft.compare(model, [PAIR], lambdas=(-0.5, -1.0), samples=200, key=3)


@pytest.mark.slow
def test_overflowing_value_refused_after_the_joint_pass(model, alone):
    """λ = 1e37: the float32 weights overflow in the joint pass; λ by λ, the same networks give 0.1's
    numbers unchanged and 1e37 is refused with the estimator's reason."""
    part = nnft.compare(model, [PAIR], lambdas=(0.1, 1e37), samples=200, key=3)
    assert [lam for lam, _ in part.refused] == [1e37] and part.lambdas == (0.1,)
    assert _numbers(part, 0.1) == _numbers(alone, 0.1)


def test_refused_values_survive_save_and_load(part, tmp_path):
    from nnft.results import save
    path = str(tmp_path / "c.json")
    save(part, path)
    back = nnft.load_result(path)
    assert back.refused == part.refused and "refused: lam = -0.5" in back.table(width=200)


def test_cli_exit_1_with_one_line_per_refused_value_and_2_when_all_are():
    args = ["perturb", "phi4_scalar_1d", "--set", "N=8", "--samples", "200", "--orders", "2", "--points", "0;0.5"]
    r = CliRunner().invoke(main, args + ["--lambdas", "-0.5,-0.25,0.1"])
    assert r.exit_code == 1, r.output
    lines = [x for x in r.stderr.splitlines() if x.startswith("refused: ")]
    assert [x.split(":")[1].strip() for x in lines] == ["lam = -0.5", "lam = -0.25"]
    assert all("unbounded below" in x for x in lines) and "0.1" in r.stdout
    r = CliRunner().invoke(main, args + ["--lambdas", "-0.5,-0.25"])
    assert r.exit_code == 2 and len(r.output.strip().splitlines()) == 1 and "insertions[0].potential" in r.output
