"""Residual MLPs (``mlp: residual: γ``; Les Houches lectures eq. 25-26) and the spec features they
use: named definitions (``define:``) and the axis relabelling ``as_M(e)``.

z⁽¹⁾ = W⁽¹⁾x + b⁽¹⁾,  z⁽ˡ⁾ = W⁽ˡ⁾σ(z⁽ˡ⁻¹⁾) + b⁽ˡ⁾ + γ z⁽ˡ⁻¹⁾ (l = 2..L),  φ = W⁽ᴸ⁺¹⁾σ(z⁽ᴸ⁾) + b⁽ᴸ⁺¹⁾,
K⁽ˡ⁾ = C_b + C_W F(K⁽ˡ⁻¹⁾) + γ² K⁽ˡ⁻¹⁾,  Θ⁽ˡ⁾ = C_b + C_W F + (C_W Ḟ + γ²) Θ⁽ˡ⁻¹⁾.
"""

import numpy as np
import pytest

import nnft
from helpers import Z_MAX
from nnft.analytic.activations import ACTIVATIONS
from nnft.graph.kernels import KernelError, kernels

X = np.array([[1.0, 0.0, 0.0], [0.6, 0.8, 0.0], [0.3, -0.2, 0.5], [-1.0, 0.4, 0.2]])


def resnet(activation, gamma, depth=3, width=64, C_W=1.5, C_b=0.1, d=3, **mlp):
    block = {"depth": depth, "width": "N", "activation": activation, "weight_var": "C_W / fan_in",
             "bias_var": "C_b", **mlp}
    if gamma is not None:
        block["residual"] = gamma
    return nnft.compile(nnft.from_dict({
        "nnft": 1, "name": "resnet", "dims": {"d": d, "N": width},
        "constants": {"C_W": C_W, "C_b": C_b, "g": 0.0 if gamma is None else gamma}, "mlp": block}))


def recursion(act, depth, C_W, C_b, gamma, X):
    """The residual NNGP/NTK recursion (LH eq. 26 and its NTK), written out by hand."""
    a = ACTIVATIONS[act]
    K = C_b + C_W * X @ X.T / X.shape[1]
    T = K.copy()
    for l in range(depth):
        d = np.diag(K)
        F, dF = a.F(d[:, None], d[None, :], K), a.dF(d[:, None], d[None, :], K)
        skip = gamma ** 2 if l < depth - 1 else 0.0            # no skip into the readout
        K, T = C_b + C_W * F + skip * K, C_b + C_W * F + (C_W * dF + skip) * T
    return K, T


