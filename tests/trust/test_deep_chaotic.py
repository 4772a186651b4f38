"""Criticality in the chaotic phase (issue 9, item 7): the stable correlation fixed point c* < 1 and
ξ_c = −1/ln χ_c(c*) there (Poole et al. arXiv 1606.05340; Schoenholz et al. arXiv 1611.01232), never a
negative "depth" −1/ln χ⊥(K*)."""

import math

import numpy as np
import pytest
from click.testing import CliRunner
from scipy import special

from nnft.analytic import criticality as C
from nnft.cli import main


def erf_maps(C_W, C_b):
    """Williams' closed forms for erf: the variance map and the correlation map at variance K."""
    var = lambda K: C_b + C_W * 2 / math.pi * math.asin(2 * K / (1 + 2 * K))                     # noqa: E731
    corr = lambda K, c: (C_b + C_W * 2 / math.pi * math.asin(2 * c * K / (1 + 2 * K))) / K        # noqa: E731
    slope = lambda K, c: C_W * 4 / math.pi / math.sqrt((1 + 2 * K) ** 2 - 4 * c * c * K * K)     # noqa: E731
    return var, corr, slope


def tanh_maps(C_W, C_b, n=200):
    """tanh with a plain tensor Gauss–Hermite rule (scipy's stable nodes). At K* ≈ 1.8 Gauss–Hermite
    converges slowly for tanh (120 nodes: 8e-10 in ⟨tanh²⟩); 200 nodes: 6e-13."""
    z, w = special.roots_hermitenorm(n)
    w = w / w.sum()

    def E2(f, K, c):
        u = math.sqrt(K) * z[:, None]
        v = math.sqrt(K) * (c * z[:, None] + math.sqrt(max(0.0, 1 - c * c)) * z[None, :])
        return float(np.sum(f(u) * f(v) * w[:, None] * w[None, :]))

    var = lambda K: C_b + C_W * float(np.sum(np.tanh(math.sqrt(K) * z) ** 2 * w))               # noqa: E731
    corr = lambda K, c: (C_b + C_W * E2(np.tanh, K, c)) / K                                     # noqa: E731
    slope = lambda K, c: C_W * E2(lambda t: 1 / np.cosh(t) ** 2, K, c)                          # noqa: E731
    return var, corr, slope


def iterate(maps, steps=3000):
    """The layer recursion itself: K from 1, then c from 0 at K* (independent of nnft's root finding)."""
    var, corr, slope = maps
    K = 1.0
    for _ in range(300):                    # χ∥(K*) < 0.6 in these cases: 300 steps reach 1e-60
        K = var(K)
    c = 0.0
    for _ in range(steps):
        c = corr(K, c)
    return K, c, slope(K, c)


@pytest.mark.parametrize("act, maps, C_W, C_b", [
    ("erf", erf_maps, 2.0, 0.1),      # the issue's example: ξ_c was printed as −8.94
    ("erf", erf_maps, 3.0, 0.5),
    ("tanh", tanh_maps, 3.0, 0.3),
])
def test_chaotic_c_star_is_the_fixed_point_the_recursion_reaches(act, maps, C_W, C_b):
    c = C.criticality(act, C_W, C_b)
    assert c.phase == "chaotic" and c.chi_perp > 1
    K, c_star, chi = iterate(maps(C_W, C_b), steps=3000 if act == "erf" else 340)
    # the iteration converges geometrically (χ_c(c*) < 0.93: 0.93³⁴⁰ ≈ 2e-11); quadratures agree to ~1e-12
    assert abs(c.fixed.K - K) < 1e-10
    assert abs(c.c_star - c_star) < 1e-9 and c.c_star < 1
    assert abs(c.chi_c - chi) < 1e-9 and chi < 1
    assert c.xi_c == pytest.approx(-1 / math.log(chi), rel=1e-8) and c.xi_c > 0
    # the old answer was −1/ln χ⊥(K*) < 0; and c = 1 is not what the recursion reaches
    assert -1 / math.log(c.chi_perp) < 0 and abs(c_star - 1) > 0.05


def test_erf_example_from_the_issue():
    c = C.criticality("erf", 2.0, 0.1)
    assert c.c_star == pytest.approx(0.647229369, abs=1e-8)   # from the closed-form iteration above
    assert c.xi_c == pytest.approx(11.389, abs=1e-3)


