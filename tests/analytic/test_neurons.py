"""Per-neuron moments vs independent brute-force Monte Carlo of ψ (docs/physics.md §0-4, 8).

Every MC sampler below is written from the family's definition, not from nnft.analytic. Agreement
is judged by |z| < 5 with the MC standard error; wrong formulas must give |z| ≫ 5.
"""

import math

import numpy as np
import pytest
from scipy import special

from nnft.analytic import NEURONS, NeuronArgError, NeuronReference
from nnft.analytic import closed_forms as cf
from nnft.analytic.neurons import relu_arc_moment, relu_cone_moment, relu_orthant_moment

N_MC = 400_000


# ----------------------------------------------------------------------------- samplers

def _ball(rng, n, dim, radius):
    """Uniform in the dim-ball: Gaussian direction times radius·U^{1/dim}."""
    g = rng.normal(size=(n, dim))
    g /= np.linalg.norm(g, axis=1, keepdims=True)
    return g * radius * rng.uniform(size=(n, 1)) ** (1.0 / dim)


def sample_psi(name, d, args, points, n, rng):
    """ψ at ``points`` (K, d) for n independent neurons: array (n, K)."""
    x = np.asarray(points, dtype=float)
    A = args.get("amplitude", 1.0)
    b = rng.uniform(-np.pi, np.pi, size=(n, 1))
    if name == "gauss_net":
        sw, sb = args["sigma_w0"], args["sigma_b0"]
        w = rng.normal(0.0, sw / math.sqrt(d), size=(n, d))
        bb = rng.normal(0.0, sb, size=(n, 1))
        return np.exp(w @ x.T + bb - sb ** 2 - sw ** 2 * np.sum(x * x, axis=1) / d)
    if name == "cos_net":
        w = rng.normal(0.0, args["sigma_w0"] / math.sqrt(d), size=(n, d))
        return A * np.cos(w @ x.T + b)
    if name == "cauchy_net":
        w = args["mass"] * rng.standard_cauchy(size=(n, 1))
        return A * np.cos(w @ x.T + b)
    if name in ("scalar_net", "shaped_net"):
        if name == "scalar_net":
            w = _ball(rng, n, d, args["cutoff"])
        else:
            w = rng.normal(0.0, args["sigma_w0"] / math.sqrt(d), size=(n, d))
        f = 1.0 / np.sqrt(np.sum(w * w, axis=1, keepdims=True) + args["mass"] ** 2)
        return A * f * np.cos(w @ x.T + b)
    if name == "rp_scalar":
        m = args["mass"]
        k = _ball(rng, n, d - 1, args["cutoff"]) if d > 1 else np.zeros((n, 0))
        om = np.sqrt(np.sum(k * k, axis=1, keepdims=True) + m * m)
        p0 = om * rng.standard_cauchy(size=(n, 1))
        return A * np.cos(p0 * x[:, 0][None, :] + k @ x[:, 1:].T + b) / np.sqrt(om)
    if name in ("relu_layer", "erf_layer"):
        w = rng.normal(0.0, args["weight_std"], size=(n, d))
        u = w @ x.T + rng.normal(0.0, args["bias_std"], size=(n, 1))
        return np.maximum(u, 0.0) if name == "relu_layer" else special.erf(u)
    raise KeyError(name)


def mc_z(name, d, args, points, value, n=N_MC, seed=0):
    """z-score of ``value`` against the MC mean of Π_k ψ(x_k)."""
    rng = np.random.default_rng(seed)
    prod = np.prod(sample_psi(name, d, args, points, n, rng), axis=1)
    se = prod.std(ddof=1) / math.sqrt(n)
    return (prod.mean() - value) / se


# ----------------------------------------------------------------------------- point sets

INDEX_SETS = [[0], [0, 1], [0, 0], [0, 1, 2], [0, 1, 2, 3], [0, 0, 1, 1], [0, 0, 0, 1], [0, 0, 0, 0],
              [0, 1, 1, 2], [0, 1, 2, 3, 0, 1], [0, 0, 1, 1, 2, 3]]


def base_points(d, seed=1, scale=0.8):
    return scale * np.random.default_rng(seed).normal(size=(4, d))


def point_sets(d, kmax, seed=1, scale=0.8):
    """Random points of orders 1..kmax, with coincident points."""
    x = base_points(d, seed, scale)
    return [x[i] for i in INDEX_SETS if len(i) <= kmax]


