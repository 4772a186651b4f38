"""Power spectrum G̃(p) (docs/spectrum.md) against closed forms written here from the definitions:
Scalar-net θ(Λ − |p|)/(p² + m²) (TASI arXiv:2408.00082 eq. 72-74), the Cos-net Gaussian (the Fourier transform
of eq. 69's G2), and the exact expectation of the lattice periodogram (Fejér sum of the position-space G).
Each comparison has a wrong-answer twin (a mass off by 20 % in m², the continuum instead of the aliased
lattice expectation) that must fail the same |z| test."""

import math

import numpy as np
import pytest
from scipy import integrate

import nnft
from helpers import Z_MAX
from nnft.errors import EstimatorError
from nnft.spectrum import power_spectrum

M, LAM = 1.0, 5.0


def scalar_spectrum(p, m2=M * M):
    """θ(Λ − |p|)/(p² + m²), d = 1."""
    p = np.asarray(p, dtype=float)
    return np.where(np.abs(p) < LAM, 1.0 / (p * p + m2), 0.0)


def window_average(f, p, h):
    return np.array([integrate.quad(f, q - h, q + h, points=[-LAM, LAM], limit=200)[0] / (2 * h) for q in p])


def scalar_g(r, m2=M * M):
    """d = 1 position space: G(r) = (1/π)∫₀^Λ cos(pr)/(p² + m²) dp."""
    return np.array([integrate.quad(lambda p: 1.0 / (p * p + m2), 0, LAM, weight="cos", wvar=abs(x))[0]
                     if x else integrate.quad(lambda p: 1.0 / (p * p + m2), 0, LAM)[0] for x in r]) / math.pi


def fejer(g_of_r, n, a, k):
    """a Σ_{|r|<n} (1 − |r|/n) G(ra) cos(2πkr/n): the periodogram's expectation, written out."""
    r = np.arange(-(n - 1), n)
    g = g_of_r(r * a)
    return np.array([a * np.sum((1 - np.abs(r) / n) * g * np.cos(2 * np.pi * kk * r / n)) for kk in k])


@pytest.fixture(scope="module")
def scalar():
    return nnft.compile(nnft.load("scalar_net"))


@pytest.fixture(scope="module")
def scalar_neurons(scalar):
    p = np.array([[0.0], [0.5], [1.0], [2.0], [3.5]])
    return power_spectrum(scalar, p, window=0.1, neurons=100_000, key=1)


def test_scalar_net_neuron_route(scalar_neurons):
    res = scalar_neurons
    p = res.momenta[:, 0]
    th = window_average(scalar_spectrum, p, 0.1)
    z = (res.spectrum.mean - th) / res.spectrum.stderr
    assert np.all(np.abs(z) < Z_MAX), z
    assert np.all(res.spectrum.stderr < 0.05 * th)                     # resolved, not zero within errors
    np.testing.assert_allclose(res.theory, th, rtol=1e-6)              # nnft's window-averaged closed form
    np.testing.assert_allclose(res.continuum, scalar_spectrum(p), rtol=1e-12)
    wrong = window_average(lambda q: scalar_spectrum(q, 1.2 * M * M), p, 0.1)
    assert np.max(np.abs(res.spectrum.mean - wrong) / res.spectrum.stderr) > Z_MAX


def test_cos_net_neuron_route():
    s0, d = 1.5, 2
    model = nnft.compile(nnft.load("cos_net", sigma_w0=s0))
    p = np.array([[0.0, 0.0], [0.5, 0.0], [0.6, 0.8], [1.5, 0.0]])
    h = 0.2                  # h = 0.1 left the wrong-σ twin at |z| 4.8-7.9 over seeds 0-4; 0.2 halves the error
    res = power_spectrum(model, p, window=h, neurons=160_000, key=3)

    def gauss(q, s=s0):            # FT of (σ_w1²/2) exp(−σ²|r|²/(2d)), σ_w1 = 1
        q = np.atleast_2d(q)
        return 0.5 * (2 * math.pi * d / s ** 2) ** (d / 2) * np.exp(-d * np.sum(q * q, axis=1) / (2 * s ** 2))

    def box(f):
        t, w = np.polynomial.legendre.leggauss(12)
        out = []
        for q in p:
            qq = np.stack(np.meshgrid(q[0] + h * t, q[1] + h * t, indexing="ij"), -1).reshape(-1, 2)
            out.append(np.sum(np.outer(w, w).ravel() * f(qq)) / 4)
        return np.array(out)

    z = (res.spectrum.mean - box(gauss)) / res.spectrum.stderr
    assert np.all(np.abs(z) < Z_MAX), z
    wrong = box(lambda q: gauss(q, s=s0 * math.sqrt(1.2)))
    assert np.max(np.abs(res.spectrum.mean - wrong) / res.spectrum.stderr) > Z_MAX


