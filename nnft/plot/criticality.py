"""Phase diagrams of deep MLPs at infinite width: χ⊥(K*) on the (C_W, C_b) plane with the critical
line χ⊥ = 1 between the ordered (χ⊥ < 1) and chaotic (χ⊥ > 1) phases (Schoenholz et al.
arXiv:1611.01232 eq. 5-7; Poole et al. arXiv:1606.05340; docs/physics.md §4)."""

from __future__ import annotations

import numpy as np

from nnft.errors import InputError
from nnft.plot.base import dataset, finish, new_axes


def phase_diagram(result=None, *, activation: str | None = None, C_W=None, C_b=None, gamma: float = 0.0,
                  resolution=(9, 13), ax=None, path=None):
    """χ⊥(K*) on a (C_b, C_W) grid (colour, clipped at 2), the critical line and, for a result, its point.

    Args:
      result: a Criticality (``nnft criticality``) or its Dataset: draws the diagram of its activation
        and residual weight γ with its (C_W, C_b) marked. Or None and ``activation=``.
      activation: e.g. "tanh", "relu" (when no result is given).
      C_W: the grid vector of C_W (default: [0.5, 3.5], widened to hold the point).
      C_b: the grid vector of C_b (default: [0, 0.3], widened to hold the point).
      gamma: residual weight γ (a result's own is used when given).
      resolution: (C_b points, C_W points) of the default grid. tanh costs ~0.4 s per cell (it solves
        for K* by quadrature); relu is closed form.
      ax: axes to draw into.
      path: file to write (.png, .pdf or .svg).

    Returns:
      the matplotlib Figure. The colour mesh holds χ⊥ (gid "chi_perp"); the critical line is exact
      (``critical_line``) for γ = 0, else the χ⊥ = 1 contour of the grid.
    """
    from nnft.analytic.criticality import critical_line, criticality
    point = None
    if result is not None:
        ds, kind = dataset(result)
        if kind != "Criticality":
            raise InputError(f"phase_diagram plots a Criticality, got {kind}")
        activation = str(ds.attrs["activation"])
        gamma = float(ds.attrs.get("gamma", 0.0))
        point = (float(ds.attrs["C_W"]), float(ds.attrs["C_b"]))
    if not activation:
        raise InputError("phase_diagram needs a Criticality result or activation=")
    nb, nw = resolution
    if C_W is None:
        hi = 3.5 if point is None else max(3.5, 1.2 * point[0])
        C_W = np.linspace(0.5 if point is None else min(0.5, 0.8 * point[0]), hi, nw)
    if C_b is None:
        C_b = np.linspace(0.0, 0.3 if point is None else max(0.3, 1.2 * point[1]), nb)
    C_W, C_b = np.asarray(C_W, dtype=np.float64), np.asarray(C_b, dtype=np.float64)
    try:
        chi = np.array([[criticality(activation, cw, cb, gamma=gamma).chi_perp for cw in C_W] for cb in C_b])
    except (KeyError, ValueError) as err:
        raise InputError(f"no phase diagram for activation {activation!r}: {err}") from None
    given = ax
    fig, (ax,) = new_axes(ax, size=(6.0, 4.4))
    mesh = ax.pcolormesh(C_W, C_b, np.clip(chi, 0.0, 2.0), cmap="RdBu_r", vmin=0.0, vmax=2.0, shading="nearest")
    mesh.set_gid("chi_perp")
    fig.colorbar(mesh, ax=ax, label="χ⊥(K*)  (clipped at 2)")
    if gamma == 0.0:
        ax.plot(critical_line(activation, C_b), C_b, "k-", lw=2, label="critical line χ⊥(K*) = 1", gid="critical")
    elif len(C_b) > 1 and len(C_W) > 1:
        ax.contour(C_W, C_b, chi, levels=[1.0], colors="k", linewidths=2)
        ax.plot([], [], "k-", lw=2, label="χ⊥(K*) = 1 (grid contour)")
    if point is not None:
        ax.plot([point[0]], [point[1]], "*", color="gold", mec="k", ms=14, label="this spec", gid="point")
    ax.set_xlim(C_W.min(), C_W.max())
    ax.set_xlabel("C_W  (weight variance × fan-in)")
    ax.set_ylabel("C_b  (bias variance)")
    ax.legend(loc="upper left", fontsize=8)
    g = f", γ = {gamma:g}" if gamma else ""
    return finish(fig, path, f"{activation}{g}: χ⊥(K*)  (blue ordered, red chaotic)", ax=given)
