"""The grammar function table (nnft.functions): every record has every entry, and each entry is right —
numpy = JAX (float64), derivatives = central finite differences, the declared parity holds, each
closed-form kernel map agrees with a Monte Carlo estimate of E σ(u)σ(v) (and a deliberately wrong map
does not), and a function accepted in a field is accepted in a potential (erf(phi))."""

import math
import re
import subprocess
import sys

import jax
import numpy as np
import pytest

import nnft
from nnft.functions import FUNCTIONS, GROWTHS, PARITIES, SMOOTHNESS, KernelMap, get_function
from nnft.spec import expr as E

NAMES = list(FUNCTIONS)
UNARY = [n for n in NAMES if FUNCTIONS[n].arity == 1]
BINARY = [n for n in NAMES if FUNCTIONS[n].arity == 2]
CLOSED = [n for n in UNARY if FUNCTIONS[n].kernel is not None]
Z_MAX = 5.0


def _grid(f, n=401, margin=1e-3):
    """Points of f's test interval, away from its kinks."""
    lo, hi = f.interval
    x = np.linspace(lo, hi, n)
    for k in f.kinks:
        x = x[np.abs(x - k) > margin]
    return x


def _pairs(seed=0, n=400, margin=1e-2):
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(-4, 4, (2, n))
    keep = np.abs(a - b) > margin
    return a[keep], b[keep]


# --- every record has every entry ------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_every_record_has_every_entry(name):
    f = FUNCTIONS[name]
    assert f.name == name and get_function(name) is f
    assert f.arity in (1, 2)
    for impl in (f.scalar, f.numpy, f.jnp):
        assert callable(impl)
    assert len(f.derivatives) == 2 and all(callable(d) for d in f.derivatives)
    if f.kernel is None:
        assert f.kernel_note, "a function without a closed-form kernel map says why"
        assert f.kernel_note.startswith("none:") != f.gaussian   # quadrature when Gaussian, else none + reason
    else:
        assert isinstance(f.kernel, KernelMap) and callable(f.kernel.F) and callable(f.kernel.dF)
        assert f.kernel.source and f.gaussian and f.arity == 1
    assert f.smoothness in SMOOTHNESS and f.parity in PARITIES and f.growth in GROWTHS
    assert f.domain and f.interval[0] < f.interval[1]
    assert all(f.interval[0] < k < f.interval[1] for k in f.kinks)
    assert (f.smoothness == "C∞") == (not f.kinks) or f.arity == 2


@pytest.mark.parametrize("name", NAMES)
def test_parser_reads_names_and_arity_from_the_table(name):
    f = FUNCTIONS[name]
    args = ", ".join(["x"] * f.arity)
    assert E.parse(f"{name}({args})") == E.Call(name, (E.Name("x"),) * f.arity)
    with pytest.raises(E.ExprError, match="argument"):
        E.parse(f"{name}({', '.join(['x'] * (f.arity + 1))})")
    assert (E.UNARY if f.arity == 1 else E.BINARY)[name] is f.scalar


def test_the_parser_knows_no_function_the_table_does_not():
    assert set(E.UNARY) == set(UNARY)
    assert set(E.BINARY) - {"dot"} == set(BINARY)     # dot(a, b) is the operator @, not a function