def test_cos_net_gaussian_is_the_fourier_transform():
    """The closed form nnft uses equals ∫d²r e^{−ip·r} G2(r) by quadrature (deterministic)."""
    from nnft.analytic import NEURONS
    from nnft.analytic.spectrum import continuum
    s0, d = 1.5, 2
    nr = NEURONS["cos_net"](d, sigma_w0=s0)
    for pr in (0.0, 0.7, 2.0):     # isotropic: G̃(p) = 2π ∫ r J0(pr) G(r) dr
        from scipy.special import j0
        num = 2 * math.pi * integrate.quad(lambda r: r * j0(pr * r) * 0.5 * math.exp(-s0 ** 2 * r * r / (2 * d)),
                                           0, 30, limit=200)[0]
        assert continuum(nr, 1.0, [[pr, 0.0]])[0] == pytest.approx(num, rel=1e-8)


def test_scalar_net_lattice_route(scalar):
    n, L = 32, 16.0
    res = power_spectrum(scalar, box=[[-8.0, 8.0]], lattice=n, samples=5000, key=2)   # 2000: wrong-m twin |z| 4.4-6.4
    k = res.lattice["modes"][:, 0]
    th = fejer(scalar_g, n, L / n, k)
    z = (res.spectrum.mean - th) / res.spectrum.stderr
    assert np.all(np.abs(z) < Z_MAX), z
    np.testing.assert_allclose(res.theory, th, rtol=1e-6, atol=1e-9)
    wrong = fejer(lambda r: scalar_g(r, 1.2 * M * M), n, L / n, k)
    assert np.max(np.abs(res.spectrum.mean - wrong) / res.spectrum.stderr) > Z_MAX


def test_lattice_aliasing_is_resolved():
    """Cos-net σ_w0 = 3 on a lattice of spacing 1 (Nyquist π): the Gaussian spectrum folds back above π/a; the
    periodogram agrees with the aliased lattice expectation, and the continuum G̃ is rejected near π/a."""
    model = nnft.compile(nnft.load("cos_net", sigma_w0=3.0))
    res = power_spectrum(model, box=[[-4.0, 4.0], [-4.0, 4.0]], lattice=8, samples=2000, key=2)
    assert res.lattice["nyquist"] == pytest.approx(math.pi)
    z = res.z()
    assert np.all(np.abs(z) < Z_MAX), z
    zc = (res.spectrum.mean - res.continuum) / res.spectrum.stderr
    assert abs(zc[-1]) > Z_MAX                              # p = π: aliasing doubles the power


def test_refusals(scalar):
    relu = nnft.compile(nnft.load("relu_net"))
    with pytest.raises(EstimatorError, match="plane-wave"):
        power_spectrum(relu, [[0.5] * relu.d], neurons=1000)
    atoms = nnft.compile(nnft.from_dict({
        "nnft": 1, "name": "atoms", "dims": {"d": 1, "N": 8},
        "params": {"W0": {"shape": ["N", "d"], "density": {"normal": {"std": 1.0}}},
                   "b0": {"shape": ["N"], "density": {"uniform": {"low": "-pi", "high": "pi"}}},
                   "W1": {"shape": ["N"], "density": {"normal": {"std": "1 / sqrt(N)"}}}},
        "field": "sum_N(W1 * (1 + norm_d(W0)**2) * cos(sign(W0) @ x + b0))"}))     # w = ±1, a random amplitude
    with pytest.raises(EstimatorError, match="atoms"):
        power_spectrum(atoms, [[1.0]], neurons=1000)


def test_gauss_net_lattice_route_finite_volume():
    """Gauss-net (not translation invariant by construction: the full G_c matrix route). On a small box the
    periodogram is dominated by leakage (the field is not periodic on the box): it agrees with the Fejér sum of
    G2 = ½ exp(−σ²r²/2) written here, and is far from the continuum Gaussian at large p."""
    s0, n, L = 0.7, 8, 2.4
    model = nnft.compile(nnft.load("gauss_net", sigma_w0=s0))
    res = power_spectrum(model, box=[[-1.2, 1.2]], lattice=n, samples=10_000, key=0)
    k = res.lattice["modes"][:, 0]
    th = fejer(lambda r: 0.5 * np.exp(-s0 ** 2 * r * r / 2), n, L / n, k)
    assert np.all(np.abs(res.spectrum.z(th)) < Z_MAX)
    np.testing.assert_allclose(res.theory, th, rtol=1e-9)
    cont = 0.5 * math.sqrt(2 * math.pi) / s0 * np.exp(-(res.momenta[:, 0] / s0) ** 2 / 2)
    np.testing.assert_allclose(res.continuum, cont, rtol=1e-12)
    assert np.max(np.abs(res.spectrum.z(cont))) > Z_MAX


