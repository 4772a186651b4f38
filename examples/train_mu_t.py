"""Trained ensembles over time, in the NTK parameterisation and in μP: the lectures' figure.

Top row, NTK parameterisation: E f_t(x) and Var f_t(x) with Monte Carlo error bands over the
infinite-width linearised GP μ_t, Σ_t (Lee et al. arXiv:1902.06720 eq. 14-16; TASI arXiv:2408.00082
eq. 96-99), and the training loss beside E L_t. One hidden erf layer (d = 1, biases), square loss on
three points of sin(πx/2), full-batch gradient descent at lr = 0.5 (η_crit ≈ 1.15), test points inside
(x = ±0.5) and outside (x = 1.5) the data, at the largest width.

Bottom row, μP (``parameterisation: mup``: TASI arXiv:2408.00082 eq. 103-106, 121-127 with d = 1/2,
c = 1; one hidden layer, no output bias): the same spec in standard form, lr = 0.5 at every width (μP's
learning rate is O(1); docs/training.md). There is no kernel theory here (features learn), so the figure shows
the ensemble at several widths converging as the width grows: E f_t(x = 1.5) minus its value at the largest
width, with bands, the relative
NTK change √E‖Θ̂_t − Θ̂_0‖² / ‖E Θ̂_0‖ over time, and its final value against the width for both
parameterisations — O(1) in μP, falling as 1/n in the NTK parameterisation (Les Houches
arXiv:2309.01592 eq. 102), with the fitted log-log slopes printed.

The same from the shell: ``nnft train SPEC.yaml --plot run.png`` with one of these specs written to a
file (docs/training.md).

Run:
  python examples/train_mu_t.py [--widths 32,128,512,2048] [--networks 256] [--steps 12] [--out train_mu_t.png]
      ~50 s on two busy CPU cores at the defaults (each width compiles once per parameterisation). Printed:
      the NTK table at the largest width, the relative NTK change per width (e.g. NTK 0.105 → 0.0022 from
      N = 32 to 2048, slope −0.935 ± 0.017; μP 0.345 → 0.282, slope −0.023 ± 0.004: μP's change converges
      to a finite limit, ≈ 0.28, with O(1/N) corrections, so its fitted slope is small but not exactly 0).
"""

import argparse

import numpy as np

import nnft
from nnft.stats import format_value

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--widths", default="32,128,512,2048", help="comma-separated widths N (the top row uses the largest)")
ap.add_argument("--networks", type=int, default=256, help="ensemble size per width")
ap.add_argument("--steps", type=int, default=12, help="gradient steps (every step is recorded)")
ap.add_argument("--out", default="train_mu_t.png")
a = ap.parse_args()
WIDTHS = sorted(int(w) for w in a.widths.split(","))


def spec(N: int, mup: bool) -> dict:
    sp = {"nnft": 1, "name": "erf-train-mup" if mup else "erf-train", "dims": {"d": 1, "N": N},
          "constants": {"sigma_w": 1.0, "sigma_b": 0.5, "lr": 0.5},
          "params": {"W0": {"shape": ["N", "d"], "density": {"normal": {"std": "sigma_w / sqrt(d)"}}},
                     "b0": {"shape": ["N"], "density": {"normal": {"std": "sigma_b"}}},
                     "W1": {"shape": ["N"], "density": {"normal": {"std": "sigma_w / sqrt(N)"}}},
                     "b1": {"shape": [], "density": {"normal": {"std": "sigma_b"}}}},
          "field": "sum_N(W1 * erf(W0 @ x + b0)) + b1",
          "train": {"inputs": {"list": [[-1.0], [0.0], [1.0]]}, "target": "sin(pi * x / 2)",
                    "test": {"list": [[-0.5], [0.5], [1.5]]}, "lr": "lr", "steps": a.steps,
                    "record": list(range(a.steps + 1)), "networks": a.networks, "loss": "square",
                    "parameterisation": "mup" if mup else "ntk", "linearised": False}}
    if mup:                           # μP: no O(1) output bias (its NTK term would set η_crit)
        del sp["params"]["b1"]
        sp["field"] = "sum_N(W1 * erf(W0 @ x + b0))"
    return sp


def relative_change(r):
    """√E‖Θ̂_t − Θ̂_0‖² / ‖E Θ̂_0‖_F over t, with its standard error (the norm's own error is negligible)."""
    norm = np.linalg.norm(r.ntk.mean[0])
    return r.dntk_rms.mean / norm, r.dntk_rms.stderr / norm


def slope(widths, values, errors):
    """Weighted least-squares slope of log(value) against log(N), and its standard error."""
    x, y, s = np.log(widths), np.log(values), np.asarray(errors) / np.asarray(values)
    w = 1 / s ** 2
    A = np.stack([np.ones_like(x), x], axis=1)
    cov = np.linalg.inv(A.T @ (w[:, None] * A))
    return float((cov @ A.T @ (w * y))[1]), float(np.sqrt(cov[1, 1]))


runs = {}
for mup in (False, True):
    for N in WIDTHS:
        runs[mup, N] = nnft.train(nnft.compile(nnft.from_dict(spec(N, mup))))
top = runs[False, WIDTHS[-1]]
print(top.table())
print(f"\nrelative NTK change √E‖ΔΘ‖² / ‖Θ_0‖ after {a.steps} steps (± standard error)")
print(f"{'N':>6} {'NTK parameterisation':>24} {'μP':>24}   final loss (μP)")
final = {mup: [relative_change(runs[mup, N]) for N in WIDTHS] for mup in (False, True)}
for i, N in enumerate(WIDTHS):
    row = [format_value(final[mup][i][0][-1], final[mup][i][1][-1]) for mup in (False, True)]
    print(f"{N:>6} {row[0]:>24} {row[1]:>24}   {runs[True, N].loss.mean[-1]:.3g}")
