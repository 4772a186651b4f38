"""The 2008.08601 running coupling λ(Λ) = −ΔG⁽⁴⁾/∫_{[−Λ,Λ]}ΠK: the cutoff integrals against scipy and a
closed form, the log-log slope against the power the kernel's large-|x| growth predicts, and the Monte
Carlo λ against the exact G_c⁽⁴⁾ of the same nets (paper parameterisation: bench/bench_paper_grid.py)."""

import math

import numpy as np
import pytest
from scipy import integrate

import nnft
from nnft.action.running import cutoff_integrals
from nnft.action.lattice import sorted_tuples
from helpers import Z_MAX

INPUTS = np.array([-1.0, -0.6, -0.2, 0.2, 0.6, 1.0])
RELU_INPUTS = np.arange(1, 7) * 0.2
CUTOFFS = (7, 10, 100, 1000, 10_000, 100_000)


def erf_net(N=5):
    return nnft.compile(nnft.from_dict({"nnft": 1, "name": "erf-hms", "extends": "erf_net", "dims": {"d": 1, "N": N},
                                        "constants": {"sigma_w": 1.0, "sigma_b": 1.0}}))


def relu_net(N=20):
    return nnft.compile(nnft.from_dict({
        "nnft": 1, "name": "relu-hms", "dims": {"d": 1, "N": N}, "constants": {"sigma_w": 1.0},
        "params": {"W0": {"shape": ["N", "d"], "density": {"normal": {"std": "sigma_w / sqrt(d)"}}},
                   "W1": {"shape": ["N"], "density": {"normal": {"std": "sigma_w / sqrt(N)"}}}},
        "field": "sum_N(W1 * relu(W0 @ x))",
        "reference": {"relu_layer": {"weight_std": "sigma_w / sqrt(d)", "bias_std": 0.0}}}))


def K_erf(x, y, sb=1.0, sw=1.0):
    """The arcsin kernel of the erf net with readout bias (Williams 1997), written out here."""
    a = 2 * (sb ** 2 + sw ** 2 * x * y)
    bx, by = 1 + 2 * (sb ** 2 + sw ** 2 * x * x), 1 + 2 * (sb ** 2 + sw ** 2 * y * y)
    return sb ** 2 + 2 * sw ** 2 / math.pi * math.asin(a / math.sqrt(bx * by))


@pytest.fixture(scope="module")
def erf_run():
    return nnft.running_coupling(erf_net(), INPUTS, samples=100_000, cutoffs=CUTOFFS, key=1, method="neurons")


@pytest.fixture(scope="module")
def relu_run():
    return nnft.running_coupling(relu_net(), RELU_INPUTS, samples=50_000, cutoffs=CUTOFFS, key=2, method="neurons")


def test_cutoff_integrals_match_scipy_and_the_relu_closed_form(erf_run, relu_run):
    quads = [(0, 0, 0, 0), (0, 1, 3, 5), (2, 2, 4, 5)]
    rows = [list(map(tuple, erf_run.quads)).index(q) for q in quads]
    for c, L in enumerate(CUTOFFS[:4]):
        for q, r in zip(quads, rows):
            f = lambda x: np.prod([K_erf(x, INPUTS[i]) for i in q])
            ref = integrate.quad(f, -L, 0, epsabs=0, epsrel=1e-12, limit=200)[0] + \
                integrate.quad(f, 0, L, epsabs=0, epsrel=1e-12, limit=200)[0]
            assert erf_run.integrals[c, r] == pytest.approx(ref, rel=1e-9)
    # ReLU, no bias, d = 1: K(x, y) = σ_w⁴ x y / 2 for x, y > 0 and 0 for x < 0 < y, so I(Λ) = Π(x_i/2) Λ⁵/5
    prod = np.prod(RELU_INPUTS[relu_run.quads] / 2, axis=-1)
    np.testing.assert_allclose(relu_run.integrals, prod[None] * np.array(CUTOFFS, float)[:, None] ** 5 / 5, rtol=1e-11)
    assert not np.allclose(relu_run.integrals, prod[None] * np.array(CUTOFFS, float)[:, None] ** 4 / 4, rtol=1e-3)


