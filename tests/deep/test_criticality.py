"""Criticality at infinite width (docs/physics.md §4): fixed points, χ's, critical points, phases."""

import math

import numpy as np
import pytest
from scipy import integrate

from nnft.analytic import criticality as C


@pytest.mark.parametrize("act, cw", [("relu", 2.0), ("tanh", 1.0), ("erf", math.pi / 4)])
def test_critical_points_at_zero_bias(act, cw):
    got = float(C.critical_line(act, [0.0])[0])
    assert abs(got - cw) < 1e-6, (act, got, cw)
    assert C.criticality(act, cw, 0.0).phase == "critical"
    assert C.criticality(act, cw * 0.98, 0.0).phase == "ordered"
    assert C.criticality(act, cw * 1.02, 0.0).phase == "chaotic"


@pytest.mark.parametrize("act", ["tanh", "erf"])
def test_critical_line_with_bias(act):
    cbs = np.array([0.05, 0.2])
    cws = C.critical_line(act, cbs)
    assert np.all(np.diff(cws) > 0) and np.all(cws > C.critical_line(act, [0.0])[0])
    for cb, cw in zip(cbs, cws):
        fp = C.fixed_point(act, cw, cb)
        assert fp.kind == "finite"
        assert abs(float(C.chi_perp(act, cw, fp.K)) - 1) < 1e-9
        assert abs(fp.K - (cb + cw * float(C.sigma2_mean(act, fp.K)))) < 1e-12


def test_erf_critical_line_closed_form():
    # erf: ⟨σ²⟩_K = (2/π) arcsin(2K/(1+2K)), χ⊥ = (4C_W/π)/√(1+4K): solve both by hand
    cb = 0.1
    cw = float(C.critical_line("erf", [cb])[0])
    K = ((4 * cw / math.pi) ** 2 - 1) / 4
    assert abs(K - (cb + cw * 2 / math.pi * math.asin(2 * K / (1 + 2 * K)))) < 1e-9


def test_relu_fixed_points_and_chis():
    fp = C.fixed_point("relu", 2.0, 0.0, K0=3.7)
    assert fp.kind == "every" and fp.K == 3.7 and "every K" in fp.message
    fp = C.fixed_point("relu", 1.5, 0.3)
    assert fp.kind == "finite" and abs(fp.K - 0.3 / (1 - 0.75)) < 1e-14
    assert C.fixed_point("relu", 1.5, 0.0).kind == "zero"
    d = C.fixed_point("relu", 2.5, 0.1)
    assert d.kind == "divergent" and not d.converged and d.K == math.inf
    assert C.fixed_point("relu", 2.0, 0.1).kind == "divergent"
    for cw in (1.0, 2.0, 3.0):
        for K in (0.1, 1.0, 10.0):
            assert C.chi_perp("relu", cw, K) == cw / 2 and C.chi_parallel("relu", cw, K) == cw / 2
    c = C.criticality("relu", 1.0, 0.2)
    assert c.phase == "ordered" and abs(c.xi_c - 1 / math.log(2)) < 1e-12


def test_relu_quadrature_agrees_with_closed_form():
    # the generic (kinked-σ) quadrature path on a relu declared as a user activation
    act = C.Activation("myrelu", lambda u: np.maximum(u, 0), lambda u: (u > 0) * 1.0, lambda u: 0 * u, smooth=False)
    for K in (0.3, 2.0):
        assert abs(float(C.sigma2_mean(act, K)) - K / 2) < 1e-6 * K
        assert abs(float(C.chi_perp(act, 2.0, K)) - 1.0) < 1e-5


@pytest.mark.parametrize("K", [0.0, 0.05, 0.7, 3.0, 40.0])
def test_erf_chis_closed_forms(K):
    cw = 1.3
    assert abs(float(C.chi_perp("erf", cw, K)) - cw * 4 / math.pi / math.sqrt(1 + 4 * K)) < 1e-11
    # χ∥ = C_W d⟨σ²⟩/dK with ⟨σ²⟩ = (2/π) arcsin(2K/(1+2K)):  d/dK = (4/π) / ((1+2K)√(1+4K))
    assert abs(float(C.chi_parallel("erf", cw, K)) - cw * 4 / math.pi / ((1 + 2 * K) * math.sqrt(1 + 4 * K))) < 1e-11
    assert abs(float(C.sigma2_mean("erf", K)) - 2 / math.pi * math.asin(2 * K / (1 + 2 * K))) < 1e-12


@pytest.mark.parametrize("K", [0.5, 10.0, 100.0])
def test_tanh_expectation_accuracy(K):
    ref = integrate.quad(lambda u: np.tanh(u) ** 2 * np.exp(-u * u / (2 * K)) / np.sqrt(2 * np.pi * K),
                         -np.inf, np.inf, epsabs=1e-14, epsrel=1e-13, limit=500)[0]
    assert abs(float(C.sigma2_mean("tanh", K)) - ref) < 1e-10


