"""The NNGP posterior (Les Houches arXiv:2309.01592 eq. 32-33) against a GP written out by hand from the
erf net's arcsine kernel (Williams 1997, docs/physics.md §4) with explicit inverses and a log-determinant."""

import math

import numpy as np
import pytest

import nnft
from nnft.errors import KernelError
from nnft.training.posterior import gp_posterior

SIG_W, SIG_B = 1.0, 0.5


def erf_model():
    return nnft.compile(nnft.load("erf_net", N=8))            # d = 1; W0 ~ N(0, σ_w²/d), b ~ N(0, σ_b²)


def arcsine_kernel(a, b):
    """K(x, x') = σ_b² + σ_w² (2/π) arcsin(2k(x,x') / √((1 + 2k(x,x))(1 + 2k(x',x')))), k = σ_b² + σ_w² x x'."""
    k = lambda u, v: SIG_B ** 2 + SIG_W ** 2 * u * v
    return SIG_B ** 2 + SIG_W ** 2 * 2 / math.pi * math.asin(2 * k(a, b) / math.sqrt((1 + 2 * k(a, a)) * (1 + 2 * k(b, b))))


def by_hand(X, Y, T, noise):
    Z = list(X) + list(T)
    K = np.array([[arcsine_kernel(a, b) for b in Z] for a in Z])
    M = len(X)
    A = K[:M, :M] + noise * np.eye(M)
    Ai = np.linalg.inv(A)
    mean = K[M:, :M] @ Ai @ Y
    cov = K[M:, M:] - K[M:, :M] @ Ai @ K[:M, M:]
    logev = -0.5 * Y @ Ai @ Y - 0.5 * np.linalg.slogdet(A)[1] - 0.5 * M * math.log(2 * math.pi)
    return mean, cov, logev


def test_nngp_posterior_matches_a_gp_written_by_hand_and_a_wrong_noise_does_not():
    X, Y, T = [-1.0, 0.2, 0.9], np.array([0.3, -0.1, 0.8]), [-0.5, 0.5, 1.5]
    post = nnft.nngp_posterior(erf_model(), np.array(X)[:, None], Y, np.array(T)[:, None], noise=0.01)
    mean, cov, logev = by_hand(X, Y, T, 0.01)
    assert post.jitter == 0.0
    np.testing.assert_allclose(post.mean, mean, rtol=1e-9)
    np.testing.assert_allclose(post.cov, cov, rtol=1e-8, atol=1e-12)
    assert post.log_evidence == pytest.approx(logev, rel=1e-10)
    wrong_mean, _, wrong_logev = by_hand(X, Y, T, 0.02)             # twice the noise
    assert not np.allclose(post.mean, wrong_mean, rtol=1e-4) and abs(post.log_evidence - wrong_logev) > 1e-3
    assert np.all(post.var > 0) and np.all(post.var < np.diag(by_hand(X, Y, T, 1e6)[1]) + 1e-12)


def test_duplicate_inputs_without_noise_need_a_jitter_which_is_reported():
    K = np.ones((3, 3))                                   # rank one: two identical training inputs and a test point
    post = gp_posterior(K, 2, [1.0, 1.0], noise=0.0)
    assert post.jitter > 0 and np.isfinite(post.log_evidence)
    assert post.mean[0] == pytest.approx(1.0, rel=1e-5)
    with pytest.raises(KernelError):
        gp_posterior(-np.eye(3), 2, [1.0, 1.0])


@pytest.mark.slow
def test_finite_width_posterior_is_the_nngp_one_at_large_width_and_not_at_width_one():
    """Prior networks reweighted by the Gaussian likelihood of the data: at N = 512 the posterior mean and
    variance agree with the NNGP posterior (|z| < Z_MAX; the O(1/N) difference is below the errors), at
    N = 1 (a single erf neuron: far from Gaussian) the same comparison fails."""
    from helpers import Z_MAX
    from nnft.training.posterior import finite_width_posterior
    X, Y, T = np.array([[-1.0], [0.5]]), np.array([-0.6, 0.4]), np.array([[-0.5], [0.0], [1.2]])
    wide = nnft.compile(nnft.load("erf_net", N=512))
    g = nnft.nngp_posterior(wide, X, Y, T, noise=0.1)
    p = finite_width_posterior(wide, X, Y, T, noise=0.1, samples=50_000, key=0)
    assert p.ess > 5000 and p.mean.ess == pytest.approx(p.ess)
    assert np.all(np.abs(p.mean.z(g.mean)) < Z_MAX) and np.all(np.abs(np.diag(p.cov.z(g.cov))) < Z_MAX)
    narrow = finite_width_posterior(nnft.compile(nnft.load("erf_net", N=1)), X, Y, T, noise=0.1, samples=20_000,
                                    key=0)
    assert np.abs(narrow.mean.z(g.mean)).max() > Z_MAX
