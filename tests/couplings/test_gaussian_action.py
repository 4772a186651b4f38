"""The Gaussian (NNGP) action S₀ = ½φᵀK⁻¹φ on a lattice: ⟨S₀⟩ = P/2 for an ensemble whose G2 is K
(⟨φᵀAφ⟩ = tr(A G2) whatever the higher cumulants), a wrong K fails; ill-conditioned K refused."""

import numpy as np
import pytest

import nnft
from nnft.errors import EstimatorError
from helpers import Z_MAX

X = np.array([[0.0, 0.0], [0.8, 0.0], [1.6, 0.0], [0.4, 0.7]])


@pytest.fixture(scope="module")
def cos_net():
    return nnft.compile(nnft.load("cos_net", N=4))


def closed_form_K(X, width=1.0):
    # Cos-net, sigma_w0 = sigma_w1 = 1, d = 2: K = 1/2 exp(-|x - y|^2 / (2 d)) (TASI eq. 68-69)
    r2 = ((X[:, None] - X[None]) ** 2).sum(-1)
    return 0.5 * np.exp(-r2 * width / 4.0)


def test_kernel_map_is_the_closed_form(cos_net):
    a = nnft.gaussian_action(cos_net, X)
    np.testing.assert_allclose(a.kernel, closed_form_K(X), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(a.precision @ a.kernel, np.eye(len(X)), atol=1e-9)
    assert 1 < a.condition < 1e4 and a.dropped == 0 and a.expected == 2.0
    phi = np.array([[1.0, 0.0, 0.0, 0.0], [0.3, -0.2, 0.5, 1.0]])
    np.testing.assert_allclose(a(phi), 0.5 * np.einsum("ni,ij,nj->n", phi, np.linalg.inv(closed_form_K(X)), phi))


def test_mean_action_is_half_the_number_of_points(cos_net):
    """⟨S₀⟩ = P/2 by |z| at N = 4 (far from Gaussian: the identity needs only G2 = K); a K 10 % too wide
    in the exponent, or scaled by 1.1, fails the same comparison."""
    a = nnft.gaussian_action(cos_net, X, samples=20_000, key=3)
    assert abs(a.mean.z(a.expected)) < Z_MAX
    for wrong in (closed_form_K(X, width=1.1), 1.1 * closed_form_K(X)):
        b = nnft.gaussian_action(cos_net, X, kernel=wrong, samples=20_000, key=3)
        assert abs(b.mean.z(b.expected)) > Z_MAX


def test_measured_kernel_matches_and_reports_errors(cos_net):
    Y = np.array([[0.0, 0.0], [1.5, 0.0], [0.0, 1.5]])          # condition ~2: K⁻¹ resolved at 40k networks
    a = nnft.gaussian_action(cos_net, Y, kernel="measured", samples=40_000, key=5)
    assert a.kernel_err is not None and a.source.startswith("measured G2")
    z = (a.kernel - closed_form_K(Y)) / a.kernel_err
    assert np.abs(z).max() < Z_MAX
    assert np.abs((a.kernel - 1.2 * closed_form_K(Y)) / a.kernel_err).max() > Z_MAX


def test_ill_conditioned_kernel_refused_or_truncated(cos_net):
    close = np.array([[0.0, 0.0], [1e-4, 0.0], [2e-4, 0.0]])
    with pytest.raises(EstimatorError, match="ill-conditioned"):
        nnft.gaussian_action(cos_net, close)
    a = nnft.gaussian_action(cos_net, close, truncate=True)
    assert a.dropped >= 1 and a.condition > 1e10 and a.expected == 0.5 * (3 - a.dropped)
    with pytest.raises(EstimatorError, match="too noisy"):          # 20 networks: K̂⁻¹ not resolved
        nnft.gaussian_action(cos_net, np.array([[0.0, 0.0], [0.01, 0.0], [0.02, 0.0]]), kernel="measured",
                             samples=20, key=0)


def test_measured_inverse_of_an_ill_conditioned_kernel_is_resolved(cos_net):
    """Points 0.01 apart (condition number ~3·10⁹): the sample covariance's entries are so correlated that its
    inverse is still measured to ~2 % at 40k networks (the noise guard takes the jackknife of K̂ → K̂⁻¹, not the
    independent-entry formula, which claimed ~10⁷). The jackknifed K̂⁻¹ agrees with the closed form's inverse
    (|z|), and 1.25× or 1/1.25× it fails."""
    from nnft.stats import Estimate
    Y = np.array([[0.0, 0.0], [0.01, 0.0], [0.02, 0.0]])
    a = nnft.gaussian_action(cos_net, Y, kernel="measured", samples=40_000, key=2)      # accepted
    assert a.condition > 1e9
    est = Estimate(a.precision, a.precision_err, 40_000)
    H = np.linalg.inv(closed_form_K(Y))
    assert np.abs(est.z(H)).max() < Z_MAX
    assert np.abs(est.z(1.25 * H)).max() > Z_MAX and np.abs(est.z(H / 1.25)).max() > Z_MAX


def test_bad_rcond_refused(cos_net):
    from nnft.errors import InputError
    for bad in (-1.0, 0.0, 1.0, "x"):
        with pytest.raises(InputError, match="rcond"):
            nnft.gaussian_action(cos_net, X, rcond=bad)


def test_field_with_a_mean_gets_a_centred_action():
    """A readout bias of mean 1: the measured K is the covariance and the measured μ centres the action,
    S₀ = ½(φ − μ)ᵀK⁻¹(φ − μ); on an independent ensemble ⟨S₀⟩ = P/2 (|z|), while the uncentred ½φᵀK⁻¹φ gives
    P/2 + ½μᵀK⁻¹μ and fails the same comparison (measured 2.42 ± 0.02 against 1.5)."""
    m = nnft.compile(nnft.from_dict({
        "nnft": 1, "name": "shifted-cos", "dims": {"d": 1, "N": 4},
        "params": {"W0": {"shape": ["N", "d"], "density": {"normal": {"std": 1.0}}},
                   "b0": {"shape": ["N"], "density": {"uniform": {"low": "-pi", "high": "pi"}}},
                   "W1": {"shape": ["N"], "density": {"normal": {"std": "1/sqrt(N)"}}},
                   "b1": {"shape": [], "density": {"normal": {"mean": 1.0, "std": 0.5}}}},
        "field": "sum_N(W1 * cos(W0 @ x + b0)) + b1"}))
    pts = [0.0, 0.7, 1.5]
    a = nnft.gaussian_action(m, pts, kernel="measured", samples=20_000, key=1)
    assert np.all(np.abs(a.field_mean - 1.0) < 0.05)
    centred = nnft.gaussian_action(m, pts, kernel=a.kernel, field_mean=a.field_mean, samples=20_000, key=2)
    assert abs(centred.mean.z(1.5)) < Z_MAX
    uncentred = nnft.gaussian_action(m, pts, kernel=a.kernel, samples=20_000, key=2)
    assert abs(uncentred.mean.z(1.5)) > Z_MAX
    phi = np.array([0.3, 1.2, -0.4])
    d = phi - a.field_mean
    assert a(phi) == pytest.approx(0.5 * d @ np.linalg.solve(a.kernel, d), rel=1e-9)