def test_slopes_follow_the_kernel_growth(erf_run, relu_run):
    """λ ~ Λ^−(Σa_i + d): erf kernel → constant at large |x| (a = 0): −1; bias-free ReLU grows like |x|
    (a = 1): −5. The large-Λ fit is the quadrature's (deterministic); a wrong power fails."""
    assert erf_run.asymptotic_slope == pytest.approx(-1.0, abs=1e-3) and relu_run.asymptotic_slope == pytest.approx(-5.0, abs=1e-9)
    assert erf_run.asymptotic_slope != pytest.approx(-2.0, abs=0.5)
    s, e = erf_run.fit(1000)
    assert abs(s + 1) < 0.01 and abs(s + 2) > 0.5
    assert erf_run.slope > -1 and erf_run.slope < -0.8             # over 7 … 10⁵ the kernel's bump still counts
    assert abs(relu_run.slope + 5) < 1e-9 and relu_run.slope_err < 1e-9
    assert abs(relu_run.slope + 4) > 0.5


def test_monte_carlo_coupling_against_exact_g4c(erf_run, relu_run):
    """λ(Λ) = −ΔG4/I against −G_c4(exact)/I by |z| at every cutoff; twice that (or the opposite sign) fails."""
    for run, model, xs in ((erf_run, erf_net(), INPUTS), (relu_run, relu_net(), RELU_INPUTS)):
        g4c = nnft.exact(model, [xs[list(q)][:, None] for q in run.quads]).connected[0]
        ref = -g4c[None] / run.integrals
        assert np.abs(run.coupling.z(ref)).max() < Z_MAX
        assert np.abs(run.coupling.z(2 * ref)).max() > Z_MAX and np.abs(run.coupling.z(-ref)).max() > Z_MAX
        assert run.resolved.sum() >= len(run.quads) // 2


def test_refusals():
    from nnft.errors import InputError
    with pytest.raises(InputError, match="d = 2"):
        nnft.running_coupling(nnft.compile(nnft.load("cos_net")), [[0.0, 0.0], [1.0, 0.0]], samples=100)
    with pytest.raises(InputError, match="cutoffs"):
        nnft.running_coupling(relu_net(), RELU_INPUTS, samples=100, cutoffs=(7, 10))


GAUSS_SPEC = {"nnft": 1, "name": "gauss-net-hms", "dims": {"d": 1, "N": 100}, "constants": {"sigma_w": 1.0, "sigma_b": 1.0},
            "params": {"W0": {"shape": ["N", "d"], "density": {"normal": {"std": "sigma_w / sqrt(d)"}}},
                       "b0": {"shape": ["N"], "density": {"normal": {"std": "sigma_b"}}},
                       "W1": {"shape": ["N"], "density": {"normal": {"std": "sigma_w / sqrt(N)"}}},
                       "b1": {"shape": [], "density": {"normal": {"std": "sigma_b"}}}},
            "field": "sum_N(W1 * exp(W0 @ x + b0 - sigma_b**2 - sigma_w**2 * norm(x)**2 / d)) + b1",
            "reference": {"gauss_net": {"sigma_w0": "sigma_w", "sigma_b0": "sigma_b"}}}


def test_gauss_net_integrals_beyond_the_kernel_maps_overflow():
    """The paper's Gauss-net: the graph's kernel map overflows (exp(|x|²)·exp(−|x|²)) beyond |x| ≈ 26, where the
    neuron reference's exact G2 takes over; I(Λ) against scipy on K = σ_b² + σ_w² exp(−|x − y|²/2) (d = 1)."""
    model = nnft.compile(nnft.from_dict(GAUSS_SPEC))
    xs = 0.01 * INPUTS[:, None]
    quads = [(0, 0, 0, 0), (0, 2, 3, 5)]
    cut = (7.0, 40.0, 300.0)
    I = cutoff_integrals(model, xs, quads, cut)
    for c, L in enumerate(cut):
        for j, q in enumerate(quads):
            f = lambda x: np.prod([1.0 + np.exp(-(x - xs[i, 0]) ** 2 / 2) for i in q])
            ref = sum(integrate.quad(f, a, b, epsabs=0, epsrel=1e-12, limit=200)[0]
                      for a, b in ((-L, -10), (-10, 0), (0, 10), (10, L)))
            assert I[c, j] == pytest.approx(ref, rel=1e-9)
    assert I[2, 0] == pytest.approx(2 * 300.0 + 27.7, rel=0.01)          # 2Λσ_b⁸ + the bump


