"""A declared reference must agree with the spec's own parameter laws; references never crash on big constants."""

from __future__ import annotations


import numpy as np
import pytest

import nnft
from nnft.errors import ReferenceMismatchError
from nnft.reference import CHECK_NEURONS, Z_MAX, check_reference

from .helpers_cli import assert_one_line_error

WITH_REFERENCE = sorted(n for n in nnft.shipped_specs() if nnft.load(n).reference)   # inherited ones too


def test_there_are_shipped_references():
    assert len(WITH_REFERENCE) >= 10


@pytest.mark.parametrize("name", WITH_REFERENCE)
def test_every_shipped_reference_agrees_with_its_spec(name):
    rc = check_reference(nnft.compile(nnft.load(name)))
    assert rc.checked, rc.reason
    assert np.all(np.abs(rc.z) <= Z_MAX)
    assert len(rc.z) >= 3                      # coincident and separated pairs


def _contradicting(tmp_path):
    spec = tmp_path / "bad_ref.yaml"
    spec.write_text("extends: cos_net\nname: bad-ref\nconstants: {sigma_w0: 2.0}\n"
                    "reference: {cos_net: {sigma_w0: 1.0}}\n", encoding="utf-8")
    return spec


def test_a_contradicting_reference_is_refused_naming_both_values(tmp_path):
    model = nnft.compile(nnft.load(_contradicting(tmp_path)))
    with pytest.raises(ReferenceMismatchError) as info:
        check_reference(model)
    err = info.value
    assert err.field == "reference.cos_net" and err.file.endswith("bad_ref.yaml")
    # both values, checked against G2 = (σ_w1²/2) exp(−σ_w0²|x−y|²/(2d)) computed here at the named pair
    msg = str(err)
    x = np.array([float(c) for c in msg.split("at x=(")[1].split(")")[0].split(",")])
    y = np.array([float(c) for c in msg.split("y=(")[1].split(")")[0].split(",")])
    claimed = 0.5 * np.exp(-1.0 * np.sum((x - y) ** 2) / 4)     # σ_w0 = 1 (the reference's claim)
    actual = 0.5 * np.exp(-4.0 * np.sum((x - y) ** 2) / 4)      # σ_w0 = 2 (the spec's densities)
    assert f"gives G2 = {claimed:.6g}," in msg
    est = float(msg.split("the spec's densities give ")[1].split(" ")[0])
    sd = float(msg.split(" ± ")[1].split(" ")[0])
    assert abs(est - actual) < 5 * sd and abs(claimed - actual) > 10 * sd


def test_exact_refuses_a_contradicting_reference(tmp_path):
    model = nnft.compile(nnft.load(_contradicting(tmp_path)))
    with pytest.raises(ReferenceMismatchError):
        nnft.exact(model, [[[0.0, 0.0], [0.5, 0.0]]])


def test_cli_validate_refuses_a_contradicting_reference(tmp_path):
    assert_one_line_error(["validate", str(_contradicting(tmp_path))], "reference.cos_net", "contradicts")


@pytest.mark.parametrize("name,constants", [
    ("cos_net", "{sigma_w0: 1e308}"),
    ("gauss_net", "{sigma_b0: 1e154}"),
    ("gauss_net", "{sigma_w0: 1e200}"),
    ("shaped_net", "{sigma_w0: 1e308}"),
    ("shaped_net", "{m: 1e-308}"),
    ("scalar_net", "{Lambda: 1e300}"),
    ("rp_scalar_2d", "{Lambda: 1e300}"),
])
def test_huge_constants_are_refused_quickly_with_a_spec_error(tmp_path, name, constants):
    spec = tmp_path / "big.yaml"
    spec.write_text(f"extends: {name}\nname: big\nconstants: {constants}\n", encoding="utf-8")
    with pytest.raises(nnft.SpecError) as info:
        check_reference(nnft.compile(nnft.load(spec)))
    assert info.value.field                     # names the field (reference.*, or the field that overflows)