def test_tanh_fixed_points():
    # C_b = 0: K* = 0 for C_W ≤ 1 (the flow to 0 is a power law at C_W = 1), K* > 0 beyond
    assert C.fixed_point("tanh", 1.0, 0.0).kind == "zero"
    assert C.fixed_point("tanh", 0.7, 0.0).kind == "zero"
    fp = C.fixed_point("tanh", 1.5, 0.0)
    assert fp.kind == "finite" and fp.K > 0
    assert abs(fp.K - 1.5 * float(C.sigma2_mean("tanh", fp.K))) < 1e-13
    # plain iteration from K0 reaches the same point
    K = 1.0
    for _ in range(2000):
        K = 0.3 + 2.0 * float(C.sigma2_mean("tanh", K))
    assert abs(C.fixed_point("tanh", 2.0, 0.3).K - K) < 1e-12
    assert C.criticality("tanh", 2.0, 0.3).phase == "ordered"    # critical line: C_W ≈ 2.505 at C_b = 0.3
    c = C.criticality("tanh", 3.0, 0.3)
    assert c.phase == "chaotic" and c.chi_perp > 1 and c.chi_parallel < 1 and c.xi_c > 0 and c.xi_q > 0
    assert c.c_star < 1 and c.xi_c == pytest.approx(-1 / math.log(c.chi_c), rel=1e-14)   # at c*, not c = 1
    assert c.xi_q == pytest.approx(-1 / math.log(c.chi_parallel), rel=1e-14)


def test_depths_diverge_at_criticality():
    xq, xc = C.correlation_depths("erf", math.pi / 4, 0.0)
    assert xq > 1e8 and xc > 1e8
    xq, xc = C.correlation_depths("tanh", 0.5, 0.0)
    assert xq == pytest.approx(1 / math.log(2)) and xc == pytest.approx(1 / math.log(2))


def test_phase_diagram_arrays():
    pd = C.phase_diagram("erf", [0.0, 0.1], [0.5, 1.0, 2.0])
    assert pd.phase.shape == (2, 3) and pd.K.shape == (2, 3)
    assert pd.phase[0, 0] == -1 and pd.phase[0, 2] == 1
    cl = pd.critical_C_W
    assert abs(cl[0] - math.pi / 4) < 1e-9 and cl[1] > cl[0]


def test_bad_inputs():
    blowup = (lambda u: np.exp(u ** 2), lambda u: 2 * u * np.exp(u ** 2), lambda u: (2 + 4 * u ** 2) * np.exp(u ** 2))
    with pytest.raises(ValueError, match="grows too fast"):
        C.fixed_point(blowup, 1.0, 0.0)
    with pytest.raises(ValueError, match="grows too fast"):
        C.chi_perp(blowup, 1.0, 1.0)
    with pytest.raises(ValueError, match="derivatives"):
        C.fixed_point(np.tanh, 1.0, 0.0)
    with pytest.raises(ValueError, match="unknown activation"):
        C.fixed_point("tanhh", 1.0, 0.0)
    with pytest.raises(ValueError, match="C_W"):
        C.fixed_point("tanh", -1.0, 0.0)
    with pytest.raises(ValueError, match="C_b"):
        C.fixed_point("tanh", 1.0, -0.1)
    with pytest.raises(ValueError):
        C.chi_perp("tanh", 1.0, -1.0)


@pytest.mark.parametrize("cw", [3.0, 2.5])
def test_xi_q_is_nan_and_the_growth_depth_is_measured_when_chi_parallel_exceeds_one(cw):
    """ReLU at C_b = 0: K⁽ˡ⁺¹⁾ = (C_W/2) K⁽ˡ⁾ exactly, so χ∥ = C_W/2 > 1 for C_W > 2 and K grows by e every
    1/ln(C_W/2) layers. ξ_q (an approach depth) does not exist there: NaN, never −1/ln χ∥ < 0."""
    c = C.criticality("relu", cw, 0.0)
    assert c.chi_parallel == pytest.approx(cw / 2, rel=1e-14) and math.isnan(c.xi_q)
    assert c.growth_depth == pytest.approx(1 / math.log(cw / 2), rel=1e-14)
    # the growth by iterating the exact map: K after growth_depth layers (non-integer: interpolate in log) is e·K0
    K, logs = 1.0, [0.0]
    for _ in range(20):
        K = cw * float(C.sigma2_mean("relu", K))
        logs.append(math.log(K))
    slope = np.polyfit(np.arange(21), logs, 1)[0]          # ln K grows by 1/growth_depth per layer
    assert slope * c.growth_depth == pytest.approx(1.0, rel=1e-12)
    assert not (slope * (-1 / math.log(cw / 2)) == pytest.approx(1.0, rel=1e-12))   # twin: the old negative ξ_q
    # the ordered/critical side keeps ξ_q and has no growth depth
    o = C.criticality("relu", 1.5, 0.0)
    assert o.xi_q == pytest.approx(-1 / math.log(0.75), rel=1e-14) and math.isnan(o.growth_depth)
    d = C.phase_diagram("relu", [0.0], [1.5, 2.0, cw])
    assert not np.any(d.xi_q < 0) and math.isnan(d.xi_q[0, 2]) and d.xi_q[0, 1] == math.inf


def test_criticality_file_of_the_old_layout_loads_without_a_negative_depth():
    from nnft.results.criticality import from_dataset, to_dataset
    c = C.criticality("relu", 3.0, 0.0)
    ds = to_dataset(c)
    back = from_dataset(ds)
    assert math.isnan(back.xi_q) and back.growth_depth == c.growth_depth
    from nnft.results.files import pack, unpack
    old = unpack(ds.attrs["fields"])
    old.pop("growth_depth")
    old["xi_q"] = -1 / math.log(1.5)                        # what files of the old layout hold
    ds.attrs["fields"] = pack(old)
    back = from_dataset(ds)
    assert math.isnan(back.xi_q) and back.growth_depth == pytest.approx(1 / math.log(1.5), rel=1e-15)