CASES = [
    ("cos_net", 1, {"sigma_w0": 1.3, "amplitude": 1.4}),
    ("cos_net", 2, {"sigma_w0": 2.0}),
    ("cos_net", 3, {"sigma_w0": 1.0, "amplitude": -0.7}),
    ("gauss_net", 1, {"sigma_w0": 1.0, "sigma_b0": 0.3}),
    ("gauss_net", 2, {"sigma_w0": 1.2, "sigma_b0": 0.2}),
    ("gauss_net", 3, {"sigma_w0": 0.8, "sigma_b0": 0.4}),
    ("scalar_net", 1, {"mass": 1.0, "cutoff": 4.0, "amplitude": 2.0}),
    ("scalar_net", 2, {"mass": 0.7, "cutoff": 3.0}),
    ("scalar_net", 3, {"mass": 1.5, "cutoff": 5.0, "amplitude": 3.0}),
    ("cauchy_net", 1, {"mass": 0.8, "amplitude": 1.2}),
    ("rp_scalar", 1, {"mass": 1.0, "cutoff": 1.0}),
    ("rp_scalar", 2, {"mass": 0.6, "cutoff": 3.0, "amplitude": 1.5}),
    ("rp_scalar", 3, {"mass": 1.0, "cutoff": 2.5}),
    ("relu_layer", 1, {"weight_std": 1.2, "bias_std": 0.5}),
    ("relu_layer", 2, {"weight_std": 1.0, "bias_std": 0.3}),
    ("relu_layer", 3, {"weight_std": 0.9, "bias_std": 0.0}),
    ("relu_layer", 3, {"weight_std": 1.1, "bias_std": 0.6}),
    ("erf_layer", 1, {"weight_std": 1.5, "bias_std": 0.5}),
    ("erf_layer", 2, {"weight_std": 1.0, "bias_std": 0.0}),
    ("erf_layer", 3, {"weight_std": 2.0, "bias_std": 1.0}),
    ("shaped_net", 1, {"sigma_w0": 2.0, "mass": 0.5}),
    ("shaped_net", 2, {"sigma_w0": 1.5, "mass": 1.0, "amplitude": 1.3}),
    ("shaped_net", 3, {"sigma_w0": 3.0, "mass": 0.8}),
]


def _id(case):
    return f"{case[0]}-d{case[1]}-" + ",".join(f"{k}={v}" for k, v in case[2].items())


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_moment_matches_brute_force_mc(case):
    """One MC ensemble of N_MC neurons per case (ψ at 4 base points); every index set is z-tested."""
    name, d, args = case
    neuron = NEURONS[name](d, **args)
    kmax = 4 if name == "gauss_net" else min(neuron.max_order, 6)
    scale = 0.5 if name == "gauss_net" else 0.8  # Gauss-net is lognormal: keep near the origin (§1)
    x = base_points(d, scale=scale)
    psi = sample_psi(name, d, args, x, N_MC, np.random.default_rng(0))
    tested = 0
    for idx in INDEX_SETS:
        if len(idx) > kmax:
            continue
        m = neuron.moment(x[idx])
        prod = np.prod(psi[:, idx], axis=1)
        z = (prod.mean() - m) / (prod.std(ddof=1) / math.sqrt(N_MC))
        assert abs(z) < 5, (name, d, idx, m, z)
        tested += 1
    assert tested >= 9


def test_registry_and_metadata():
    assert set(NEURONS) == {"cos_net", "gauss_net", "scalar_net", "cauchy_net", "rp_scalar",
                            "relu_layer", "erf_layer", "shaped_net"}
    for name, cls in NEURONS.items():
        assert issubclass(cls, NeuronReference) and cls.name == name
        assert cls.equation and cls.max_order >= 4
        assert set(cls.defaults) <= set(cls.args)
        assert all(c in ("positive", "nonnegative", "real") for c in cls.args.values())
    for name in ("cos_net", "gauss_net", "cauchy_net", "scalar_net", "shaped_net", "rp_scalar"):
        assert NEURONS[name].max_order >= 6


