"""Divergent moments are refused before sampling (nnft.graph.moments), from the tails the densities
declare: a Cauchy readout has no G2, a Student-t(ν = 3) readout has G2 but no G_c⁽⁴⁾, ν = 5 has both.
Undecidable cases (a heavy-tailed weight inside relu) are flagged, not refused."""

import math
import warnings

import numpy as np
import pytest

import nnft
from nnft.densities import DENSITIES, DensityArgError
from nnft.errors import TailWarning


def _cos_net(readout, N=16, field=None, w0=None):
    d = nnft.load("cos_net", N=N).model_dump()
    d["params"]["W1"]["density"] = readout
    if w0 is not None:
        d["params"]["W0"]["density"] = w0
    if field is not None:
        d["field"] = field
    return nnft.compile(nnft.from_dict(d))


T3 = {"student_t": {"df": 3, "scale": "1/sqrt(N)"}}
T5 = {"student_t": {"df": 5, "scale": "1/sqrt(N)"}}
CAUCHY = {"cauchy": {"scale": "1/N"}}
PAIR = np.array([[0.0, 0.0], [0.5, 0.0]])


@pytest.mark.parametrize("readout, order, alpha", [(CAUCHY, 2, "1"), (T3, 4, "3")])
def test_divergent_order_is_refused_naming_the_parameter(readout, order, alpha):
    model = _cos_net(readout)
    tuples = [np.zeros((order, 2))]
    for estimator, kw in ((nnft.measure, {"samples": 1000}), (nnft.neuron_measure, {"neurons": 1000})):
        with pytest.raises(nnft.EstimatorError) as err:
            estimator(model, tuples, key=0, **kw)
        msg = str(err.value)
        assert f"order {order}" in msg and "W1" in msg and next(iter(readout)) in msg
        assert (f"orders n < {alpha}" if alpha != "1" else "no order") in msg     # what is allowed


def test_student_t3_two_point_function_is_allowed_and_right():
    """G2 exists for ν = 3 (E W1² = scale² ν/(ν−2)); the exact reference takes the readout moments
    from the density, and the MC value agrees with it by a |z| bound. The normal-readout value
    (a wrong answer) is rejected by the same bound."""
    model = _cos_net(T3, N=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TailWarning)   # E φ⁴ = ∞: the error bar is flagged, see below
        mc = nnft.measure(model, [PAIR], samples=40_000, key=3)
    ex = nnft.exact(model, [PAIR])
    np.testing.assert_allclose(ex.full[0, 0], 3.0 * 0.5 * math.exp(-0.25 / 4), rtol=1e-12)
    assert abs(mc.full.z(ex.full[0])[0]) < 4
    assert any("E|φ|^4" in n and "infinite" in n for n in mc.full.notes)   # the error bar needs E φ⁴


def test_student_t5_connected_four_point_function_is_allowed():
    model = _cos_net(T5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TailWarning)
        mc = nnft.measure(model, [np.zeros((4, 2))], samples=2000, key=0)
    assert np.isfinite(mc.connected.mean).all()
    assert any("E|φ|^8" in n for n in mc.connected.notes)


def test_heavy_tail_inside_relu_is_flagged_not_refused():
    """W0 ~ t(3) inside relu: relu(u) has u's moments on one side only, so whether E φ⁴ is finite
    is not decided from the graph: the estimate carries a note and a TailWarning."""
    model = _cos_net({"normal": {"std": "1/sqrt(N)"}}, N=4, field="sum_N(W1 * relu(W0 @ x + b0))",
                     w0={"student_t": {"df": 3}})
    m = model.moments["phi"]
    assert m.lo == 3 and m.hi == math.inf
    with pytest.warns(TailWarning, match="could not be decided"):
        mc = nnft.measure(model, [np.zeros((4, 2))], samples=500, key=0)
    assert any("could not be decided" in n for n in mc.connected.notes)


