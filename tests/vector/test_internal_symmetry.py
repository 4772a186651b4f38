"""SO(D) rotations of a vector field's components (Maiti–Stoner–Halverson arXiv:2106.00694): proven from
the graph for an isotropic readout, tested statistically (PASS for the 3-component Gauss-net), and broken
by a readout mean (FAIL), with the proof withdrawn."""

import numpy as np
import pytest

import nnft
from nnft.checks import FAIL, PASS, check
from nnft.checks.internal import check_internal_rotation
from nnft.errors import InputError
from nnft.graph.symmetry import StaticSymmetries, static_symmetries

SPEC = "gauss_net_vector"
NONE = StaticSymmetries(proven={})            # no proof: the verdict rests on the statistics alone


def _with_readout(density, N=8):
    d = nnft.load(SPEC, N=N).model_dump(mode="python")
    d["params"]["W1"]["density"] = density
    return nnft.compile(nnft.from_dict(d))


def test_static_proof_needs_an_isotropic_readout():
    m = nnft.compile(nnft.load(SPEC, N=4))
    assert "isotropic along D" in static_symmetries(m.graph).reason("internal_rotation")
    shifted = _with_readout({"normal": {"std": 0.25, "mean": 0.1}}, N=4)
    s = static_symmetries(shifted.graph)
    assert s.reason("internal_rotation") is None
    assert any("readout mean" in n for n in s.notes)
    # a declared isotropic vector law over D (the ball) is proven; i.i.d. uniform components are not
    ball = _with_readout({"uniform_ball": {"radius": 0.5}}, N=4)
    assert static_symmetries(ball.graph).reason("internal_rotation")
    box = _with_readout({"uniform": {"low": -0.4, "high": 0.4}}, N=4)
    assert static_symmetries(box.graph).reason("internal_rotation") is None


def test_so3_passes_statistically_for_the_gauss_net():
    m = nnft.compile(nnft.load(SPEC, N=8))
    r = check_internal_rotation(m, orders=(1, 2), samples=20_000, key=5, radius=0.5, static=NONE)
    assert r.verdict == PASS, r


def test_a_readout_mean_breaks_so3():
    """μ = 0.05 per readout weight (std 0.25, N = 8): ⟨φ_a(x)⟩ = μ N E[ψ(x)] ≈ 0.4 along (1, 1, 1)."""
    m = _with_readout({"normal": {"std": 0.25, "mean": 0.05}})
    r = check_internal_rotation(m, orders=(1, 2), samples=20_000, key=5, radius=0.5)
    assert r.verdict == FAIL and r.basis == "statistical", r


def test_internal_rotation_refuses_scalar_fields():
    with pytest.raises(InputError, match="vector field"):
        check_internal_rotation(nnft.compile(nnft.load("gauss_net", N=2)))
    with pytest.raises(InputError, match="vector field"):
        check(nnft.compile(nnft.load("gauss_net", N=2)), only=["internal_rotation"])


def test_check_runs_spatial_symmetries_on_component_directions():
    """``check`` dispatches internal_rotation (here its proof alone) and runs a spatial symmetry of a
    vector field on random component directions u·φ(x); scalar-only checks are refused by name."""
    from nnft.checks.symmetry import check_symmetry
    m = nnft.compile(nnft.load(SPEC, N=8))
    (r,) = check(m, only=["internal_rotation"], statistical=False)
    assert r.verdict == PASS and "by construction" in r.basis and r.samples == 0
    z2 = check_symmetry(m, "z2", orders=(1,), configs=3, samples=4_000, key=6, static=NONE)
    assert z2.verdict != FAIL and np.all(np.isfinite(z2.data["diff"]))
    with pytest.raises(InputError, match="scalar field"):
        check(m, only=["cluster"])