def test_k0_and_odd_orders():
    x = np.array([[0.1, 0.2], [0.3, -0.5], [1.0, 0.0]])
    for name, args in [("cos_net", {"sigma_w0": 1.0}), ("scalar_net", {"mass": 1.0, "cutoff": 2.0}),
                       ("erf_layer", {"weight_std": 1.0, "bias_std": 0.4}),
                       ("shaped_net", {"sigma_w0": 1.0, "mass": 1.0}),
                       ("rp_scalar", {"mass": 1.0, "cutoff": 2.0})]:
        n = NEURONS[name](2, **args)
        assert n.moment(np.zeros((0, 2))) == 1.0
        assert n.moment(x[:1]) == 0.0 and n.moment(x) == 0.0
    g = NEURONS["gauss_net"](2, sigma_w0=1.0, sigma_b0=0.5)
    assert g.moment(x) > 0 and g.moment(x[:1]) == pytest.approx(math.exp(-0.5 * 0.25 - 0.05 / 4))


def test_wrong_formulas_fail_the_same_mc():
    """The MC comparison has teeth: 2× the moment, and the TASI eq. 71 erratum (σ_b² for σ_w0²)."""
    args = {"sigma_w0": 1.0}
    cos = NEURONS["cos_net"](2, **args)
    x = np.array([[0.3, -0.2], [0.9, 0.4]])
    m = cos.moment(x)
    assert abs(mc_z("cos_net", 2, args, x, m)) < 5
    assert abs(mc_z("cos_net", 2, args, x, 2 * m)) > 50
    # TASI 71 as printed: ½ exp(−σ_b²|x1−x4|²/(2d)) with σ_b² = Var U[−π, π] = π²/3
    s = x[0] - x[1]
    wrong = 0.5 * math.exp(-(math.pi ** 2 / 3) * (s @ s) / 4)
    assert abs(mc_z("cos_net", 2, args, x, wrong)) > 20
    # Gauss-net with the b-dependence dropped (exp((K²/2−K)σ_b²) → 1) at K = 4
    ga = {"sigma_w0": 1.0, "sigma_b0": 0.5}
    g = NEURONS["gauss_net"](1, **ga)
    y = np.array([[0.1], [0.2], [-0.1], [0.0]])
    assert abs(mc_z("gauss_net", 1, ga, y, g.moment(y))) < 5
    assert abs(mc_z("gauss_net", 1, ga, y, g.moment(y) / math.exp(4 * 0.25))) > 20
    # ReLU J_2 with a wrong angular factor (π−2θ) instead of (π−θ)
    ra = {"weight_std": 1.0, "bias_std": 0.3}
    r = NEURONS["relu_layer"](2, **ra)
    z = np.array([[0.5, 0.5], [0.5, 0.5], [-0.4, 0.8], [-0.4, 0.8]])
    c = r.cov(z[[0, 2]])
    th = math.acos(c[0, 1] / math.sqrt(c[0, 0] * c[1, 1]))
    bad = c[0, 0] * c[1, 1] / (2 * math.pi) * (3 * math.sin(th) * math.cos(th)
                                                + (math.pi - 2 * th) * (1 + 2 * math.cos(th) ** 2))
    assert abs(mc_z("relu_layer", 2, ra, z, r.moment(z))) < 5
    assert abs(mc_z("relu_layer", 2, ra, z, bad)) > 20


# ----------------------------------------------------------------------------- quadrature accuracy

@pytest.mark.parametrize("name,d,args", [
    ("scalar_net", 1, {"mass": 0.3, "cutoff": 20.0, "amplitude": 2.0}),
    ("scalar_net", 2, {"mass": 1.0, "cutoff": 10.0}),
    ("scalar_net", 3, {"mass": 0.5, "cutoff": 8.0}),
    ("shaped_net", 2, {"sigma_w0": 3.0, "mass": 0.2}),
    ("shaped_net", 3, {"sigma_w0": 1.0, "mass": 1.0}),
    ("rp_scalar", 2, {"mass": 0.4, "cutoff": 6.0}),
    ("rp_scalar", 3, {"mass": 1.0, "cutoff": 5.0, "amplitude": 3.0}),
])
def test_radial_quadrature_within_stated_accuracy(name, d, args):
    """Doubling the Gauss–Legendre nodes per panel moves moment() by < accuracy/10."""
    ref = NEURONS[name](d, **args)
    fine = NEURONS[name](d, **args)
    fine.gl_nodes = 40
    assert ref.accuracy > 0
    for pts in point_sets(d, 6, seed=3, scale=1.5):
        assert abs(ref.moment(pts) - fine.moment(pts)) < ref.accuracy / 10


