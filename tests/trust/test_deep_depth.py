"""Deep ``mlp:`` specs (issue 9, item 4): nnft's own generated layers are never refused by the limits
meant for what a user writes; depth is bounded before any work starts."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nnft
from nnft.graph.kernels import kernels
from nnft.spec.mlp import MAX_MLP_DEPTH

X = np.array([[1.0, 0.0, 0.0], [0.6, 0.8, 0.0], [0.3, -0.2, 0.5]])


def deep_spec(depth, activation="relu", C_W=1.8, C_b=0.1, d=3):
    """An mlp spec; an integer depth up to the largest size is the size L, anything else is written
    literally as mlp.depth."""
    as_size = isinstance(depth, int) and depth <= 10_000_000
    return {"nnft": 1, "name": "deep", "dims": {"d": d, "N": 8, **({"L": depth} if as_size else {})},
            "constants": {"C_W": C_W, "C_b": C_b},
            "mlp": {"depth": "L" if as_size else depth, "width": "N", "activation": activation,
                    "weight_var": "C_W / fan_in", "bias_var": "C_b"}}


def _relu(k11, k22, k12):
    """Arc-cosine kernel (Cho & Saul 2009): E relu(u)relu(v) and E relu'(u)relu'(v)."""
    n = np.sqrt(k11 * k22)
    t = np.arccos(np.clip(k12 / n, -1.0, 1.0))
    return n / (2 * np.pi) * (np.sin(t) + (np.pi - t) * np.cos(t)), (np.pi - t) / (2 * np.pi)


def _erf(k11, k22, k12):
    """Williams 1997: E erf(u)erf(v) and E erf'(u)erf'(v)."""
    a, b = 1 + 2 * k11, 1 + 2 * k22
    return 2 / np.pi * np.arcsin(2 * k12 / np.sqrt(a * b)), 4 / np.pi / np.sqrt(a * b - 4 * k12 ** 2)


def plain_recursion(maps, depth, C_W, C_b, X):
    """K⁽¹⁾ = C_b + C_W x·y/d, K⁽ˡ⁺¹⁾ = C_b + C_W F(K⁽ˡ⁾), Θ⁽ˡ⁺¹⁾ = K⁽ˡ⁺¹⁾ + C_W Ḟ(K⁽ˡ⁾) Θ⁽ˡ⁾ for the
    depth hidden layers and the readout (Lee et al. 2018, Jacot et al. 2018), written out here."""
    K = C_b + C_W * X @ X.T / X.shape[1]
    T = K.copy()
    for _ in range(depth):
        dg = np.diag(K)
        F, dF = maps(dg[:, None], dg[None, :], K)
        K, T = C_b + C_W * F, C_b + C_W * F + C_W * dF * T
    return K, T


@pytest.mark.parametrize("act, maps, C_W, C_b", [("erf", _erf, 1.5, 0.05), ("relu", _relu, 2.0, 0.0)])
def test_depth_1000_graph_kernels_equal_the_plain_recursion(act, maps, C_W, C_b):
    model = nnft.compile(nnft.from_dict(deep_spec(1000, act, C_W, C_b)))
    k = kernels(model, X)
    K, T = plain_recursion(maps, 1000, C_W, C_b, X)
    # the same closed forms in float64 on both sides, 1001 layers of rounding: ~1e-13 relative
    np.testing.assert_allclose(k.nngp, K, rtol=1e-10, atol=0)
    np.testing.assert_allclose(k.ntk, T, rtol=1e-10, atol=0)
    assert len(k.layers) == 1001
    # the tolerance can fail: a 1e-7 relative change of C_W (or, at criticality where Θ grows ∝ depth,
    # one layer fewer) moves the kernels by far more than 1e-10
    K2, T2 = plain_recursion(maps, 1000, C_W * (1 + 1e-7), C_b, X)
    assert np.max(np.abs(k.ntk / T2 - 1)) > 1e-9
    if C_b == 0:
        assert np.max(np.abs(k.ntk / plain_recursion(maps, 999, C_W, C_b, X)[1] - 1)) > 1e-4


def test_depth_1000_samples_a_network_and_the_field_is_the_forward_pass():
    """A bias-free tanh net of depth 1000 compiles and samples; φ equals a numpy forward pass with the
    sampled weights (the generated definitions compute the network they describe)."""
    model = nnft.compile(nnft.from_dict(deep_spec(1000, "tanh", C_W=1.2, C_b=0.0, d=2)))
    theta = model.sample_one(jax.random.PRNGKey(3), dtype=jnp.float32)
    x = np.array([0.7, -0.4])
    phi = float(model.field(theta, jnp.asarray(x, jnp.float32)))
    h = np.asarray(theta["W1"], np.float64) @ x
    for l in range(2, 1001):
        h = np.asarray(theta[f"W{l}"], np.float64) @ np.tanh(h)
    want = float(np.asarray(theta["W1001"], np.float64) @ np.tanh(h))
    assert math.isfinite(phi) and abs(phi - want) < 1e-4 * max(1.0, abs(want))   # float32 sampling vs float64
    assert abs(phi + want) > 1e-3 or abs(want) < 1e-3                            # not vacuous


@pytest.mark.parametrize("bias", [0.0, 0.1])
@pytest.mark.parametrize("depth", [75, 90, 145, 200])
def test_depths_that_used_to_fail_validate(depth, bias):
    model = nnft.compile(nnft.from_dict(deep_spec(depth, "tanh", 1.0, bias)))
    assert f"z{depth}" in model.theory.define and len(model.theory.field) < 100


def test_definitions_of_a_deep_mlp_are_generated_one_per_layer_and_validate_prints_them():
    from click.testing import CliRunner
    from nnft.cli import main
    r = CliRunner().invoke(main, ["validate", "tanh_mlp", "--set", "L=300"])
    assert r.exit_code == 0, r.output
    assert "z300 := " in r.output and "Traceback" not in r.output


def test_a_long_hand_written_definition_chain_builds_without_recursion():
    """1000 chained definitions written in a spec file validate, build, compile and evaluate iteratively."""
    n = 1000
    define = {"z0": "W @ x", **{f"z{i}": f"z{i - 1} + 0.001 * tanh(z{i - 1})" for i in range(1, n)}}
    theory = nnft.from_dict({"nnft": 1, "name": "chain", "dims": {"d": 1, "N": 4},
                             "params": {"W": {"shape": ["N", "d"], "density": {"normal": {"std": 1.0}}},
                                        "V": {"shape": ["N"], "density": {"normal": {"std": 1.0}}}},
                             "define": define, "field": f"sum_N(V * z{n - 1})"})
    model = nnft.compile(theory)
    theta = model.sample_one(jax.random.PRNGKey(0), dtype=jnp.float32)
    got = float(model.field(theta, jnp.array([0.5])))
    z = np.asarray(theta["W"], np.float64)[:, 0] * 0.5
    for _ in range(1, n):
        z = z + 0.001 * np.tanh(z)
    assert abs(got - float(np.asarray(theta["V"], np.float64) @ z)) < 1e-4


@pytest.mark.parametrize("depth", [MAX_MLP_DEPTH + 1, 10_000_000, 10 ** 40, "1" * 40])
def test_depth_is_bounded_before_work_starts(depth):
    with pytest.raises(nnft.SpecError) as err:          # never OverflowError, never a long wait
        nnft.compile(nnft.from_dict(deep_spec(depth)))
    msg = str(err.value)
    assert "mlp.depth" in msg
    if not isinstance(depth, str):
        assert str(MAX_MLP_DEPTH) in msg


def test_depth_bound_from_the_cli_is_one_line_and_exit_2():
    from click.testing import CliRunner
    from nnft.cli import main
    r = CliRunner().invoke(main, ["validate", "tanh_mlp", "--set", "L=10000000"])
    assert r.exit_code == 2 and "mlp.depth" in r.output and str(MAX_MLP_DEPTH) in r.output, r.output
    assert "Traceback" not in r.output
