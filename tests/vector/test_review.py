"""Review fixes for local observables: derivatives of norm() near and at its kink, and strict parsing of
operator products (ASCII digits, plain decimal numbers)."""

import numpy as np
import pytest

import nnft
from nnft.errors import InputError
from nnft.estimators.local import local_correlator, parse_product

SHIFTED = {"nnft": 1, "name": "shifted-bump", "dims": {"d": 1, "N": 4},
           "params": {"W1": {"shape": ["N"], "density": {"normal": {"std": 1.0}}}},
           "field": "sum_N(W1) * exp(-norm(x - 0.5)**2)"}


def test_second_derivative_at_a_kink_away_from_the_origin_is_refused_not_zero():
    """φ = A exp(−|x − ½|²): ∂²φ at x = ½ is −2A, but norm(x − ½) has a kink there; the old rule gave
    ⟨φ∂²φ⟩ = 0 ± 0 silently. Now refused; just beside the kink the value matches −2E[A²]·(1 − 4r²)e^{−2r²}."""
    m = nnft.compile(nnft.from_dict(SHIFTED))
    with pytest.raises(InputError, match="norm"):
        local_correlator(m, [[[0.5], [0.5]]], [["phi", "d0 d0 phi"]], samples=200)
    x = 0.5 + 1e-6
    c = local_correlator(m, [[[x], [x]]], [["phi", "d0 d0 phi"]], samples=4000, key=3)
    exact = 4.0 * (4 * (x - 0.5) ** 2 - 2) * np.exp(-2 * (x - 0.5) ** 2)        # E[A²] = N = 4
    z = (c.full.mean[0] - exact) / c.full.stderr[0]
    assert abs(z) < 5
    assert abs((c.full.mean[0] - 0.0) / c.full.stderr[0]) > 10                 # the old silent 0 fails


def test_second_derivative_of_norm_squared_at_a_tiny_point_does_not_underflow():
    """Gauss-net's norm(x)**2 at x = 1e-30 (float32 squares underflow): ⟨φ_0∂²φ_0⟩ = −s·A = −0.5 as at
    x = 1e-3 (the old rule gave +0.515, the sign-flipped G(x, x))."""
    m = nnft.compile(nnft.load("gauss_net_vector", N=4))
    c = local_correlator(m, [[[1e-30], [1e-30]], [[1e-3], [1e-3]]], [["phi[0]", "d0 d0 phi[0]"]] * 2,
                         samples=4000, key=2)
    for i in range(2):
        assert abs((c.full.mean[i] + 0.5) / c.full.stderr[i]) < 5
        assert abs((c.full.mean[i] - 0.5) / c.full.stderr[i]) > 10


@pytest.mark.parametrize("text", ["phi[٣](0.1)", "d٠ phi(0.1)", "phi(０.1)", "phi(1_0)", "phi(inf)", "phi( )"])
def test_products_accept_only_ascii_digits_and_plain_numbers(text):
    with pytest.raises(InputError):
        parse_product(text, 1, 4)


def test_products_accept_ordinary_numbers():
    pts, ops = parse_product("d0 phi[1](-1.5e-1) * phi[0](+.25) * phi[2](3.)", 1, 3)
    assert pts.ravel().tolist() == [-0.15, 0.25, 3.0] and [o.label() for o in ops] == ["d0 phi[1]", "phi[0]", "phi[2]"]


def _net(field, **params):
    base = {"W0": {"shape": ["N", "d"], "density": {"normal": {"std": 1.0}}},
            "b0": {"shape": ["N"], "density": {"uniform": {"low": -3.0, "high": 3.0}}},
            "W1": {"shape": ["N"], "density": {"normal": {"std": 0.5}}}}
    return nnft.compile(nnft.from_dict({"nnft": 1, "name": "t", "dims": {"d": 1, "N": 4, "N2": 3},
                                        "params": base | params, "field": field}))


def test_a_heavy_tailed_weight_behind_the_first_layer_is_refused():
    """cos((W0 @ x)·s + b) with s ~ Cauchy: ∂φ brings s down, E|s| = ∞ (the old rule looked only at the
    operation consuming x and measured a number that does not exist); a Cauchy second-layer weight of a
    tanh net likewise; a Cauchy bias (a shift, never brought down) is not refused."""
    from nnft.errors import EstimatorError
    cauchy = {"density": {"cauchy": {"scale": 1.0}}}
    pair = [[[0.3], [0.1]]]
    m = _net("sum_N(W1 * cos((W0 @ x) * s + b0))", s={"shape": ["N"], **cauchy})
    with pytest.raises(EstimatorError, match="E\\|s\\|\\^1"):
        local_correlator(m, pair, [["d0 phi", "phi"]], samples=100)
    m = _net("sum_N2(V * tanh(U @ tanh(W0 @ x + b0)))", U={"shape": ["N2", "N"], **cauchy},
             V={"shape": ["N2"], "density": {"normal": {"std": 1.0}}})
    with pytest.raises(EstimatorError, match="E\\|U\\|\\^2"):
        local_correlator(m, pair, [["d0 phi", "d0 phi"]], samples=100)
    m = _net("sum_N(W1 * cos(W0 @ x + b0))", b0={"shape": ["N"], **cauchy})
    local_correlator(m, pair, [["d0 phi", "d0 phi"]], samples=100)


def test_the_derivative_moment_is_the_total_number_of_derivatives():
    """⟨∂φ(x)φ(y)⟩ carries W0 once per neuron term: with W0 ~ Student-t(1.5) (E|W0| < ∞ = E|W0|²) it
    exists, with a note that its error bar does not; ⟨∂φ∂φ⟩ needs E|W0|² and is refused."""
    from nnft.errors import EstimatorError, TailWarning
    m = _net("sum_N(W1 * cos(W0 @ x + b0))", W0={"shape": ["N", "d"], "density": {"student_t": {"df": 1.5}}})
    with pytest.warns(TailWarning, match="error bar"):
        local_correlator(m, [[[0.3], [0.1]]], [["d0 phi", "phi"]], samples=100)
    with pytest.raises(EstimatorError, match="E\\|W0\\|\\^2"):
        local_correlator(m, [[[0.3], [0.1]]], [["d0 phi", "d0 phi"]], samples=100)


def test_kernel_of_a_vector_field_is_refused_in_one_line_naming_components():
    from click.testing import CliRunner
    from nnft.cli import main
    res = CliRunner().invoke(main, ["kernel", "gauss_net_vector"])
    assert res.exit_code == 2 and "vector field with 3 components" in res.output
    assert "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1
