"""Variance of G2 and G_c⁽⁴⁾ against the momentum design α and the distance r (issue 13 item 2; Zhang,
arXiv:2604.27050): the d = 1 Scalar-net (m = 1, Λ = 5, default N = 10) with momenta from the propagator^(1+α) and
compensating amplitudes (``nnft.scalar_net_design``, docs/spectrum.md), α ∈ {−1, −½, 0, ½}.

    PYTHONPATH=. python bench/design_alpha.py [--samples 50000] [--N 50] [--seed 0]

Per α and r it prints G2(0, r) (MC ± error, the exact value, z); the per-network variance of the G2 estimator,
Var[φ(0)φ(r)] = G4(0,0,r,r) − G2(r)² (MC from the same ensemble with a jackknife error; exact from
nnft.analytic.scalar_design's per-neuron moments, = G_c⁽⁴⁾ + G2(0)² + G2(r)²; z) and its relative size
sd/G2; G_c⁽⁴⁾(0,0,r,r) (MC ± error, exact = (1/N)[μ4 M4 − μ2²(M2(0)² + 2M2(r)²)], z) and the per-network
standard deviation of the G_c⁽⁴⁾ estimate (stderr·√n from the 64-block jackknife, itself uncertain by ~9 %).
Same G2 at every α; the finite-N pieces (G_c⁽⁴⁾, the variances) depend on α. No timings.
"""

import argparse
import math
import warnings

import numpy as np

import nnft
from nnft.analytic.scalar_design import ALPHAS, moment

R = (0.0, 0.5, 1.0, 2.0, 3.0, 4.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=50_000)
    ap.add_argument("--N", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    N, mu2, mu4 = args.N, 1.0, 3.0          # W1 ~ N(0, 1/N): μ2 = N E[v²] = 1, μ4 = N² E[v⁴] = 3
    print(f"d = 1 Scalar-net, m = 1, Λ = 5, N = {N}, {args.samples} networks per α, seed {args.seed}")
    print(f"{'α':>5} {'r':>4} {'G2 MC':>18} {'G2 exact':>9} {'z':>6} {'Var[φφ] MC':>17} {'exact':>7} {'z':>6} "
          f"{'sd/G2':>7} {'G_c4(0,0,r,r) MC':>20} {'exact':>9} {'z':>6} {'sd[G_c4]':>9}")
    summary = []
    for alpha in ALPHAS:
        model = nnft.compile(nnft.scalar_net_design(alpha, N=N))
        tuples = [np.array([[0.0], [r]]) for r in R] + [np.array([[0.0], [0.0], [r], [r]]) for r in R]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ens = nnft.ensemble(model, tuples, samples=args.samples, key=args.seed)
        k = len(R)
        full, conn = ens.full(), ens.connected()
        var = ens.derived(lambda f, c: f[..., k:] - f[..., :k] ** 2)
        m20 = moment(alpha, [0.0, 0.0])
        sd_row = []
        for i, r in enumerate(R):
            m2r = moment(alpha, [0.0, r])
            m4 = moment(alpha, [0.0, 0.0, r, r])
            g2, g4c = mu2 * m2r, (mu4 * m4 - mu2 ** 2 * (m20 ** 2 + 2 * m2r ** 2)) / N
            var_exact = g4c + (mu2 * m20) ** 2 + g2 ** 2
            e2, ec, ev = full[i], conn[k + i], var[i]
            sdc = float(ec.stderr) * math.sqrt(ec.n)
            sd_row.append(var_exact)
            print(f"{alpha:>5g} {r:>4g} {float(e2.mean):>10.5f} ± {float(e2.stderr):.5f} {g2:>9.5f} "
                  f"{float((e2.mean - g2) / e2.stderr):>+6.2f} {float(ev.mean):>8.4f} ± {float(ev.stderr):.4f} "
                  f"{var_exact:>7.4f} {float((ev.mean - var_exact) / ev.stderr):>+6.2f} {math.sqrt(var_exact) / abs(g2):>7.2f} "
                  f"{float(ec.mean):>11.5f} ± {float(ec.stderr):.5f} {g4c:>9.5f} {float((ec.mean - g4c) / ec.stderr):>+6.2f} "
                  f"{sdc:>9.4f}")
        summary.append((alpha, sd_row))
    print("\nexact per-network variance of the G2 estimator, Var[φ(0)φ(r)], by α; columns r = "
          + ", ".join(f"{r:g}" for r in R))
    for alpha, row in summary:
        print(f"  α = {alpha:>4g}: " + "  ".join(f"{v:.4f}" for v in row))


if __name__ == "__main__":
    main()
