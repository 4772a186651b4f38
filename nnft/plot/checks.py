"""Figures of axiom-check evidence (``nnft.check``): cluster-decomposition decay profiles, the
reflection-positivity eigenvalue spectrum, and each check's deciding statistic against its threshold."""

from __future__ import annotations

import numpy as np

from nnft.errors import InputError
from nnft.plot.base import dataset, finish, new_axes, spec_name


def _panels(ds):
    from nnft.results.files import unpack
    out = []
    for i in range(ds.sizes["check"]):
        data = unpack(ds["data"].values[i]) or {}
        if "profile" in data or "eigenvalues" in data:
            out.append((i, {k: np.asarray(v) if isinstance(v, list) else v for k, v in data.items()}))
    return out


def check_evidence(result, path=None):
    """The evidence of a list of CheckResult: one panel of statistic / threshold per check (max |z| over its
    critical value; reflection positivity: λ_min/σ over its negative critical value), then a
    panel per check with plot arrays (cluster: the connected correlator against the shift |a| for each
    direction and width; reflection positivity: the eigenvalues of the reflection matrix M with exact
    values when known).

    Args:
      result: a CheckResult, a list of them (``nnft.check``) or their Dataset (``nnft.load_result``).
      path: write the figure there (.png, .pdf or .svg).

    Returns:
      the matplotlib Figure. Error bars: ``profile_err`` / ``eigenvalue_err`` (standard errors).
    """
    ds, kind = dataset(result)
    if kind != "CheckResults":
        raise InputError(f"check_evidence plots check results, got {kind}")
    panels = _panels(ds)
    fig, axes = new_axes(None, ncols=1 + len(panels), size=(5.0, 3.8))
    ax = axes[0]
    stat, thr = ds["statistic"].values, ds["threshold"].values
    ratio = np.where(thr != 0, stat / np.where(thr != 0, thr, 1.0), np.nan)     # RP: both negative
    colour = {"PASS": "C2", "FAIL": "C3", "INCONCLUSIVE": "C1"}
    ax.barh(np.arange(len(ratio)), np.nan_to_num(ratio), color=[colour.get(str(v), "0.5") for v in ds["verdict"].values],
            gid="ratio")
    ax.axvline(1.0, color="k", lw=0.8)
    ax.set_yticks(np.arange(len(ratio)), [f"{c} ({v})" for c, v in zip(ds["check"].values, ds["verdict"].values)],
                  fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("statistic / threshold  (≥ 1: a violation)")
    for ax, (i, data) in zip(axes[1:], panels):
        if "profile" in data:
            a, prof, err = np.asarray(data["distances"], dtype=float), np.asarray(data["profile"]), np.asarray(data["profile_err"])
            for k, e in enumerate(data["directions"]):
                for j, N in enumerate(data["widths"]):
                    ax.errorbar(a, prof[j, k], err[j, k], marker="o", ms=3, capsize=2, gid=f"profile {j} {k}",
                                label=f"e = {np.round(np.asarray(e, dtype=float), 2).tolist()}, N = {N}")
            ax.axhline(0, color="k", lw=0.5)
            ax.set_xlabel("shift |a|  (input units)")
            ax.set_ylabel("connected correlator (cluster)")
        else:
            w = np.asarray(data["eigenvalues"], dtype=float)
            err = np.asarray(data.get("eigenvalue_err", np.zeros_like(w)), dtype=float)
            idx = np.arange(len(w))
            if "exact_eigenvalues" in data:
                ax.plot(idx, np.asarray(data["exact_eigenvalues"], dtype=float), "kx", label="exact", gid="theory")
            ax.errorbar(idx, w, err, marker="o", ls="none", ms=3, capsize=2, label="estimate ± 1 s.e.", gid="estimate")
            ax.axhline(0, color="k", lw=0.5)
            if np.any(w != 0):
                ax.set_yscale("symlog", linthresh=max(1e-6, float(np.max(np.abs(w))) * 1e-3))
            ax.set_xlabel("eigenvalue index")
            ax.set_ylabel("eigenvalue of M (reflection positivity)")
        ax.set_title(f"{ds['check'].values[i]}: {ds['verdict'].values[i]}", fontsize=9)
        ax.legend(fontsize=6)
    return finish(fig, path, spec_name(ds) or None)
