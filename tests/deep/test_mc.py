"""Monte Carlo of finite-width MLPs declared as nnft spec dicts vs the finite-width theory.

Each network is an actual spec (``deep.mlp_spec``). Two fields of the same network are used:
the output z⁽ᴸ⁺¹⁾, and Σ⁽ᴸ⁾ = C_b + (C_W/n_L)Σ_j σ(z_j⁽ᴸ⁾)² — the exact conditional variance of the
output given the hidden layers (E z² = E Σ, ⅓(E z⁴ − 3(E z²)²) = Var Σ), which has the Gaussian
readout integrated out and hence far smaller Monte Carlo variance for deep nets. Ratios and
cumulants get jackknife errors over the whole estimator (``Ensemble.derived``). Run with ``-s`` to
see the z-scores.
"""

import math

import numpy as np
import pytest

import nnft
from deep.mlp_spec import mlp_model
from nnft.analytic import finite_width as F

Z = 5.0


def one_input(x):
    x = np.asarray(x, float)[None, :]
    return [x, np.concatenate([x] * 2), np.concatenate([x] * 4)]


def K1_of(x, C_W, C_b):
    x = np.asarray(x, float)
    return C_b + C_W * float(x @ x) / x.size


# ---- ReLU: exact moments at one input (conditional Gaussianity) --------------------------------

@pytest.mark.parametrize("n", [8, 16])
@pytest.mark.parametrize("L", [1, 3, 5])
def test_relu_exact_moments_output(n, L):
    C_W, C_b = 1.8, 0.1
    x = [1.0, -0.5]
    widths = [n] * L if n == 8 else [n, 8, n, 8, n][:L]           # per-layer widths too
    model = mlp_model(widths, "relu", C_W, C_b, d=2)
    ens = nnft.ensemble(model, one_input(x), samples=60_000, key=10 * n + L)
    ex = F.relu_moments(widths, C_W=C_W, C_b=C_b, K1=K1_of(x, C_W, C_b))
    full = ens.full()
    ratio = ens.derived(lambda f, c: f[2] / f[1] ** 2)
    z = [float(full[1].z(ex.Ez2)), float(full[2].z(ex.Ez4)), float(ratio.z(ex.ratio))]
    print(f"\nrelu widths={widths}: E z² {full[1]} vs {ex.Ez2:.5g}, E z⁴ {full[2]} vs {ex.Ez4:.5g}, "
          f"ratio {ratio} vs {ex.ratio:.5g}; z = {np.round(z, 2)}")
    assert max(abs(v) for v in z) < Z


def test_relu_leading_order_rejected_n64_L8():
    """3Π(1 + 5/n)^L holds at n = 64, L = 8 and 3(1 + 5L/n) is rejected (docs/physics.md §4)."""
    n, L = 64, 8
    x = [1.0]
    model = mlp_model([n] * L, "relu", 2.0, 0.0, output="sigma")
    # 24k networks: the leading-order formula is rejected with margin (z 7.5-12 over keys 3-5; at 12k, 4.5-9)
    ens = nnft.ensemble(model, one_input(x)[:2], samples=24_000, key=3)
    r = ens.derived(lambda f, c: f[1] / f[0] ** 2)               # E Σ²/(E Σ)² = E z⁴/(3(E z²)²)
    exact = F.relu_moments([n] * L, C_W=2.0, C_b=0.0, K1=2.0).ratio / 3
    lead = F.relu_leading_ratio([n] * L) / 3
    z_ex, z_lead = float(r.z(exact)), float(r.z(lead))
    z_k = float(ens.full()[0].z(2.0))
    print(f"\nrelu n=64 L=8: E z⁴/(3(E z²)²) = {r}; exact {exact:.5f} (z {z_ex:.2f}), "
          f"leading {lead:.5f} (z {z_lead:.2f}); E z² z = {z_k:.2f}")
    assert abs(z_ex) < Z and abs(z_k) < Z
    assert z_lead > Z


