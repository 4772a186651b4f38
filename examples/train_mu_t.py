"""A trained ensemble over time: E f_t(x) and Var f_t(x) with Monte Carlo error bands over the
infinite-width linearised GP μ_t, Σ_t (Lee et al. arXiv:1902.06720 eq. 14-16; TASI arXiv:2408.00082
eq. 96-99), and the training loss beside E L_t.

One hidden erf layer (d = 1, biases) in the NTK parameterisation, square loss on three points of
sin(πx/2), full-batch gradient descent at lr = 0.5 (η_crit ≈ 1.15), test points inside (x = ±0.5) and
outside (x = 1.5) the data. The same from the shell: ``nnft train SPEC.yaml --out run.nc`` with the
spec below written to a file (docs/training.md).

Run:
  python examples/train_mu_t.py [--width 1024] [--networks 256] [--out train_mu_t.png]
      ~20 s CPU at the defaults (80 s wall on two cores shared with other jobs).
"""

import argparse

import numpy as np

import nnft

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--width", type=int, default=1024)
ap.add_argument("--networks", type=int, default=256)
ap.add_argument("--out", default="train_mu_t.png")
a = ap.parse_args()

spec = {"nnft": 1, "name": "erf-train", "dims": {"d": 1, "N": a.width},
        "constants": {"sigma_w": 1.0, "sigma_b": 0.5, "lr": 0.5},
        "params": {"W0": {"shape": ["N", "d"], "density": {"normal": {"std": "sigma_w / sqrt(d)"}}},
                   "b0": {"shape": ["N"], "density": {"normal": {"std": "sigma_b"}}},
                   "W1": {"shape": ["N"], "density": {"normal": {"std": "sigma_w / sqrt(N)"}}},
                   "b1": {"shape": [], "density": {"normal": {"std": "sigma_b"}}}},
        "field": "sum_N(W1 * erf(W0 @ x + b0)) + b1",
        "train": {"inputs": {"list": [[-1.0], [0.0], [1.0]]}, "target": "sin(pi * x / 2)",
                  "test": {"list": [[-0.5], [0.5], [1.5]]}, "lr": "lr", "steps": 12,
                  "record": list(range(13)), "networks": a.networks, "loss": "square"}}
r = nnft.train(nnft.compile(nnft.from_dict(spec)))
print(r.table())

import matplotlib                                    # noqa: E402
matplotlib.use("Agg")
import matplotlib.pyplot as plt                      # noqa: E402

th, t = r.theory, r.times
fig, ax = plt.subplots(1, 3, figsize=(13, 3.8))
for p, x in enumerate(r.test[:, 0]):
    m, e = r.mean.mean[:, p], r.mean.stderr[:, p]
    line, = ax[0].plot(t, th.mean[:, p], label=f"μ_t(x = {x:g})")
    ax[0].fill_between(t, m - 2 * e, m + 2 * e, color=line.get_color(), alpha=0.3)
    v, ve = r.var.mean[:, p], r.var.stderr[:, p]
    ax[1].semilogy(t, np.diagonal(th.cov, axis1=1, axis2=2)[:, p], color=line.get_color())
    ax[1].fill_between(t, np.maximum(v - 2 * ve, 1e-6), v + 2 * ve, color=line.get_color(), alpha=0.3)
ax[2].semilogy(t, th.loss, "k", label="E L_t (theory)")
ax[2].fill_between(t, r.loss.mean - 2 * r.loss.stderr, r.loss.mean + 2 * r.loss.stderr, color="k", alpha=0.3,
                   label=f"MC ± 2σ ({r.mean.n} networks)")
ax[0].set(xlabel="t = η k", ylabel="E f_t(x)", title=f"mean (N = {a.width}; bands: MC ± 2σ)")
ax[1].set(xlabel="t = η k", ylabel="Var f_t(x)", title="variance")
ax[2].set(xlabel="t = η k", ylabel="training loss", title=f"loss (η_crit = {th.eta_crit:.3g})")
ax[0].legend(fontsize=8)
ax[2].legend(fontsize=8)
fig.tight_layout()
fig.savefig(a.out, dpi=120)
print(f"saved: {a.out}")
