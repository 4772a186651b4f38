"""A finite-but-heavy case for the Pareto-k̂ diagnostic: E z⁴/(E z²)² of a 15-layer, width-32 ReLU MLP
at criticality (C_W = 2, C_b = 0), whose exact value is 3 Π_l (1 + 5/n_l) = 3·(1 + 5/32)^15 ≈ 26.5
(nnft.analytic.finite_width.relu_moments). The per-network z⁴ is so heavy-tailed that 10⁴–10⁵ networks
underestimate the ratio by far more than the jackknife error says; k̂ flags it.

    PYTHONPATH=. python bench/relu_heavy_tail.py [samples ...]
"""

import argparse
import warnings

import numpy as np

import nnft
from nnft.analytic import finite_width as F

ap = argparse.ArgumentParser(description="E z⁴/(E z²)² of a deep critical ReLU MLP against the exact value, with k̂.")
ap.add_argument("samples", type=int, nargs="*", default=[10_000, 100_000], help="networks per run (default: 10000 100000)")
args = ap.parse_args()

L, N = 15, 32
x = np.array([[1.0, 0.0, 0.0]])
model = nnft.compile(nnft.load("relu_mlp", L=L, N=N))
K1 = 2.0 * float(x[0] @ x[0]) / 3
exact = F.relu_moments([N] * L, C_W=2.0, C_b=0.0, K1=K1)
for samples in args.samples:
    for seed in range(3):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ens = nnft.ensemble(model, [np.repeat(x, 2, 0), np.repeat(x, 4, 0)], samples=samples, key=seed)
            full = ens.full()
            ratio = ens.derived(lambda f, c: f[..., 1:2] / f[..., 0:1] ** 2)
        print(f"n={samples} seed={seed}: E z² {full[0]} (exact {exact.Ez2:.4g}, z {float(full[0].z(exact.Ez2)):+.1f}), "
              f"E z⁴/(E z²)² {ratio} (exact {exact.ratio:.4g}, z {float(ratio.z(exact.ratio)[0]):+.1f}); "
              f"k̂: E z² {full.khat[0]:.2f}, E z⁴ {full.khat[1]:.2f}, ratio {ratio.khat[0]:.2f}"
              f"{'  FLAGGED' if ratio.flagged.any() else ''}", flush=True)
