"""The NNGP posterior against a GP written by hand (arc-cosine kernel, numpy solve): deterministic, tight."""

import math

import numpy as np
import pytest

import nnft
from nnft.errors import EstimatorError, InputError
from nnft.bayes import nngp_posterior
from nnft.bayes.gp import MAX_JITTER, cholesky_jitter, gp_posterior

SW, SB = 1.0, 0.5          # relu_net's sigma_w, sigma_b (d = 1)
X = np.array([[-0.8], [0.1], [0.7]])
Y = np.array([0.6, -0.2, 0.9])
XS = np.array([[0.0], [1.2], [-1.5]])
NOISE = 0.2


def relu_nngp(a, b):
    """K(x, y) of relu_net by hand: σ_b² + σ_w² E[relu(u) relu(v)], (u, v) ~ N(0, σ_b² + σ_w² x·y)
    (Cho & Saul 2009 arc-cosine kernel J_1)."""
    k11, k22, k12 = SB**2 + SW**2 * a * a, SB**2 + SW**2 * b * b, SB**2 + SW**2 * a * b
    c = np.clip(k12 / math.sqrt(k11 * k22), -1, 1)
    th = math.acos(c)
    return SB**2 + SW**2 * math.sqrt(k11 * k22) * (math.sin(th) + (math.pi - th) * c) / (2 * math.pi)


def gram(A, B):
    return np.array([[relu_nngp(a[0], b[0]) for b in B] for a in A])


def hand_gp(noise):
    A = gram(X, X) + noise * np.eye(len(X))
    Ks = gram(X, XS)
    mean = Ks.T @ np.linalg.solve(A, Y)
    cov = gram(XS, XS) - Ks.T @ np.linalg.solve(A, Ks)
    logev = -0.5 * Y @ np.linalg.solve(A, Y) - 0.5 * np.linalg.slogdet(A)[1] - 0.5 * len(X) * math.log(2 * math.pi)
    return mean, cov, logev


@pytest.fixture(scope="module")
def relu():
    return nnft.compile(nnft.load("relu_net", N=4))


def test_nngp_posterior_matches_hand_gp_and_wrong_noise_fails(relu):
    gp = nngp_posterior(relu, X, Y, XS, NOISE)
    mean, cov, logev = hand_gp(NOISE)
    assert gp.jitter == 0.0
    np.testing.assert_allclose(gp.mean, mean, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gp.cov, cov, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(gp.var, np.diag(cov), rtol=1e-9, atol=1e-12)
    assert gp.log_evidence == pytest.approx(logev, rel=1e-10)
    # a wrong GP (noise left out of the solve, or the prior) fails the same comparison
    wmean, wcov, wlogev = hand_gp(0.0)
    assert not np.allclose(gp.mean, wmean, rtol=1e-6)
    assert not np.allclose(gp.cov, wcov, rtol=1e-6)
    assert gp.log_evidence != pytest.approx(wlogev, rel=1e-6)
    assert not np.allclose(gp.cov, gram(XS, XS), rtol=1e-6)


def test_gp_algebra_matches_numpy_solve_on_random_blocks():
    rng = np.random.default_rng(3)
    F = rng.normal(size=(7, 12))
    K = F @ F.T / 12
    y = rng.normal(size=4)
    mean, cov, logev, jit = gp_posterior(K[:4, :4], K[:4, 4:], K[4:, 4:], y, 0.05)
    A = K[:4, :4] + 0.05 * np.eye(4)
    np.testing.assert_allclose(mean, K[4:, :4] @ np.linalg.solve(A, y), rtol=1e-10)
    np.testing.assert_allclose(cov, K[4:, 4:] - K[4:, :4] @ np.linalg.solve(A, K[:4, 4:]), rtol=1e-9, atol=1e-13)
    assert logev == pytest.approx(-0.5 * y @ np.linalg.solve(A, y) - 0.5 * np.linalg.slogdet(A)[1]
                                  - 2 * math.log(2 * math.pi), rel=1e-11)
    assert jit == 0.0


def test_jitter_is_reported_for_repeated_inputs_without_noise(relu):
    x = np.array([[0.3], [0.3], [-0.5]])
    gp = nngp_posterior(relu, x, [0.2, 0.2, -0.1], [[0.0]], 0.0)
    scale = np.mean(np.diag(gram(x, x)))
    assert 0.0 < gp.jitter <= MAX_JITTER * scale
    assert np.all(np.isfinite(gp.mean)) and gp.var[0] >= -1e-8


def test_not_positive_definite_is_refused():
    with pytest.raises(EstimatorError, match="not positive definite"):
        cholesky_jitter(np.array([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(EstimatorError):
        gp_posterior(np.array([[1.0, 2.0], [2.0, 1.0]]), np.ones((2, 1)), np.ones((1, 1)), np.ones(2), 0.0)


def test_bad_inputs_are_refused(relu):
    with pytest.raises(InputError):
        nngp_posterior(relu, X, Y[:2], XS, NOISE)
    with pytest.raises(InputError):
        nngp_posterior(relu, X, Y, XS, -1.0)
    with pytest.raises(InputError):
        nngp_posterior(relu, np.zeros((3, 2)), Y, np.zeros((1, 2)), NOISE)


def test_gp_posterior_round_trips_through_xarray(relu, tmp_path):
    gp = nngp_posterior(relu, X, Y, XS, NOISE)
    path = tmp_path / "gp.json"
    nnft.results.save(gp, path, theory=relu.theory)
    back = nnft.load_result(path)
    np.testing.assert_array_equal(back.mean, gp.mean)
    np.testing.assert_array_equal(back.cov, gp.cov)
    assert back.log_evidence == gp.log_evidence and back.jitter == gp.jitter
    assert "log evidence" in back.table()


def test_nngp_posterior_refuses_no_data_and_too_many_points_before_any_work():
    """No training point, or more points than the kernel matrix bound (10⁶ points would be a 7 TiB matrix)."""
    import numpy as np
    import pytest

    import nnft
    from nnft.bayes.gp import MAX_GP_POINTS
    from nnft.errors import InputError
    m = nnft.compile(nnft.load("relu_net", N=8))
    xs = np.zeros((1, 1))
    with pytest.raises(InputError, match="at least 1 training point"):
        nnft.nngp_posterior(m, np.zeros((0, 1)), np.zeros(0), xs, 0.1)
    with pytest.raises(InputError, match=str(MAX_GP_POINTS)):
        nnft.nngp_posterior(m, np.zeros((10 ** 6, 1)), np.zeros(10 ** 6), xs, 0.1)
