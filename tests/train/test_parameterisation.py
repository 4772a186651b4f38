"""Parameterisations of training: abcd / μP as coordinates (TASI arXiv:2408.00082 eq. 100-127; Yang & Hu
arXiv:2011.14522 §3), the per-parameter NTK terms of the kernel recursion, and the linearised GP of the
standard and abcd parameterisations from them (docs/training.md)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nnft
from helpers import Z_MAX
from nnft.errors import SpecError
from nnft.graph.kernels import kernels
from nnft.training.theory import linearised_gp
from train.test_training import _slope, _worst_z, erf_spec, mup_spec


def mlp_spec(N: int, depth: int = 2, **train) -> dict:
    """A tanh MLP of ``depth`` hidden layers written in the standard form W ~ N(0, 1/fan_in), b ~ N(0, 0.1)."""
    return {"nnft": 1, "name": "mlp-train", "dims": {"d": 1, "N": N},
            "mlp": {"depth": depth, "width": "N", "activation": "tanh", "weight_var": "1.0 / fan_in", "bias_var": 0.1},
            "train": {"inputs": {"list": [[-1.0], [1.0]]}, "target": "sin(pi * x / 2)", "test": {"list": [[0.5]]},
                      "lr": 0.5, "steps": 10, "record": [0, 10], "networks": 32, "loss": "square",
                      "linearised": False, **train}}


#: the spec's width exponents e_p (s_p² ∝ n^-e_p) of the two nets: fan-in d or none -> 0, fan-in N -> 1
E_ERF = {"W0": 0, "b0": 0, "W1": 1, "b1": 0}
E_MLP = {"W1": 0, "b1": 0, "W2": 1, "b2": 0, "W3": 1, "b3": 0}


def ntk_values(e):
    """abcd of the NTK parameterisation (TASI eq. 102-106 with a_1 = 0, a_l = 1/2, b = c = d = 0)."""
    return {"sigma": "multiplier", "params": {k: {"a": v / 2, "b": 0, "c": 0} for k, v in e.items()}}


def standard_values(e):
    """abcd of the standard parameterisation: a = 0, b = the spec's exponent, σ in the initialisation."""
    return {"sigma": "init", "params": {k: {"a": 0, "b": v, "c": 0} for k, v in e.items()}}


@pytest.mark.parametrize("spec, e", [(lambda **t: erf_spec(16, **t), E_ERF), (lambda **t: mlp_spec(4, **t), E_MLP)],
                         ids=["one hidden layer", "two hidden layers"])
def test_abcd_with_the_ntk_and_standard_values_is_ntk_and_standard_bit_for_bit(spec, e):
    """The coordinates come out exactly (c_p = s_p, r_p = ρ_p = 1 for ntk; c_p = 1 for standard), so the
    training is the same program: one compilation each, the same numbers."""
    model = nnft.compile(nnft.from_dict(spec(networks=4, steps=2, record=[0, 2])))
    for name, values, lr in (("ntk", ntk_values(e), 0.3), ("standard", standard_values(e), 0.02)):
        a = nnft.train(model, parameterisation=name, lr=lr)
        b = nnft.train(model, parameterisation="abcd", abcd=values, lr=lr)
        for field in ("mean", "cov", "ntk", "dntk_rms", "loss"):
            np.testing.assert_array_equal(getattr(a, field).mean, getattr(b, field).mean, err_msg=(name, field))
        assert a.mean.mean[-1] != pytest.approx(a.mean.mean[0])               # training moved something
        assert b.theory is not None and b.theory.eta_crit == pytest.approx(a.theory.eta_crit, rel=1e-12)
    assert len([k for k in model.jit_cache if k[0] == "train"]) == 2


def test_mup_is_the_one_hidden_layer_recipe():
    """``mup`` on the spec in standard form = the documented recipe (readout std σ/N, ntk, lr η₀N): the
    same trajectories to rounding, and the learning-rate-weighted NTK N times the recipe's (its rate is
    η₀, the recipe's η₀N)."""
    N = 32
    sp = erf_spec(N, networks=8, steps=10, record=[0, 10], inputs={"list": [[-1.0], [1.0]]},
                  test={"list": [[0.5]]}, linearised=False)
    del sp["params"]["b1"]
    sp["field"] = "sum_N(W1 * erf(W0 @ x + b0))"
    a = nnft.train(nnft.compile(nnft.from_dict(sp)), parameterisation="mup", lr=0.5)
    rec = mup_spec(N)
    rec["train"]["networks"] = 8
    b = nnft.train(nnft.compile(nnft.from_dict(rec)))
    np.testing.assert_allclose(a.mean.mean, b.mean.mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a.ntk.mean, N * b.ntk.mean, rtol=1e-4)
    assert a.theory is None and "mup" in a.theory_note and "feature" in a.theory_note


