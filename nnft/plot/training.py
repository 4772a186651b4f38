"""A trained ensemble (``nnft.train``, ``nnft train``) over time: E f_t(x) and Var f_t(x) at the test
points with Monte Carlo error bands over the infinite-width linearised GP μ_t, Σ_t (Lee et al.
arXiv:1902.06720 eq. 14-16; TASI arXiv:2408.00082 eq. 96-99), the training loss with its band beside
E L_t, and the NTK change √E‖Θ̂_t − Θ̂_0‖² with the distance to the linearised network."""

from __future__ import annotations

import numpy as np

from nnft.errors import InputError
from nnft.plot.base import dataset, finish, pyplot, spec_name

#: test points drawn at most (the first ones; ``points=`` picks others)
MAX_POINTS = 6


def _band(ax, t, m, e, color, gid, label=None, marker="o"):
    """Mean ± 1 standard error as a band (gid ``band:<gid>``) with the mean as markers (gid ``<gid>``)."""
    band = ax.fill_between(t, m - e, m + e, color=color, alpha=0.25, lw=0)
    band.set_gid(f"band:{gid}")
    ax.plot(t, m, marker, ms=3.5, color=color, ls="none", label=label, gid=gid)


def training(result, path=None, points=None):
    """The standard figure of a trained ensemble: four panels against t = η k.

    1. E f_t(x) at each drawn test point: Monte Carlo mean (markers, gid ``mean:p``) and its ±1
       standard error band (``band:mean:p``) over the linearised GP μ_t(x) (line ``theory_mean:p``);
    2. Var f_t(x) the same way (``var:p``, ``band:var:p``, ``theory_var:p`` = diag Σ_t), on a log scale
       when every value is positive;
    3. the training loss E L_t with its band (``loss``, ``band:loss``) and the theory's (``theory_loss``),
       on a log scale when every value is positive;
    4. √E‖Θ̂_t − Θ̂_0‖_F² (``dntk_rms``) and, when trained, ‖f_t − f_t^lin‖ (``lin_dist``) with bands.

    Without a theory (``mup``, ``adam``, ``logistic``, weight decay, Langevin noise) the theory lines are
    left out and the reason is written on the figure.

    Args:
      result: a Training (``nnft.train``) or its Dataset (``nnft.load_result``).
      path: write the figure there (.png, .pdf or .svg).
      points: indices of the test points to draw (default: the first :data:`MAX_POINTS`).

    Returns:
      the matplotlib Figure.

    Raises:
      InputError: not a Training, or a test-point index out of range.
    """
    ds, kind = dataset(result)
    if kind != "Training":
        raise InputError(f"training plots a Training (nnft.train), got {kind}")
    P = ds.sizes["point"]
    if points is None:
        points = list(range(min(P, MAX_POINTS)))
    else:
        points = [int(p) for p in np.atleast_1d(points)]
        bad = [p for p in points if not 0 <= p < P]
        if bad:
            raise InputError(f"test point index {bad[0]} is out of range: the result has {P} test points (0 … {P - 1})")
    t = np.asarray(ds["time"].values, dtype=np.float64)
    has_theory = "theory_mean" in ds
    plt = pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(11.0, 7.6), squeeze=False)
    ax_m, ax_v, ax_l, ax_d = axes[0][0], axes[0][1], axes[1][0], axes[1][1]
    x = np.asarray(ds["x"].values, dtype=np.float64)
    mean, mean_e = ds["mean"].values, ds["mean_stderr"].values
    cov, cov_e = ds["cov"].values, ds["cov_stderr"].values
    for i, p in enumerate(points):
        color = f"C{i % 10}"
        where = ",".join(f"{c:.3g}" for c in np.atleast_1d(x[p]))
        _band(ax_m, t, mean[:, p], mean_e[:, p], color, f"mean:{p}", label=f"x = ({where})")
        _band(ax_v, t, cov[:, p, p], cov_e[:, p, p], color, f"var:{p}")
        if has_theory:
            ax_m.plot(t, ds["theory_mean"].values[:, p], "-", color=color, lw=1.2, gid=f"theory_mean:{p}")
            ax_v.plot(t, ds["theory_cov"].values[:, p, p], "-", color=color, lw=1.2, gid=f"theory_var:{p}")
    _band(ax_l, t, ds["loss"].values, ds["loss_stderr"].values, "C0", "loss", label="Monte Carlo ± 1 s.e.")
    if has_theory:
        ax_l.plot(t, ds["theory_loss"].values, "k-", lw=1.2, gid="theory_loss", label="linearised GP E L_t")
    diag = np.diagonal(cov[:, points][:, :, points], axis1=1, axis2=2)
    if diag.size and np.all(diag > 0) and (not has_theory or np.all(np.diagonal(ds["theory_cov"].values, axis1=1,
                                                                                 axis2=2) > 0)):
        ax_v.set_yscale("log")
    lo = ds["loss"].values - ds["loss_stderr"].values
    if np.all(lo > 0) and (not has_theory or np.all(ds["theory_loss"].values > 0)):
        ax_l.set_yscale("log")
    _band(ax_d, t, ds["dntk_rms"].values, ds["dntk_rms_stderr"].values, "C3", "dntk_rms",
          label="√E‖Θ̂_t − Θ̂_0‖²  (NTK change)")
    if "lin_dist" in ds:
        _band(ax_d, t, ds["lin_dist"].values, ds["lin_dist_stderr"].values, "C2", "lin_dist",
              label="‖f_t − f_t^lin‖  (distance to the linearised net)", marker="s")
    ax_m.set(xlabel="t = η k", ylabel="E f_t(x)",
             title="mean: markers ± 1 s.e. band" + ("; lines: linearised GP (n → ∞)" if has_theory else ""))
    ax_v.set(xlabel="t = η k", ylabel="Var f_t(x)", title="variance (connected G_t⁽²⁾(x, x))")
    ax_l.set(xlabel="t = η k", ylabel="training loss", title="loss")
    ax_d.set(xlabel="t = η k", ylabel="distance", title="NTK change and linearisation error")
    for ax in (ax_m, ax_v, ax_l, ax_d):
        ax.grid(True, alpha=0.3)
    ax_m.legend(fontsize=8)
    ax_l.legend(fontsize=8)
    ax_d.legend(fontsize=8)
    if not has_theory:
        ax_m.text(0.02, 0.02, f"no theory: {str(ds.attrs.get('theory_note', ''))[:80]}", transform=ax_m.transAxes,
                  fontsize=7, color="0.3")
    fig.suptitle(_title(ds), fontsize=10)
    fig.tight_layout()
    return finish(fig, path)


def _title(ds) -> str:
    """Name, widths, ensemble size, optimiser and learning rate, parameterisation, η_crit and regime."""
    import json
    s = json.loads(str(ds.attrs.get("settings", "{}")))
    name = spec_name(ds) or str(ds.attrs.get("name", ""))
    dims = ", ".join(f"{k} = {v}" for k, v in (s.get("dims") or {}).items())
    parts = [name, dims, f"{s.get('networks', '?')} networks", f"{s.get('optimizer', '?')} lr = {s.get('lr', '?')}",
             f"{s.get('parameterisation', '?')} parameterisation"]
    if "eta_crit" in ds.attrs:
        parts.append(f"η_crit = {float(ds.attrs['eta_crit']):.3g} ({ds.attrs.get('regime', '')})")
    return " · ".join(p for p in parts if p)