def test_scalar_net_d1_against_scipy_quad():
    """M2 at r ≠ 0 in d = 1 by QUADPACK's Fourier integral (weight='cos')."""
    from scipy.integrate import quad
    m, lam, A = 0.7, 6.0, 1.3
    n = NEURONS["scalar_net"](1, mass=m, cutoff=lam, amplitude=A)
    for r in (0.0, 0.4, 2.5, 7.0):
        ref = quad(lambda p: 1.0 / (p * p + m * m) / lam, 0, lam, weight="cos", wvar=r,
                   epsabs=1e-14, epsrel=1e-13)[0]
        assert n.moment(np.array([[0.2], [0.2 + r]])) == pytest.approx(A * A / 2 * ref, abs=n.accuracy)


def test_relu_closed_forms_vs_quadrature_paths():
    r = NEURONS["relu_layer"](2, weight_std=1.3, bias_std=0.4)
    rng = np.random.default_rng(5)
    for _ in range(5):
        x = rng.normal(size=(2, 2))
        c = r.cov(x)
        L = np.linalg.cholesky(c)
        kern, m22 = cf.relu_kernel(c[0, 0], c[1, 1], c[0, 1]), cf.relu_moment_22(c[0, 0], c[1, 1], c[0, 1])
        assert r.moment(x) == pytest.approx(kern, abs=r.error_bound(x))
        assert r.moment(x[[0, 0, 1, 1]]) == pytest.approx(m22, abs=r.error_bound(x[[0, 0, 1, 1]]))
        # independent nested-quadrature and arc paths agree with the arc-cosine kernels
        assert relu_orthant_moment(c, [1, 1]) == pytest.approx(kern, abs=1e-10)
        assert relu_orthant_moment(c, [2, 2]) == pytest.approx(m22, abs=1e-10)
        assert relu_arc_moment(L, [1, 1]) == pytest.approx(kern, abs=1e-12)
    x = np.array([[0.3, 0.8]])
    c = r.cov(x)[0, 0]
    assert r.moment(x) == pytest.approx(math.sqrt(c / (2 * math.pi)), rel=1e-13)
    assert r.moment(x[[0, 0]]) == pytest.approx(c / 2, rel=1e-13)
    assert r.moment(x[[0, 0, 0, 0]]) == pytest.approx(1.5 * c * c, rel=1e-13)
    assert r.moment(x[[0, 0, 0, 0]]) == pytest.approx(cf.relu_moment_22(c, c, c), rel=1e-13)


def test_relu_cone_vs_nested_quadrature():
    """Two independent quadratures agree on well-conditioned 3- and 4-point covariances."""
    rng = np.random.default_rng(7)
    for n, a in [(3, [1, 1, 1]), (3, [2, 1, 1]), (4, [1, 1, 1, 1])]:
        B = rng.normal(size=(n, n))
        c = B @ B.T + 0.5 * np.eye(n)
        L = np.linalg.cholesky(c)
        ref = relu_orthant_moment(c, a, panels=10, nodes=14)
        assert relu_cone_moment(L, a) == pytest.approx(ref, abs=1e-9 * np.max(np.diag(c)) ** (sum(a) / 2))


def test_relu_degenerate_configurations():
    r1 = NEURONS["relu_layer"](1, weight_std=1.0, bias_std=0.5)  # rank ≤ 2 for any points in d = 1
    pts = np.array([[0.3], [-0.7], [1.1], [0.2]])
    assert abs(mc_z("relu_layer", 1, {"weight_std": 1.0, "bias_std": 0.5}, pts, r1.moment(pts))) < 5
    r0 = NEURONS["relu_layer"](2, weight_std=1.0, bias_std=0.0)
    assert r0.moment(np.array([[0.0, 0.0], [1.0, 2.0]])) == 0.0  # ψ(0) ≡ 0 without bias
    # x and 2x without bias: u2 = 2u1, E[relu(u)relu(2u)] = 2·C/2
    x = np.array([[0.4, -0.3], [0.8, -0.6]])
    assert r0.moment(x) == pytest.approx(r0.cov(x[:1])[0, 0], rel=1e-12)
    # x and −x: never both positive
    assert r0.moment(np.array([[0.4, -0.3], [-0.4, 0.3]])) == pytest.approx(0.0, abs=1e-15)