@pytest.mark.parametrize("abcd, field", [
    ({"params": {"W9": {"a": 0}}}, "train.abcd.params.W9"),                   # unknown name
    ({"params": {"W0": {"a": 0}}}, "train.abcd.params"),                       # trained ones missing
    ({"params": {"W0": {"a": 10}}}, "train.abcd.params.W0.a"),                 # exponent out of range
    ({"params": {"W0": {"a": "half"}}}, "train.abcd.params.W0.a"),             # not a number
    ({"params": {"W0": {"q": 1}}}, "train.abcd.params.W0.q"),                 # no such exponent
    ({"params": {"W0": {"a": 0}}, "sigma": "both"}, "train.abcd.sigma"),
    ({"width": "M", "params": {k: {} for k in E_ERF}}, "train.abcd.width"),   # undefined size
    (None, "train.abcd.params"),                                               # abcd without exponents
])
def test_bad_abcd_blocks_are_one_located_error(abcd, field):
    spec = erf_spec(8, networks=4, steps=1, record=[0, 1], parameterisation="abcd")
    if abcd is not None:
        spec["train"]["abcd"] = abcd
    with pytest.raises(SpecError) as err:
        nnft.train(nnft.compile(nnft.from_dict(spec)))
    assert err.value.field == field, (err.value.field, str(err.value))


def test_non_trainable_parameters_and_misplaced_blocks_are_refused():
    cos = erf_spec(8, networks=4, steps=1, record=[0, 1], parameterisation="abcd",
                   abcd={"params": {k: {} for k in E_ERF}})
    cos["field"] = "sum_N(W1 * cos(W0 @ x + b0)) + b1"
    cos["params"]["b0"] = {"shape": ["N"], "density": {"uniform": {"low": "-pi", "high": "pi"}}}
    with pytest.raises(SpecError, match="not trained") as err:
        nnft.train(nnft.compile(nnft.from_dict(cos)))
    assert err.value.field == "train.abcd.params.b0"
    model = nnft.compile(nnft.from_dict(erf_spec(8, networks=4, steps=1, record=[0, 1])))
    with pytest.raises(SpecError) as err:
        nnft.train(model, abcd={"d": 0.5})                                   # an abcd block with ntk
    assert err.value.field == "train.abcd"
    with pytest.raises(SpecError) as err:
        nnft.train(model, parameterisation="mup", abcd={"params": {"W0": {}}})
    assert err.value.field == "train.abcd.params"
    with pytest.raises(SpecError, match="Adam") as err:                      # μP of gradient descent only
        nnft.train(model, parameterisation="mup", optimizer="adam")
    assert err.value.field == "train.optimizer"
    linear = {**erf_spec(8, networks=4, steps=1, record=[0, 1]), "field": "W0 @ x + b1"}
    linear["params"] = {k: v for k, v in linear["params"].items() if k in ("W0", "b1")}
    linear["params"]["W0"] = {"shape": ["d"], "density": {"normal": {"std": 1.0}}}
    with pytest.raises(SpecError, match="readout") as err:                   # d with no readout to multiply
        nnft.train(nnft.compile(nnft.from_dict(linear)), parameterisation="abcd",
                   abcd={"d": 0.5, "width": "N", "params": {"W0": {}, "b1": {}}})
    assert err.value.field == "train.abcd.d"
    shifted = {**erf_spec(8, networks=4, steps=1, record=[0, 1]), "field": "sum_N(W1 * erf(W0 @ x + b0)) + b1 * b1"}
    with pytest.raises(SpecError, match="MLP") as err:                       # a parameter with no μP role
        nnft.train(nnft.compile(nnft.from_dict(shifted)), parameterisation="mup")
    assert err.value.field == "train.parameterisation"


