"""False-flag rate of the Pareto-k̂ tail diagnostic on light-tailed theories at their default study
settings (Cos-net, Gauss-net): the fraction of seeds on which any G or G_c entry has k̂ > 0.7.

    PYTHONPATH=. python bench/tail_false_flags.py [seeds] [samples]   (default: the spec's study samples)
"""

import argparse
import warnings

import numpy as np

import nnft
from nnft.spec.points import study_points
from nnft.study import default_tuples

ap = argparse.ArgumentParser(description="False-flag rate of the Pareto-k̂ diagnostic on Cos-net and Gauss-net.")
ap.add_argument("seeds", type=int, nargs="?", default=10, help="seeds per theory (default: 10)")
ap.add_argument("samples", type=int, nargs="?", default=None, help="networks per run (default: the spec's study samples)")
args = ap.parse_args()
seeds, samples_arg = args.seeds, args.samples
for name in ("cos_net", "gauss_net"):
    theory = nnft.load(name)
    model = nnft.compile(theory)
    tuples = default_tuples(study_points(theory), theory.study.correlators.orders)
    samples = samples_arg or theory.study.samples
    worst, flagged = [], 0
    for seed in range(seeds):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mc = nnft.measure(model, tuples, samples=samples, key=1000 + seed)
        k = max(np.nanmax(mc.full.khat), np.nanmax(mc.connected.khat))
        worst.append(k)
        flagged += bool(mc.full.flagged.any() or mc.connected.flagged.any())
    print(f"{name}: {samples} networks, {len(tuples)} tuples, {seeds} seeds: "
          f"max k̂ per run {np.round(worst, 3).tolist()}, runs flagged {flagged}/{seeds}", flush=True)
