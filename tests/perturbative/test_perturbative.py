"""φ⁴ (and polynomial) insertions in perturbation theory (docs/physics.md §7; TASI §5.2 eq. 135-137, sign e^{−∫V}).

Three layers of checks:
  1. the Gaussian diagram formulas (tadpole, vertex, second order) against exact Gaussian moments
     computed by tensor Gauss–Hermite quadrature (exact for polynomials: no tolerance beyond rounding);
  2. ``first_order`` (exact finite N, from nnft.exact FULL moments) against the Gaussian formulas at
     large N, and against docs/physics.md §7's cumulant expansion of c1(N) at N = 10;
  3. an independent numpy Monte Carlo by reweighting, which must agree with G2 + λ·c1(N) and reject
     the Gaussian c1 and a factor-2 error in c1.
"""

import itertools
import math

import numpy as np
import pytest

import nnft
from helpers import Z_MAX
from nnft.analytic.closed_forms import cos_net_g2, cos_net_g4c, scalar_net_g2
from nnft.analytic.perturbative import delta_g2_gaussian, g4c_gaussian, kernel_matrix, second_order_g2_gaussian
from nnft.partitions import mask_partitions, mobius
from nnft.perturbation.first_order import first_order

COS_G = lambda a, b: cos_net_g2(a, b, 1.0, 1.0)           # noqa: E731  (σ_w0 = σ_w1 = 1)
SCALAR_G = lambda a, b: scalar_net_g2(a, b, 1.0, 5.0)      # noqa: E731  (specs/scalar_net.yaml: m = 1, Λ = 5)


def midpoint(box, n):
    """Midpoint lattice on a box (the rule of ``domain: {box: …, lattice: n}``): (M, d), (M,)."""
    axes = [lo + (np.arange(n) + 0.5) * (hi - lo) / n for lo, hi in box]
    pts = np.array(list(itertools.product(*axes)), dtype=float)
    return pts, np.full(len(pts), math.prod((hi - lo) / n for lo, hi in box))


Z1, W1 = midpoint([[-2.0, 2.0]], 16)                        # d = 1, the lattice of the MC checks
PAIRS = np.array([[0.0, 0.5], [0.75, 0.75]])                # (x, y) of the 2-point checks, d = 1
QUAD = np.array([[0.0], [0.3], [0.6], [1.0]])


@pytest.fixture(scope="module")
def cos1():
    return nnft.compile(nnft.load("cos_net", N=10, d=1))


@pytest.fixture(scope="module")
def scalar():
    return nnft.compile(nnft.load("scalar_net"))            # d = 1, N = 50


# ----------------------------------------------------------------------------- 1. Gaussian diagrams

def _joint_cumulant(moment, n):
    """κ(X_0, …, X_{n−1}) from moment(mask) by the Möbius formula."""
    return sum(mobius(len(p)) * math.prod(moment(b) for b in p) for p in mask_partitions(2 ** n - 1))


