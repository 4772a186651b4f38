"""Whole-theory closed forms (docs/physics.md §1-4, 8) vs the generic per-neuron moment path and MC."""

import math

import numpy as np
import pytest
from scipy import special
from scipy.integrate import quad

from nnft.analytic import NEURONS
from nnft.analytic import closed_forms as cf


def _pairs(g, x):
    return g(x[0], x[1]) * g(x[2], x[3]) + g(x[0], x[2]) * g(x[1], x[3]) + g(x[0], x[3]) * g(x[1], x[2])


def g4c_from_moments(neuron, x, mu2, mu4, N):
    """docs/physics.md §0: G4c = (1/N)[μ4 M4 − μ2²(M2(12)M2(34) + M2(13)M2(24) + M2(14)M2(23))]."""
    m2 = lambda a, b: neuron.moment(np.array([a, b]))
    return (mu4 * neuron.moment(np.asarray(x)) - mu2 ** 2 * _pairs(m2, x)) / N


def _vol(d, lam):
    return math.pi ** (d / 2) * lam ** d / math.gamma(d / 2 + 1)


POINTS = {d: [np.random.default_rng(d).normal(size=(4, d)) * s for s in (0.3, 1.0)] for d in (1, 2, 3)}


# ----------------------------------------------------------------------------- Cos-net, Gauss-net

@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("r", [3.0, 1.8])
def test_cos_net_closed_forms_equal_moment_path(d, r):
    sw0, sw1, N = 1.7, 0.9, 7
    cos = NEURONS["cos_net"](d, sigma_w0=sw0)
    mu2, mu4 = sw1 ** 2, r * sw1 ** 4
    for x in POINTS[d] + [POINTS[d][0][[0, 0, 1, 1]], POINTS[d][0][[0, 0, 0, 0]]]:
        assert cf.cos_net_g2(x[0], x[1], sw0, sw1, d) == pytest.approx(mu2 * cos.moment(x[:2]), abs=1e-14)
        assert cf.cos_net_g4c(*x, sw0, sw1, N, d, r=r) == pytest.approx(
            g4c_from_moments(cos, x, mu2, mu4, N), abs=1e-12)
    # coincident points: σ_w1⁴/N (9/8 − 3/4) = 3σ_w1⁴/(8N) (docs/physics.md §2 prints 3σ_w1⁴/(4N): off by 2;
    # direct check: E φ⁴ − 3(E φ²)² = N E[w⁴]E[cos⁴] − 3N(E[w²]E[cos²])² = (9/8 − 3/4)σ_w1⁴/N)
    x = POINTS[d][0][[0, 0, 0, 0]]
    assert cf.cos_net_g4c(*x, sw0, sw1, N, d) == pytest.approx(3 * sw1 ** 4 / (8 * N), rel=1e-13)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_gauss_net_closed_forms_equal_moment_path(d):
    sw0, sw1, sb0, N, r = 1.1, 1.3, 0.4, 5, 3.0
    g = NEURONS["gauss_net"](d, sigma_w0=sw0, sigma_b0=sb0)
    mu2, mu4 = sw1 ** 2 / 2, r * sw1 ** 4 / 4
    for x in POINTS[d]:
        assert cf.gauss_net_g2(x[0], x[1], sw0, sw1, d) == pytest.approx(mu2 * g.moment(x[:2]), rel=1e-13)
        assert cf.gauss_net_g4c(*x, sw0, sw1, sb0, N, d, r=r) == pytest.approx(
            g4c_from_moments(g, x, mu2, mu4, N), rel=1e-12, abs=1e-14)


def _theory_mc_4pt(name, x, n_net, N, sw0, sw1, sb0=0.0, seed=0):
    """Brute-force MC of ⟨φ1φ2φ3φ4⟩ for the whole N-neuron theory (Gaussian w1): mean, SE."""
    rng = np.random.default_rng(seed)
    d = x.shape[1]
    w = rng.normal(0.0, sw0 / math.sqrt(d), size=(n_net, N, d))
    pre = np.einsum("mnd,kd->mnk", w, x)
    if name == "cos_net":
        psi = np.cos(pre + rng.uniform(-np.pi, np.pi, size=(n_net, N, 1)))
        w1 = rng.normal(0.0, sw1 / math.sqrt(N), size=(n_net, N, 1))
    else:
        b = rng.normal(0.0, sb0, size=(n_net, N, 1))
        psi = np.exp(pre + b - sb0 ** 2 - sw0 ** 2 * np.sum(x * x, axis=1) / d)
        w1 = rng.normal(0.0, sw1 / math.sqrt(2 * N), size=(n_net, N, 1))
    phi = np.sum(w1 * psi, axis=1)
    p = np.prod(phi, axis=1)
    return p.mean(), p.std(ddof=1) / math.sqrt(n_net)


