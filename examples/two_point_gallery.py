"""Two-point functions of the shipped single-layer theories: Monte Carlo vs exact, G⁽²⁾(0, r·e₁) vs r.

Reproduces the lectures' 2-point results (TASI eq. 60-74, docs/physics.md §1-4, §8), each exact at every
width N: Cos-net and Gauss-net G2 = (σ_w1²/2) exp(−σ_w0² r²/(2d)); Scalar-net, the free scalar with a
hard momentum cutoff Λ (the sharp cutoff makes it ring); the Cauchy-frequency Cos-net,
e^{−m r}/(2m), the d = 1 free propagator with no cutoff; and the ReLU / Erf one-hidden-layer NNGP
kernels (arc-cosine / arcsine). Points come from ``nnft.measure`` (one ensemble per theory, error
bars = 1 standard error), curves from ``nnft.exact``.

Run:  python examples/two_point_gallery.py [--out two_point_gallery.png] [--samples 100000]
(about 30-60 s on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import nnft  # noqa: E402

# spec name -> (largest r, panel title)
GALLERY = {
    "cos_net": (3.0, "Cos-net (d=2): Gaussian kernel"),
    "gauss_net": (2.0, "Gauss-net (d=1): Gaussian kernel"),
    "scalar_net": (4.0, "Scalar-net (d=1, Λ=5): cutoff free scalar"),
    "cauchy_scalar_1d": (4.0, r"Cauchy Cos-net (d=1): $e^{-mr}/(2m)$"),
    "relu_net": (3.0, "ReLU net (d=1): arc-cosine kernel"),
    "erf_net": (3.0, "Erf net (d=1): arcsine kernel"),
}


def pairs(d: int, rs) -> list[np.ndarray]:
    e1 = np.eye(d)[0]
    return [np.stack([np.zeros(d), r * e1]) for r in rs]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="two_point_gallery.png")
    ap.add_argument("--samples", type=int, default=100_000, help="networks per theory")
    ap.add_argument("--points", type=int, default=13, help="Monte Carlo separations per theory")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()

    fig, axes = plt.subplots(2, 3, figsize=(13, 7.5))
    print(f"{'spec':<18}{'N':>4}{'max|z|':>8}{'rms z':>7}{'time/s':>8}")
    for k, (name, (rmax, title)) in enumerate(GALLERY.items()):
        t = time.perf_counter()
        model = nnft.compile(nnft.load(name))
        rs = np.linspace(0.0, rmax, args.points)
        fine = np.linspace(0.0, rmax, 201)
        mc = nnft.measure(model, pairs(model.d, rs), samples=args.samples, key=k).full
        ex_pts = nnft.exact(model, pairs(model.d, rs)).full[0]
        ex_curve = nnft.exact(model, pairs(model.d, fine)).full[0]
        z = mc.z(ex_pts)
        N = model.theory.dims[model.structure.neuron_sum.width]
        print(f"{name:<18}{N:>4}{np.max(np.abs(z)):>8.2f}{np.sqrt(np.mean(z ** 2)):>7.2f}"
              f"{time.perf_counter() - t:>8.1f}")

        ax = axes.flat[k]
        ax.plot(fine, ex_curve, "k-", lw=1.2, label="exact")
        ax.errorbar(rs, mc.mean, mc.stderr, fmt="o", ms=4, capsize=3, color="C0",
                    label=f"MC ±1σ, N={N}, {args.samples:,} nets\nmax|z| = {np.max(np.abs(z)):.1f}")
        ax.axhline(0.0, color="0.6", lw=0.6)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("r")
        ax.set_ylabel(r"$G^{(2)}(0, r\,e_1)$")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out} ({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