def test_lattice_expectation_matrix_and_displacement_forms_agree():
    from nnft.analytic.spectrum import lattice_expectation
    from nnft.insertions import lattice
    pts, _ = lattice([[-1.0, 2.0], [0.0, 3.0]], 5)
    G = 0.5 * np.exp(-np.sum((pts[:, None] - pts[None]) ** 2, -1) / 4)
    k = np.array([[0, 0], [1, 0], [2, 1], [0, 2]])
    a = lattice_expectation(lambda r: 0.5 * np.exp(-np.sum(r * r, axis=1) / 4), 2, 5, [0.6, 0.6], k)
    b = lattice_expectation(lambda x: G, 2, 5, [0.6, 0.6], k, translation_invariant=False, points=pts)
    np.testing.assert_allclose(a, b, rtol=1e-12)


def test_insertion_lattice_route_is_reweighted():
    model = nnft.compile(nnft.load("phi4_scalar_1d"))
    res = power_spectrum(model, box=[[-2.0, 2.0]], lattice=8, samples=1000, key=0)
    assert res.theory is None and "insertion" in res.theory_label and res.spectrum.ess is not None
    with pytest.raises(EstimatorError, match="lattice route"):
        power_spectrum(model, [[0.0]])


@pytest.mark.parametrize("name, args", [("cauchy_net", {"mass": 0.8, "amplitude": 1.3}),
                                        ("rp_scalar", {"mass": 0.8, "cutoff": 3.0, "amplitude": 1.3}),
                                        ("shaped_net", {"sigma_w0": 2.0, "mass": 0.5, "amplitude": 1.3})])
def test_f_net_closed_forms_are_fourier_transforms_of_the_references(name, args):
    """d = 1: G̃(p) = 2∫₀^∞ cos(pr) μ2 M2(0, r) dr with the reference family's own M2 (deterministic)."""
    from nnft.analytic import NEURONS
    from nnft.analytic.spectrum import continuum
    nr = NEURONS[name](1, **args)
    mu2 = 1.7
    for p in (0.0, 0.9, 2.5):
        f = lambda r: mu2 * nr.moment(np.array([[0.0], [r]]))      # noqa: E731
        num = 2 * (integrate.quad(f, 0, 60.0, weight="cos", wvar=p, limit=400)[0] if p
                   else integrate.quad(f, 0, 60.0, limit=400)[0])
        assert continuum(nr, mu2, [[p]])[0] == pytest.approx(num, rel=1e-5), (name, p)


@pytest.mark.slow
def test_neuron_route_error_does_not_grow_with_width():
    """The same neurons at widths 2 and 500: the same relative error, and the one a binomial count gives (A² is
    constant in the Scalar-net, so each neuron's feature is A² × [w in the window at p or −p], probability f = 2·2h/(2Λ)):
    sqrt((1 − f)/(f·neurons)) — the error bar is honest and does not grow with N (μ2 is exact). The jackknife's
    own error with 64 blocks is ~9 %, so ±40 % is ~4.5σ (seeds 0-4 gave 0.86-1.30; the ratio of two such, bounded by
    0.3, came out 1.33 at seed 2); an error growing like sqrt(N) would be off by a factor 16."""
    from nnft.estimators.spectrum import neuron_spectrum
    p, h, n = np.array([[0.5], [2.0]]), 0.2, 40_000
    th = window_average(scalar_spectrum, p[:, 0], h)
    f = 2 * 2 * h / (2 * LAM)
    expected = math.sqrt((1 - f) / (f * n))
    for N in (2, 500):
        model = nnft.compile(nnft.load("scalar_net", N=N))
        res = neuron_spectrum(model, p, window=h, neurons=n, key=4)
        assert np.all(np.abs(res.spectrum.z(th)) < Z_MAX)
        rel = res.spectrum.stderr / res.spectrum.mean
        assert np.all(np.abs(rel / expected - 1) < 0.4), (N, rel, expected)


def test_all_modes_are_one_of_each_pair():
    from nnft.analytic.spectrum import lattice_modes
    for n, d in ((6, 2), (5, 2), (4, 3)):
        k = lattice_modes(n, d, "all")
        own = {tuple(r) for r in np.mod(k, n)}
        neg = {tuple(r) for r in np.mod(-k, n)}
        assert len(own) == len(k) and own | neg == set(np.ndindex(*(n,) * d))
