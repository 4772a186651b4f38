"""Honest statistics of `nnft train`: a statistic whose moment does not exist at initialisation is refused
(the graph's moment analysis, ``nnft.graph.moments``), heavy tails are flagged from the data (Pareto k̂, PSIS
arXiv:1507.02646 §3), the variance is summed about a shift in float64 (no negative Var f_t at the float32
noise floor) and a variance below the dtype's resolution is flagged, not printed; each with its twin."""

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

import nnft
from nnft.cli import main
from nnft.errors import EstimatorError
from nnft.tails import KHAT_FLAG
from train.test_training import erf_spec


def _spec(b1: dict, N: int = 16, **train) -> dict:
    spec = erf_spec(N, **train)
    spec["params"]["b1"]["density"] = b1
    return spec


CAUCHY = {"cauchy": {"scale": "sigma_b"}}
STUDENT = {"student_t": {"df": 2.1, "scale": "sigma_b"}}      # E f² < ∞, E f⁴ = ∞: f² has k = 2/2.1 ≈ 0.95
NORMAL = {"normal": {"std": "sigma_b"}}


def test_a_cauchy_bias_is_refused_before_training_and_the_normal_twin_trains():
    with pytest.raises(EstimatorError, match=r"E\|φ\|\^2 is infinite because b1 ~ cauchy"):
        nnft.train(nnft.compile(nnft.from_dict(_spec(CAUCHY, networks=8, steps=1, record=[0, 1]))))
    r = nnft.train(nnft.compile(nnft.from_dict(_spec(NORMAL, networks=8, steps=1, record=[0, 1]))))
    assert r.notes == () and np.all(np.isfinite(r.kappa4.mean))


def test_the_cli_refuses_the_cauchy_bias_in_one_line_exit_2(tmp_path):
    path = tmp_path / "train_cauchy.yaml"
    path.write_text(yaml.safe_dump(_spec(CAUCHY, networks=8, steps=1, record=[0, 1])))
    res = CliRunner().invoke(main, ["train", str(path), "--quiet"])
    assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1
    assert "does not exist" in res.output and "b1 ~ cauchy" in res.output


@pytest.fixture(scope="module")
def tails():
    """4000 networks (k̂ fits 190 exceedances), a bias b1 that is not trained (not Gaussian: held fixed),
    so f_t keeps its tail: Student-t(2.1) and its Gaussian twin, same seed."""
    kw = dict(networks=4000, steps=2, record=[0, 2], lr=0.1)
    return {name: nnft.train(nnft.compile(nnft.from_dict(_spec(b1, **kw))))
            for name, b1 in (("student", STUDENT), ("normal", NORMAL))}


def test_a_heavy_tailed_bias_with_finite_variance_is_flagged_and_the_gaussian_is_not(tails):
    heavy, light = tails["student"], tails["normal"]
    # Student-t(2.1): Var f_t and the loss have per-network contributions f² with tail index 1.05, k = 0.95
    assert np.all(heavy.var.khat > KHAT_FLAG) and np.all(heavy.loss.khat > KHAT_FLAG)
    assert np.all(light.var.khat < KHAT_FLAG) and np.all(light.loss.khat < KHAT_FLAG)
    assert not light.mean.flagged.any()
    table = heavy.table(width=240)
    assert "HEAVY TAIL" in table and "*" in table
    assert "HEAVY TAIL" not in light.table(width=240)
    # the moment analysis: E f⁴ = ∞, so κ4_t is not computed and the error bars of Var f_t are noted
    assert np.all(np.isnan(heavy.kappa4.mean)) and any("κ4_t is not computed" in n for n in heavy.notes)
    assert any("error bar" in n and "E|φ|^4" in n for n in heavy.notes)
    assert "note: κ4_t is not computed" in table
    assert np.all(np.isfinite(light.kappa4.mean)) and light.notes == ()


def test_the_tail_diagnostic_is_the_same_for_any_chunk():
    model = nnft.compile(nnft.from_dict(_spec(STUDENT, N=8, networks=64, steps=1, record=[0, 1])))
    a, b = nnft.train(model, chunk=8), nnft.train(model, chunk=64)
    for part in ("mean", "cov", "loss"):
        assert getattr(a, part).khat.tobytes() == getattr(b, part).khat.tobytes()
        assert getattr(a, part).mean.tobytes() == getattr(b, part).mean.tobytes()
    assert a.var_floor.tobytes() == b.var_floor.tobytes()


FIT = dict(targets=[0.3, -0.1, 0.5], target=None, test={"list": [[-1.0], [0.0], [1.0]]})


@pytest.fixture(scope="module")
def fitted():
    """The erf net fitted on its test points (Var f_t → 0 as the residual decays), float32 and float64."""
    def run(N, steps, dtype, networks):
        model = nnft.compile(nnft.from_dict(erf_spec(N)))
        return nnft.train(model, networks=networks, steps=steps, record=[0, steps], dtype=dtype, **FIT)
    return run


