"""Haar-orthogonal weight matrices (``haar_orthogonal``, orthogonal initialisation; Mezzadri
arXiv:math-ph/0609050 §5): orthonormality of every draw, E[W Wᵀ], the exact law of one entry and its
invariance under a fixed rotation (KS; QR without the sign fix fails), the facts, and the graph:
a Haar W0[N, d] is NOT a neuron sum (its rows are dependent), and a network's G2 matches the value
from the uniform law on the sphere (Archimedes: W x is uniform on S² for |x| = 1, d = 3).
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import nnft
from helpers import Z_MAX
from nnft.densities import get_density
from nnft.errors import DensityArgError

HAAR = get_density("haar_orthogonal")
KS_P = 1e-4


def _draw(shape, n, scale=1.0, key=0):
    return np.asarray(HAAR.sample(jax.random.key(key), (n,) + shape, {"scale": scale}), dtype=np.float64)


def test_every_draw_is_orthonormal_on_its_short_side():
    for n, m in [(4, 4), (2, 5)]:                     # square and wide here, tall in the next test
        q = _draw((n, m), 200, scale=1.5)
        gram = np.einsum("kij,kil->kjl", q, q) if n >= m else np.einsum("kji,kli->kjl", q, q)
        np.testing.assert_allclose(gram, np.broadcast_to(2.25 * np.eye(min(n, m)), gram.shape), atol=1e-5)


def test_mean_of_w_wt_is_m_over_n_times_identity():
    """E[W Wᵀ] = (m/n) I_n for a tall n×m W (each row has squared norm m/n on average); the wrong
    value I_n (what a square matrix gives) fails."""
    n, m, k = 6, 3, 4000
    q = _draw((n, m), k, key=1)
    np.testing.assert_allclose(np.einsum("kji,kjl->kil", q, q), np.broadcast_to(np.eye(m), (k, m, m)), atol=1e-5)
    ww = np.einsum("kij,klj->kil", q, q).reshape(k, -1)
    mean, se = ww.mean(0), ww.std(0) / math.sqrt(k)
    want = (m / n) * np.eye(n).ravel()
    diag = np.eye(n).ravel() == 1
    assert np.all(np.abs((mean - want)[diag] / se[diag]) < Z_MAX)
    assert np.all(np.abs(mean[~diag]) / se[~diag] < Z_MAX)
    assert np.max(np.abs((mean - np.eye(n).ravel())[diag] / se[diag])) > Z_MAX          # twin


def _beta_cdf(n):
    """Law of one entry of a Haar O(n) matrix: (Q₁₁ + 1)/2 ~ Beta((n−1)/2, (n−1)/2)."""
    a = (n - 1) / 2
    return lambda x: stats.beta(a, a).cdf((x + 1) / 2)


def test_entry_law_and_invariance_under_a_fixed_rotation():
    n, k = 4, 8000
    q = _draw((n, n), k, key=2)
    assert stats.kstest(q[:, 0, 0], _beta_cdf(n)).pvalue > KS_P
    U = stats.special_ortho_group.rvs(n, random_state=np.random.default_rng(5))
    uq = np.einsum("ij,kjl->kil", U, q)
    assert stats.kstest(uq[:, 0, 0], _beta_cdf(n)).pvalue > KS_P                  # left invariance
    assert stats.kstest((q @ U)[:, 2, 1], _beta_cdf(n)).pvalue > KS_P             # right invariance
    tr = np.trace(q, axis1=1, axis2=2)                  # Haar O(n): E tr Q = 0, E (tr Q)² = 1
    assert abs(tr.mean() / (tr.std() / math.sqrt(k))) < Z_MAX
    assert abs((np.mean(tr ** 2) - 1) / (np.std(tr ** 2) / math.sqrt(k))) < Z_MAX
    # twin: QR without Mezzadri's sign fix is not Haar
    g = np.asarray(jax.random.normal(jax.random.key(3), (k, n, n)), np.float64)
    raw = np.linalg.qr(g)[0]
    assert stats.kstest(raw[:, 0, 0], _beta_cdf(n)).pvalue < KS_P


def test_noise_map_pushes_normal_noise_to_haar():
    n, k = 3, 8000
    with jax.enable_x64(True):
        eps = jax.random.normal(jax.random.key(4), (k, n, n), jnp.float64)
        q = np.asarray(HAAR.noise_map(eps, {"scale": jnp.ones((k, 1, 1))}))
    np.testing.assert_allclose(np.einsum("kji,kjl->kil", q, q), np.broadcast_to(np.eye(n), (k, n, n)), atol=1e-12)
    assert stats.kstest(q[:, 1, 2], _beta_cdf(n)).pvalue > KS_P


def test_facts_and_log_prob():
    a = {"scale": 2.0}
    assert HAAR.event_dims == 2 and HAAR.centre(a) == 0.0 and HAAR.isotropic(a) and HAAR.gaussian(a) is None
    assert HAAR.tail(a).bounded and HAAR.support(a).low == -2.0 and not HAAR.discrete
    with pytest.raises(DensityArgError, match="scalar densities"):
        HAAR.moment(2, a)
    q = _draw((5, 3), 3, scale=2.0, key=6)
    lp = np.asarray(HAAR.log_prob(jnp.asarray(q, jnp.float32), a))
    assert np.all(lp == 0.0)
    assert np.all(np.asarray(HAAR.log_prob(jnp.asarray(1.01 * q, jnp.float32), a)) == -np.inf)    # off the manifold


def _net(density, N=3):
    return nnft.compile(nnft.from_dict({
        "nnft": 1, "name": "orth", "dims": {"d": 3, "N": N},
        "params": {"W0": {"shape": ["N", "d"], "density": density},
                   "W1": {"shape": ["N"], "density": {"normal": {"std": 1.0}}}},
        "field": "sum_N(W1 * tanh(W0 @ x))"}))


@pytest.mark.slow
def test_haar_first_layer_is_not_a_neuron_sum_and_g2_matches_the_sphere():
    m = _net({"haar_orthogonal": {}})
    assert m.structure.neuron_sum is None
    assert any("dependent" in n for n in m.structure.notes)
    assert _net({"normal": {"std": 1.0}}).structure.neuron_sum is not None      # the Gaussian W0 is
    x = np.array([[1.0, 0.0, 0.0], [0.0, 0.6, 0.8]])
    g2 = nnft.measure(m, [x[[0, 0]], x[[0, 1]]], samples=3000, key=7).full
    # W x is uniform on S² for |x| = 1, so each u_i ~ U[−1, 1]: G2(x, x) = N ∫ tanh²/2 = 3(1 − tanh 1);
    # G2(x, y) = 0 for x ⊥ y (u_i → −u_i flips one sign)
    want = np.array([3 * (1 - math.tanh(1.0)), 0.0])
    assert np.all(np.abs(g2.z(want)) < Z_MAX), g2.z(want)
    gauss = 3 * float(np.mean(np.tanh(np.random.default_rng(0).normal(size=400_000)) ** 2))
    assert abs(g2.z(np.array([gauss, 0.0]))[0]) > Z_MAX          # twin: the Gaussian-weight value


def test_haar_on_a_vector_is_one_clear_error(tmp_path):
    """A matrix law on a parameter with one axis: one line, exit 2, saying it needs 2 axes."""
    from click.testing import CliRunner

    from nnft.cli import main
    spec = tmp_path / "haar_vec.yaml"
    spec.write_text("nnft: 1\nname: hv\ndims: {d: 1, N: 4}\nparams:\n"
                    "  W: {shape: [N], density: {haar_orthogonal: {scale: 1}}}\n"
                    "field: sum_N(W * x[0])\n")
    res = CliRunner().invoke(main, ["validate", str(spec)])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "params.W.shape" in res.output and "at least 2 axes" in res.output