def test_bad_abcd_on_the_command_line_is_one_line(tmp_path):
    import yaml
    from click.testing import CliRunner

    from nnft.cli import main
    path = tmp_path / "abcd.yaml"
    path.write_text(yaml.safe_dump(erf_spec(8, networks=4, steps=1, record=[0, 1], parameterisation="abcd",
                                            abcd={"params": {"W0": {"a": 9}}})))
    res = CliRunner().invoke(main, ["train", str(path)])
    assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1 and "train.abcd.params.W0.a" in res.output


# --- per-parameter NTK terms -----------------------------------------------------------------------
def test_the_ntk_terms_sum_to_the_ntk():
    X = np.array([[-1.0], [0.3], [1.2]])
    for name in ("erf_net", "tanh_mlp", "residual_relu", "gauss_net", "cos_net", "deep_linear"):
        model = nnft.load(name)
        model = nnft.compile(model)
        X = np.random.default_rng(0).normal(size=(3, model.d))
        k = kernels(model, X)
        assert k.ntk_terms, name
        np.testing.assert_allclose(sum(k.ntk_terms.values()), k.ntk, rtol=1e-12, atol=1e-14, err_msg=name)


def test_each_ntk_term_is_the_measured_per_parameter_ntk_at_large_width():
    """Θ_p = s_p² Σ ∂φ/∂θ_p ∂φ/∂θ_p of each parameter of a two-hidden-layer net, measured over 64 networks
    at N = 256, against the recursion's term (|z| < Z_MAX, with the O(1/n) finite-width allowance |Θ_p|/n);
    swapping the terms of W2 and W3 fails the same comparison."""
    N, n = 256, 64
    model = nnft.compile(nnft.from_dict(mlp_spec(N)))
    X = np.array([[-1.0], [0.5], [1.0]])
    k = kernels(model, X)
    from nnft.estimators.ntk import trainable_scales
    from nnft.sample.iid import as_key
    scales = trainable_scales(model)
    theta = model.sample(as_key(3), n, 0)

    def per_param(th):
        jac = jax.jacrev(lambda t: jax.vmap(lambda x: model.field({**th, **t}, x))(jnp.asarray(X, jnp.float32)))(
            {p: th[p] for p in scales})
        return {p: scales[p] ** 2 * jac[p].reshape(len(X), -1) @ jac[p].reshape(len(X), -1).T for p in scales}

    meas = jax.jit(jax.vmap(per_param))(theta)
    for swap in (False, True):
        worst = 0.0
        for p in scales:
            q = {"W2": "W3", "W3": "W2"}.get(p, p) if swap else p
            m = np.asarray(meas[p], np.float64)
            mean, se = m.mean(0), m.std(0, ddof=1) / np.sqrt(n)
            th = k.ntk_terms[q]
            z = (mean - th) / np.sqrt(se ** 2 + (np.abs(th) / N) ** 2)
            worst = max(worst, float(np.max(np.abs(z))))
        assert (worst < Z_MAX) != swap, (swap, worst)


# --- theory of the standard and abcd parameterisations -----------------------------------------------
@pytest.fixture(scope="module")
def wide():
    return nnft.compile(nnft.from_dict(erf_spec(1024)))


def test_standard_parameterisation_against_its_linearised_gp(wide):
    """standard at lr 0.5/n: the trained ensemble's mean and variance at N = 1024 agree with the linearised
    GP of Θ_std = Σ_p Θ_p/s_p² (|z| < Z_MAX with the O(1/n) allowance of test_training); the NTK of the NTK
    parameterisation and Σ_p Θ_p/s_p (a wrong power) fail; E Θ̂_0 is Θ_std within its error (|z|, with
    allowance |Θ|/n), and η_crit = 2/λ_max(Θ_std) is the measured one's within 1 %."""
    N = 1024
    r = nnft.train(wide, parameterisation="standard", lr=0.5 / N, networks=64)
    assert r.theory is not None and r.theory.regime == "stable"
    zm, zv = _worst_z(r, r.theory, N)
    assert zm < Z_MAX and zv < Z_MAX, (zm, zv)
    assert np.min(np.abs(r.mean.z(0.0)[-1])) > 20
    Z = np.concatenate([r.X, r.test])
    k = kernels(wide, Z)
    from nnft.estimators.ntk import trainable_scales
    s = trainable_scales(wide)
    th_std = sum(t / s[p] ** 2 for p, t in k.ntk_terms.items())
    assert np.max(np.abs(r.ntk.z(th_std[None], np.abs(th_std)[None] / N))) < Z_MAX
    assert np.max(np.abs(r.ntk.z(k.ntk[None], np.abs(k.ntk)[None] / N))) > Z_MAX
    assert r.theory.eta_crit == pytest.approx(r.eta_crit_empirical, rel=0.01)
    wrong = {"the NTK parameterisation's kernel": k.ntk,
             "Σ Θ_p / s_p": sum(t / s[p] for p, t in k.ntk_terms.items())}
    for what, T in wrong.items():
        th = linearised_gp(k.nngp, T, 3, r.Y, r.settings["lr"], 1.0, r.steps)
        assert max(_worst_z(r, th, N)) > Z_MAX, what