@pytest.mark.parametrize("act", ["relu", "erf", "tanh", "linear"])
@pytest.mark.parametrize("gamma", [0.5, 1.0])
def test_residual_kernels_equal_the_residual_recursion(act, gamma):
    k = kernels(resnet(act, gamma), X)
    K, T = recursion(act, 3, 1.5, 0.1, gamma, X)
    np.testing.assert_allclose(k.nngp, K, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(k.ntk, T, rtol=1e-12, atol=1e-14)
    assert [name for name, *_ in k.layers] == ["z1", "z2", "z3", "field"]


def test_residual_zero_is_the_plain_mlp_and_gamma_matters():
    plain = kernels(resnet("relu", None), X)
    zero = kernels(resnet("relu", 0.0), X)
    np.testing.assert_allclose(zero.nngp, plain.nngp, rtol=1e-14)
    np.testing.assert_allclose(zero.ntk, plain.ntk, rtol=1e-14)
    assert np.min(np.abs(kernels(resnet("relu", 0.5), X).nngp - plain.nngp)) > 1e-3


def test_residual_gamma_may_be_a_named_constant():
    spec = {"nnft": 1, "name": "resnet", "dims": {"d": 3, "N": 8}, "constants": {"g2": 0.49},
            "mlp": {"depth": 3, "width": "N", "activation": "tanh", "weight_var": "1.0 / fan_in",
                    "bias_var": 0.1, "residual": "sqrt(g2)"}}
    k = kernels(nnft.compile(nnft.from_dict(spec)), X)
    np.testing.assert_allclose(k.nngp, recursion("tanh", 3, 1.0, 0.1, 0.7, X)[0], rtol=1e-12)


def handwritten(gamma, width, C_W=1.5, C_b=0.1):
    """The same residual net written by hand with ``define:`` and ``as_M`` (one axis per layer)."""
    s = f"sqrt({C_b})"
    w = lambda fan: f"sqrt({C_W} / {fan})"      # noqa: E731
    return nnft.compile(nnft.from_dict({
        "nnft": 1, "name": "resnet-by-hand", "dims": {"d": 3, "N1": width, "N2": width, "N3": width},
        "params": {"W1": {"shape": ["N1", "d"], "density": {"normal": {"std": w("d")}}},
                   "b1": {"shape": ["N1"], "density": {"normal": {"std": s}}},
                   "W2": {"shape": ["N2", "N1"], "density": {"normal": {"std": w("N1")}}},
                   "b2": {"shape": ["N2"], "density": {"normal": {"std": s}}},
                   "W3": {"shape": ["N3", "N2"], "density": {"normal": {"std": w("N2")}}},
                   "b3": {"shape": ["N3"], "density": {"normal": {"std": s}}},
                   "W4": {"shape": ["N3"], "density": {"normal": {"std": w("N3")}}},
                   "b4": {"shape": [], "density": {"normal": {"std": s}}}},
        "define": {"z1": "W1 @ x + b1",
                   "z2": f"W2 @ relu(z1) + b2 + {gamma} * as_N2(z1)",
                   "z3": f"W3 @ relu(z2) + b3 + {gamma} * as_N3(z2)"},
        "field": "sum_N3(W4 * relu(z3)) + b4"}))


def test_compact_form_is_the_handwritten_graph():
    """Same kernels and the same networks from the same key (the compact form is only notation)."""
    compact, hand = resnet("relu", 0.8, width=8), handwritten(0.8, 8)
    np.testing.assert_allclose(kernels(compact, X).nngp, kernels(hand, X).nngp, rtol=1e-12)
    tuples = [X[[0, 1]], X[[2, 2]]]
    a = nnft.measure(compact, tuples, samples=200, key=4).full
    b = nnft.measure(hand, tuples, samples=200, key=4).full
    np.testing.assert_allclose(a.mean, b.mean, rtol=1e-6)


def test_monte_carlo_of_a_wide_resnet_matches_the_residual_nngp():
    """Width 512, depth 3, γ = 0.8: MC agrees with the residual kernel and rejects the plain one."""
    model = resnet("relu", 0.8, width=512, C_W=1.0)
    K = kernels(model, X).nngp
    K0 = kernels(resnet("relu", None, width=512, C_W=1.0), X).nngp
    pairs = [(i, j) for i in range(len(X)) for j in range(i, len(X))]
    mc = nnft.measure(model, [X[[i, j]] for i, j in pairs], samples=1200, key=5).full
    want = np.array([K[i, j] for i, j in pairs])
    print("\nresnet z:", np.round(mc.z(want), 2), " plain-MLP kernel z:",
          np.round(mc.z(np.array([K0[i, j] for i, j in pairs])), 1))
    assert np.all(np.abs(mc.z(want)) < Z_MAX), mc.z(want)
    assert np.max(np.abs(mc.z(np.array([K0[i, j] for i, j in pairs])))) > Z_MAX


def test_empirical_ntk_of_a_resnet_converges_to_the_analytic_ntk():
    from nnft.estimators.ntk import ntk_ensemble
    pts = X[:3]
    model = resnet("erf", 0.7, depth=2, width=256)
    T = kernels(model, pts).ntk
    mean, sd = ntk_ensemble(model, pts, samples=60, key=2)
    assert np.all(np.abs(mean.z(T)) < Z_MAX), mean.z(T)
    T0 = kernels(resnet("erf", None, depth=2, width=256), pts).ntk
    assert np.max(np.abs(mean.z(T0))) > Z_MAX


# ---- bad input -----------------------------------------------------------------------------------

def _spec(**over):
    base = {"nnft": 1, "name": "bad", "dims": {"d": 2, "N": 4, "M": 4, "K": 3},
            "params": {"W": {"shape": ["N", "d"], "density": {"normal": {"std": 1.0}}},
                       "V": {"shape": ["M"], "density": {"normal": {"std": 1.0}}},
                       "U": {"shape": ["N", "M"], "density": {"normal": {"std": 1.0}}}},
            "field": "sum_M(V * as_M(W @ x))"}
    base.update(over)
    return base


def test_as_relabels_an_axis_and_definitions_work():
    model = nnft.compile(nnft.from_dict(_spec(define={"h": "W @ x", "u": "as_M(h)"}, field="sum_M(V * u)")))
    direct = nnft.compile(nnft.from_dict(_spec()))
    x = np.array([[0.3, -0.7]])
    a = nnft.measure(model, [x], samples=200, key=1).full
    b = nnft.measure(direct, [x], samples=200, key=1).full
    np.testing.assert_allclose(a.mean, b.mean, rtol=1e-6)


@pytest.mark.parametrize("over,field,fragment", [
    ({"field": "sum_M(V * as_K(W @ x))"}, "field", "has size 4 but K has size 3"),
    ({"field": "sum_M(V * as_Q(W @ x))"}, "field", "not a declared size"),
    ({"field": "sum_M(sum_N(as_M(U)))"}, "field", "one axis"),
    ({"field": "sum_M(V * as(W @ x))"}, "field", "cannot parse"),
    ({"define": {"a": "b + 1", "b": "a * 2"}, "field": "sum_M(V) + a"}, "define", "cycle"),
    ({"define": {"a": "W @ x + undefinedname"}, "field": "sum_M(V)"}, "define.a", "undefined name"),
    ({"define": {"W": "x"}}, "define.W", "declared in both"),
    ({"define": {"x": "W"}}, "define.x", "reserved"),
])
def test_bad_definitions_and_relabelling(over, field, fragment):
    with pytest.raises(nnft.SpecError, match=fragment) as err:
        nnft.compile(nnft.from_dict(_spec(**over)))
    assert field in err.value.field


@pytest.mark.parametrize("block,fragment", [
    ({"width": [8, 16], "residual": 0.5}, "hidden widths must be equal"),
    ({"residual": "W1"}, "constant"),
    ({"residual": "1 +"}, "residual"),
])
def test_bad_residual_blocks(block, fragment):
    mlp = {"depth": 2, "width": 8, "activation": "relu", "weight_var": "1 / fan_in", **block}
    dims = {"d": 2} if not isinstance(mlp["width"], list) else {"d": 2, "A": 8, "B": 16}
    if isinstance(mlp["width"], list):
        mlp["width"] = ["A", "B"]
    with pytest.raises(nnft.SpecError, match=fragment) as err:
        nnft.compile(nnft.from_dict({"nnft": 1, "name": "bad", "dims": dims, "mlp": mlp}))
    assert "mlp" in err.value.field


def test_kernel_refuses_a_correlated_sum():
    """h + h shares every parameter and is not uncorrelated with itself: no kernel map (refused)."""
    spec = _spec(params={"W": {"shape": ["N", "d"], "density": {"normal": {"std": 1.0}}},
                         "V": {"shape": ["N"], "density": {"normal": {"std": 1.0}}}},
                 define={"h": "W @ x"}, field="sum_N(V * relu(h + 2 * h))")
    with pytest.raises(KernelError, match="not provably uncorrelated"):
        kernels(nnft.compile(nnft.from_dict(spec)), X[:, :2])


# ---- criticality with skip connections ------------------------------------------------------------

def test_residual_fixed_point_is_the_fixed_point_of_the_layer_recursion():
    """Iterating the residual recursion (LH eq. 26) at one input converges to residual_fixed_point, and
    χ∥ = dK⁽ˡ⁺¹⁾/dK⁽ˡ⁾ there (finite difference of the map) includes the γ² of the skip."""
    from nnft.analytic.criticality import criticality, residual_fixed_point, sigma2_mean
    C_W, C_b, g = 1.2, 0.1, 0.6
    step = lambda K: C_b + C_W * float(sigma2_mean("tanh", K)) + g * g * K      # noqa: E731
    K = 1.0
    for _ in range(400):
        K = step(K)
    fp = residual_fixed_point("tanh", C_W, C_b, g)
    assert fp.converged and abs(fp.K - K) < 1e-10
    c = criticality("tanh", C_W, C_b, gamma=g)
    h = 1e-5
    assert abs(c.chi_parallel - (step(fp.K + h) - step(fp.K - h)) / (2 * h)) < 1e-7
    assert abs(c.chi_parallel - criticality("tanh", C_W, C_b).chi_parallel) > 0.1   # γ² is not dropped
    assert residual_fixed_point("tanh", C_W, C_b, 1.0).kind == "divergent"


def test_a_long_chain_of_definitions_builds_without_recursion():
    """255 chained definitions are built in dependency order, not recursively."""
    define = {"z0": "W @ x", **{f"z{i}": f"tanh(z{i - 1})" for i in range(1, 255)}}
    spec = _spec(params={"W": {"shape": ["N", "d"], "density": {"normal": {"std": 1.0}}},
                         "V": {"shape": ["N"], "density": {"normal": {"std": 1.0}}}},
                 define={**define, "unused": "V * 2"}, field="sum_N(V * z254)")
    model = nnft.compile(nnft.from_dict(spec))
    assert not any(a.get("field") == "define.unused" for _, a in model.graph.nodes(data=True))   # pruned
    mc = nnft.measure(model, [np.array([[0.3, -0.1]])], samples=200, key=0).full
    assert np.isfinite(mc.mean).all() and np.isfinite(mc.stderr).all()