def test_erf_closed_form_and_accuracy():
    e = NEURONS["erf_layer"](2, weight_std=1.7, bias_std=0.6)
    x = np.array([[0.3, -0.4], [1.0, 0.5]])
    c = e.cov(x)
    assert e.moment(x) == pytest.approx(cf.erf_kernel(c[0, 0], c[1, 1], c[0, 1]), abs=1e-15)
    # E erf(u)^4 by adaptive 1-D quadrature
    from scipy.integrate import quad
    v = c[0, 0]
    ref = quad(lambda z: special.erf(math.sqrt(v) * z) ** 4 * math.exp(-z * z / 2) / math.sqrt(2 * math.pi),
               -np.inf, np.inf, epsabs=1e-13)[0]
    assert e.moment(x[[0, 0, 0, 0]]) == pytest.approx(ref, abs=e.accuracy)
    # independence: points with C12 = 0 (no bias, orthogonal inputs) factorise
    e0 = NEURONS["erf_layer"](2, weight_std=1.2, bias_std=0.0)
    y = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 0.7], [0.0, 0.7]])
    assert e0.moment(y) == pytest.approx(e0.moment(y[:2]) * e0.moment(y[2:]), abs=e0.accuracy)


# ----------------------------------------------------------------------------- validation

def test_constructor_errors():
    with pytest.raises(NeuronArgError, match=r"sigma_w0=-1\.0.*nonnegative"):
        NEURONS["cos_net"](2, sigma_w0=-1.0)
    with pytest.raises(NeuronArgError, match=r"weight_std=-0\.5.*nonnegative"):
        NEURONS["relu_layer"](2, weight_std=-0.5, bias_std=0.1)
    with pytest.raises(NeuronArgError, match=r"mass=0\.0.*positive"):
        NEURONS["scalar_net"](2, mass=0.0, cutoff=1.0)
    with pytest.raises(NeuronArgError, match=r"missing.*cutoff.*allowed: mass"):
        NEURONS["scalar_net"](2, mass=1.0)
    with pytest.raises(NeuronArgError, match=r"unknown.*sigma_w.*allowed.*sigma_w0.*did you mean 'sigma_w0'"):
        NEURONS["cos_net"](2, sigma_w=1.0)
    with pytest.raises(NeuronArgError, match=r"d=2 not allowed.*\[1, 1\]"):
        NEURONS["cauchy_net"](2, mass=1.0)
    with pytest.raises(NeuronArgError, match="integer >= 1"):
        NEURONS["cos_net"](0, sigma_w0=1.0)
    with pytest.raises(NeuronArgError, match="not a number"):
        NEURONS["cos_net"](1, sigma_w0="abc")
    with pytest.raises(NeuronArgError, match=r"inf.*nonnegative"):
        NEURONS["gauss_net"](1, sigma_w0=math.inf, sigma_b0=0.0)
    assert isinstance(NeuronArgError("x"), ValueError)


def test_moment_input_errors():
    n = NEURONS["relu_layer"](2, weight_std=1.0, bias_std=0.1)
    with pytest.raises(NeuronArgError, match="max_order=6"):
        n.moment(np.zeros((7, 2)))
    with pytest.raises(NeuronArgError, match="shape"):
        n.moment(np.zeros((2, 3)))
    c = NEURONS["cauchy_net"](1, mass=1.0)
    assert c.moment([0.1, 0.5]) == pytest.approx(0.5 * math.exp(-0.4))  # 1-D points allowed for d = 1


def test_shaped_net_d1_against_scipy_quad():
    """M2 = (A²/2) E_w[cos(ws)/(w²+m²)], w ~ N(0, σ²), by adaptive quadrature over w."""
    from scipy.integrate import quad
    sw, m, A = 2.0, 0.5, 1.3
    n = NEURONS["shaped_net"](1, sigma_w0=sw, mass=m, amplitude=A)
    for s in (0.0, 0.7, 3.0):
        ref = quad(lambda w: math.cos(w * s) / (w * w + m * m) * math.exp(-w * w / (2 * sw * sw))
                   / math.sqrt(2 * math.pi * sw * sw), -np.inf, np.inf, epsabs=1e-14, epsrel=1e-13)[0]
        assert n.moment(np.array([[0.1], [0.1 + s]])) == pytest.approx(A * A / 2 * ref, abs=n.accuracy)
