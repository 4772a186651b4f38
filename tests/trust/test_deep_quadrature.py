"""Gaussian expectations at large variance (issue 9, item 5): nnft's graded Gauss–Legendre rules
(``nnft.analytic.gaussian``) against independent adaptive integration (scipy's QUADPACK, nested for
the bivariate case) up to K = 10⁴, and the closed forms of relu and erf. The full sweep over a
(K11, K22, ρ) grid is ``bench/bench_quadrature.py``."""

import math

import numpy as np
import pytest
from scipy import integrate, special

import nnft
from nnft.analytic.activations import ACTIVATIONS
from nnft.analytic.gaussian import expect1, expect2
from nnft.graph.kernels import kernels


def _swish(u):
    return u * special.expit(u)


def _dswish(u):
    s = special.expit(u)
    return s + u * s * (1 - s)


#: every shipped activation with a Gaussian kernel map, plus swish (an expression activation z * sigmoid(z))
FUNCS = {name: (a.f, a.df) for name, a in ACTIVATIONS.items() if name not in ("exp", "linear")}
FUNCS["swish"] = (_swish, _dswish)


def quad1(f, K):
    """E f(u), u ~ N(0, K): QUADPACK on [−12√K, 12√K] with a break at the kink u = 0."""
    s = math.sqrt(K)
    return integrate.quad(lambda u: float(f(np.float64(u))) * math.exp(-0.5 * u * u / K) / (s * math.sqrt(2 * math.pi)),
                          -12 * s, 12 * s, points=[0.0], epsabs=1e-14, epsrel=1e-13, limit=400)[0]


def quad2(f, g, k11, k22, rho):
    """E f(u)g(v) by nested QUADPACK in (u, v): outer over u, inner over v ~ N(ρ√(K22/K11)u, K22(1−ρ²)),
    both truncated at 12 standard deviations with a break at 0 — no code shared with nnft."""
    s1, s2 = math.sqrt(k11), math.sqrt(k22)
    sd = s2 * math.sqrt(1 - rho * rho)

    def inner(u):
        m = rho * s2 / s1 * u
        lo, hi = m - 12 * sd, m + 12 * sd
        return integrate.quad(lambda v: float(g(np.float64(v))) * math.exp(-0.5 * ((v - m) / sd) ** 2)
                              / (sd * math.sqrt(2 * math.pi)), lo, hi, points=[0.0] if lo < 0 < hi else None,
                              epsabs=1e-13, epsrel=1e-12, limit=200)[0]

    return integrate.quad(lambda u: float(f(np.float64(u))) * inner(u) * math.exp(-0.5 * u * u / k11)
                          / (s1 * math.sqrt(2 * math.pi)), -12 * s1, 12 * s1, points=[0.0],
                          epsabs=1e-13, epsrel=1e-12, limit=200)[0]


def close(got, want, tol):
    return abs(got - want) <= tol * max(1.0, abs(want))


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_one_dimensional_expectations_match_adaptive_quadrature_up_to_K_1e4(name):
    f, df = FUNCS[name]
    Ks = np.array([1e-3, 0.7, 4.0, 30.0, 1e3, 1e4])
    got_f = expect1(lambda u: f(u) ** 2, Ks)
    got_d = expect1(lambda u: df(u) ** 2, Ks)
    for K, a, b in zip(Ks, got_f, got_d):
        # deterministic: both rules converge far below 1e-10 (relative above 1)
        assert close(a, quad1(lambda u: f(u) ** 2, K), 1e-10), (name, K)
        assert close(b, quad1(lambda u: df(u) ** 2, K), 1e-10), (name, K)


CASES = [  # (activation, which map, K11, K22, ρ): large variances, unequal variances, ρ near ±1
    ("tanh", "F", 1e4, 1e4, 0.3), ("tanh", "dF", 1e4, 5.0, 0.95), ("gelu", "F", 20.0, 30.0, -0.7),
    ("softplus", "F", 1e4, 5.0, 0.95), ("swish", "F", 50.0, 50.0, 0.99), ("sigmoid", "dF", 4.0, 4.0, 0.999),
]


@pytest.mark.parametrize("name, which, k11, k22, rho", CASES)
def test_bivariate_expectations_match_nested_adaptive_quadrature(name, which, k11, k22, rho):
    f = FUNCS[name][0 if which == "F" else 1]
    got = float(expect2(f, f, k11, k22, rho * math.sqrt(k11 * k22)))
    # deterministic quadratures on both sides (QUADPACK asked for 1e-12): agree to 1e-9
    assert close(got, quad2(f, f, k11, k22, rho), 1e-9)