def test_large_input_dimension_of_a_radial_reference_is_a_spec_error():
    with pytest.raises(nnft.SpecError) as info:
        check_reference(nnft.compile(nnft.load("shaped_net", d=400)))
    assert info.value.field.startswith("reference")


def test_cli_run_refuses_a_contradicting_reference_before_sampling(tmp_path, monkeypatch):
    import nnft.estimators.npoint as npoint
    import nnft.sample.iid as iid

    def no_sampling(*args, **kw):
        raise AssertionError("the ensemble was sampled before the reference was checked")
    for mod in (iid, npoint):                            # 10⁹ networks must never be started
        monkeypatch.setattr(mod, "stream", no_sampling)
    assert_one_line_error(["run", str(_contradicting(tmp_path)), "--samples", "1000000000", "--neurons", "0"],
                          "reference.cos_net", "contradicts")


def test_overflowing_readout_moments_are_a_spec_error_not_an_overflow(tmp_path):
    # found by the fuzzer: an exponential readout with loc 1e308 overflowed in the exact moments
    spec = tmp_path / "loc.yaml"
    spec.write_text("extends: gauss_net_skewed\nname: loc\n"
                    "params:\n  W1: {shape: [N], density: {exponential: {rate: 1.0, loc: 1e308}}}\n", encoding="utf-8")
    model = nnft.compile(nnft.load(spec))
    # the density refuses the overflowing moment (DensityArgError); the reference check says why it could
    # not compare, and the exact values are refused with an nnft error, never a raw OverflowError
    rc = check_reference(model)
    assert not rc.checked and "W1" in rc.reason and "overflow" in rc.reason
    with pytest.raises(nnft.NnftError, match="overflow"):
        nnft.exact(model, [np.zeros((2, model.d))])


def test_the_check_samples_neurons_not_whole_wide_networks():
    # found by the fuzzer: N = 10⁷ made the check sample one network of 10⁷ neurons (> 10 s)
    rc = check_reference(nnft.compile(nnft.load("erf_net", N=10_000_000)))
    assert rc.checked and rc.neurons < 10 * CHECK_NEURONS


def test_a_reference_wrong_only_beyond_g2_is_refused_by_the_fourth_moment(tmp_path):
    # Gauss-net's σ_b0 cancels from M2 but not from M4 = exp(4σ_b0²) at x = 0 (computed here)
    spec = tmp_path / "gb.yaml"
    spec.write_text("extends: gauss_net\nname: gb\nreference: {gauss_net: {sigma_w0: sigma_w0, sigma_b0: 0.6}}\n",
                    encoding="utf-8")
    with pytest.raises(ReferenceMismatchError, match="fourth moment") as info:
        check_reference(nnft.compile(nnft.load(spec)))
    msg = str(info.value)
    assert f"= {np.exp(4 * 0.36):.6g}," in msg                      # the reference's claim (σ_b0 = 0.6)
    est = float(msg.split("the spec's densities give ")[1].split(" ")[0])
    sd = float(msg.split(" ± ")[1].split(" ")[0])
    assert abs(est - np.exp(4 * 0.09)) < 5 * sd                       # the spec's law (σ_b0 = 0.3)


def test_a_reference_wrong_only_off_the_study_line_is_refused(tmp_path):
    """The study points of cos_net lie on the x[0] axis; a field that differs from the reference only
    through x[1] (an extra random frequency W2 on the second coordinate) agrees on that line. The check
    also uses a point off every axis, so the contradiction is found (it used to validate, then show
    z ≈ −50 at (0,0),(0,1))."""
    path = tmp_path / "aniso.yaml"
    path.write_text("extends: cos_net\nparams: {W2: {shape: [N], density: {normal: {std: 3.0}}}}\n"
                    "field: sum_N(W1 * cos(W0 @ x + b0 + W2 * x[1]))\n", encoding="utf-8")
    with pytest.raises(ReferenceMismatchError, match="contradicts"):
        check_reference(nnft.compile(nnft.load(path)))