def test_cos_net_g4c_against_whole_theory_mc_and_erratum_fails():
    """⟨φ1φ2φ3φ4⟩ = G4c + Σ G2G2 at N = 2 (G2 exact); TASI eq. 71 as printed (σ_b²) is rejected."""
    x = np.array([[0.2, -0.1], [1.0, 0.3], [-0.6, 0.2], [0.1, 1.0]])
    sw0, sw1, N, d = 0.8, 1.0, 2, 2
    mean, se = _theory_mc_4pt("cos_net", x, 400_000, N, sw0, sw1)
    g2 = lambda a, b: cf.cos_net_g2(a, b, sw0, sw1, d)
    full = cf.cos_net_g4c(*x, sw0, sw1, N, d) + _pairs(g2, x)
    assert abs(mean - full) / se < 5
    # printed TASI 71: σ_b² (= π²/3 for U[−π, π]) in the disconnected exponent
    sb2 = math.pi ** 2 / 3
    E = lambda v, s2: math.exp(-s2 * (v @ v) / (2 * d))
    s = [x[0] + x[1] - x[2] - x[3], x[0] - x[1] + x[2] - x[3], x[0] - x[1] - x[2] + x[3]]
    # printed pair term: 2 exp(−σ_b²((x1−x4)² + (x2−x3)²)/(2d)) + 2 perms = 2 Σ E14E23 with σ_b²
    wrong = sw1 ** 4 / (8 * N) * (3 * sum(E(v, sw0 ** 2) for v in s) - 2 * (
        E(x[0] - x[3], sb2) * E(x[1] - x[2], sb2) + E(x[0] - x[2], sb2) * E(x[1] - x[3], sb2)
        + E(x[0] - x[1], sb2) * E(x[2] - x[3], sb2)))
    assert abs(mean - (wrong + _pairs(g2, x))) / se > 20, (mean, wrong, se)


def test_gauss_net_g4c_against_whole_theory_mc():
    x = np.array([[0.1, -0.2], [0.3, 0.1], [-0.2, 0.2], [0.0, 0.25]])
    sw0, sw1, sb0, N, d = 1.0, 1.2, 0.3, 2, 2
    mean, se = _theory_mc_4pt("gauss_net", x, 400_000, N, sw0, sw1, sb0)
    g2 = lambda a, b: cf.gauss_net_g2(a, b, sw0, sw1, d)
    assert abs(mean - (cf.gauss_net_g4c(*x, sw0, sw1, sb0, N, d) + _pairs(g2, x))) / se < 5
    # dropping e^{4σ_b0²} (or using the garbled TASI 64 exponent) is rejected
    bad = cf.gauss_net_g4c(*x, sw0, sw1, 0.0, N, d)
    assert abs(mean - (bad + _pairs(g2, x))) / se > 20


# ----------------------------------------------------------------------------- Scalar-net

@pytest.mark.parametrize("d,m,lam", [(1, 1.0, 5.0), (2, 0.5, 4.0), (3, 1.2, 6.0)])
def test_scalar_net_neuron_normalisation_gives_g2_and_g4c(d, m, lam):
    sw1, N, r = 0.8, 11, 3.0
    A = math.sqrt(2 * _vol(d, lam) / ((2 * math.pi) ** d * sw1 ** 2))
    n = NEURONS["scalar_net"](d, mass=m, cutoff=lam, amplitude=A)
    for x in POINTS[d]:
        assert sw1 ** 2 * n.moment(x[:2]) == pytest.approx(cf.scalar_net_g2(x[0], x[1], m, lam, d),
                                                           abs=sw1 ** 2 * n.accuracy + 1e-13)
        assert g4c_from_moments(n, x, sw1 ** 2, r * sw1 ** 4, N) == pytest.approx(
            cf.scalar_net_g4c(*x, m, lam, N, d, r=r), abs=(r * sw1 ** 4 + sw1 ** 4) * n.accuracy + 1e-12)


