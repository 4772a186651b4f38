"""Phase diagrams of deep MLPs at infinite width: χ⊥(K*) on the (C_b, C_W) plane with the critical line.

    python examples/phase_diagram.py [out.png]

Ordered (χ⊥ < 1) and chaotic (χ⊥ > 1) phases for tanh and relu (docs/physics.md §4); the critical line
is χ⊥(K*) = 1 (tanh: from (C_b, C_W) = (0, 1); relu: C_W = 2 for every C_b).
Takes several minutes on 2 cores (about 5 min measured under load): every tanh cell solves for K* with
Gaussian quadrature; relu uses closed forms and takes well under a second.
"""

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from nnft.analytic.criticality import phase_diagram  # noqa: E402


def main(out="phase_diagram.png"):
    cbs = np.linspace(0.0, 0.3, 25)
    cws = np.linspace(0.5, 3.5, 41)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), constrained_layout=True)
    for ax, act in zip(axes, ["tanh", "relu"]):
        pd = phase_diagram(act, cbs, cws)
        chi = np.clip(pd.chi_perp, 0.0, 2.0)
        im = ax.pcolormesh(pd.C_W, pd.C_b, chi, cmap="RdBu_r", vmin=0.0, vmax=2.0, shading="nearest")
        ax.plot(pd.critical_C_W, pd.C_b, "k-", lw=2, label="critical line χ⊥(K*) = 1")
        ax.set(xlabel="C_W", ylabel="C_b", title=f"{act}: χ⊥(K*)  (blue ordered, red chaotic)")
        ax.legend(loc="upper left", fontsize=8)
    fig.colorbar(im, ax=axes, label="χ⊥(K*) (clipped at 2)")
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="χ⊥(K*) on the (C_b, C_W) plane for tanh and relu, with the critical line.")
    ap.add_argument("out", nargs="?", default="phase_diagram.png", help="output image (default: phase_diagram.png)")
    main(ap.parse_args().out)
