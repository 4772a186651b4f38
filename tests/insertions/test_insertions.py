"""Insertions: specs, log-weights, reweighting through the one estimator path, ESS warnings, bad input."""

import warnings

import jax
import numpy as np
import pytest

import nnft
from nnft.errors import ReweightingWarning


def phi4(lam, N=20, box=((-2.0, 2.0),), lattice=16, **extra):
    data = nnft.load("scalar_net", N=N).model_dump()
    data["insertions"] = [{"potential": {"phi4": {"coupling": lam}},
                           "domain": {"box": [list(b) for b in box], "lattice": lattice}, **extra}]
    return nnft.compile(nnft.from_dict(data))


PTS = [np.array([[0.0], [0.5]]), np.array([[0.0]] * 4)]


def test_shipped_phi4_spec_compiles_with_its_insertion():
    m = nnft.compile(nnft.load("phi4_scalar_1d"))
    (ins,) = m.insertions
    assert ins.points.shape == (32, 1) and abs(ins.volume - 4.0) < 1e-12
    assert m.free().insertions == ()


def test_zero_coupling_reproduces_the_free_theory_exactly():
    free = nnft.compile(nnft.load("scalar_net", N=20))
    # float64 sampling: in float32 XLA may fuse the extra log-weight work differently (~1e-8 rounding)
    a = nnft.measure(free, PTS, samples=4000, key=1, dtype="float64")
    b = nnft.measure(phi4(0.0), PTS, samples=4000, key=1, dtype="float64")
    np.testing.assert_allclose(b.full.mean, a.full.mean, rtol=1e-10)
    np.testing.assert_allclose(b.connected.mean, a.connected.mean, rtol=1e-10)
    assert b.full.ess == pytest.approx(4000)


def test_log_weight_is_minus_the_lattice_integral_of_v():
    m = phi4(0.7)
    with jax.enable_x64(True):
        th = m.sample_one(jax.random.key(0), dtype=np.float64)
        phi = np.array([float(m.field(th, np.array([z]))) for z in m.insertions[0].points[:, 0]])
        lw = float(m.log_weight(th))
    assert lw == pytest.approx(-np.sum(m.insertions[0].weights * 0.7 / 24 * phi ** 4), rel=1e-10)


def test_log_prob_matches_the_densities():
    from scipy import stats
    m = nnft.compile(nnft.load("cos_net", N=3))
    with jax.enable_x64(True):
        th = m.sample_one(jax.random.key(2), dtype=np.float64)
        lp = float(m.log_prob(th))
    W0, b0, W1 = (np.asarray(th[k]) for k in ("W0", "b0", "W1"))
    want = (stats.norm(0, 1 / np.sqrt(2)).logpdf(W0).sum() + stats.uniform(-np.pi, 2 * np.pi).logpdf(b0).sum()
            + stats.norm(0, 1 / np.sqrt(3)).logpdf(W1).sum())
    assert lp == pytest.approx(want, rel=1e-10)


def test_positive_coupling_suppresses_fluctuations_with_correlated_errors():
    """φ⁴ with λ > 0 lowers G2 (first order: δG = −(λ/2)∫GGG < 0), resolved on the same samples."""
    free, inter = nnft.compile(nnft.load("scalar_net", N=20)), phi4(2.0)
    a = nnft.ensemble(free, PTS[:1], samples=20_000, key=3)
    b = nnft.ensemble(inter, PTS[:1], samples=20_000, key=3)
    assert b.full().mean[0] < a.full().mean[0] - 5 * b.full().stderr[0] / 3
    assert b.sums.ess > 0.5 * 20_000


def test_ess_warning_fires_when_weights_degenerate():
    # ESS ≈ 40 of 2000: an estimate, flagged
    with pytest.warns(ReweightingWarning, match="effective sample size"):
        est = nnft.measure(phi4(50.0, box=((-20.0, 20.0),), lattice=64), PTS[:1], samples=2000, key=0).full
    assert 10 <= est.ess < 100
    # ESS ≈ 1 of 2000: the weights collapsed onto one network; no number at all
    with pytest.warns(ReweightingWarning), pytest.raises(nnft.EstimatorError, match="not estimable"):
        nnft.measure(phi4(2000.0, box=((-20.0, 20.0),), lattice=64), PTS[:1], samples=2000, key=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReweightingWarning)
        nnft.measure(phi4(0.1), PTS[:1], samples=2000, key=0)


def test_neuron_level_estimators_refuse_interacting_theories():
    with pytest.raises(nnft.EstimatorError, match="neuron"):
        nnft.neuron_measure(phi4(0.5), PTS, neurons=1000)


@pytest.mark.parametrize("insertion,field,fragment", [
    ({"potential": {"phi4": {"coupling": -1.0}}, "domain": {"box": [[-1, 1]], "lattice": 8}},
     "insertions[0].potential", "unbounded below"),
    ({"potential": {"expression": {"V": "phi**2 - phi**4"}}, "domain": {"box": [[-1, 1]], "lattice": 8}},
     "insertions[0].potential", "unbounded below"),
    ({"potential": {"phi4": {"coupling": 1.0}}}, "insertions[0].domain", "missing"),
    ({"potential": {"phi4": {"coupling": 1.0}}, "domain": {"box": [[-1, 1], [0, 1]], "lattice": 8}},
     "insertions[0].domain.box", "d = 1"),
    ({"potential": {"phi6": {"coupling": 1.0}}, "domain": {"box": [[-1, 1]], "lattice": 8}},
     "insertions[0].potential", "phi4"),
    ({"potential": {"phi4": {"coupling": 1.0}}, "domain": {"box": [[1, -1]], "lattice": 8}},
     "insertions[0].domain.box", "lo < hi"),
])
def test_bad_insertions(insertion, field, fragment):
    data = nnft.load("scalar_net").model_dump()
    data["insertions"] = [insertion]
    with pytest.raises(nnft.SpecError) as err:
        nnft.compile(nnft.from_dict(data))
    assert field in str(err.value) and fragment in str(err.value), str(err.value)