def test_var_at_the_float32_noise_floor_is_positive_and_agrees_with_float64(fitted):
    # the newcomer's command (N = 256, 64 networks, 200 steps): float32 printed Var f_t = −2.6e-10 ± 2.8e-10,
    # the float32 rounding of f² (E f² − (E f)² of 0.09 − 0.09); the products are now formed in float64
    r32, r64 = fitted(256, 200, "float32", 64), fitted(256, 200, "float64", 64)
    v32, v64 = r32.var[-1], r64.var[-1]
    assert np.all(v32.mean > 0) and not r32.unresolved.any() and not r64.unresolved.any()
    z = (v32.mean - v64.mean) / np.sqrt(v32.stderr ** 2 + v64.stderr ** 2)     # two ensembles (dtype draws)
    assert np.all(np.abs(z) < 5)
    # twin: the old printout −2.6e-10 ± 2.8e-10 was no evidence of any spread (z = −0.9 from 0); now the float32
    # variance is resolved from zero, as float64's
    assert np.all(v32.mean / v32.stderr > 3) and np.all(v64.mean / v64.stderr > 3)


def test_a_variance_below_float32_resolution_is_flagged_and_float64_twin_is_not(fitted):
    # 400 steps: the float64 variance is ~1e-15 (resolved: floor (64 ε₆₄)² E f² ≈ 2e-27), float32 can only
    # give its rounding, below (64 ε₃₂)² E f² ≈ 5e-12
    r32, r64 = fitted(64, 400, "float32", 32), fitted(64, 400, "float64", 32)
    assert r32.unresolved[-1].all() and not r32.unresolved[0].any()
    assert not r64.unresolved.any() and np.all(r64.var.mean[-1] > 0)
    t32, t64 = r32.table(width=240), r64.table(width=240)
    assert "below float32's resolution" in t32 and "use train.dtype=float64" in t32
    assert "resolution" not in t64


def test_the_table_says_what_z_measures(tails):
    table = tails["normal"].table(width=240)
    assert "N → ∞ theory" in table and "√networks" in table and "no finite-width allowance" in table


def test_a_point_fitted_to_zero_is_judged_by_the_run_s_scale_not_its_own():
    """sin(πx/2) fitted at x = −1, 0, 1 for 400 steps: at x = 0 every network learns f ≈ 0, so E f_t(0)² is
    itself rounding-sized; float32's Var there (~3e-14) is rounding too and is flagged, as at x = ±1; the
    float64 twin resolves all three. Wrong-rule twin: a floor from each point's own E f² (the rule before)
    would have printed x = 0's float32 variance as a number."""
    test = {"list": [[-1.0], [0.0], [1.0]]}
    model = nnft.compile(nnft.from_dict(erf_spec(64)))
    r32, r64 = (nnft.train(model, networks=32, steps=400, record=[0, 400], test=test, dtype=dt)
                for dt in ("float32", "float64"))
    assert r32.unresolved[-1].all() and not r32.unresolved[0].any()
    assert not r64.unresolved.any() and np.all(r64.var.mean[-1] > 0)
    own = (64 * np.finfo(np.float32).eps) ** 2 * (r32.var.mean[-1] + r32.mean.mean[-1] ** 2)
    assert r32.var.mean[-1, 1] > own[1]                 # the per-point rule misses x = 0


def test_a_loss_resolved_below_float32_gets_a_note_at_the_steps_where_it_is():
    """Two copies of x = 0 with targets ±1 (mse): the loss cannot go below 1, and float32 printed
    0.9999999814 ± 0.0000000029 at step 20 (6σ below it) with no word; now a note says its last digits are
    rounding. Twin: at step 0 the loss's spread is the ensemble's (error bar ≫ 64 ε · loss): not noted."""
    over = dict(inputs={"list": [[0.0], [0.0]]}, targets=[1.0, -1.0], target=None, loss="mse", networks=256,
                record=[0, 20])
    r32 = nnft.train(nnft.compile(nnft.from_dict(erf_spec(64))), dtype="float32", **over)
    assert r32.loss.mean[-1] < 1.0 - 3 * r32.loss.stderr[-1]        # below its minimum: rounding
    noted = [n for n in r32.notes if n.startswith("loss at step")]
    assert noted and noted[0].startswith("loss at step 20:") and "float32's resolution" in noted[0], r32.notes
    assert "use train.dtype=float64" in r32.table(width=240)
    assert r32.loss.stderr[0] > 64 * np.finfo(np.float32).eps * r32.loss.mean[0]


@pytest.mark.parametrize("value, words", [
    ("1e200", ["parameter b0's scale 1e+200 is outside what float32 holds", "params.b0.density"]),
    ("1e-300", ["parameter b0's scale 1e-300 is outside what float32 holds"]),
    ("1e10", ["training diverged"]),            # the theory's kernels overflow: no theory, no traceback
])
def test_scales_out_of_the_dtype_s_range_are_one_line_errors(tmp_path, value, words):
    """σ_b = 1e200 or 1e-300 overflow/underflow float32 in the gradient step (they were a traceback from the
    kernel maps, or a 'diverged: lower train.lr' that blamed the rate): one line naming the parameter,
    exit 2; σ_b = 1e10 fits float32 but its kernels overflow: the training's own divergence line, exit 2."""
    import yaml
    from click.testing import CliRunner

    from nnft.cli import main
    path = tmp_path / "erf.yaml"
    path.write_text(yaml.safe_dump(erf_spec(8, networks=16, steps=2, record=[0, 2])))
    r = CliRunner().invoke(main, ["train", str(path), "--set", f"sigma_b={value}", "--quiet"])
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert r.exit_code == 2 and len(lines) == 1 and "Traceback" not in r.output, r.output
    for w in words:
        assert w in lines[0], r.output
