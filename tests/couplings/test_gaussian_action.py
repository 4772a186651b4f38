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
    with pytest.raises(EstimatorError, match="too noisy"):          # a measured K amplified beyond trust
        nnft.gaussian_action(cos_net, np.array([[0.0, 0.0], [0.01, 0.0], [0.02, 0.0]]), kernel="measured",
                             samples=2000, key=0)