def test_unbounded_potential_needs_explicit_opt_in():
    m = phi4(-0.01, allow_unbounded=True)
    assert m.insertions[0].V_min == -np.inf


def test_static_symmetries_account_for_the_insertion():
    from nnft.graph.symmetry import static_symmetries
    free = static_symmetries(nnft.compile(nnft.load("scalar_net")).graph)
    inter = static_symmetries(phi4(0.5).graph)
    assert "translation" in free.proven and "translation" not in inter.proven
    assert "z2" in inter.proven and "even" in inter.proven["z2"]
    data = nnft.load("scalar_net").model_dump()
    data["insertions"] = [{"potential": {"polynomial": {"g3": 0.1, "g4": 1.0}},
                           "domain": {"box": [[-1, 1]], "lattice": 8}}]
    odd = static_symmetries(nnft.compile(nnft.from_dict(data)).graph)
    assert "z2" not in odd.proven and any("not even" in n for n in odd.notes)


def test_reweighting_agrees_with_exact_finite_n_first_order_and_rejects_the_gaussian_formula():
    """⟨φxφy⟩_λ − ⟨φxφy⟩_0 from the same networks (joint jackknife) against λ·c1(N) (docs/physics.md §7).
    At N = 50 the finite-N coefficient differs from the N = ∞ formula by ~30%: the test resolves it."""
    from nnft.analytic import scalar_net_g2
    from nnft.analytic.perturbative import delta_g2_gaussian
    from nnft.perturbation.first_order import first_order
    from nnft.stats import jackknife_joint
    lam = 0.002
    inter = phi4(lam, N=50, lattice=16)
    free = inter.free()
    ins = inter.insertions[0]
    pairs = [np.array([[0.0], [0.5]]), np.array([[-0.6], [0.3]])]
    a = nnft.ensemble(free, pairs, samples=100_000, key=0)
    b = nnft.ensemble(inter, pairs, samples=100_000, key=0)
    delta = jackknife_joint([a.sums, b.sums], lambda m0, m1: a.plan.full(m1) - a.plan.full(m0))
    c1 = first_order(free, pairs, ins.points, ins.weights).full[0]
    G = lambda x, y: scalar_net_g2(x, y, mass=1.0, cutoff=5.0, d=1)   # noqa: E731
    gauss = np.array([delta_g2_gaussian(G, p[0], p[1], ins.points, ins.weights, lam=1.0) for p in pairs])
    assert np.all(np.abs(delta.z(lam * c1)) < 5), delta.z(lam * c1)
    assert np.max(np.abs(delta.z(lam * gauss))) > 5                   # N = ∞ formula is wrong at N = 50
    assert np.max(np.abs(delta.z(2 * lam * c1))) > 5                  # and so is a factor 2


def test_nuts_and_reweighting_agree_on_the_interacting_theory():
    """φ⁴ at λ = 3 (far from the free theory): BlackJAX NUTS on P̃ and importance-reweighted i.i.d.
    samples of P give the same G2 and G4 within errors, and both differ from the free theory."""
    import warnings as w
    from nnft.estimators.mcmc import mcmc_ensemble
    base = nnft.load("phi4_scalar_1d", N=10).model_dump()
    base["constants"]["lam"] = 3.0
    base["insertions"][0]["domain"]["lattice"] = 16
    inter = nnft.compile(nnft.from_dict(base))
    tuples = [np.array([[0.0], [0.5]]), np.array([[0.0]] * 4)]
    with w.catch_warnings():
        w.simplefilter("ignore")
        nuts, diag = mcmc_ensemble(inter, tuples, samples=4000, chains=4, warmup=200, key=0)
    assert diag.converged
    rw = nnft.ensemble(inter, tuples, samples=40_000, key=1)
    free = nnft.ensemble(inter.free(), tuples, samples=40_000, key=1)
    for a, b in [(nuts.full(), rw.full()), (nuts.connected(), rw.connected())]:
        assert np.all(np.abs((a.mean - b.mean) / np.hypot(a.stderr, b.stderr)) < 5)
    a, f = nuts.full(), free.full()
    assert np.all(np.abs((a.mean - f.mean) / np.hypot(a.stderr, f.stderr)) > 5)


def test_interacting_theory_goes_through_the_checkers():
    """The insertion's box removes the translation proof (tested statistically instead); Z2 stays proven
    for the even φ⁴; reflection positivity is decided on reweighted samples and reported."""
    results = {r.check.split()[0]: r for r in nnft.check(phi4(0.5), only=["translation", "z2", "reflection_positivity"],
                                                          samples=4000, seed=0)}
    assert not results["translation"].basis.startswith("by construction")
    assert results["z2"].basis.startswith("by construction") and "even" in results["z2"].basis
    assert results["reflection"].verdict in ("PASS", "FAIL", "INCONCLUSIVE")
    assert results["reflection"].samples == 4000
