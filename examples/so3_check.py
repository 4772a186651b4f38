"""SO(3) of a 3-component Gauss-net: the internal symmetry passes, and a readout mean breaks it.

    python examples/so3_check.py [samples]

The shipped spec ``gauss_net_vector`` is a vector field φ: ℝ → ℝ³ (``components: D``; TASI
arXiv:2408.00082 eq. 52-54) whose readout W1 [N, D] is i.i.d. N(0, σ²/(2N)): isotropic in component
space, so every correlator ⟨Πᵢ uᵢ·φ(xᵢ)⟩ is invariant under uᵢ → Ruᵢ, R ∈ SO(3) (Maiti–Stoner–Halverson
arXiv:2106.00694). The checker compares G(U; X) with G(RᵀU; X) on one ensemble; the first run is
proven from the graph and consistent with the samples, the second (W1 ~ N(0.05, 0.25²), so
⟨φ_a(x)⟩ = 0.05 N E[ψ(x)] along (1, 1, 1)) FAILs, and its proof is withdrawn. The component two-point
matrix G_ab(x, y) = δ_ab G(x, y) is printed beside the closed form. About 30 s on 2 cores.
"""

import dataclasses
import sys

import numpy as np

import nnft
from nnft.analytic.closed_forms import gauss_net_g2
from nnft.checks.internal import check_internal_rotation
from nnft.estimators.local import component_two_point

samples = int(float(sys.argv[1])) if len(sys.argv) > 1 else 20_000

theory = nnft.load("gauss_net_vector", N=8)
model = nnft.compile(theory)
x, y = np.array([0.2]), np.array([-0.1])
G = component_two_point(model, x, y, samples=samples, key=0)
print(f"G_ab(x={x[0]}, y={y[0]}) (Monte Carlo, ± standard error); closed form δ_ab × {gauss_net_g2(x, y, 1.0, 1.0):.4f}")
for a in range(3):
    print("   " + "  ".join(f"{G.mean[a, b]:+.4f} ± {G.stderr[a, b]:.4f}" for b in range(3)))

print("\nisotropic readout W1 ~ N(0, σ²/(2N)):")
print(check_internal_rotation(model, orders=(1, 2), samples=samples, key=1, radius=0.5))

spec = theory.model_dump(mode="python")
spec["params"]["W1"]["density"] = {"normal": {"std": 0.25, "mean": 0.05}}
shifted = nnft.compile(nnft.from_dict(spec))
print("\nshifted readout W1 ~ N(0.05, 0.25²):")
broken = check_internal_rotation(shifted, orders=(1, 2), samples=samples, key=1, radius=0.5)
print(dataclasses.replace(broken, name="internal_rotation", expected="FAIL",
                          reason="a readout mean: ⟨φ_a⟩ = μ N E[ψ] is a fixed vector (arXiv:2106.00694)"))