def _gauss_expectation(C, deg):
    """E[f(φ)] for φ ~ N(0, C) as (nodes φ (K, D), weights (K,)), exact for polynomials of degree ≤ deg."""
    D = len(C)
    t, wt = np.polynomial.hermite_e.hermegauss(deg // 2 + 1)
    wt = wt / wt.sum()
    xi = np.array(list(itertools.product(t, repeat=D)))
    wk = np.prod(np.array(list(itertools.product(wt, repeat=D))), axis=1)
    L = np.linalg.cholesky(C + 1e-15 * np.eye(D))
    return xi @ L.T, wk


def test_gaussian_diagrams_match_exact_gaussian_moments():
    """Tadpole (−λ/2), vertex (−λ) and the second-order ¼, ¼, ⅙ of docs/physics.md §7 from exact Gaussian moments:
    ⟨O⟩_λ = ⟨O⟩ − λκ(O, S₁) + (λ²/2)κ(O, S₁, S₁), S₁ = (1/4!)Σ_z w_z φ_z⁴."""
    z, w = midpoint([[-1.0, 1.5]], 3)
    x, y = np.array([0.2]), np.array([-0.4])
    # 2-point: variables (φx, φy, φz1..3); degree 2 + 4 + 4 = 10
    P = np.concatenate([x[None], y[None], z])
    phi, wk = _gauss_expectation(kernel_matrix(COS_G, P, P), 10)
    O, S1 = phi[:, 0] * phi[:, 1], (phi[:, 2:] ** 4 @ w) / 24.0
    E = lambda f: float(wk @ f)                               # noqa: E731
    c1 = -(E(O * S1) - E(O) * E(S1))
    vars3 = [O, S1, S1]
    k3 = _joint_cumulant(lambda b: E(math.prod(vars3[i] for i in range(3) if b >> i & 1)), 3)
    assert delta_g2_gaussian(COS_G, x, y, z, w) == pytest.approx(c1, rel=1e-11)
    assert delta_g2_gaussian(COS_G, x, y, z, w, lam=0.3) == pytest.approx(0.3 * c1, rel=1e-11)
    assert second_order_g2_gaussian(COS_G, x, y, z, w) == pytest.approx(0.5 * k3, rel=1e-10)
    # 4-point: the vertex −λΣ w ΠG from −κ(φ1, φ2, φ3, φ4, S₁); degree 8
    P = np.concatenate([QUAD, z])
    phi, wk = _gauss_expectation(kernel_matrix(COS_G, P, P), 8)
    vs = [phi[:, i] for i in range(4)] + [(phi[:, 4:] ** 4 @ w) / 24.0]
    k5 = _joint_cumulant(lambda b: float(wk @ math.prod(vs[i] for i in range(5) if b >> i & 1)), 5)
    assert g4c_gaussian(COS_G, QUAD, z, w) == pytest.approx(-k5, rel=1e-10)


def test_kernel_matrix_vectorised_and_pointwise_agree():
    vec = lambda a, b: 0.5 * np.exp(-np.sum((a - b) ** 2, axis=-1) / 2.0)   # noqa: E731
    A, B = Z1[:5], Z1[3:9]
    np.testing.assert_allclose(kernel_matrix(vec, A, B), kernel_matrix(COS_G, A, B), rtol=1e-14)


# ----------------------------------------------------------------------------- 2. exact finite N

def test_first_order_large_N_is_the_gaussian_formula(cos1):
    """(a) c1(N) → the tadpole formula. Both are exact numbers, so the only difference is the physical
    1/N part (κ4/N, κ6/N²): c1(N) − c1_G ≈ a/N with a ≈ −0.28 (rel. 2.7e-6 at N = 10⁶). We check
    rel. < 1e-5 at N = 10⁶, that N·(c1(N) − c1_G) is constant (so the difference *is* 1/N), and that the
    Richardson extrapolation N → ∞ equals the Gaussian formula to 1e-9 relative."""
    Ns = [10 ** 5, 10 ** 6, 10 ** 7]
    fo = first_order(cos1, [p[:, None] for p in PAIRS] + [QUAD], Z1, W1, widths=Ns)
    for j, (x, y) in enumerate(PAIRS):
        g = delta_g2_gaussian(COS_G, [x], [y], Z1, W1)
        c = fo.full[:, j]
        assert abs(c[1] / g - 1.0) < 1e-5
        a = (c - g) * np.asarray(Ns)
        assert a[2] == pytest.approx(a[1], rel=1e-4) and a[1] == pytest.approx(a[0], rel=1e-3)
        c_inf = (Ns[2] * c[2] - Ns[1] * c[1]) / (Ns[2] - Ns[1])
        assert c_inf == pytest.approx(g, rel=1e-9)
        np.testing.assert_allclose(fo.connected[:, j], c, rtol=1e-12)      # ⟨φ⟩ = 0: full = connected
    # the connected 4-point shift → the vertex −Σ w ΠG (needs 8-point moments: Cos-net has them)
    g4 = g4c_gaussian(COS_G, QUAD, Z1, W1)
    c4 = fo.connected[:, 2]
    assert abs(c4[1] / g4 - 1.0) < 1e-4
    assert (Ns[2] * c4[2] - Ns[1] * c4[1]) / (Ns[2] - Ns[1]) == pytest.approx(g4, rel=1e-8)


def test_first_order_d2(cos1):
    """Same limit in d = 2 (the shipped Cos-net) on a 5×5 lattice, and the couplings scale linearly."""
    model = nnft.compile(nnft.load("cos_net", N=10 ** 7))
    z, w = midpoint([[-1.0, 1.0], [-1.5, 0.5]], 5)
    x, y = np.array([0.1, 0.2]), np.array([0.5, -0.3])
    fo = first_order(model, [np.stack([x, y])], z, w, couplings={4: 0.2})
    assert fo.full[0, 0] == pytest.approx(delta_g2_gaussian(COS_G, x, y, z, w, lam=0.2), rel=1e-5)


def test_c1_at_N_is_physics_cumulant_expansion(cos1):
    """docs/physics.md §7: c1(N) = −(1/24)Σ_z w[12G_xzG_yzG_zz + 6κ4(x,y,z,z)G_zz + 4κ4(x,z,z,z)G_yz
    + 4κ4(y,z,z,z)G_xz + κ6(x,y,z,z,z,z)], with κ4 the closed form (cos_net_g4c) and κ6 from
    nnft.exact; must equal first_order's −(1/24)Σ w[G6 − G2·G4(zzzz)] to rounding."""
    for N in (10, 1000):
        for x, y in PAIRS:
            x_, y_ = np.array([x]), np.array([y])
            k4 = lambda *p: cos_net_g4c(*p, sigma_w0=1.0, sigma_w1=1.0, N=N)   # noqa: E731
            k6 = nnft.exact(cos1, [np.array([x_, y_] + [zi] * 4) for zi in Z1], widths=[N]).connected[0]
            terms = [12 * COS_G(x_, zi) * COS_G(y_, zi) * COS_G(zi, zi) + 6 * k4(x_, y_, zi, zi) * COS_G(zi, zi)
                     + 4 * k4(x_, zi, zi, zi) * COS_G(y_, zi) + 4 * k4(y_, zi, zi, zi) * COS_G(x_, zi) + k6[i]
                     for i, zi in enumerate(Z1)]
            c1 = -float(np.dot(W1, terms)) / 24.0
            got = first_order(cos1, [np.array([[x], [y]])], Z1, W1, widths=[N]).full[0, 0]
            assert got == pytest.approx(c1, rel=1e-12)


def test_N10_differs_from_gaussian_by_tens_of_percent(cos1):
    """(b) docs/physics.md §7: at N = 10 Cos-net's c1 is moved by tens of percent (here +27% / +29%)."""
    fo = first_order(cos1, [p[:, None] for p in PAIRS], Z1, W1)
    for j, (x, y) in enumerate(PAIRS):
        ratio = fo.full[0, j] / delta_g2_gaussian(COS_G, [x], [y], Z1, W1)
        assert 1.1 < ratio < 1.6


def test_polynomial_potentials(cos1):
    """V = Σ_k g_k φᵏ/k!: linear in the couplings; g1 (source) and g3 shift ⟨φ⟩, g2 is a mass insertion.
    Exact at N = 10 (Cos-net G2 is N-independent, G4c closed form)."""
    x = np.array([0.3])
    N = 10
    gxz = kernel_matrix(COS_G, x[None], Z1)[0]
    gzz = np.full(len(Z1), COS_G(Z1[0], Z1[0]))
    k4 = np.array([cos_net_g4c(x, zi, zi, zi, 1.0, 1.0, N) for zi in Z1])
    one = [x[None]]
    f1 = first_order(cos1, one, Z1, W1, couplings={1: 0.7})
    assert f1.full[0, 0] == pytest.approx(-0.7 * W1 @ gxz, rel=1e-12)           # −g1 Σ w G(x, z)
    f3 = first_order(cos1, one, Z1, W1, couplings={3: 0.4})
    assert f3.full[0, 0] == pytest.approx(-0.4 * W1 @ (gxz * gzz / 2 + k4 / 6), rel=1e-12)
    two = [PAIRS[0][:, None]]
    xs, ys = PAIRS[0]
    gx, gy = (kernel_matrix(COS_G, np.array([[v]]), Z1)[0] for v in (xs, ys))
    k4xy = np.array([cos_net_g4c([xs], [ys], zi, zi, 1.0, 1.0, N) for zi in Z1])
    f2 = first_order(cos1, two, Z1, W1, couplings={2: 0.5})
    assert f2.full[0, 0] == pytest.approx(-0.5 * W1 @ (gx * gy + k4xy / 2), rel=1e-12)
    both = first_order(cos1, two, Z1, W1, couplings={2: 0.5, 4: 0.3, 0: 9.0})
    f4 = first_order(cos1, two, Z1, W1, couplings={4: 0.3})
    assert both.full[0, 0] == pytest.approx(f2.full[0, 0] + f4.full[0, 0], rel=1e-12)


def test_errors(cos1, scalar):
    with pytest.raises(nnft.EstimatorError, match="order 8"):
        first_order(scalar, [np.zeros((4, 1))], Z1, W1)            # Scalar-net moments stop at order 6
    with pytest.raises(nnft.EstimatorError, match="order"):
        first_order(cos1, [np.zeros((4, 1))], Z1, W1, couplings={6: 1.0})   # needs order 10 > 8
    with pytest.raises(ValueError):
        first_order(cos1, [np.zeros((2, 1))], Z1, W1, couplings={-1: 1.0})
    with pytest.raises(ValueError):
        first_order(cos1, [np.zeros((2, 1))], midpoint([[0, 1], [0, 1]], 2)[0], np.ones(4))


# ----------------------------------------------------------------------------- 3. Monte Carlo by reweighting

def _sample_phi(kind, N, n, seed, X):
    """φ at the points X (P,) for n independent networks, plain numpy (not nnft's sampler)."""
    rng = np.random.default_rng(seed)
    out = []
    for c in range(0, n, 50_000):
        m = min(50_000, n - c)
        if kind == "cos":                                           # specs/cos_net.yaml, d = 1
            w0, amp = rng.standard_normal((m, N)), 1.0
        else:                                                       # specs/scalar_net.yaml, d = 1
            w0 = rng.uniform(-5.0, 5.0, (m, N))
            amp = math.sqrt(2 * 10.0 / (2 * math.pi)) / np.sqrt(w0 ** 2 + 1.0)
        b = rng.uniform(-np.pi, np.pi, (m, N))
        v = rng.standard_normal((m, N)) / math.sqrt(N) * amp
        out.append(np.einsum("mi,mip->mp", v, np.cos(w0[:, :, None] * X[None, None, :] + b[:, :, None])))
    return np.concatenate(out)


def _jackknife(f, blocks):
    full = f(np.ones(blocks, bool))
    loo = np.array([f(np.arange(blocks) != i) for i in range(blocks)])
    return full, math.sqrt((blocks - 1) / blocks * np.sum((loo - loo.mean()) ** 2))


def _reweighting_zscores(kind, model, N, n, G, lam, blocks=100):
    """⟨φxφy⟩_λ by reweighting, jackknifed whole, against G2 + λc with c = c1(N), c1_Gauss, 2c1(N), c1(N)/2.

    Estimator: ⟨O e^{−λS₁}⟩/⟨e^{−λS₁}⟩ − Ō + G2 (Ō the plain sample mean of the same networks, G2 exact):
    consistent for ⟨O⟩_λ, and the control variate cancels the O(1) noise of O, so the error is ∝ λ/√n
    while the N-dependence is ∝ λ: its significance does not depend on λ, the O(λ²) bias relative to
    the error grows like λ√n. λ = 0.002 keeps that bias < 0.2σ (checked below from the samples via
    (λ²/2)κ(O, S₁, S₁)); at the brief's λ ~ 0.1 the second order would dominate the error by ~10×."""
    X = np.concatenate([PAIRS.ravel(), Z1[:, 0]])
    phi = _sample_phi(kind, N, n, seed=0, X=X)
    S1 = (phi[:, 4:] ** 4 @ W1) / 24.0
    e = np.exp(-lam * S1).reshape(blocks, -1)
    Sb = S1.reshape(blocks, -1)
    fo = first_order(model, [p[:, None] for p in PAIRS], Z1, W1, widths=[N])
    out = []
    for j, (x, y) in enumerate(PAIRS):
        O = (phi[:, 2 * j] * phi[:, 2 * j + 1]).reshape(blocks, -1)
        G2 = fo.full0[0, j]
        sOe, se, sO, cnt = (O * e).sum(1), e.sum(1), O.sum(1), O.shape[1]
        est, err = _jackknife(lambda k: sOe[k].sum() / se[k].sum() - sO[k].sum() / (cnt * k.sum()) + G2, blocks)
        obar, obar_err = _jackknife(lambda k: sO[k].sum() / (cnt * k.sum()), blocks)

        def second(k):
            o, s = O[k].ravel(), Sb[k].ravel()
            return lam ** 2 / 2 * np.mean((o - o.mean()) * (s - s.mean()) ** 2)

        c1, cg = fo.full[0, j], delta_g2_gaussian(G, [x], [y], Z1, W1)
        z = {name: (est - G2 - lam * c) / err
             for name, c in (("c1N", c1), ("gauss", cg), ("twice", 2 * c1), ("half", c1 / 2))}
        z["G2"] = (obar - G2) / obar_err
        z["second_order_over_err"] = _jackknife(second, blocks)[0] / err
        out.append(z)
    return out


def _assert_mc(zs):
    for z in zs:
        assert abs(z["G2"]) < Z_MAX                          # the sampler itself is right
        assert abs(z["second_order_over_err"]) < 0.5         # O(λ²) negligible against the error
        assert abs(z["c1N"]) < Z_MAX                          # (c) exact finite-N first order agrees
        assert abs(z["gauss"]) > Z_MAX                        # (c) the Gaussian formula is rejected
        assert abs(z["twice"]) > Z_MAX and abs(z["half"]) > Z_MAX     # (d) a factor 2 is caught


def test_reweighting_monte_carlo_cos_net(cos1):
    """(c, d) Cos-net d = 1, N = 10, box [−2, 2] with 16 midpoints, λ = 0.002, 4·10⁵ networks.
    Seed 0: z(c1(N)) ≈ −0.1 / +0.1, z(Gauss) ≈ −15 / −16, z(2c1) ≈ +68, z(c1/2) ≈ −34."""
    _assert_mc(_reweighting_zscores("cos", cos1, 10, 400_000, COS_G, lam=0.002))


def test_reweighting_monte_carlo_scalar_net(scalar):
    """(e) Scalar-net (specs/scalar_net.yaml, d = 1, N = 50, Λ = 5, m = 1): c1(50)/c1_Gauss ≈ 1.34.
    10⁵ networks, λ = 0.002. Seed 0: z(c1(N)) ≈ −0.7 / −0.2, z(Gauss) ≈ −9, z(2c1) ≈ +31 / +36."""
    _assert_mc(_reweighting_zscores("scalar", scalar, 50, 100_000, SCALAR_G, lam=0.002))


def test_scalar_net_large_N_is_the_gaussian_formula(scalar):
    """(e) Scalar-net's c1(N) → the tadpole with G = scalar_net_g2 (moments to ~1e-10 by quadrature)."""
    Ns = [10 ** 6, 10 ** 7]
    fo = first_order(scalar, [p[:, None] for p in PAIRS], Z1, W1, widths=Ns)
    for j, (x, y) in enumerate(PAIRS):
        g = delta_g2_gaussian(SCALAR_G, [x], [y], Z1, W1)
        assert abs(fo.full[0, j] / g - 1.0) < 5e-5                  # the 1/N part: 1.6e-5 at 10⁶
        c_inf = (Ns[1] * fo.full[1, j] - Ns[0] * fo.full[0, j]) / (Ns[1] - Ns[0])
        assert c_inf == pytest.approx(g, rel=1e-7)
