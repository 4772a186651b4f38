"""Edge messages a newcomer met (one line, exit 2, saying what is wrong and what is allowed), the
per-value provenance of a sweep, partial theory from ``nnft.exact`` and ``--notation``. Fast: no
sampling."""

from __future__ import annotations

import math

import numpy as np
import pytest
from click.testing import CliRunner

import nnft
from nnft.cli import main
from nnft.errors import EstimatorError, InputError

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _cli(*args, env=None):
    return CliRunner().invoke(main, list(args), env=env)


def _one_line_error(r, *needles):
    assert r.exit_code == 2, r.output
    lines = [x for x in r.output.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.output
    assert "Traceback" not in r.output
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


def test_negative_weight_variance_names_the_field_and_value():
    line = _one_line_error(_cli("run", "relu_mlp", "--set", "C_W=-1", "--samples", "100"),
                           "mlp.weight_var", "must be > 0", "-0.333333")
    assert "math domain" not in line
    _one_line_error(_cli("validate", "relu_mlp", "--set", "C_W=0"), "mlp.weight_var", "got 0")
    assert _cli("validate", "relu_mlp", "--set", "C_W=2").exit_code == 0          # the twin: a valid C_W passes


def test_negative_value_under_sqrt_in_a_density(tmp_path):
    spec = tmp_path / "neg.yaml"
    spec.write_text("nnft: 1\nname: neg\ndims: {d: 1, N: 4}\nconstants: {s: -2.0}\n"
                    "params:\n  W: {shape: [N], density: {normal: {std: sqrt(s)}}}\nfield: sum_N(W)\n")
    line = _one_line_error(_cli("validate", str(spec)), "params.W.density.normal.std", "sqrt(u) needs u ≥ 0",
                           "u = s = -2", "variance")
    assert "math domain" not in line
    assert _cli("validate", str(spec), "--set", "s=2").exit_code == 0


def test_integer_axis_gets_the_dims_hint(tmp_path):
    spec = tmp_path / "shape.yaml"
    spec.write_text("nnft: 1\nname: bad\ndims: {d: 1, N: 4}\n"
                    "params:\n  W: {shape: [4], density: {normal: {std: 1}}}\nfield: sum_N(W)\n")
    _one_line_error(_cli("validate", str(spec)), "params.W.shape[0]", "axes are names declared under dims:",
                    "dims: {N: 4}")
    with pytest.raises(nnft.SpecError, match="axes are names declared under dims:"):
        nnft.load(str(spec))
    spec.write_text(spec.read_text().replace("shape: [4]", "shape: [N]"))
    nnft.load(str(spec))                                              # the twin: a name is accepted


@pytest.mark.parametrize("extra", [[], ["--set", "N=4,8"]])
def test_resume_without_checkpoint(extra):
    line = _one_line_error(_cli("run", "cos_net", "--samples", "100", "--resume", *extra),
                           "--resume needs --checkpoint FILE")
    assert "Invalid value" not in line
    _one_line_error(_cli("check", "cos_net", "--resume"), "--resume needs --checkpoint FILE")
    _one_line_error(_cli("perturb", "phi4_cos_1d", "--resume"), "--resume needs --checkpoint FILE")


def test_run_sweep_refuses_samples_with_a_samples_sweep():
    with pytest.raises(InputError, match="samples=100: study.samples is swept"):
        nnft.run_sweep("cos_net", "study.samples", [100, 200], samples=100)
    with pytest.raises(InputError, match="seed=1: study.seed is swept"):
        nnft.run_sweep("cos_net", "study.seed", [0, 1], seed=1)


def _report(model, samples=1000, seed=7):
    from nnft.study import Report, Row
    p2 = np.array([[0.0, 0.0], [0.5, 0.0]])
    rows = [Row(order=2, points=p2, full=(0.48, 0.012), connected=(0.48, 0.012), exact_full=0.47,
                exact_connected=0.47)]
    return Report(theory=model.theory, model=model, samples=samples, seed=seed, rows=rows)


@pytest.mark.parametrize("ext", [".nc", ".json"])
def test_sweep_stores_varying_samples_and_seed_per_value(tmp_path, ext):
    from nnft.results import load_dataset, load_result, save, to_dataset
    from nnft.sweep import Sweep
    model = nnft.compile(nnft.load("cos_net", N=4))
    sw = Sweep(name="study.samples", values=[1000, 4000],
               reports=[_report(model, 1000, 7), _report(model, 4000, 8)])
    ds = to_dataset(sw)
    assert "samples" not in ds.attrs and "seed" not in ds.attrs and ds.attrs["per_value"] == "samples, seed"
    assert list(ds["samples"].values) == [1000, 4000] and list(ds["seed"].values) == [7, 8]
    path = tmp_path / f"s{ext}"
    save(sw, path)
    back = load_result(path)
    assert [r.samples for r in back.reports] == [1000, 4000] and [r.seed for r in back.reports] == [7, 8]
    assert list(load_dataset(path)["samples"].values) == [1000, 4000]
    # the twin: the same draws at every value keep one top-level attribute and no variable
    same = to_dataset(Sweep(name="N", values=[4, 5], reports=[_report(model), _report(model)]))
    assert same.attrs["samples"] == 1000 and same.attrs["seed"] == 7 and "samples" not in same
    assert "per_value" not in same.attrs


def test_exact_returns_what_has_theory():
    model = nnft.compile(nnft.load("residual_relu", N=8, L=2))
    x, y = np.array([1.0, 0.0, 0.0]), np.array([0.6, 0.8, 0.0])
    pair, four = np.stack([x, y]), np.stack([x] * 4)
    both = nnft.exact(model, [pair, four])
    alone = nnft.exact(model, [pair])
    assert both.full[0, 0] == alone.full[0, 0] and math.isfinite(both.full[0, 0])
    assert np.isnan(both.full[0, 1]) and np.isnan(both.connected[0, 1])
    assert both.kinds[1] == "unavailable" and "residual" in both.reasons[1] and 0 not in both.reasons
    text = str(both)
    assert "[1]" in text and "no theory: " in text and "residual" in text
    with pytest.raises(EstimatorError, match="residual"):           # nothing asked has a theory: refused
        nnft.exact(model, [four])


def test_exact_reasons_round_trip(tmp_path):
    from nnft.reference import Exact
    from nnft.results import load_result, save
    ex = Exact(widths=(8,), full=np.array([[0.5, np.nan]]), connected=np.array([[0.5, np.nan]]), orders=(2, 4),
               accuracy=0.0, label="NNGP (N→∞)", kinds=("NNGP (N→∞)", "unavailable"), reasons={1: "no G_c4"})
    for ext in (".nc", ".json"):
        back = load_result(_saved(save, ex, tmp_path / f"e{ext}"))
        assert back.reasons == {1: "no G_c4"} and back.kinds == ex.kinds and back.label == ex.label
        assert np.array_equal(back.full, ex.full, equal_nan=True) and back.orders == ex.orders


def _saved(save, result, path):
    save(result, path)
    return path


def test_notation_flag_overrides_the_environment(tmp_path):
    from nnft.results import save
    model = nnft.compile(nnft.load("cos_net", N=4))
    path = str(tmp_path / "r.json")
    save(_report(model), path)
    r = _cli("show", path, "--notation", "paren")
    assert r.exit_code == 0 and "0.480(12)" in r.output and "±" not in r.output
    r = _cli("show", path, "--notation", "plain", env={"NNFT_NOTATION": "paren"})
    assert r.exit_code == 0 and "0.480 ± 0.012" in r.output and "0.480(12)" not in r.output
    r = _cli("show", path, env={"NNFT_NOTATION": "paren"})                  # no flag: the environment
    assert "0.480(12)" in r.output
    _one_line_error(_cli("show", path, "--notation", "latex"), "--notation")


def test_criticality_says_why_there_is_no_xi_q_at_chi_parallel_above_one():
    r = _cli("criticality", "relu_mlp", "--set", "C_W=3")
    assert r.exit_code == 0 and "ξ_q: none (χ∥ > 1: K* is not approached; K⁽ˡ⁾ grows, e-folding every 2.466" in r.output
    assert "-2.466" not in r.output                              # no negative "depth" printed
    r = _cli("criticality", "relu_mlp")                          # the twin: critical, ξ_q = inf, no such note
    assert r.exit_code == 0 and "not approached" not in r.output


def test_sweep_table_and_show_of_varying_samples(tmp_path):
    from nnft.results import save
    from nnft.sweep import Sweep
    model = nnft.compile(nnft.load("cos_net", N=4))
    sw = Sweep(name="study.samples", values=[20, 1000], reports=[_report(model, 20, 0), _report(model, 1000, 0)])
    assert "10 jackknife blocks" in sw.table() and "Student-t with 9 degrees" in sw.table()
    big = Sweep(name="N", values=[4, 5], reports=[_report(model), _report(model)])
    assert "jackknife blocks" not in big.table()
    path = str(tmp_path / "s.json")
    save(sw, path)
    r = _cli("show", path, "--provenance")
    assert r.exit_code == 0 and "samples (per swept value): 20, 1000" in r.output


def test_check_only_runs_a_repeated_name_once():
    r = _cli("check", "cos_net", "--only", "z2,z2", "--samples", "100", "--evidence", "0")
    assert r.exit_code == 0, r.output
    assert sum(line.startswith("z2 ") for line in r.output.splitlines()) == 1, r.output


def test_kernel_of_a_theory_with_insertions_says_free():
    r = _cli("kernel", "phi4_cos_1d")
    assert r.exit_code == 0 and "of the FREE networks" in r.output
    r = _cli("kernel", "cos_net")                        # the twin: no insertion, no such note
    assert r.exit_code == 0 and "FREE" not in r.output
