"""First-order perturbation theory vs reweighting vs NUTS on specs/phi4_cos_1d.yaml (issue 5).

    python bench/first_order_mc.py [--rw-seeds 8] [--nuts-seeds 1] [--samples 1000000] [--nuts-samples 80000]

Prints, per seed, the z-scores that tests/perturbative/test_first_order_mc.py asserts on at seed 0:
(1) reweighted δG2 (5 pairs) and δG_c4 (3 quads) at λ = 0.002 against λ·c1(N) (exact finite N) and
against wrong answers (N = ∞ tadpole / tree vertex, 2c1, c1/2, no shift); (2) NUTS at λ = 0.15
against G_exact(0) + λ·c1(N), the free theory, 2c1, and reweighting at the same λ, with R̂, ESS and
the measured O(λ²) remainder in units of the NUTS error. Over seeds the right answer should give
z ~ N(0, 1) and the wrong ones |z| ≫ 5. Wall-clock times include JIT compiles (NUTS: ~25-35 s of
its time is compiling the vmapped NUTS kernel) and depend on machine load.
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "perturbative"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import nnft  # noqa: E402
from nnft.estimators.mcmc import mcmc_ensemble  # noqa: E402
from nnft.stats import jackknife_joint  # noqa: E402
from test_first_order_mc import (COS_G, LAM_NUTS, LAM_RW, NUTS_SAMPLES, P, PAIRS, QUADS,  # noqa: E402
                                 SPEC, TUPLES, avg_g2, corr, with_coupling)
from nnft.analytic.perturbative import delta_g2_gaussian, g4c_gaussian  # noqa: E402
from nnft.perturbation.first_order import first_order  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--rw-seeds", type=int, default=8)
ap.add_argument("--nuts-seeds", type=int, default=1)
ap.add_argument("--samples", type=int, default=1_000_000)
ap.add_argument("--nuts-samples", type=int, default=NUTS_SAMPLES)
args = ap.parse_args()
np.set_printoptions(precision=2, suppress=True, linewidth=140)

model = nnft.compile(nnft.load(SPEC))
free, ins = model.free(), model.insertions[0]
small = with_coupling(LAM_RW)
fo = first_order(free, TUPLES, ins.points, ins.weights)
c1 = np.concatenate([fo.full[0, :P], fo.connected[0, P:]])
g0 = np.concatenate([fo.full0[0, :P], fo.connected0[0, P:]])
gauss = np.array([delta_g2_gaussian(COS_G, t[0], t[1], ins.points, ins.weights) for t in PAIRS]
                 + [g4c_gaussian(COS_G, t, ins.points, ins.weights) for t in QUADS])
print(f"{SPEC}: d = 1, N = 10; tuples: 5 pairs (δG2), 3 quads (δG_c4)")
print("c1(N)          ", c1)
print("c1(N)/N=∞ form ", c1 / gauss)

print(f"\n(1) reweighting, λ = {LAM_RW}, {args.samples} networks per seed")
for seed in range(args.rw_seeds):
    t = time.time()
    a = nnft.ensemble(free, TUPLES, samples=args.samples, key=seed)
    b = nnft.ensemble(small, TUPLES, samples=args.samples, key=seed)
    d = jackknife_joint([a.sums, b.sums], lambda m0, m1: corr(a.plan, m1) - corr(a.plan, m0))
    print(f"seed {seed} ({time.time() - t:.1f} s)  z(c1N) {d.z(LAM_RW * c1)}")
    for name, coef in (("N=∞", gauss), ("2c1", 2 * c1), ("c1/2", c1 / 2), ("0", 0 * c1)):
        print(f"    z({name:>4}) {d.z(LAM_RW * coef)}")
    print(f"    λ·c1/σ {LAM_RW * c1 / d.stderr}")

print(f"\n(2) NUTS, λ = {LAM_NUTS}, {args.nuts_samples} draws, 4 chains; reweighting {args.samples} networks")
a = nnft.ensemble(free, TUPLES, samples=args.samples, key=0)
c = nnft.ensemble(model, TUPLES, samples=args.samples, key=0)
second = jackknife_joint([a.sums, c.sums], lambda m0, m1: avg_g2(a.plan, m1) - avg_g2(a.plan, m0))
second_each = jackknife_joint([a.sums, c.sums], lambda m0, m1: corr(a.plan, m1) - corr(a.plan, m0))
for seed in range(args.nuts_seeds):
    t = time.time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ens, diag = mcmc_ensemble(model, TUPLES, samples=args.nuts_samples, chains=4, warmup=300, key=seed,
                                  trace_max=args.nuts_samples // 4)
    dt = time.time() - t
    avg = ens.sums.jackknife(lambda m: avg_g2(ens.plan, m))
    each = ens.sums.jackknife(lambda m: corr(ens.plan, m))
    rw_avg = c.sums.jackknife(lambda m: avg_g2(c.plan, m))
    rw_each = c.sums.jackknife(lambda m: corr(c.plan, m))
    s = avg.stderr[0]
    lc1 = LAM_NUTS * np.mean(c1[:P])
    print(f"seed {seed} ({dt:.1f} s)  converged {diag.converged}  max R̂ {diag.max_rhat:.4f}  min bulk ESS "
          f"{diag.min_ess:.0f} ({diag.min_ess / args.nuts_samples:.2f}/draw)  divergences {diag.n_divergent}  "
          f"acceptance {np.mean(diag.acceptance):.3f}")
    print(f"    ⟨G2⟩ over 5 points: σ_NUTS {s:.2e}; λc1/σ {lc1 / s:.2f}; "
          f"measured λ²c2/σ {(second.mean[0] - lc1) / s:.2f} ± {second.stderr[0] / s:.2f}")
    print(f"    z(first order) {avg.z(np.mean(g0[:P]) + lc1)[0]:.2f}   z(free) {avg.z(np.mean(g0[:P]))[0]:.2f}   "
          f"z(2c1) {avg.z(np.mean(g0[:P]) + 2 * lc1)[0]:.2f}   "
          f"z(NUTS − rw) {((avg.mean - rw_avg.mean) / np.hypot(s, rw_avg.stderr))[0]:.2f}")
    print(f"    per tuple z(first order) {each.z(g0 + LAM_NUTS * c1)}")
    print(f"    per tuple z(free)        {each.z(g0)}")
    print(f"    per tuple z(NUTS − rw)   {(each.mean - rw_each.mean) / np.hypot(each.stderr, rw_each.stderr)}")
    print(f"    per tuple λ²c2/σ_NUTS    {(second_each.mean - LAM_NUTS * c1) / each.stderr}")
    print(diag.summary())
