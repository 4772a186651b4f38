"""Vector-valued fields φ: ℝᵈ → ℝᴰ (``components: D``; TASI arXiv:2408.00082 eq. 52-54): the D-component
Gauss-net has G_ab(x, y) = δ_ab (σ_w1²/2) exp(−σ_w0²|x−y|²/(2d)) (by |z|), a fully correlated G_ab = G
is rejected, and the spec grammar refuses what it cannot mean."""

import numpy as np
import pytest

import nnft
from nnft.analytic.closed_forms import gauss_net_g2
from nnft.errors import GraphError, InputError, SpecError
from nnft.estimators.local import component_two_point, local_correlator

SPEC = "gauss_net_vector"


def test_components_two_point_is_delta_ab_times_the_scalar_kernel():
    m = nnft.compile(nnft.load(SPEC, N=8))
    assert m.components == 3 and m.is_vector
    x, y = [0.2], [-0.1]
    G = component_two_point(m, x, y, samples=20_000, key=3)
    g = gauss_net_g2(np.array(x), np.array(y), 1.0, 1.0)
    theory = g * np.eye(3)
    z = G.z(theory)
    assert np.all(np.abs(z) < 5), z
    # components sharing one readout (G_ab = G for all a, b) is refused: the off-diagonal part is 0
    assert np.max(np.abs(G.z(np.full((3, 3), g)))) > 5


def test_four_point_with_component_tuples_is_exact_in_n():
    """⟨φ_0(x)²φ_1(y)²⟩ = Σ_ij E[W_i0²]E[W_j1²]E[ψ_i(x)²ψ_j(y)²] = (σ_w1⁴/4)(1 + (E[ψ(x)²ψ(y)²] − 1)/N) with
    E[ψ(x)²ψ(y)²] = exp(4σ_b0² + 4σ_w0²xy/d) (the Gauss-net neuron, TASI eq. 60-64); a tuple with an odd
    number of one component vanishes (W1[:, a] → −W1[:, a]). Treating the components as one field (adding
    Wick's 2G(x,y)²) is rejected."""
    N = 16
    m = nnft.compile(nnft.load(SPEC, N=N))
    xv, yv = 0.1, -0.2
    X = np.array([[xv], [xv], [yv], [yv]])
    c = local_correlator(m, [X, X], [["phi[0]", "phi[0]", "phi[1]", "phi[1]"], ["phi[0]", "phi[1]", "phi[2]", "phi[2]"]],
                         samples=20_000, key=4)
    e22 = np.exp(4 * 0.3 ** 2 + 4 * xv * yv)
    theory = np.array([0.25 * (1 + (e22 - 1) / N), 0.0])
    assert np.all(np.abs(c.full.z(theory)) < 5), c.full.z(theory)
    one_field = theory + np.array([2 * gauss_net_g2(X[0], X[2], 1.0, 1.0) ** 2, 0.0])
    assert abs(c.full.z(one_field)[0]) > 5


def test_scalar_api_refuses_a_vector_field_with_one_line():
    m = nnft.compile(nnft.load(SPEC, N=4))
    with pytest.raises(InputError, match="vector field with 3 components"):
        nnft.measure(m, [np.array([[0.0], [0.1]])], samples=100)
    with pytest.raises(InputError, match="name one"):
        local_correlator(m, [np.array([[0.0]])], [["phi"]], samples=100)


def test_spec_grammar_of_components():
    base = nnft.load(SPEC).model_dump(mode="python")
    with pytest.raises(SpecError, match="components"):
        nnft.from_dict({**base, "components": "d"})
    with pytest.raises(SpecError, match="components"):
        nnft.from_dict({**base, "components": "M"})
    # declared, but no parameter carries the axis into the field
    bad = {**base, "params": {**base["params"], "W1": {"shape": ["N"], "density": {"normal": {"std": 0.1}}}}}
    with pytest.raises(GraphError, match="no free axis D"):
        nnft.compile(nnft.from_dict(bad))
    # a free axis that is not the component axis is still a forgotten reduction
    nc = {k: v for k, v in base.items() if k != "components"}
    with pytest.raises(GraphError):
        nnft.compile(nnft.from_dict(nc))


def test_scalar_specs_have_one_component():
    m = nnft.compile(nnft.load("cos_net", N=2))
    assert m.components == 1 and not m.is_vector
