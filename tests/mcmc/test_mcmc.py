"""MCMC ensembles with BlackJAX NUTS over unconstrained noise (nnft.sample.mcmc; docs/physics.md §7).

(a) with log_weight = 0 NUTS samples the free theory: G2 and G4c agree with nnft.exact by
    batch-means z-scores; (b) split-R̂ on field observables flags chains stuck in different modes;
(c) the noise transform T(ε), ε ~ N(0, I), reproduces every density (also with an argument that
    depends on another parameter); (d) block sums and diagnostic traces do not grow with samples.
"""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import nnft
from helpers import Z_MAX
from nnft.densities import DENSITIES
from nnft.graph.compile import Model
from nnft.errors import ConvergenceWarning
from nnft.estimators.mcmc import mcmc_ensemble
from nnft.sample.diagnostics import bulk_ess, split_rhat
from nnft.sample.noise import sample_noise, theta_from_noise, transform

TUPLES = [np.array([[0.0], [0.5]]), np.array([[0.2], [0.2]]),
          np.array([[0.0], [0.3], [0.5], [0.9]]), np.array([[0.2], [0.2], [0.2], [0.2]])]
CFG = dict(chains=4, warmup=200, blocks=32, chunk=1000)


@pytest.fixture(scope="module")
def cos_model():
    return nnft.compile(nnft.load("cos_net", N=2, d=1))


# ------------------------------------------------------------------------------ (a) free theory
def test_free_theory_matches_exact_correlators(cos_model):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ens, diag = mcmc_ensemble(cos_model, TUPLES, samples=16_000, key=1, **CFG)
    ref = nnft.exact(cos_model, TUPLES)
    z_full = ens.full().z(ref.full[0])
    z_conn = ens.connected().z(ref.connected[0])
    assert np.all(np.abs(z_full) < Z_MAX), z_full
    assert np.all(np.abs(z_conn) < Z_MAX), z_conn
    # the tail diagnostic reaches MCMC estimates too: light tails here (k̂ finite, well below 0.7)
    assert ens.full().khat is not None and np.all(ens.full().khat < 0.7), ens.full().khat
    # G4c = O(1/N) is resolved (N = 2): not compatible with zero
    assert np.all(ens.connected().mean[2:] / ens.connected().stderr[2:] > 5)
    assert ens.sums.n == 16_000 and ens.sums.sums.shape[0] == 32
    assert diag.converged and diag.blocks_ok and diag.max_rhat < 1.01
    assert diag.n_divergent == 0
    assert 0.6 < np.mean(diag.acceptance) < 0.99
    assert diag.min_ess > 100 * diag.chains
    assert np.all(diag.tau < diag.block_length / 10)


# --------------------------------------------------------------------------- (b) R̂ flags modes
class _Bimodal(Model):
    """P̃ ∝ P(θ)·exp(−30 (φ(0)² − 1)²): a double well in the field whose barrier (e^{−30}, over
    |φ(0)| ≲ 0.7, much wider than a NUTS step) keeps each chain in the mode it finds; only the
    odd field observable φ(0) tells the modes apart."""

    def log_weight(self, theta):
        phi = self.field(theta, jnp.zeros(1, dtype=theta["W1"].dtype))
        return -30.0 * (phi * phi - 1.0) ** 2


def test_rhat_flags_chains_stuck_in_different_modes(cos_model):
    model = _Bimodal(theory=cos_model.theory, graph=cos_model.graph, structure=cos_model.structure)
    tuples = [np.array([[0.0]]), np.array([[0.0], [0.5]])]
    with pytest.warns(ConvergenceWarning, match="R̂"):
        ens, diag = mcmc_ensemble(model, tuples, samples=1600, chains=6, warmup=100, key=5, chunk=400)
    assert not diag.converged
    i = diag.names.index("G1 φ(0)")
    assert diag.rhat[i] > 1.2, diag.summary()
    # the even observables see the same law in both modes: R̂ ≈ 1 there
    assert np.all(diag.rhat[[n != "G1 φ(0)" for n in diag.names]] < 1.1), diag.summary()
    assert any("R̂" in m and "φ(0)" in m for m in diag.messages)


def test_split_rhat_and_bulk_ess_on_synthetic_chains():
    rng = np.random.default_rng(0)
    iid = rng.normal(size=(4, 2000, 1))
    assert split_rhat(iid)[0] < 1.01
    assert abs(bulk_ess(iid)[0] / 8000 - 1) < 0.15
    drift = iid + np.linspace(0, 2, 2000)[None, :, None]    # non-stationary: split-R̂ catches it
    assert split_rhat(drift)[0] > 1.1
    scale = iid * np.array([1, 1, 1, 4.0])[:, None, None]    # same mean, one wide chain: tail R̂
    assert split_rhat(scale)[0] > 1.05
    ar = np.zeros((4, 4000, 1))                              # AR(1), ρ = 0.9: τ = 19
    for t in range(1, 4000):
        ar[:, t] = 0.9 * ar[:, t - 1] + rng.normal(size=(4, 1))
    assert 0.5 < bulk_ess(ar)[0] / (16000 / 19) < 1.5


# ------------------------------------------------------------------------------ (c) T(ε) = P(θ)
ARGS = {"normal": {"mean": 0.3, "std": 2.0}, "uniform": {"low": -1.0, "high": 3.0},
        "cauchy": {"loc": 0.5, "scale": 2.0}, "student_t": {"df": 3.0, "loc": -0.2, "scale": 1.5},
        "laplace": {"loc": 1.0, "scale": 0.5}, "exponential": {"rate": 2.0, "loc": 0.1}}
