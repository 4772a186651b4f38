"""Measured false-FAIL rate of the statistical checkers on theories that satisfy the axiom.

    python bench/false_fail_rate.py [--seeds 200] [--alpha 0.05]

Z2 on the Cos-net (G1, G3), translation of G2 on the Cos-net, single-point cluster on the Cos-net
and RP on the Cauchy free scalar: prints FAIL count / seeds next to the declared α.
"""

import argparse

import nnft
from nnft.checks import check_cluster, check_reflection_positivity, check_symmetry

ap = argparse.ArgumentParser()
ap.add_argument("--seeds", type=int, default=200)
ap.add_argument("--alpha", type=float, default=0.05)
a = ap.parse_args()
cos = nnft.compile(nnft.load("cos_net", N=2, d=1))
cau = nnft.compile(nnft.load("cauchy_scalar_1d", N=8))
runs = {
    "z2 cos-net G1,G3": lambda s: check_symmetry(cos, "z2", orders=(1, 3), configs=4, samples=4000, key=s, alpha=a.alpha),
    "translation cos-net G2": lambda s: check_symmetry(cos, "translation", orders=(2,), configs=4, samples=4000,
                                                       key=s, alpha=a.alpha),
    "cluster point cos-net": lambda s: check_cluster(cos, moved=(3,), distances=(0, 2, 8), samples=20000, key=s,
                                                     alpha=a.alpha),
    "RP cauchy scalar": lambda s: check_reflection_positivity(cau, samples=20000, key=s, alpha=a.alpha),
}
for name, fn in runs.items():
    fails = sum(fn(1000 + s).failed for s in range(a.seeds))
    print(f"{name:<26} FAIL {fails:>4}/{a.seeds} = {fails / a.seeds:.3f}   declared α = {a.alpha}")
