"""Finite-width posteriors P(θ | D) (likelihood insertion) against the NNGP posterior.

Large width: the reweighted posterior mean and variance at the test points agree with the NNGP
posterior within 5 standard errors plus the finite-width allowance A/N, A = 0.5 (measured by
examples/posterior_width.py: the largest shift of the mean is 0.03 at N = 16, 0.006 at N = 64).
Small width (N = 2 ReLU) differs from the NNGP by |z| > 5. Wrong references (the prior instead of the
posterior, or 4σ_ε²) fail the same comparison.
"""

import numpy as np
import pytest

import nnft
from nnft.errors import EstimatorError, InputError
from nnft.bayes import condition, nngp_posterior, posterior

X = np.array([[-0.8], [0.7]])
Y = np.array([0.6, 0.9])
XS = np.array([[0.0], [1.2]])
NOISE = 0.2
ALLOW = 0.5            # the O(1/N) allowance: |Δ| ≤ 5 se + ALLOW/N


def within(est_mean, est_err, ref, N):
    return np.all(np.abs(est_mean - ref) <= 5 * est_err + ALLOW / N)


@pytest.fixture(scope="module")
def wide():
    m = nnft.compile(nnft.load("relu_net", N=128))
    return m, posterior(m, X, Y, XS, NOISE, samples=20_000, key=1, blocks=32)


def test_wide_reweighted_posterior_agrees_with_nngp(wide):
    m, p = wide
    N = 128
    assert p.method == "reweight" and p.ess > 1000 and p.mean.ess == p.ess
    var, var_err = np.diag(p.cov.mean), np.diag(p.cov.stderr)
    assert within(p.mean.mean, p.mean.stderr, p.nngp.mean, N), p.z_mean()
    assert within(var, var_err, p.nngp.var, N), p.z_var()
    off = p.cov.mean[0, 1]
    assert abs(off - p.nngp.cov[0, 1]) <= 5 * p.cov.stderr[0, 1] + ALLOW / N
    # the log evidence from the mean likelihood weight (Kish-ESS-weighted ensemble) against LH eq. 33
    ev, ev_err = float(p.log_evidence.mean), float(p.log_evidence.stderr)
    assert abs(ev - p.nngp.log_evidence) <= 5 * ev_err + ALLOW / N, (ev, ev_err, p.nngp.log_evidence)
    # wrong references fail the same comparison: the prior (mean 0, variance K(x*, x*)) ...
    prior_var = np.diag(nnft.kernel_fn(m)(XS, XS, "nngp"))
    assert not within(p.mean.mean, p.mean.stderr, np.zeros(2), N)
    assert not within(var, var_err, prior_var, N)
    # ... and the NNGP posterior with the wrong noise variance
    wrong = nngp_posterior(m, X, Y, XS, 4 * NOISE)
    assert not within(p.mean.mean, p.mean.stderr, wrong.mean, N)
    assert not within(var, var_err, wrong.var, N)
    assert abs(ev - wrong.log_evidence) > 5 * ev_err + ALLOW / N


def hand_posterior(N, n=400_000, seed=0):
    """The N-neuron relu_net posterior by hand: numpy draws of the prior (σ_w = 1, σ_b = 0.5, d = 1),
    self-normalised importance weights e^{−S}; mean and variance at XS with delta-method errors."""
    rng = np.random.default_rng(seed)
    w0, b0 = rng.normal(0, 1.0, (n, N)), rng.normal(0, 0.5, (n, N))
    w1, b1 = rng.normal(0, 1 / np.sqrt(N), (n, N)), rng.normal(0, 0.5, n)

    def phi(x):
        return np.sum(w1 * np.maximum(w0 * x + b0, 0), axis=1) + b1

    S = sum((phi(x[0]) - y) ** 2 for x, y in zip(X, Y)) / (2 * NOISE)
    w = np.exp(-S)
    out = []
    for x in XS:
        f = phi(x[0])
        mu = np.sum(w * f) / w.sum()
        g = (f - mu) ** 2
        var = np.sum(w * g) / w.sum()
        out.append((mu, np.sqrt(np.sum(w**2 * (f - mu) ** 2)) / w.sum(),
                    var, np.sqrt(np.sum(w**2 * (g - var) ** 2)) / w.sum()))
    return np.array(out)            # (m, 4): mean, its se, variance, its se


def test_narrow_posterior_differs_from_nngp_and_matches_a_hand_posterior():
    m = nnft.compile(nnft.load("relu_net", N=2))
    p = posterior(m, X, Y, XS, NOISE, samples=20_000, key=2, blocks=32)
    z = np.concatenate([p.z_mean(), p.z_var()])
    assert np.max(np.abs(z)) > 5, z
    assert "NNGP" in p.table()
    # the same finite-width posterior from an independent numpy computation
    h = hand_posterior(2)
    zm = (p.mean.mean - h[:, 0]) / np.hypot(p.mean.stderr, h[:, 1])
    zv = (np.diag(p.cov.mean) - h[:, 2]) / np.hypot(np.diag(p.cov.stderr), h[:, 3])
    assert np.all(np.abs(zm) < 5) and np.all(np.abs(zv) < 5), (zm, zv)
    # a wrong posterior (the N = 1 net) fails the same comparison
    w = hand_posterior(1)
    zw = np.concatenate([(p.mean.mean - w[:, 0]) / np.hypot(p.mean.stderr, w[:, 1]),
                         (np.diag(p.cov.mean) - w[:, 2]) / np.hypot(np.diag(p.cov.stderr), w[:, 3])])
    assert np.max(np.abs(zw)) > 5, zw