def test_scalar_net_g0_values():
    """G(0) closed forms of docs/physics.md §3."""
    m, lam, z = 0.7, 9.0, np.zeros(3)
    assert cf.scalar_net_g2(z[:1], z[:1], m, lam) == pytest.approx(math.atan(lam / m) / (math.pi * m), rel=1e-12)
    assert cf.scalar_net_g2(z[:2], z[:2], m, lam) == pytest.approx(math.log(1 + lam ** 2 / m ** 2) / (4 * math.pi), rel=1e-12)
    assert cf.scalar_net_g2(z, z, m, lam) == pytest.approx((lam - m * math.atan(lam / m)) / (2 * math.pi ** 2), rel=1e-12)


def test_scalar_net_g2_d1_against_quadpack():
    m, lam = 0.6, 30.0
    for r in (0.3, 1.0, 4.0):
        ref = quad(lambda p: 1 / (p * p + m * m), 0, lam, weight="cos", wvar=r, epsabs=1e-14)[0] / math.pi
        assert cf.scalar_net_g2(0.0, r, m, lam) == pytest.approx(ref, abs=1e-12)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_scalar_net_g2_tends_to_free_scalar(d):
    """G_Λ(r) → G_∞(r) with the slow oscillatory tail; bounds from integrating the tail by parts:
    d=1 |ΔG| ≤ 2/(π r (Λ²+m²)); d=3 |ΔG| ≤ Λ/(π² r² (Λ²+m²)); d=2 the tail is
    −Λ J1(Λr)/(2π r(Λ²+m²)) + O(Λ^{−5/2}); we allow twice its envelope sqrt(2/(πΛr))Λ/(2π r Λ²)."""
    m, lam = 1.0, 200.0
    bound = {1: lambda r: 2 / (math.pi * r * (lam ** 2 + m ** 2)),
             2: lambda r: 2 * math.sqrt(2 / (math.pi * lam * r)) / (2 * math.pi * r * lam),
             3: lambda r: lam / (math.pi ** 2 * r ** 2 * (lam ** 2 + m ** 2))}[d]
    for r in (0.5, 1.0, 2.3):
        x, y = np.zeros(d), np.zeros(d)
        y[0] = r
        diff = abs(cf.scalar_net_g2(x, y, m, lam, d) - cf.free_scalar_g2(x, y, m, d))
        assert diff < bound(r)
        assert abs(cf.scalar_net_g2(x, y, m, 20.0, d) - cf.free_scalar_g2(x, y, m, d)) > diff


def test_scalar_net_g2_rings_negative_at_finite_cutoff():
    """docs/physics.md §3: at finite Λ, G_Λ(r) changes sign at large r (d = 1)."""
    vals = [cf.scalar_net_g2(0.0, r, 1.0, 3.0) for r in np.linspace(5, 15, 41)]
    assert min(vals) < 0 < max(vals)


def test_free_scalar_values():
    assert cf.free_scalar_g2(0.0, 1.5, 2.0) == pytest.approx(math.exp(-3.0) / 4.0)
    assert cf.free_scalar_g2([0, 0], [0.6, 0.8], 1.5) == pytest.approx(special.k0(1.5) / (2 * math.pi))
    assert cf.free_scalar_g2([0, 0, 0], [0, 0, 2.0], 0.5) == pytest.approx(math.exp(-1.0) / (8 * math.pi))
    assert cf.free_scalar_g2([0, 0], [0, 0], 1.0) == math.inf


# ----------------------------------------------------------------------------- RP scalar

