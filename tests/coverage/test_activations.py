"""Activations with closed-form kernels beyond relu/erf (arc-cosine family, Cho & Saul NeurIPS 2009):
step, sign, abs, leaky_relu and every piecewise linear p·u/q·u, and their recognition in the graph
(``maximum(z, a*z)``, ``relu(z) - a*relu(-z)`` as functions of one Gaussian node).

The independent value: for (u, v) = r·(a(φ), b(φ)) in polar coordinates of a standard normal pair,
σ(u)σ(v) of a degree-n positively homogeneous σ is r²ⁿ σ(a)σ(b), so E σ(u)σ(v) =
(2ⁿ n!/2π) ∫₀^{2π} σ(a(φ))σ(b(φ)) dφ — a one-dimensional integral done by scipy to ~1e-12.
"""

import math

import numpy as np
import pytest
from click.testing import CliRunner
from scipy.integrate import quad

import nnft
from helpers import Z_MAX
from nnft.cli import main
from nnft.functions import FUNCTIONS, LEAKY_SLOPE, piecewise_linear_kernel
from nnft.graph.kernels import KernelError, kernels

COVS = [(1.0, 1.5, 0.6), (0.5, 0.8, -0.3), (2.0, 0.7, 1.1)]


def polar(sig_u, sig_v, cov, degree):
    """E σ_u(u) σ_v(v) for (u, v) ~ N(0, [[k11, k12], [k12, k22]]), σ's positively homogeneous of `degree`."""
    k11, k22, k12 = cov
    L = np.linalg.cholesky(np.array([[k11, k12], [k12, k22]]))

    def integrand(phi):
        a, b = L @ np.array([math.cos(phi), math.sin(phi)])
        return float(sig_u(np.array(a)) * sig_v(np.array(b)))
    # the kinks: angles where a or b is zero
    kinks = sorted({(math.atan2(-L[i, 0], L[i, 1]) + k * math.pi) % (2 * math.pi) for i in (0, 1) for k in (0, 1)})
    val = quad(integrand, 0, 2 * math.pi, points=kinks, epsabs=1e-13, epsrel=1e-13, limit=200)[0]
    radial = {0: 1.0, 1: 2.0}[degree]                   # ∫ r^{2n+1} e^{-r²/2} dr
    return radial * val / (2 * math.pi)


def _pl(p, q):
    return lambda u: np.where(u > 0, p * u, q * u)


def _dpl(p, q):
    return lambda u: np.where(u > 0, p, q)


@pytest.mark.parametrize("cov", COVS)
def test_closed_forms_match_polar_quadrature(cov):
    args = [np.asarray(c) for c in cov]
    for name in ("step", "sign"):
        f = FUNCTIONS[name]
        assert abs(f.kernel.F(*args) - polar(f.numpy, f.numpy, cov, 0)) < 1e-10
    for name in ("relu", "abs", "leaky_relu"):
        f = FUNCTIONS[name]
        assert abs(f.kernel.F(*args) - polar(f.numpy, f.numpy, cov, 1)) < 1e-10
        assert abs(f.kernel.dF(*args) - polar(f.df, f.df, cov, 0)) < 1e-10
    for p, q in [(1.0, 0.2), (0.3, -2.0), (-1.0, 0.5), (2.0, 2.0)]:
        k = piecewise_linear_kernel(p, q)
        assert abs(k.F(*args) - polar(_pl(p, q), _pl(p, q), cov, 1)) < 1e-10
        assert abs(k.dF(*args) - polar(_dpl(p, q), _dpl(p, q), cov, 0)) < 1e-10
        F, dF = k.both(*args)
        assert (F, dF) == (k.F(*args), k.dF(*args))


@pytest.mark.parametrize("cov", COVS)
def test_wrong_closed_forms_fail_the_same_quadrature(cov):
    """Plausible mistakes: leaky as (p² + q²)·relu's map (drops the relu(u)relu(−v) cross term), α and β
    swapped, step with the angle θ for π − θ."""
    args = [np.asarray(c) for c in cov]
    p, q = 1.0, 0.2
    truth = polar(_pl(p, q), _pl(p, q), cov, 1)
    relu = FUNCTIONS["relu"].kernel.F(*args)
    assert abs((p * p + q * q) * relu - truth) > 1e-3
    assert abs(piecewise_linear_kernel(p, -q).F(*args) - truth) > 1e-3        # α ↔ β
    theta = np.arccos(cov[2] / math.sqrt(cov[0] * cov[1]))
    step = FUNCTIONS["step"].numpy
    assert abs(theta / (2 * np.pi) - polar(step, step, cov, 0)) > 1e-2                # θ for π − θ