def test_abcd_with_ntk_like_scalings_against_its_linearised_gp(wide):
    """An abcd with the NTK exponents but σ in the initialisation (Yang & Hu's convention): another
    training than ``ntk`` when some σ_p ≠ 1 (c_p = n^-a: the biases' rates are 1/σ² = 4 times ntk's), whose
    kernel is Σ_p Θ_p/σ_p²; the ensemble agrees with its linearised GP and not with the NTK
    parameterisation's (the twin)."""
    N = 1024
    r = nnft.train(wide, parameterisation="abcd", abcd={**ntk_values(E_ERF), "sigma": "init"}, networks=64, lr=0.25)
    assert r.theory is not None and r.theory.regime == "stable"
    zm, zv = _worst_z(r, r.theory, N)
    assert zm < Z_MAX and zv < Z_MAX, (zm, zv)
    k = kernels(wide, np.concatenate([r.X, r.test]))
    ntk_th = linearised_gp(k.nngp, k.ntk, 3, r.Y, 0.25, 1.0, r.steps)
    assert max(_worst_z(r, ntk_th, N)) > Z_MAX


def test_feature_learning_parameterisations_refuse_the_kernel_theory():
    model = nnft.compile(nnft.from_dict(erf_spec(8, networks=4, steps=1, record=[0, 1], linearised=False)))
    r = nnft.train(model, parameterisation="mup")
    assert r.theory is None and "TASI" in r.theory_note and "measured NTK" in r.table()
    d_half = {**ntk_values(E_ERF), "d": 0.5}
    r = nnft.train(model, parameterisation="abcd", abcd=d_half)
    assert r.theory is None and "W1" in r.theory_note and "initial law" in r.theory_note


# --- μP against NTK parameterisation across widths ----------------------------------------------------
def _relative_change(spec):
    r = nnft.train(nnft.compile(nnft.from_dict(spec)))
    norm = np.linalg.norm(r.ntk.mean[0])
    return type(r.dntk_rms)(r.dntk_rms.mean / norm, r.dntk_rms.stderr / norm, r.dntk_rms.n)


@pytest.mark.slow
@pytest.mark.parametrize("depth, widths", [(1, [64, 256, 1024]), (2, [32, 128, 512])], ids=["one layer", "two layers"])
@pytest.mark.parametrize("par", ["mup", "ntk"])
def test_mup_relative_ntk_change_is_width_independent_and_ntk_falls_as_one_over_width(par, depth, widths):
    """‖Θ_t − Θ_0‖/‖Θ_0‖ after 10 steps over three widths a factor 16 apart (32 networks each): in μP the
    fitted log-log slope is 0 within Z_MAX standard errors and −1/2 is excluded (features learn, TASI
    arXiv:2408.00082 §4.3); in the NTK parameterisation it is −1 within error and 0 is excluded.
    Measured: μP −0.03 ± 0.07 (one layer), 0.01 ± 0.06 (two); ntk −0.88 ± 0.06, −1.02 ± 0.07."""
    slope_th, excluded = {"mup": (0.0, -0.5), "ntk": (-1.0, 0.0)}[par]
    rel = [_relative_change(mlp_spec(n, depth, parameterisation=par)) for n in widths]
    slope, se = _slope(widths, rel)
    assert abs(slope - slope_th) < Z_MAX * se, (par, slope, se)
    assert abs(slope - excluded) > Z_MAX * se, (par, slope, se)
    assert (rel[-1].mean[-1] > 0.1) == (par == "mup"), rel[-1].mean        # O(1) vs frozen at the largest width