def test_decaying_kernel_gives_a_constant_coupling():
    """Cos-net, d = 1: K = ½ exp(−|x − y|²/2) decays faster than any power, so I(Λ) converges and λ(Λ) tends to a
    constant: asymptotic slope 0, and the fitted slope over Λ ≥ 7 is 0 to quadrature accuracy (not −1)."""
    r = nnft.running_coupling(nnft.compile(nnft.load("cos_net", d=1, N=4)), [0.0, 0.5, 1.0], samples=20_000,
                              cutoffs=(7, 10, 100, 1000), key=3)
    assert r.asymptotic_slope == 0.0 and abs(r.slope) < 1e-6 and abs(r.slope + 1) > 0.5


@pytest.mark.slow
def test_gauss_net_monte_carlo_coupling():
    """Gauss-net at the paper's width N = 100, ΔG4 = G4 − Wick(K) from whole networks (the paper's estimator):
    λ(Λ) against −G_c4(exact)/I by |z| (k̂ ≈ 0.5: lognormal units, but the mean and error are trusted); twice fails."""
    model = nnft.compile(nnft.from_dict(GAUSS_SPEC))
    xs = 0.01 * INPUTS
    r = nnft.running_coupling(model, xs, samples=100_000, cutoffs=(7, 100, 1000), key=0)
    ref = -nnft.exact(model, [xs[list(q)][:, None] for q in r.quads]).connected[0][None] / r.integrals
    assert np.abs(r.coupling.z(ref)).max() < Z_MAX and np.abs(r.coupling.z(2 * ref)).max() > Z_MAX


@pytest.mark.parametrize("bad", [(-1, 5, 10), (0, 5, 10), (10, 5, 100), (5, 5, 10), (5, float("nan"), 10), "abc", 10,
                                 (7, 10), (5, 10, 1e9), [[7, 10, 100]]])
def test_bad_cutoffs_refused(bad):
    """≤ 0, unsorted, repeated, NaN, non-numeric, scalar, too few, too large, 2-d: one InputError naming cutoffs."""
    from nnft.errors import InputError
    with pytest.raises(InputError, match="cutoffs must be"):
        nnft.running_coupling(relu_net(), RELU_INPUTS, samples=100, cutoffs=bad)


def test_bias_free_legs_make_the_gauss_net_integral_converge():
    """bias_variance = σ_b² puts K − σ_b² = σ_w² exp(−|x − y|²/2) on the legs (the reimplementation of
    arXiv:2108.01403): I(Λ) against scipy on that kernel, converged by Λ = 40 (λ(Λ) tends to a constant,
    asymptotic slope 0), where the full kernel's grows like 2Λσ_b⁸ (slope −1)."""
    from nnft.action.running import _asymptotic
    model = nnft.compile(nnft.from_dict(GAUSS_SPEC))
    xs = 0.01 * INPUTS[:, None]
    quads = np.array([(0, 0, 0, 0), (0, 2, 3, 5)])
    cut = (7.0, 40.0, 300.0)
    I = cutoff_integrals(model, xs, quads, cut, bias_variance=1.0)
    for j, q in enumerate(quads):
        f = lambda x: np.prod([np.exp(-(x - xs[i, 0]) ** 2 / 2) for i in q])
        ref = integrate.quad(f, -10, 10, epsabs=0, epsrel=1e-12, limit=200)[0]     # the tails beyond ±10: < 1e-40
        np.testing.assert_allclose(I[:, j], ref, rtol=1e-9)
        assert abs(I[0, j] / (2 * 7.0 + ref) - 1) > 0.5                    # not the full kernel's integral
    assert _asymptotic(model, xs, quads, 1e5, 1.0) == 0.0 and _asymptotic(model, xs, quads, 1e5) == pytest.approx(-1.0, abs=1e-6)
    from nnft.errors import InputError
    for bad in (-1.0, float("nan"), "x"):
        with pytest.raises(InputError, match="bias_variance"):
            nnft.running_coupling(model, INPUTS * 0.01, samples=100, cutoffs=cut, bias_variance=bad)


def test_table_labels_the_median_as_a_summary_without_error(erf_run):
    """The median |λ| column has no ± and says so, pointing at the per-tuple errors; tuple 0 carries its ±."""
    lines = erf_run.table().splitlines()
    head = next(i for i, line in enumerate(lines) if "median |λ| *" in line)
    assert lines[head + 1].startswith("---")
    rows = lines[head + 2:head + 2 + len(erf_run.cutoffs)]
    assert all("±" in row or "(" in row for row in rows)
    assert any(line.startswith("* median |λ|") and "no error bar" in line and "stderr" in line for line in lines)