def test_ntk_of_delta_derivatives_is_refused_with_reason():
    for name in ("sign", "step"):
        k = FUNCTIONS[name].kernel
        assert k.ntk_note.startswith("no NTK") and np.isnan(k.dF(1.0, 1.0, 0.5))


# --- recognition in the graph ---------------------------------------------------------------------
X = np.array([[1.0, 0.0, 0.0], [0.6, 0.8, 0.0], [0.3, -0.2, 0.5], [-1.0, 0.4, 0.2]])


def mlp(activation, depth=2, width=64, C_W=1.5, C_b=0.1):
    return nnft.compile(nnft.from_dict({
        "nnft": 1, "name": "mlp", "dims": {"d": 3, "N": width}, "constants": {"C_W": C_W, "C_b": C_b},
        "mlp": {"depth": depth, "width": "N", "activation": activation, "weight_var": "C_W / fan_in",
                "bias_var": "C_b"}}))


def recursion(p, q, depth, C_W=1.5, C_b=0.1):
    """NNGP/NTK recursion written out with the polar-quadrature maps (independent of the graph)."""
    K = C_b + C_W * X @ X.T / 3
    T = K.copy()
    for _ in range(depth):
        Kn, dF = np.empty_like(K), np.empty_like(K)
        for i in range(len(K)):
            for j in range(len(K)):
                if i == j:                              # E σ(u)² = K(p² + q²)/2, E σ'(u)² = (p² + q²)/2
                    Kn[i, j], dF[i, j] = K[i, i] * (p * p + q * q) / 2, (p * p + q * q) / 2
                    continue
                cov = (K[i, i], K[j, j], K[i, j])
                Kn[i, j] = polar(_pl(p, q), _pl(p, q), cov, 1)
                dF[i, j] = polar(_dpl(p, q), _dpl(p, q), cov, 0)
        K, T = C_b + C_W * Kn, C_b + C_W * Kn + C_W * dF * T
    return K, T


@pytest.mark.parametrize("a", [0.2, 0.7])
def test_leaky_forms_are_one_gaussian_node_with_the_closed_form(a):
    K, T = recursion(1.0, a, depth=2)
    for act in (f"maximum(z, {a}*z)", f"relu(z) - {a}*relu(-z)", f"maximum({a} * z, z)", f"-minimum(-z, -{a}*z)"):
        k = kernels(mlp(act), X)
        np.testing.assert_allclose(k.nngp, K, rtol=1e-9, err_msg=act)
        np.testing.assert_allclose(k.ntk, T, rtol=1e-9, err_msg=act)
    wrong = kernels(mlp(f"maximum(z, {a + 0.1}*z)"), X)
    assert np.max(np.abs(wrong.nngp - K)) > 1e-3


def test_named_leaky_relu_and_abs_as_a_combination():
    K, T = recursion(1.0, LEAKY_SLOPE, depth=2)
    k = kernels(mlp("leaky_relu"), X)
    np.testing.assert_allclose(k.nngp, K, rtol=1e-9)
    np.testing.assert_allclose(k.ntk, T, rtol=1e-9)
    K, T = recursion(1.0, -1.0, depth=2)
    k = kernels(mlp("relu(z) + relu(-z)"), X)                 # = |z|
    np.testing.assert_allclose(k.nngp, K, rtol=1e-9)


def test_functions_of_two_different_nodes_are_still_refused():
    m = nnft.compile(nnft.from_dict({
        "nnft": 1, "name": "t", "dims": {"d": 1, "N": 4},
        "params": {"W0": {"shape": ["N", "d"], "density": {"normal": {"std": 1.0}}},
                   "V0": {"shape": ["N", "d"], "density": {"normal": {"std": 1.0}}},
                   "W1": {"shape": ["N"], "density": {"normal": {"std": 1.0}}}},
        "field": "sum_N(W1 * maximum(W0 @ x, 0.2 * (V0 @ x)))"}))
    with pytest.raises(KernelError, match="two different Gaussian nodes"):
        kernels(m, np.array([[0.5]]))


def test_step_and_sign_nets_have_a_kernel_and_no_ntk():
    k = kernels(mlp("step"), X)
    assert np.all(np.isfinite(k.nngp)) and np.all(np.isnan(k.ntk))
    s = kernels(mlp("2 * step(z) - 1"), X)                     # = sign(z): quadrature path, same NNGP
    np.testing.assert_allclose(s.nngp, kernels(mlp("sign"), X).nngp, rtol=1e-6)
    assert np.all(np.isnan(s.ntk))