SCIPY = {"normal": lambda a: stats.norm(a["mean"], a["std"]),
         "uniform": lambda a: stats.uniform(a["low"], a["high"] - a["low"]),
         "cauchy": lambda a: stats.cauchy(a["loc"], a["scale"]),
         "student_t": lambda a: stats.t(a["df"], a["loc"], a["scale"]),
         "laplace": lambda a: stats.laplace(a["loc"], a["scale"]),
         "exponential": lambda a: stats.expon(a["loc"], 1 / a["rate"])}


def test_every_density_has_a_noise_transform():
    assert set(ARGS) | {"uniform_ball", "haar_orthogonal"} == {n for n, d in DENSITIES.items() if not d.discrete}


@pytest.mark.parametrize("name", sorted(ARGS))
def test_noise_transform_reproduces_scalar_density(name):
    args = {k: float(v) for k, v in {**DENSITIES[name].defaults, **ARGS[name]}.items()}

    @jax.jit
    def T_and_grad(e):
        T = lambda x: transform(name, x, {k: jnp.asarray(v, x.dtype) for k, v in args.items()})
        return T(e), jax.vmap(jax.grad(T))(e)

    e_tail = np.array([-8.0, -3.0, 0.0, 2.5, 8.0])
    with jax.enable_x64(True):
        eps = jax.random.normal(jax.random.key(7), (20_000,), jnp.float64)
        x, g = (np.asarray(a) for a in T_and_grad(eps))
        t = np.asarray(T_and_grad(jnp.asarray(e_tail))[0])
    # T is differentiable and increasing (NUTS needs the gradient)
    assert np.all(np.isfinite(x)) and np.all(np.isfinite(g)) and np.all(g > 0)
    dist = SCIPY[name](ARGS[name])
    assert stats.kstest(x, dist.cdf).pvalue > 1e-4
    # exact in the tails: T(ε) is the inverse CDF at Φ(ε)
    want = np.where(e_tail > 0, dist.isf(stats.norm.sf(e_tail)), dist.ppf(stats.norm.cdf(e_tail)))
    if name == "cauchy":   # closed form, stable in both tails (older scipy's ppf loses ~5% at u ~ 1e-15)
        a = ARGS[name]
        lower, upper = stats.norm.cdf(e_tail), stats.norm.sf(e_tail)
        want = np.where(e_tail > 0, a["loc"] + a["scale"] / np.tan(np.pi * upper),
                        a["loc"] - a["scale"] / np.tan(np.pi * lower))
    np.testing.assert_allclose(t, want, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("k", [1, 3])
def test_noise_transform_reproduces_uniform_ball(k):
    with jax.enable_x64(True):
        eps = jax.random.normal(jax.random.key(k), (20_000, k), jnp.float64)
        w = np.asarray(transform("uniform_ball", eps, {"radius": jnp.full((20_000, 1), 2.0)}))
    r = np.linalg.norm(w, axis=-1)
    assert r.max() <= 2.0
    assert stats.kstest((r / 2.0) ** k, "uniform").pvalue > 1e-4        # |w|^k/R^k ~ U(0, 1)
    z = w.mean(0) / (w.std(0) / np.sqrt(len(w)))                         # isotropic: mean 0
    assert np.all(np.abs(z) < Z_MAX)
    second = (w ** 2).mean(0)                                            # E w_i² = R²/(k+2)
    assert np.all(np.abs(second - 4.0 / (k + 2)) / ((w ** 2).std(0) / np.sqrt(len(w))) < Z_MAX)


def test_noise_transform_with_parameter_dependent_argument():
    """rp_scalar_2d: k ~ U[−4, 4], p0 | k ~ Cauchy(0, sqrt(k² + 1)): p0/sqrt(k²+1) is Cauchy(0, 1)."""
    m = nnft.compile(nnft.load("rp_scalar_2d", N=64))
    with jax.enable_x64(True):
        eps = jax.vmap(lambda key: sample_noise(m, key))(jax.random.split(jax.random.key(0), 200))
        th = jax.vmap(lambda e: theta_from_noise(m, e))(eps)
    k, p0 = np.asarray(th["k"]).ravel(), np.asarray(th["p0"]).ravel()
    assert stats.kstest(k, stats.uniform(-4, 8).cdf).pvalue > 1e-4
    assert stats.kstest(p0 / np.sqrt(k ** 2 + 1), "cauchy").pvalue > 1e-4
    assert stats.kstest(p0 / np.sqrt(16 + 1), "cauchy").pvalue < 1e-4       # a fixed scale would fail
    # the noise map and the sampler agree in law on the field: φ(0)² has the same mean
    with jax.enable_x64(True):
        phi_t = np.asarray(m.fields(th, jnp.zeros((1, 2))))[:, 0]
        phi_s = np.asarray(m.fields(m.sample(jax.random.key(1), 200, dtype=jnp.float64), jnp.zeros((1, 2))))[:, 0]
    assert stats.ks_2samp(phi_t, phi_s).pvalue > 1e-4


# ------------------------------------------------------------------------------ (d) streaming
def test_block_sums_and_traces_do_not_grow_with_samples(cos_model):
    shapes, strides, traces = [], [], []
    for samples in (4_000, 16_000):
        ens, diag = mcmc_ensemble(cos_model, TUPLES, samples=samples, key=2, trace_max=500,
                                  warn=False, **CFG)
        shapes.append(ens.sums.sums.shape)
        strides.append(diag.trace_stride)
        assert ens.sums.n == samples
        assert np.all(ens.sums.weights == samples / 32)          # contiguous equal blocks per chain
    assert shapes[0] == shapes[1] == (32, ens.plan.n_features)
    assert strides == [2, 8]                                     # trace ≤ 500 per chain at any length
