"""Static Z2 proof for a linear readout layer (issue 9, item 6): φ odd-linear in parameters whose
densities are even about 0 and which appear nowhere else ⇒ φ → −φ is a symmetry of the law."""

import pytest

import nnft
from nnft.checks import PASS, check_symmetry
from nnft.graph.symmetry import static_symmetries


def _z2(theory):
    return static_symmetries(nnft.compile(theory).graph).reason("z2")


def _net(w1: dict, b1: dict | None = None, field="sum_N(W1 * tanh(W0 @ x + b0))"):
    params = {"W0": {"shape": ["N", "d"], "density": {"normal": {"std": 1.0}}},
              "b0": {"shape": ["N"], "density": {"normal": {"std": 0.5}}},
              "W1": {"shape": ["N"], "density": w1}}
    if b1 is not None:
        params["b1"] = {"shape": [], "density": b1}
        field = field + " + b1"
    return nnft.from_dict({"nnft": 1, "name": "t", "dims": {"d": 1, "N": 8}, "params": params, "field": field})


def test_relu_mlp_z2_proven_and_passes_without_sampling():
    m = nnft.compile(nnft.load("relu_mlp"))
    why = static_symmetries(m.graph).reason("z2")
    assert why and "W5" in why and "even density" in why
    r = check_symmetry(m, "z2", statistical=False)
    assert r.verdict == PASS and r.samples == 0 and r.basis.startswith("by construction")


def test_last_layer_with_bias_flips_jointly():
    why = _z2(nnft.load("tanh_mlp_chaotic"))            # C_b > 0: φ = W5·σ(...) + b5
    assert why and "W5 → −W5" in why and "b5 → −b5" in why
    assert _z2(_net({"normal": {"std": 0.3}}, {"normal": {"std": 0.1}}))


@pytest.mark.parametrize("w1,b1", [
    ({"normal": {"mean": 0.1, "std": 0.3}}, None),                     # readout with a nonzero mean
    ({"exponential": {"rate": 3.0, "loc": -1 / 3}}, None),            # zero mean but skewed
    ({"normal": {"std": 0.3}}, {"normal": {"mean": 0.2, "std": 0.1}}),  # the bias is not centred
    ({"normal": {"std": 0.3}}, {"exponential": {"rate": 10.0, "loc": -0.1}}),  # skewed bias
])
def test_not_proven_for_uncentred_or_skewed_readout(w1, b1):
    assert _z2(_net(w1, b1)) is None


def test_not_proven_when_readout_used_elsewhere_or_offset_not_flipped():
    assert _z2(_net({"normal": {"std": 0.3}}, field="sum_N(W1 * tanh(W1 * x[0] + b0))")) is None
    assert _z2(_net({"normal": {"std": 0.3}}, field="sum_N(W1 * tanh(W0 @ x + b0)) + 0.5")) is None
    assert _z2(_net({"normal": {"std": 0.3}}, field="sum_N(W1 * tanh(W0 @ x + b0)) ** 2")) is None