@pytest.mark.parametrize("d,lam", [(1, 1.0), (2, 4.0), (3, 3.0)])
def test_rp_scalar_neuron_normalisation_gives_g2(d, lam):
    m, sw1 = 0.8, 1.3
    A = math.sqrt(_vol(d - 1, lam) / ((2 * math.pi) ** (d - 1) * sw1 ** 2))
    n = NEURONS["rp_scalar"](d, mass=m, cutoff=lam, amplitude=A)
    for x in POINTS[d]:
        assert sw1 ** 2 * n.moment(x[:2]) == pytest.approx(cf.rp_scalar_g2(x[0], x[1], m, lam, d),
                                                           abs=sw1 ** 2 * n.accuracy + 1e-14)
    assert cf.rp_scalar_g2([0.3], [-0.4], m, lam) == pytest.approx(math.exp(-0.7 * m) / (2 * m))


@pytest.mark.parametrize("d", [2, 3])
def test_rp_scalar_g2_tends_to_free_scalar(d):
    """τ ≠ 0: the k-integrand decays like e^{−ω|τ|}, so Λ = 60 is converged to ~e^{−40}."""
    m = 0.9
    x, y = np.zeros(d), np.zeros(d)
    y[0], y[1] = 0.7, 0.4
    assert cf.rp_scalar_g2(x, y, m, 60.0, d) == pytest.approx(cf.free_scalar_g2(x, y, m, d), rel=1e-10)


def test_rp_scalar_matrix_is_psd():
    """docs/physics.md §8: M_ij = G(x_i, R x_j) is PSD for τ_i > 0 (RP by construction), d = 2."""
    rng = np.random.default_rng(2)
    pts = np.column_stack([rng.uniform(0.05, 1.5, 8), rng.normal(size=8)])
    refl = pts * np.array([-1.0, 1.0])
    M = np.array([[cf.rp_scalar_g2(a, b, 1.0, 5.0) for b in refl] for a in pts])
    assert np.min(np.linalg.eigvalsh((M + M.T) / 2)) > -1e-12


# ----------------------------------------------------------------------------- NNGP kernels

def test_kernels_vectorised_and_limits():
    rng = np.random.default_rng(0)
    c11, c22 = rng.uniform(0.1, 3, 20), rng.uniform(0.1, 3, 20)
    c12 = rng.uniform(-1, 1, 20) * np.sqrt(c11 * c22)
    for f in (cf.relu_kernel, cf.erf_kernel, cf.relu_moment_22):
        v = f(c11, c22, c12)
        assert v.shape == (20,)
        assert np.allclose(v, [f(a, b, c) for a, b, c in zip(c11, c22, c12)], rtol=1e-14)
    assert cf.relu_kernel(2.0, 3.0, 0.0) == pytest.approx(math.sqrt(6) / (2 * math.pi))
    assert cf.relu_kernel(2.0, 2.0, 2.0) == pytest.approx(1.0)
    assert cf.relu_kernel(2.0, 2.0, -2.0) == pytest.approx(0.0, abs=1e-15)
    assert cf.relu_kernel(0.0, 2.0, 0.0) == 0.0
    assert cf.relu_moment_22(1.5, 1.5, 1.5) == pytest.approx(1.5 * 1.5 ** 2)
    assert cf.relu_moment_22(1.5, 2.0, 0.0) == pytest.approx(1.5 * 2.0 / 4)
    assert cf.relu_moment_22(1.5, 2.0, -math.sqrt(3.0)) == pytest.approx(0.0, abs=1e-14)
    assert cf.erf_kernel(1.0, 1.0, 0.0) == 0.0
    assert cf.erf_kernel(0.5, 0.5, 0.5) == pytest.approx(2 / math.pi * math.asin(0.5))


def test_relu_kernel_is_one_hidden_layer_nngp():
    """E[f(x)f(y)] = C_b + C_W F_relu(K⁽¹⁾) for one hidden layer (docs/physics.md §4) via the neuron moment."""
    cw, cb, n0 = 2.0, 0.1, 3
    neuron = NEURONS["relu_layer"](n0, weight_std=math.sqrt(cw / n0), bias_std=math.sqrt(cb))
    x = np.array([[0.3, -1.0, 0.5], [1.2, 0.4, -0.3]])
    k1 = cb + cw * x @ x.T / n0
    assert neuron.cov(x) == pytest.approx(k1)
    assert neuron.moment(x) == pytest.approx(cf.relu_kernel(k1[0, 0], k1[1, 1], k1[0, 1]), rel=1e-13)
