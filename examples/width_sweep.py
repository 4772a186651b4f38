"""Cos-net non-Gaussianity is O(1/N): G_c⁽⁴⁾(0,0,0,0) vs width N (TASI eq. 50-51, 68-71).

By the neuron-sum theorem (docs/physics.md §0, §2) the connected 4-point function of
φ(x) = Σᵢ w1ᵢ cos(w0ᵢ·x + bᵢ), w1 ~ N(0, σ_w1²/N), is exactly 1/N times a per-neuron cumulant; at the
coincident point G_c⁽⁴⁾(0,0,0,0) = σ_w1⁴ (3·⅜ − 3·¼)/N = 3σ_w1⁴/(8N). (docs/physics.md §2 prints 3σ_w1⁴/(4N);
the library's exact values, used here, give 3/(8N).)

Three estimates are compared for N = 2..1024:
  * neuron level: ONE run of ``nnft.neuron_measure(..., widths=[2, ..., 1024])`` (exact in N: the
    per-neuron moments are estimated once, the readout moments are exact at each N);
  * brute force: ``nnft.measure`` on whole width-N networks, N = 2..32 (beyond that the 1/N signal
    drowns in the O(1) noise of φ⁴ at any affordable sample count);
  * exact: ``nnft.exact(model, tuples, widths=...)``.
Output: a table with z-scores and a log-log plot (left) plus N·G_c⁽⁴⁾ (right, flat = exactly 1/N).

Run:  python examples/width_sweep.py [--out cos_net_width_sweep.png] [--samples 1000000] [--neurons 4000000]
(about a minute on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import NullLocator  # noqa: E402
import numpy as np  # noqa: E402

import nnft  # noqa: E402

WIDTHS = [2 ** k for k in range(1, 11)]          # 2 .. 1024
BRUTE = [2, 4, 8, 16, 32]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="cos_net_width_sweep.png")
    ap.add_argument("--samples", type=int, default=1_000_000, help="networks per brute-force width")
    ap.add_argument("--neurons", type=int, default=4_000_000, help="single-neuron samples (neuron level)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()

    spec = nnft.compile(nnft.load("cos_net"))                      # N = 16 in the spec; ψ does not depend on N
    x0 = [np.zeros((4, spec.d))]                                    # the tuple (0, 0, 0, 0)
    ex = nnft.exact(spec, x0, widths=WIDTHS).connected[:, 0]
    nm = nnft.neuron_measure(spec, x0, neurons=args.neurons, widths=WIDTHS, key=0).connected[:, 0]

    brute = {}
    for i, N in enumerate(BRUTE):
        model = nnft.compile(nnft.load("cos_net", N=N))
        brute[N] = nnft.measure(model, x0, samples=args.samples, key=100 + i).connected[0]
        assert np.isclose(nnft.exact(model, x0).connected[0, 0], ex[WIDTHS.index(N)])

    print(f"Cos-net G_c4(0,0,0,0), exact = 3/(8N); neuron level: {nm.n:,} neurons, "
          f"brute force: {args.samples:,} networks per N")
    print(f"{'N':>5} {'exact':>11} {'neuron level':>24} {'z':>6} {'brute force':>24} {'z':>6}")
    for k, N in enumerate(WIDTHS):
        e = nm[k]
        row = f"{N:>5} {ex[k]:>11.6f} {repr(e):>24} {float(e.z(ex[k])):>6.2f}"
        if N in brute:
            b = brute[N]
            row += f" {repr(b):>24} {float(b.z(ex[k])):>6.2f}"
        print(row)
    print("(neuron-level z is the same at every N: all widths share one set of per-neuron moments)")

    W = np.asarray(WIDTHS, dtype=float)
    Wb = np.asarray(BRUTE, dtype=float)
    bm = np.array([float(brute[N].mean) for N in BRUTE])
    be = np.array([float(brute[N].stderr) for N in BRUTE])
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.4))
    ax.plot(W, ex, "k-", lw=1.2, label="exact  3/(8N)", zorder=1)
    ax.errorbar(W, nm.mean, nm.stderr, fmt="o", ms=5, capsize=3, color="C0", label="neuron level (one run; errors < marker)")
    ok = bm > 0                                                     # log axis: plot positive estimates only
    ax.errorbar(Wb[ok], bm[ok], be[ok], fmt="s", ms=6, mfc="none", capsize=3, color="C3",
                label=f"brute force ({args.samples:,.0f} nets/N)")
    ax.set(xscale="log", yscale="log", xlabel="width N", ylabel=r"$G_c^{(4)}(0,0,0,0)$",
           title="Cos-net non-Gaussianity vs width")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=9)

    ax2.axhline(3 / 8, color="k", lw=1.2, label="exact  N·G = 3/8")
    ax2.errorbar(W, W * nm.mean, W * nm.stderr, fmt="o", ms=5, capsize=3, color="C0", label="neuron level")
    ax2.errorbar(Wb, Wb * bm, Wb * be, fmt="s", ms=6, mfc="none", capsize=3, color="C3", label="brute force")
    ax2.set_xscale("log")
    ax2.set(xlabel="width N", ylabel=r"$N \cdot G_c^{(4)}(0,0,0,0)$", title="flat line = exactly O(1/N)")
    ax2.grid(True, which="both", alpha=0.3)
    ax2.legend(fontsize=9)
    for a in (ax, ax2):
        a.set_xticks(WIDTHS, [str(n) for n in WIDTHS], fontsize=8)
        a.xaxis.set_minor_locator(NullLocator())
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out} ({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
