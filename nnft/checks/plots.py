"""Plots of checker evidence: cluster decay profiles and RP eigenvalue spectra (matplotlib, Agg)."""

from __future__ import annotations

import numpy as np


def plot_result(result, path=None):
    """Decay profile (cluster) or eigenvalue spectrum (RP) of a :class:`CheckResult`; returns the figure."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 3.5))
    data = result.data
    if "profile" in data:
        a = data["distances"]
        for k, e in enumerate(data["directions"]):
            for j, N in enumerate(data["widths"]):
                ax.errorbar(a, data["profile"][j, k], data["profile_err"][j, k], marker="o", capsize=2,
                            label=f"e={np.round(e, 2).tolist()}, N={N}")
        ax.axhline(0, color="k", lw=0.5)
        ax.set_xlabel("|a|")
        ax.set_ylabel("connected correlator")
    elif "eigenvalues" in data:
        w, err = data["eigenvalues"], data.get("eigenvalue_err", np.zeros_like(data["eigenvalues"]))
        ax.errorbar(np.arange(len(w)), w, err, marker="o", ls="none", capsize=2, label="estimate")
        if "exact_eigenvalues" in data:
            ax.plot(np.arange(len(w)), data["exact_eigenvalues"], "x", label="exact")
        ax.axhline(0, color="k", lw=0.5)
        ax.set_yscale("symlog", linthresh=max(1e-6, float(np.max(np.abs(w))) * 1e-3))
        ax.set_xlabel("index")
        ax.set_ylabel("eigenvalue of M")
    else:
        ax.bar(np.arange(len(data.get("z", []))), np.abs(data.get("z", [])))
        ax.axhline(result.threshold, color="r")
        ax.set_ylabel("|z|")
    ax.set_title(f"{result.check}: {result.verdict}", fontsize=9)
    ax.legend(fontsize=6)
    fig.tight_layout()
    if path:
        fig.savefig(path, dpi=120)
        plt.close(fig)
    return fig