def test_bounded_functions_and_light_tails_need_nothing():
    """cos of a Cauchy weight is bounded (Cauchy-scalar nets); exp of Gaussians has every moment
    (Gauss-net); a division by √(|W|² + m²) ≥ m keeps the numerator's moments (Scalar-net)."""
    for name in ("cauchy_scalar_1d", "gauss_net", "scalar_net", "rp_scalar_2d", "erf_net", "relu_mlp"):
        m = nnft.compile(nnft.load(name)).moments["phi"]
        assert m.lo == math.inf and m.hi == math.inf, (name, m)


@pytest.mark.parametrize("name", [n for n, d in DENSITIES.items() if d.event_dims == 0])
def test_declared_tails_agree_with_the_exact_moments(name):
    """One concept, one home: Density.tail says which moments exist, Density.moment computes them."""
    dens = DENSITIES[name]
    args = {"normal": {"std": 1.0}, "uniform": {"low": 0.0, "high": 1.0}, "cauchy": {"scale": 1.0},
            "student_t": {"df": 4.5}, "laplace": {"scale": 1.0}, "exponential": {"rate": 1.0},
            "rademacher": {"scale": 1.0}, "discrete": {}}[name]
    tail = dens.tail(args)
    for k in range(1, 9):
        if tail.has_moment(k):
            assert math.isfinite(dens.moment(k, args))
        else:
            with pytest.raises(DensityArgError):
                dens.moment(k, args)
    assert tail.alpha == {"cauchy": 1.0, "student_t": 4.5}.get(name, math.inf)


@pytest.mark.parametrize("field, lo, hi", [
    ("sum_N(W1 * cos(W0 @ x + b0))", 3, 3),                     # independent product, i.i.d. sum
    ("sum_N(square(W1) * cos(W0 @ x + b0))", 1.5, 1.5),          # E|W1²|ᵖ = E|W1|²ᵖ
    ("sum_N(W1 * W1 * cos(W0 @ x + b0))", 1.5, math.inf),        # Hölder for dependent factors
    ("sum_N(W1 * cos(W0 @ x + b0)) + sum_N(W1)", 3, math.inf),   # dependent terms could cancel
    ("sum_N(W1 * cos(W0 @ x + b0)) + 2.0", 3, 3),                # a constant shift changes nothing
    ("sum_N(cos(W1 * (W0 @ x) + b0))", math.inf, math.inf),      # bounded
    ("exp(sum_N(W1))", 0, math.inf),                             # exp of a power tail: undecided
])
def test_moment_propagation_rules(field, lo, hi):
    m = _cos_net({"student_t": {"df": 3}}, field=field).moments["phi"]
    assert (m.lo, m.hi) == (lo, hi)


def test_an_insertion_lifts_the_free_field_refusal():
    """Under P̃ ∝ P·e^{−λ∫φ⁴} a large readout makes φ large on the lattice and the weight kills it: the
    reweighted G_c⁽⁴⁾ of a Student-t(3) readout is finite, so it is not refused (only noted)."""
    d = nnft.load("phi4_cos_1d").model_dump()
    d["params"]["W1"]["density"] = {"student_t": {"df": 3, "scale": "1/sqrt(N)"}}
    model = nnft.compile(nnft.from_dict(d))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        corr = nnft.measure(model, [np.full((4, 1), 0.3)], samples=2000, key=0)
    assert np.isfinite(corr.full.mean).all()
    d.pop("insertions")            # the free theory with the same readout: refused
    with pytest.raises(nnft.EstimatorError, match="order 4"):
        nnft.measure(nnft.compile(nnft.from_dict(d)), [np.full((4, 1), 0.3)], samples=2000, key=0)


def test_a_random_inverse_scale_is_undecided_not_finite():
    """W1 ~ exponential(rate = R) with R ~ U(0, 1) is Y/R: E|W1| = E[1/R] = ∞. The graph cannot bound
    E|1/R|ᵖ, so the estimate is flagged as undecided, never passed as certainly finite."""
    d = nnft.load("cos_net", N=4).model_dump()
    d["params"]["R"] = {"shape": ["N"], "density": {"uniform": {"low": 0.0, "high": 1.0}}}
    d["params"]["W1"]["density"] = {"exponential": {"rate": "R"}}
    model = nnft.compile(nnft.from_dict(d))
    with pytest.warns(TailWarning, match="could not be decided"):
        nnft.measure(model, [PAIR], samples=1000, key=0)
