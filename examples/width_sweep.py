"""Cos-net non-Gaussianity is O(1/N): G_c⁽⁴⁾(0,0,0,0) vs width N (TASI eq. 50-51, 68-71).

By the neuron-sum theorem (docs/physics.md §0, §2) the connected 4-point function of
φ(x) = Σᵢ w1ᵢ cos(w0ᵢ·x + bᵢ), w1 ~ N(0, σ_w1²/N), is exactly 1/N times a per-neuron cumulant; at the
coincident point G_c⁽⁴⁾(0,0,0,0) = σ_w1⁴ (3·⅜ − 3·¼)/N = 3σ_w1⁴/(8N). (docs/physics.md §2 prints 3σ_w1⁴/(4N);
the library's exact values, used here, give 3/(8N).)

Three estimates for N = 2..1024: neuron level (ONE run of ``nnft.neuron_measure(..., widths=...)``,
exact in N), brute force (``nnft.measure`` on whole width-N networks, N = 2..32; beyond that the 1/N
signal drowns in the O(1) noise of φ⁴) and exact (``nnft.exact(model, tuples, widths=...)``), drawn by
``nnft.plot.width_sweep`` with the 1/N and 1/N² guides.

Run:  python examples/width_sweep.py [--out cos_net_width_sweep.png] [--samples 1000000] [--neurons 4000000]
(about a minute on 2 CPU cores).
"""

import argparse

import numpy as np

import nnft
import nnft.plot

WIDTHS, BRUTE = [2 ** k for k in range(1, 11)], [2, 4, 8, 16, 32]
ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--out", default="cos_net_width_sweep.png")
ap.add_argument("--samples", type=int, default=1_000_000, help="networks per brute-force width")
ap.add_argument("--neurons", type=int, default=4_000_000, help="single-neuron samples (neuron level)")
args = ap.parse_args()
model = nnft.compile(nnft.load("cos_net"))                      # ψ does not depend on N
x0 = [np.zeros((4, model.d))]                                   # the tuple (0, 0, 0, 0)
exact = nnft.exact(model, x0, widths=WIDTHS)
nm = nnft.neuron_measure(model, x0, neurons=args.neurons, widths=WIDTHS, key=0)
brute = [nnft.measure(nnft.compile(nnft.load("cos_net", N=N)), x0, samples=args.samples, key=100 + i).connected[0]
         for i, N in enumerate(BRUTE)]
for k, N in enumerate(WIDTHS):
    b = f"   brute force {brute[BRUTE.index(N)]!r}" if N in BRUTE else ""
    print(f"N = {N:>4}  exact {exact.connected[k, 0]:.6f}  neuron level {nm.connected[k, 0]!r}{b}")
fig = nnft.plot.width_sweep(nm, exact=exact)
ax = fig.axes[0]
ax.errorbar(BRUTE, [float(b.mean) for b in brute], [float(b.stderr) for b in brute], fmt="s", mfc="none", capsize=3,
            color="C3", label=f"brute force ({args.samples:,} nets/N) ± 1 s.e.")
ax.legend(fontsize=8)
fig.savefig(args.out, dpi=120)
print(f"wrote {args.out}")