@pytest.mark.parametrize("act", ["step", "sign", "abs", "leaky_relu", "relu(z) - 0.3*relu(-z)"])
def test_cli_kernel_on_an_mlp_using_each(act):
    r = CliRunner().invoke(main, ["kernel", "relu_mlp", "--set", f"mlp.activation={act}", "--set", "L=2"])
    assert r.exit_code == 0, r.output
    assert "NNGP K" in r.output
    assert ("NTK Θ: not available" in r.output) == (act in ("step", "sign"))


@pytest.mark.slow
def test_deep_leaky_mlp_nngp_matches_monte_carlo_of_the_network():
    """Whole networks of width 64, depth 2 (the O(L/n) finite-width shift is below the errors)."""
    a = 0.5
    model = mlp(f"maximum(z, {a}*z)", depth=2, width=64)
    K = kernels(model, X).nngp
    pairs = [(0, 0), (0, 1), (1, 3), (2, 3)]
    mc = nnft.measure(model, [X[[i, j]] for i, j in pairs], samples=2000, key=11).full
    want = np.array([K[i, j] for i, j in pairs])
    assert np.all(np.abs(mc.z(want)) < Z_MAX), mc.z(want)
    relu = kernels(mlp("relu", depth=2, width=64), X).nngp       # the slope a is resolved: relu's NNGP fails
    assert np.max(np.abs(mc.z(np.array([relu[i, j] for i, j in pairs])))) > Z_MAX


def test_criticality_of_the_new_activations():
    """⟨σ'²⟩ = (1 + a²)/2 for leaky ReLU and 1 for abs: critical at C_W = 2/(1 + a²) and 1 (C_b = 0);
    a 1% larger C_W is chaotic. step and sign are refused with the δ reason."""
    from nnft.analytic.criticality import criticality
    from nnft.errors import InputError
    for name, cw in (("leaky_relu", 2 / (1 + LEAKY_SLOPE ** 2)), ("abs", 1.0)):
        assert criticality(name, cw, 0.0).phase == "critical", name
        assert criticality(name, 1.01 * cw, 0.0).phase == "chaotic", name
    for name in ("step", "sign"):
        with pytest.raises(InputError, match="δ"):
            criticality(name, 1.0, 0.0)


def test_step_and_sign_kernels_at_a_unit_of_variance_zero():
    """A unit of variance 0 is u = 0 (e.g. x = 0 in a bias-free net): the JAX functions give H(0) = ½ and
    sign(0) = 0, so E H(u)H(v) = ¼ and E sign(u)sign(v) = 0 — not the ρ → 1 limits ½ and 1."""
    step, sign = FUNCTIONS["step"].kernel.F, FUNCTIONS["sign"].kernel.F
    for k22 in (0.0, 1.3):
        assert step(0.0, k22, 0.0) == pytest.approx(0.25, abs=1e-15)
        assert sign(0.0, k22, 0.0) == pytest.approx(0.0, abs=1e-15)
    assert step(1.0, 1.0, 1.0) == pytest.approx(0.5, abs=1e-15)   # non-degenerate ρ = 1 unchanged
    assert sign(1.0, 1.0, 1.0) == pytest.approx(1.0, abs=1e-15)


ORIGIN_SPEC = """nnft: 1
name: origin
dims: {d: 1, N: 4}
constants: {C_W: 2.0}
mlp: {depth: 1, width: N, activation: ACT, weight_var: C_W / fan_in, bias_var: 0}
"""


@pytest.mark.parametrize("act", ["step", "sign"])
def test_step_sign_net_at_the_origin_matches_monte_carlo(act, tmp_path):
    """d = 1, C_b = 0, x = 0: G(0, x) = C_W E σ(0)σ(v) from samples vs the kernel map, |z| < Z_MAX; the
    ρ → 1 value (the old kernel's answer) fails the same comparison."""
    spec = tmp_path / "origin.yaml"
    spec.write_text(ORIGIN_SPEC.replace("ACT", act))
    model = nnft.compile(nnft.load(str(spec)))
    pts = np.array([[0.0], [1.0]])
    K = kernels(model, pts).nngp
    mc = nnft.measure(model, [pts[[0, 0]], pts[[0, 1]]], samples=4000, key=3).full
    for k, (i, j) in enumerate([(0, 0), (0, 1)]):
        m, s = float(np.ravel(mc.mean)[k]), float(np.ravel(mc.stderr)[k])
        if s > 0:
            assert abs(m - K[i, j]) / s < Z_MAX
        else:
            assert m == pytest.approx(K[i, j], abs=1e-6)
    old = {"step": 2.0 * 0.5, "sign": 2.0 * 1.0}[act]            # C_W·(ρ → 1 limit) at (0, 0)
    m, s = float(np.ravel(mc.mean)[0]), float(np.ravel(mc.stderr)[0])
    assert abs(m - old) > Z_MAX * max(s, 1e-3)