def test_odd_activation_without_bias_has_c_star_zero():
    """tanh, C_b = 0, C_W = 1.5: M(0) = 0 by symmetry and the origin attracts: c* = 0, χ_c = C_W⟨σ'⟩²."""
    c = C.criticality("tanh", 1.5, 0.0)
    assert c.phase == "chaotic" and abs(c.c_star) < 1e-12
    dmean = float(C.gaussian_expect(lambda u: 1 / np.cosh(u) ** 2, c.fixed.K))
    assert c.chi_c == pytest.approx(1.5 * dmean ** 2, rel=1e-10)


@pytest.mark.parametrize("act, C_W, C_b", [("erf", 1.0, 0.1), ("tanh", 2.0, 0.3), ("relu", 1.0, 0.2),
                                           ("erf", math.pi / 4, 0.0)])
def test_ordered_and_critical_phases_unchanged(act, C_W, C_b):
    c = C.criticality(act, C_W, C_b)
    assert c.phase in ("ordered", "critical") and c.c_star == 1.0 and c.chi_c == c.chi_perp
    assert c.xi_c == (math.inf if c.chi_perp == 1 else -1 / math.log(c.chi_perp))


def test_no_finite_fixed_point_gives_no_depth():
    c = C.criticality("relu", 3.0, 0.1)
    assert c.phase == "chaotic" and math.isnan(c.c_star) and math.isnan(c.xi_c) and "not defined" in c.note


def _spec(tmp_path, activation="erf", C_W=2.0, C_b=0.1, weight_var="C_W / fan_in"):
    p = tmp_path / "s.yaml"
    p.write_text(f"nnft: 1\nname: crit\ndims: {{d: 2, N: 16, L: 3}}\nconstants: {{C_W: {C_W}, C_b: {C_b}}}\n"
                 f"mlp: {{depth: L, width: N, activation: {activation}, weight_var: '{weight_var}', bias_var: C_b}}\n")
    return str(p)


def test_cli_prints_c_star_and_a_positive_depth_in_the_chaotic_phase(tmp_path):
    r = CliRunner().invoke(main, ["criticality", _spec(tmp_path)])
    assert r.exit_code == 0, r.output
    assert "chaotic" in r.output and "c* = 0.647229" in r.output and "ξ_c = 11.39" in r.output
    assert "-8.9" not in r.output                      # the old negative "depth"


@pytest.mark.parametrize("weight_var, fragment", [("C_WW / fan_in", "did you mean 'C_W'"),
                                                  ("C_W / fan_in ** 2", "C_W / fan_in"),
                                                  ("W1 / fan_in", "mlp.weight_var")])
def test_cli_weight_var_errors_are_one_message_and_exit_2(tmp_path, weight_var, fragment):
    r = CliRunner().invoke(main, ["criticality", _spec(tmp_path, weight_var=weight_var)])
    assert r.exit_code == 2 and fragment in r.output and "Traceback" not in r.output, r.output


def test_residual_chaotic_c_star_includes_the_skip():
    """z⁽ˡ⁾ = Wσ(z⁽ˡ⁻¹⁾) + b + γz⁽ˡ⁻¹⁾ (LH eq. 25-26): K' = C_b + C_W F + γ²K and c' = (C_b + C_W F + γ²cK)/K,
    iterated here with erf's closed forms."""
    C_W, C_b, g = 2.5, 0.1, 0.5
    var, corr, slope = erf_maps(C_W, C_b)
    K = 1.0
    for _ in range(2000):
        K = var(K) + g * g * K
    c = 0.0
    for _ in range(3000):
        c = corr(K, c) + g * g * c
    chi = slope(K, c) + g * g
    got = C.criticality("erf", C_W, C_b, gamma=g)
    assert got.phase == "chaotic"
    # geometric convergence (rates < 0.95 over 2000+ steps); closed forms on both sides: 1e-10
    assert abs(got.fixed.K - K) < 1e-10 and abs(got.c_star - c) < 1e-10 and abs(got.chi_c - chi) < 1e-10
    assert abs(got.c_star - C.criticality("erf", C_W, C_b).c_star) > 1e-3      # γ is not dropped