fits = {}
if len(WIDTHS) >= 2:
    for mup in (False, True):
        fits[mup] = slope(WIDTHS, [f[0][-1] for f in final[mup]], [f[1][-1] for f in final[mup]])
    print(f"log-log slope against N: NTK {fits[False][0]:.3f} ± {fits[False][1]:.3f} (theory −1), "
          f"μP {fits[True][0]:.3f} ± {fits[True][1]:.3f} (theory 0: features learn)")

import matplotlib                                    # noqa: E402
matplotlib.use("Agg")
import matplotlib.pyplot as plt                      # noqa: E402

fig, ax = plt.subplots(2, 3, figsize=(14, 8))
th, t = top.theory, top.times
for p, x in enumerate(top.test[:, 0]):                # top row: NTK parameterisation against the linearised GP
    m, e = top.mean.mean[:, p], top.mean.stderr[:, p]
    line, = ax[0, 0].plot(t, th.mean[:, p], label=f"μ_t(x = {x:g})")
    ax[0, 0].fill_between(t, m - 2 * e, m + 2 * e, color=line.get_color(), alpha=0.3)
    v, ve = top.var.mean[:, p], top.var.stderr[:, p]
    ax[0, 1].semilogy(t, np.diagonal(th.cov, axis1=1, axis2=2)[:, p], color=line.get_color())
    ax[0, 1].fill_between(t, np.maximum(v - 2 * ve, 1e-6), v + 2 * ve, color=line.get_color(), alpha=0.3)
ax[0, 2].semilogy(t, th.loss, "k", label="E L_t (theory)")
ax[0, 2].fill_between(t, top.loss.mean - 2 * top.loss.stderr, top.loss.mean + 2 * top.loss.stderr, color="k",
                      alpha=0.3, label=f"MC ± 2σ ({top.mean.n} networks)")
ax[0, 0].set(xlabel="t = η k", ylabel="E f_t(x)", title=f"NTK param., N = {WIDTHS[-1]}: mean (bands MC ± 2σ, lines theory)")
ax[0, 1].set(xlabel="t = η k", ylabel="Var f_t(x)", title="variance vs linearised-GP Σ_t")
ax[0, 2].set(xlabel="t = η k", ylabel="training loss", title=f"loss (η_crit = {th.eta_crit:.3g})")
ax[0, 0].legend(fontsize=8)
ax[0, 2].legend(fontsize=8)

P_OUT = 2                                             # x = 1.5: outside the data
ref_m, ref_e = runs[True, WIDTHS[-1]].mean.mean[:, P_OUT], runs[True, WIDTHS[-1]].mean.stderr[:, P_OUT]
for i, N in enumerate(WIDTHS):                        # bottom row: μP, no kernel theory
    r, c = runs[True, N], f"C{i}"
    k = r.steps
    if N != WIDTHS[-1]:                               # the mean at N minus the mean at the largest width
        d, e = r.mean.mean[:, P_OUT] - ref_m, np.hypot(r.mean.stderr[:, P_OUT], ref_e)
        ax[1, 0].plot(k, d, "-", color=c, lw=1, label=f"N = {N}")
        ax[1, 0].fill_between(k, d - 2 * e, d + 2 * e, color=c, alpha=0.3)
    rel, rel_e = relative_change(r)
    ax[1, 1].plot(k, rel, "-", color=c, lw=1, label=f"μP N = {N}")
    ax[1, 1].fill_between(k, rel - 2 * rel_e, rel + 2 * rel_e, color=c, alpha=0.3)
    rel, rel_e = relative_change(runs[False, N])
    ax[1, 1].plot(k, rel, "--", color=c, lw=1, label=f"NTK N = {N}")
for mup, style, name in ((True, "o-", "μP"), (False, "s-", "NTK param.")):
    v, e = np.array([f[0][-1] for f in final[mup]]), np.array([f[1][-1] for f in final[mup]])
    label = name + (f": slope {fits[mup][0]:.3f} ± {fits[mup][1]:.3f}" if fits else "")
    ax[1, 2].errorbar(WIDTHS, v, 2 * e, fmt=style, ms=4, capsize=3, label=label)
ref = final[False][0][0][-1]
ax[1, 2].plot(WIDTHS, ref * WIDTHS[0] / np.array(WIDTHS, dtype=float), "k:", lw=1, label="∝ 1/N")
ax[1, 2].set(xscale="log", yscale="log")
ax[1, 0].axhline(0.0, color="k", lw=0.8)
ax[1, 0].set(xlabel="step k (μP: η = 0.5 at every width)", ylabel=f"E f_t(1.5) at N − at N = {WIDTHS[-1]}",
             title=f"μP: mean outside the data (→ {ref_m[-1]:.3f}) converging in N")
ax[1, 1].set(xlabel="step k", ylabel="√E‖Θ_t − Θ_0‖² / ‖Θ_0‖",
             title="relative NTK change: μP (bands) vs NTK (dashed)")
ax[1, 2].set(xlabel="width N", ylabel="relative NTK change after training",
             title="μP: features learn; NTK: frozen as 1/N")
ax[1, 2].set_xticks(WIDTHS, [str(N) for N in WIDTHS])
ax[1, 2].minorticks_off()
for axis in (ax[1, 0], ax[1, 1], ax[1, 2]):
    axis.legend(fontsize=7)
fig.tight_layout()
fig.savefig(a.out, dpi=120)
print(f"saved: {a.out}")
