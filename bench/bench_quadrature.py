"""Accuracy sweep of nnft's Gaussian expectations (``nnft.analytic.gaussian``) at large variance.

For every activation with a Gaussian kernel map (tanh, erf, relu, gelu, sigmoid, softplus, cos, sin,
plus swish = z·sigmoid(z)) and both maps F = E σ(u)σ(v) and Ḟ = E σ'(u)σ'(v), on the grid
K11, K22 ∈ {1e-2, 1, 30, 1e3, 1e4} × ρ ∈ {−0.999, −0.5, 0, 0.5, 0.9, 0.999}, compare with nested
adaptive QUADPACK in (u, v) (12σ truncation, break at 0, asked for 1e-12) and print the largest
error relative to max(1, |value|), the worst case, and the time per expectation. cos/sin at K ≳ 10³
oscillate faster than the bivariate rule resolves and are refused ("did not converge"), counted apart.

Seen here (full grid, 150 (K11, K22, ρ) per row): largest error ≤ 2e-14 for tanh, erf, relu, gelu, sigmoid,
softplus and swish, F and Ḟ, at 14-33 ms per expectation; cos/sin are refused at K ≳ 30-1000 (92 or 80 of
150; they have closed forms for kernels) and accepted ones are within 4e-9.

Run:  python bench/bench_quadrature.py [--quick]   (full: ~10-30 min on 2 shared cores; --quick: K ≤ 1e4
on a 3×3×3 grid, F only, ~2 min)
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "trust"))
from test_deep_quadrature import FUNCS, quad2  # noqa: E402

from nnft.analytic.gaussian import expect2  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    Ks = [1e-2, 30.0, 1e4] if args.quick else [1e-2, 1.0, 30.0, 1e3, 1e4]
    rhos = [-0.999, 0.5, 0.999] if args.quick else [-0.999, -0.5, 0.0, 0.5, 0.9, 0.999]
    maps = ["F"] if args.quick else ["F", "dF"]
    print(f"{'activation':<10} {'map':<3} {'n':>4} {'max err':>9} {'worst (K11, K22, ρ)':<28} {'ms/expect':>9} refused")
    for name, which in itertools.product(sorted(FUNCS), maps):
        f = FUNCS[name][0 if which == "F" else 1]
        worst, where, n, refused, t_total = 0.0, None, 0, 0, 0.0
        for k11, k22, rho in itertools.product(Ks, Ks, rhos):
            t0 = time.perf_counter()
            try:
                got = float(expect2(f, f, k11, k22, rho * math.sqrt(k11 * k22)))
            except ValueError:
                refused += 1
                continue
            t_total += time.perf_counter() - t0
            want = quad2(f, f, k11, k22, rho)
            err = abs(got - want) / max(1.0, abs(want))
            n += 1
            if err > worst:
                worst, where = err, (k11, k22, rho)
        print(f"{name:<10} {which:<3} {n:>4} {worst:9.1e} {str(where):<28} {1e3 * t_total / max(n, 1):9.1f} {refused}",
              flush=True)


if __name__ == "__main__":
    main()