def test_the_table_loads_neither_jax_nor_scipy():
    code = ("import sys, nnft.functions, nnft.spec; "
            "print(any(m.split('.')[0] in ('jax', 'scipy') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- the implementations agree ---------------------------------------------------------------------
@pytest.mark.parametrize("name", UNARY)
def test_numpy_jax_and_float_versions_agree(name):
    f = FUNCTIONS[name]
    x = _grid(f)
    want = f.numpy(x)
    with jax.enable_x64(True):
        got = np.asarray(f.jnp(jax.numpy.asarray(x)))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose([f.scalar(float(v)) for v in x[::20]], want[::20], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", BINARY)
def test_binary_versions_agree(name):
    f = FUNCTIONS[name]
    a, b = _pairs()
    want = f.numpy(a, b)
    with jax.enable_x64(True):
        np.testing.assert_array_equal(np.asarray(f.jnp(jax.numpy.asarray(a), jax.numpy.asarray(b))), want)
    np.testing.assert_array_equal([f.scalar(float(p), float(q)) for p, q in zip(a, b)], want)


@pytest.mark.parametrize("name", ["cos", "sin", "tan", "arctan"])
def test_float32_jax_version_is_the_vectorised_one(name):
    import nnft.fastmath as fastmath
    assert FUNCTIONS[name].jnp is getattr(fastmath, name)


@pytest.mark.parametrize("name", UNARY)
def test_declared_nonfinite_propagation_holds(name):
    f = FUNCTIONS[name]
    with np.errstate(all="ignore"):
        out = f.numpy(np.array([np.inf, -np.inf, np.nan]))
    assert not f.keeps_nonfinite or not np.any(np.isfinite(out))


#: the bound each growth class states, as a check on |f(u)| over a wide grid (u, |f(u)|)
_GROWTH_BOUNDS = {
    "bounded": lambda u, v: np.all(v <= np.max(v[np.abs(u) <= 1]) + 1.0),
    "linear": lambda u, v: np.all(v <= 2 * np.abs(u) + 2),
    "modulus": lambda u, v: np.allclose(v, np.abs(u)),
    "square": lambda u, v: np.allclose(v, u ** 2),
    "sqrt": lambda u, v: np.allclose(v, np.sqrt(np.abs(u))),
    "exp": lambda u, v: np.all(v <= 2 * np.exp(np.abs(u))),
    "other": lambda u, v: True,
}


@pytest.mark.parametrize("name", NAMES)
def test_declared_growth_class_holds(name):
    """The growth class the moment analysis reads (``nnft.graph.moments``) is a true bound."""
    f = FUNCTIONS[name]
    assert set(_GROWTH_BOUNDS) == set(GROWTHS)
    u = np.linspace(-60, 60, 12001)
    if f.growth == "sqrt":
        u = u[u >= 0]
    with np.errstate(all="ignore"):
        v = np.abs(f.numpy(u) if f.arity == 1 else np.maximum(np.abs(f.numpy(u, -u)), np.abs(f.numpy(-u, u))))
    assert _GROWTH_BOUNDS[f.growth](u, v), f.growth


# --- derivatives -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", UNARY)
def test_derivatives_match_central_differences(name):
    f = FUNCTIONS[name]
    h = 1e-5
    x = _grid(f, margin=1e-3)
    for g, dg in ((f.numpy, f.df), (f.df, f.d2f)):
        fd = (g(x + h) - g(x - h)) / (2 * h)
        scale = 1 + np.abs(g(x)) / np.maximum(np.abs(x), 1e-3) + np.abs(fd)
        np.testing.assert_allclose(dg(x), fd, rtol=0, atol=1e-6 * float(np.max(scale)))


@pytest.mark.parametrize("name", BINARY)
def test_partial_derivatives_match_central_differences(name):
    f = FUNCTIONS[name]
    a, b = _pairs()
    h = 1e-6
    np.testing.assert_allclose(f.derivatives[0](a, b), (f.numpy(a + h, b) - f.numpy(a - h, b)) / (2 * h), atol=1e-8)
    np.testing.assert_allclose(f.derivatives[1](a, b), (f.numpy(a, b + h) - f.numpy(a, b - h)) / (2 * h), atol=1e-8)


def test_a_wrong_derivative_fails_the_same_check():
    f = FUNCTIONS["tanh"]
    x, h = _grid(f), 1e-5
    fd = (f.numpy(x + h) - f.numpy(x - h)) / (2 * h)
    assert np.max(np.abs(1 - np.tanh(x) - fd)) > 1e-2               # d tanh ≠ 1 − tanh


# --- parity ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", UNARY)
def test_declared_parity_holds(name):
    f = FUNCTIONS[name]
    lo, hi = f.interval
    r = min(-lo, hi)
    if r <= 0:                                   # the domain is not symmetric (log, sqrt, gamma)
        assert f.parity == "none"
        return
    x = np.linspace(0.01, r, 200)
    even = np.allclose(f.numpy(-x), f.numpy(x), rtol=1e-13, atol=1e-14)
    odd = np.allclose(f.numpy(-x), -f.numpy(x), rtol=1e-13, atol=1e-14)
    assert (even, odd) == (f.parity == "even", f.parity == "odd")


# --- closed-form kernel maps vs Monte Carlo --------------------------------------------------------
#: (K11, K22, K12) of the correlated Gaussian pair (u, v)
COVARIANCES = [(1.0, 1.5, 0.6), (0.5, 0.8, -0.3)]


def _mc_z(closed, f, cov, n=200_000, seed=0):
    """z = (closed − MC mean of f(u)f(v)) / standard error, (u, v) ~ N(0, [[K11, K12], [K12, K22]])."""
    k11, k22, k12 = cov
    rng = np.random.default_rng(seed)
    u = math.sqrt(k11) * rng.standard_normal(n)
    v = k12 / k11 * u + math.sqrt(k22 - k12 ** 2 / k11) * rng.standard_normal(n)
    prod = f(u) * f(v)
    want = float(closed(np.asarray(k11), np.asarray(k22), np.asarray(k12)))
    se = float(np.std(prod) / math.sqrt(n))
    if se == 0:
        return 0.0 if want == float(np.mean(prod)) else math.inf
    return (want - float(np.mean(prod))) / se


@pytest.mark.parametrize("cov", COVARIANCES)
@pytest.mark.parametrize("name", CLOSED)
def test_closed_form_kernel_map_matches_monte_carlo(name, cov):
    f = FUNCTIONS[name]
    assert abs(_mc_z(f.kernel.F, f.numpy, cov)) < Z_MAX
    if f.kernel.ntk_note:                       # σ' has a δ (sign, step): no NTK map, NaN
        assert np.isnan(f.kernel.dF(*cov)) and f.kernel.ntk_note.startswith("no NTK")
        return
    assert abs(_mc_z(f.kernel.dF, f.df, cov, seed=1)) < Z_MAX
    if f.kernel.both is not None:
        both = f.kernel.both(*(np.asarray(c) for c in cov))
        np.testing.assert_allclose(both, (f.kernel.F(*cov), f.kernel.dF(*cov)), rtol=1e-14)


@pytest.mark.parametrize("cov", COVARIANCES)
@pytest.mark.parametrize("name", CLOSED)
def test_a_wrong_kernel_map_fails_the_same_check(name, cov):
    f = FUNCTIONS[name]
    k11, k22, _ = cov
    off = 0.05 * math.sqrt(f.kernel.F(k11, k11, k11) * f.kernel.F(k22, k22, k22))    # 5% of √(E σ(u)² E σ(v)²)

    def wrong(a, b, c):
        return f.kernel.F(a, b, c) + off
    assert abs(_mc_z(wrong, f.numpy, cov)) > Z_MAX


def test_the_relu_map_with_the_wrong_angle_fails():
    """A plausible mistake (the arc-cosine kernel with θ = arcsin ρ) is caught by the Monte Carlo check."""
    def wrong(k11, k22, k12):
        t = np.arcsin(k12 / np.sqrt(k11 * k22))
        return np.sqrt(k11 * k22) / (2 * np.pi) * (np.sin(t) + (np.pi - t) * np.cos(t))
    relu = FUNCTIONS["relu"].numpy
    assert all(abs(_mc_z(wrong, relu, cov)) > Z_MAX for cov in COVARIANCES)


@pytest.mark.parametrize("name", [n for n in UNARY if not FUNCTIONS[n].gaussian])
def test_kernels_refuse_a_non_gaussian_function_with_the_tables_reason(name):
    m = nnft.compile(nnft.from_dict({
        "nnft": 1, "name": "t", "dims": {"d": 1, "N": 4},
        "params": {"W0": {"shape": ["N", "d"], "density": {"normal": {"std": 1.0}}},
                   "W1": {"shape": ["N"], "density": {"normal": {"std": 1.0}}}},
        "field": f"sum_N(W1 * {name}(W0 @ x))"}))
    from nnft.errors import KernelError
    from nnft.graph.kernels import kernels
    with pytest.raises(KernelError, match=re.escape(FUNCTIONS[name].kernel_note.removeprefix("none: "))):
        kernels(m, np.array([[0.5]]))


# --- potentials accept every field function --------------------------------------------------------
@pytest.mark.parametrize("V", ["erf(phi)**2", "gelu(phi) + 1", "softplus(phi)", "sigmoid(phi)"])
def test_a_field_function_is_accepted_in_a_potential(V):
    data = nnft.load("scalar_net", N=8).model_dump()
    data["insertions"] = [{"potential": {"expression": {"V": V}}, "domain": {"box": [[-1.0, 1.0]], "lattice": 4}}]
    m = nnft.compile(nnft.from_dict(data))
    (ins,) = m.insertions
    phi = np.linspace(-2, 2, 9)
    np.testing.assert_allclose(np.asarray(ins.V(jax.numpy.asarray(phi))), ins.V_np(phi), rtol=1e-6, atol=1e-6)
    theta = m.sample_one(jax.random.key(0))
    assert np.isfinite(float(m.log_weight(theta)))
