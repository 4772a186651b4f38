"""The Scalar-net power spectrum: Monte Carlo beside θ(Λ − |p|)/(p² + m²) (TASI arXiv:2408.00082 eq. 72-74).

Two routes (docs/spectrum.md): the neuron route (the frequency law weighted by the squared amplitude, averaged
over a window of half-width h; exact in N) and the lattice periodogram of whole networks on a box (its theory
is the exact lattice expectation: the continuum smoothed by the Fejér window of the box). Both are drawn with
``nnft.plot.spectrum`` on one figure, with the continuum closed form as a line.

Run:  python examples/power_spectrum.py [--out scalar_net_spectrum.png] [--neurons 1000000] [--samples 20000]
"""

import argparse

import matplotlib.pyplot as plt
import numpy as np

import nnft
import nnft.plot

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--out", default="scalar_net_spectrum.png")
ap.add_argument("--neurons", type=int, default=1_000_000)
ap.add_argument("--samples", type=int, default=20_000)
args = ap.parse_args()

model = nnft.compile(nnft.load("scalar_net"))                    # d = 1, m = 1, Λ = 5
p = np.linspace(0.0, 6.0, 25)[:, None]
neurons = nnft.power_spectrum(model, p, window=0.1, neurons=args.neurons, key=0)
lattice = nnft.power_spectrum(model, box=[[-8.0, 8.0]], lattice=32, samples=args.samples, key=1)
print(neurons.table(), "\n")
print(lattice.table())

fig, ax = plt.subplots(figsize=(6, 4))
nnft.plot.spectrum(neurons, ax=ax)
nnft.plot.spectrum(lattice, ax=ax, continuum=False)
ax.set_title("Scalar-net G̃(p): neuron route and lattice periodogram vs θ(Λ−|p|)/(p²+m²)", fontsize=9)
fig.savefig(args.out, dpi=120)
print(f"figure: {args.out}")