def test_sigma_field_is_the_output_variance():
    """The Σ field and the output field of the same architecture agree (E z² = EΣ, E z⁴ = 3EΣ²)."""
    widths, C_W, C_b, x = [8, 8], 2.0, 0.3, [0.8]
    ex = F.relu_moments(widths, C_W=C_W, C_b=C_b, K1=K1_of(x, C_W, C_b))
    s = nnft.ensemble(mlp_model(widths, "relu", C_W, C_b, output="sigma"), one_input(x)[:2], samples=100_000, key=5)
    full = s.full()
    z = [float(full[0].z(ex.Ez2)), float(full[1].z(ex.Ez4 / 3))]
    print(f"\nΣ field: E Σ {full[0]}, E Σ² {full[1]}; z = {np.round(z, 2)}")
    assert max(abs(v) for v in z) < Z


# ---- tanh at criticality: leading finite-width corrections ---------------------------------

def test_tanh_critical_leading_order():
    """C_W = 1, C_b = 0, n = 16, L = 4: κ4 matches Thm 4.2 within O(1/n²), E z² matches K + δ (the
    O(1/n)-shifted two-point function), and the infinite-width K alone is rejected."""
    n, L, C_W, C_b, x = 16, 4, 1.0, 0.0, [1.0]
    model = mlp_model([n] * L, "tanh", C_W, C_b, output="sigma")
    ens = nnft.ensemble(model, one_input(x)[:2], samples=100_000, key=7)
    G2 = ens.full()[0]                          # E z² = E Σ
    k4 = ens.connected()[1]                     # κ4 = Var Σ
    lo = F.leading_order("tanh", [n] * L, C_W=C_W, C_b=C_b, K1=K1_of(x, C_W, C_b))
    K, Kd, k4_lo = lo.K[-1], lo.G2[-1], lo.kappa4_lh[-1]
    allowance = 0.25 * (L / n) * k4_lo          # O(L²/n²)·K²: relative O(L/n) corrections to κ4 (measured 2.7%)
    z_shift, z_K, z_k4 = float(G2.z(Kd)), float(G2.z(K)), float(k4.z(k4_lo))
    print(f"\ntanh n={n} L={L}: E z² {G2} vs K+δ {Kd:.6f} (z {z_shift:.2f}), K {K:.6f} (z {z_K:.2f}); "
          f"κ4 {k4} vs {k4_lo:.6g} (z {z_k4:.2f}, allowance {allowance:.2g} = {allowance / float(k4.stderr):.1f}σ; "
          f"Gaussian z {float(k4.z(0.0)):.0f})")
    assert abs(z_shift) < Z
    assert abs(z_K) > 10
    assert abs(float(k4.mean) - k4_lo) < Z * float(k4.stderr) + allowance
    assert float(k4.z(0.0)) > 50


# ---- deep linear: exact G4c ------------------------------------------------------------------

def test_deep_linear_g4c():
    widths, C_W = [8, 12], 1.5
    X = np.array([[1.0, 0.0, 0.5], [0.3, 1.0, 0.0], [0.0, -0.4, 1.0], [1.0, 1.0, 1.0]])
    tuples = [X, X[[0, 0, 1, 1]], X[[2, 2, 2, 2]], X[[0, 3]]]
    model = mlp_model(widths, "linear", C_W, 0.0, d=3)
    ens = nnft.ensemble(model, tuples, samples=200_000, key=11)
    conn = ens.connected()
    want = [F.deep_linear_g4c(X[list(i)], C_W=C_W, widths=widths) for i in ([0, 1, 2, 3], [0, 0, 1, 1], [2, 2, 2, 2])]
    want.append(F.deep_linear_g2(X[0], X[3], C_W=C_W, depth=2))
    z = conn.z(np.array(want))
    print(f"\ndeep linear widths={widths}: G4c {conn} vs {np.round(want, 4)}; z = {np.round(z, 2)}")
    assert np.all(np.abs(z) < Z)
    assert np.all(np.abs(conn.mean[:3]) / conn.stderr[:3] > 5)        # decisively non-zero
