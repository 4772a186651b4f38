"""Two-point functions of the shipped single-layer theories: Monte Carlo vs exact, G⁽²⁾(0, r·e₁) vs r.

Reproduces the lectures' 2-point results (TASI eq. 60-74, docs/physics.md §1-4, §8), each exact at every
width N: Cos-net and Gauss-net G2 = (σ_w1²/2) exp(−σ_w0² r²/(2d)); Scalar-net, the free scalar with a
hard momentum cutoff Λ (the sharp cutoff makes it ring); the Cauchy-frequency Cos-net,
e^{−m r}/(2m), the d = 1 free propagator with no cutoff; and the ReLU / Erf one-hidden-layer NNGP
kernels (arc-cosine / arcsine). Points come from ``nnft.measure`` (one ensemble per theory, error
bars = 1 standard error), curves from ``nnft.exact``, panels from ``nnft.plot.two_point``.

Run:  python examples/two_point_gallery.py [--out two_point_gallery.png] [--samples 100000]
(about 30-60 s on 2 CPU cores).
"""

import argparse

import numpy as np

import nnft
import nnft.plot
from nnft.results import to_dataset

GALLERY = {"cos_net": 3.0, "gauss_net": 2.0, "scalar_net": 4.0, "cauchy_scalar_1d": 4.0, "relu_net": 3.0,
           "erf_net": 3.0}                                    # spec name -> largest separation r


def pairs(d, rs):
    return [np.stack([np.zeros(d), r * np.eye(d)[0]]) for r in rs]


ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--out", default="two_point_gallery.png")
ap.add_argument("--samples", type=int, default=100_000, help="networks per theory")
ap.add_argument("--points", type=int, default=13, help="Monte Carlo separations per theory")
args = ap.parse_args()
fig, axes = nnft.plot.pyplot(headless=True).subplots(2, 3, figsize=(13, 7.5))
for k, (ax, (name, rmax)) in enumerate(zip(axes.flat, GALLERY.items())):
    model = nnft.compile(nnft.load(name))
    rs, fine = np.linspace(0.0, rmax, args.points), np.linspace(0.0, rmax, 201)
    mc = nnft.measure(model, pairs(model.d, rs), samples=args.samples, key=k)
    z = mc.full.z(nnft.exact(model, pairs(model.d, rs)).full[0])
    print(f"{name:<18} max|z| = {np.max(np.abs(z)):.2f}")
    nnft.plot.two_point(to_dataset(mc, tuples=pairs(model.d, rs), theory=model.theory, samples=args.samples), ax=ax,
                        curve=(fine, nnft.exact(model, pairs(model.d, fine)).full[0]))
    ax.set_title(f"{name} (d = {model.d}); max|z| = {np.max(np.abs(z)):.1f}", fontsize=10)
fig.tight_layout()
fig.savefig(args.out, dpi=110)
print(f"wrote {args.out}")