@pytest.mark.parametrize("name", ["relu", "erf"])
def test_quadrature_reproduces_the_closed_forms_on_a_grid(name):
    """relu (arc-cosine) and erf (arcsin) have closed forms; the quadrature path (the bare numpy
    functions, so the closed form is not used) must reproduce them up to K = 10⁴ and ρ → ±1."""
    a = ACTIVATIONS[name]
    K = np.array([1e-2, 1.0, 1e4])
    rho = np.array([-0.999, -0.5, 0.6, 0.9999])
    k11, k22, r = (v.ravel() for v in np.meshgrid(K, K[::-1], rho, indexing="ij"))
    k12 = r * np.sqrt(k11 * k22)
    f = lambda u: a.f(u)                                                                     # noqa: E731
    got = expect2(f, f, k11, k22, k12)
    want = a.closed_F(k11, k22, k12)
    # closed forms via arccos/arcsin lose ~√ε·K near ρ = ±1 (relu); 1e-8 relative covers that
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10)
    df = lambda u: a.df(u)                                                                   # noqa: E731
    got_d, want_d = expect2(df, df, k11, k22, k12, tol=1e-6), a.closed_dF(k11, k22, k12)
    # the relu derivative is a step: E[step·step] is (π − θ)/2π, smooth in ρ: same tolerance
    np.testing.assert_allclose(got_d, want_d, rtol=1e-8, atol=1e-10)


def test_the_old_rules_fail_where_the_new_one_holds():
    """The comparisons above can fail: numpy's 512-node Gauss–Hermite rule has NaN weights, and the
    64-node rule nnft used first is off by far more than the tolerance for tanh at K = 10⁴."""
    with np.errstate(all="ignore"):
        _, w = np.polynomial.hermite_e.hermegauss(512)
    assert not np.all(np.isfinite(w))
    z, w = special.roots_hermitenorm(64)
    w = w / w.sum()
    K, rho = 1e4, 0.3
    u = 100 * z[:, None]
    v = 100 * (rho * z[:, None] + math.sqrt(1 - rho ** 2) * z[None, :])
    old = float(np.sum(np.tanh(u) * np.tanh(v) * w[:, None] * w[None, :]))
    want = quad2(np.tanh, np.tanh, K, K, rho)
    assert abs(old - want) > 1e-4 and close(float(expect2(np.tanh, np.tanh, K, K, rho * K)), want, 1e-9)


def test_refusals():
    with pytest.raises(ValueError, match="did not converge"):               # E e^{u²+v²} diverges at K > 1/2
        expect2(lambda u: np.exp(u ** 2), lambda u: np.exp(u ** 2), 0.6, 0.6, 0.1)
    with pytest.raises(ValueError, match="grows too fast"):
        expect1(lambda u: np.exp(u ** 2), 0.6)
    # a kink away from 0 is either refused or right, never silently wrong
    f = lambda u: np.abs(u - 0.37)                                                           # noqa: E731
    try:
        got = float(expect2(f, f, 2.0, 3.0, 0.4 * math.sqrt(6.0)))
    except ValueError as err:
        assert "did not converge" in str(err)
    else:
        assert close(got, quad2(lambda u: abs(u - 0.37), lambda u: abs(u - 0.37), 2.0, 3.0, 0.4), 1e-7)


@pytest.mark.parametrize("act, C_W", [("tanh", 4.0), ("gelu", 30.0), ("softplus", 30.0), ("z * sigmoid(z)", 30.0)])
def test_kernels_of_the_issue_nets_converge_and_follow_the_variance_recursion(act, C_W):
    """The issue's nets (tanh C_W = 4, C_b = 0.05, d = 3, 3 layers; gelu/swish/softplus reaching K ~ 3·10⁴)
    give kernels; their diagonals follow K⁽ˡ⁺¹⁾ = C_b + C_W E σ(u)², computed here by QUADPACK."""
    X = np.array([[1.0, 0.0, 0.0], [0.6, 0.8, 0.0]])
    model = nnft.compile(nnft.from_dict({
        "nnft": 1, "name": "m", "dims": {"d": 3, "N": 8}, "constants": {"C_W": C_W, "C_b": 0.05},
        "mlp": {"depth": 3, "width": "N", "activation": act, "weight_var": "C_W / fan_in", "bias_var": "C_b"}}))
    k = kernels(model, X)
    f = FUNCS["swish" if act.startswith("z") else act][0]
    K = 0.05 + C_W * np.sum(X * X, axis=1) / 3
    for _, Kl, _ in k.layers:
        np.testing.assert_allclose(np.diag(Kl), K, rtol=1e-9)
        K = np.array([0.05 + C_W * quad1(lambda u: f(u) ** 2, Kd) for Kd in K])
    assert np.all(np.isfinite(k.ntk)) and np.all(np.linalg.eigvalsh(k.nngp) > 0)
