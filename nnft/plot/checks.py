"""Figures of axiom-check evidence (``nnft.check``): cluster-decomposition decay profiles, the
reflection-positivity eigenvalue spectrum, and each check's deciding statistic against its threshold."""

from __future__ import annotations

import numpy as np

from nnft.errors import InputError
from nnft.plot.base import dataset, finish, new_axes, spec_name


def _entries(result):
    """(check, verdict, statistic, threshold, data) per check, from CheckResult objects or their Dataset."""
    import xarray as xr
    if type(result).__name__ == "CheckResult":
        result = [result]
    if isinstance(result, (list, tuple)) and all(type(r).__name__ == "CheckResult" for r in result):
        return [(r.check, r.verdict, float(r.statistic), float(r.threshold), dict(r.data)) for r in result], ""
    ds, kind = dataset(result) if not isinstance(result, xr.Dataset) else (result, result.attrs.get("nnft_result"))
    if kind != "CheckResults":
        raise InputError(f"check_evidence plots check results, got {kind}")
    from nnft.results.files import unpack
    return [(str(ds["check"].values[i]), str(ds["verdict"].values[i]), float(ds["statistic"].values[i]),
             float(ds["threshold"].values[i]), unpack(ds["data"].values[i]) or {})
            for i in range(ds.sizes["check"])], spec_name(ds)


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
    entries, name = _entries(result)
    panels = [(i, e[4]) for i, e in enumerate(entries) if "profile" in e[4] or "eigenvalues" in e[4]]
    fig, axes = new_axes(None, ncols=1 + len(panels), size=(5.0, 3.8))
    ax = axes[0]
    checks, verdicts = [e[0] for e in entries], [e[1] for e in entries]
    stat, thr = np.array([e[2] for e in entries]), np.array([e[3] for e in entries])
    ratio = np.where(thr != 0, stat / np.where(thr != 0, thr, 1.0), np.nan)     # RP: both negative
    colour = {"PASS": "C2", "FAIL": "C3", "INCONCLUSIVE": "C1"}
    ax.barh(np.arange(len(ratio)), np.nan_to_num(ratio), color=[colour.get(v, "0.5") for v in verdicts],
            gid="ratio")
    ax.axvline(1.0, color="k", lw=0.8)
    ax.set_yticks(np.arange(len(ratio)), [f"{c} ({v})" for c, v in zip(checks, verdicts)],
                  fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("statistic / threshold  (≥ 1: a violation)")
    for ax, (i, data) in zip(axes[1:], panels):
        if "profile" in data:
            a = np.asarray(data["distances"], dtype=float)
            prof, err = np.asarray(data["profile"], dtype=float), np.asarray(data["profile_err"], dtype=float)
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
        ax.set_title(f"{checks[i]}: {verdicts[i]}", fontsize=9)
        ax.legend(fontsize=6)
    return finish(fig, path, name or None)