def test_posterior_round_trips_through_xarray(wide, tmp_path):
    m, p = wide
    path = tmp_path / "post.nc"
    nnft.results.save(p, path, theory=m.theory, seed=1)
    back = nnft.load_result(path)
    np.testing.assert_array_equal(back.mean.mean, p.mean.mean)
    np.testing.assert_array_equal(back.cov.stderr, p.cov.stderr)
    np.testing.assert_array_equal(back.nngp.cov, p.nngp.cov)
    assert (back.ess, back.method, back.width, back.noise_var) == (p.ess, "reweight", 128, NOISE)
    assert float(back.log_evidence.mean) == float(p.log_evidence.mean)


def test_conditioned_models_do_not_share_a_compiled_likelihood():
    """Two data sets on one prior: each conditioned model gives its own numbers (the targets are baked into
    the compiled step, so the step key must carry them: a shared step would give b == a)."""
    m = nnft.compile(nnft.load("relu_net", N=4))
    pts = [XS[[0]]]
    a = nnft.ensemble(condition(m, X, Y, NOISE), pts, samples=2000, key=0, blocks=8).full().mean
    b = nnft.ensemble(condition(m, X, -Y, NOISE), pts, samples=2000, key=0, blocks=8).full().mean
    assert a[0] > 0.2 and b[0] < -0.2


def test_degenerate_weights_and_bad_input_are_refused():
    m = nnft.compile(nnft.load("relu_net", N=4))
    with pytest.raises(EstimatorError, match="ESS"):
        posterior(m, X, Y, XS, 1e-6, samples=1000, key=0, blocks=8, nngp=False)
    with pytest.raises(InputError):
        condition(m, X, Y, 0.0)
    with pytest.raises(InputError):
        posterior(m, X, Y, XS, NOISE, samples=1000, method="gibbs")
    with pytest.raises(InputError):
        posterior(m, X, Y[:1], XS, NOISE, samples=1000)


@pytest.mark.slow
def test_nuts_posterior_agrees_with_nngp_at_width():
    N = 32
    wide = nnft.compile(nnft.load("relu_net", N=N))
    p = posterior(wide, X, Y, XS, NOISE, samples=1600, method="nuts", chains=4, warmup=150, key=3, blocks=16,
                  nngp=True)
    assert p.rhat < 1.02 and p.ess > 400 and p.diagnostics is not None
    assert within(p.mean.mean, p.mean.stderr, p.nngp.mean, N), p.z_mean()
    assert within(np.diag(p.cov.mean), np.diag(p.cov.stderr), p.nngp.var, N), p.z_var()
    assert not within(p.mean.mean, p.mean.stderr, nngp_posterior(wide, X, Y, XS, 4 * NOISE).mean, N)


@pytest.mark.slow
def test_nuts_narrow_posterior_matches_the_hand_posterior():
    m = nnft.compile(nnft.load("relu_net", N=2))
    p = posterior(m, X, Y, XS, NOISE, samples=1600, method="nuts", chains=4, warmup=150, key=4, blocks=16, nngp=False)
    h = hand_posterior(2)
    zm = (p.mean.mean - h[:, 0]) / np.hypot(p.mean.stderr, h[:, 1])
    zv = (np.diag(p.cov.mean) - h[:, 2]) / np.hypot(np.diag(p.cov.stderr), h[:, 3])
    assert np.all(np.abs(zm) < 5) and np.all(np.abs(zv) < 5), (zm, zv, p.rhat, p.ess)
    w = nnft.nngp_posterior(m, X, Y, XS, 4 * NOISE)          # a wrong reference fails the same comparison
    assert np.max(np.abs((p.mean.mean - w.mean) / p.mean.stderr)) > 5


def test_checkpoint_of_one_data_set_is_not_resumed_with_another(tmp_path):
    from nnft.errors import CheckpointError
    m = nnft.compile(nnft.load("relu_net", N=4))
    ck = tmp_path / "ck"
    nnft.ensemble(condition(m, X, Y, NOISE), [XS[[0]]], samples=2000, key=0, blocks=8, checkpoint=ck)
    with pytest.raises(CheckpointError):
        nnft.ensemble(condition(m, X, -Y, NOISE), [XS[[0]]], samples=2000, key=0, blocks=8, checkpoint=ck,
                      resume=True)


def test_table_notes_the_expected_finite_width_shift():
    """z against the NNGP comes with the note that a finite-N posterior differs from it by O(1/N)."""
    p = posterior(nnft.compile(nnft.load("relu_net", N=16)), X, Y, XS, NOISE, samples=1024, key=3, blocks=8)
    note = p.table().splitlines()[-1]
    assert "O(1/N)" in note and "N = 16" in note and "not a failure" in note
