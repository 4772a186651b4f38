"""Actions and couplings measured from correlators (``nnft.action``, ``nnft.extrapolate``) as
``xarray.Dataset``s and back.

Layouts (P lattice points in d dimensions; ``*_err`` the standard errors)::

    GaussianAction   x (point_i, coord) · kernel, precision (point_i, point_j) · kernel_err, precision_err (when measured) · field_mean (point_i)
                     · mean, mean_err (scalars, NaN when not measured) · attrs condition, dropped, source
    QuarticCoupling  x (point_i, coord) · vertex, vertex_err, vertex_bias (jackknife bias estimate, when computed),
                     g4c, g4c_err (a, b, c, d) · g2, g2_err (a, b)
                     · locality, locality_err (radius) · vertex_theory (a, b, c, d; when there is a theory)
                     · attrs condition, source, theory_note
    RunningCoupling  x (input) · quad (quad, leg) · cutoff (cutoff) · delta_g4, delta_g4_err, resolved (quad)
                     · integral (cutoff, quad) · coupling, coupling_err (cutoff, quad) · attrs slope, slope_err,
                     asymptotic_slope, bias_variance
    Extrapolation    width (width) · coefficients, coefficients_err (fit, power) · covariance (fit, power, power_j)
                     · chi2, dof (fit) · attrs order, criterion, flagged, value, value_err

Measured results carry the sample size ``samples`` when known; the spec provenance is that of ``theory=``.
"""

from __future__ import annotations

import numpy as np

from nnft.errors import InputError
from nnft.results.provenance import provenance

KINDS = ("GaussianAction", "QuarticCoupling", "RunningCoupling", "Extrapolation")


def _est(ds, name, n):
    from nnft.stats import Estimate
    return Estimate(ds[name].values, ds[f"{name}_err"].values, n)


def to_dataset(result, *, theory=None, **known):
    """A GaussianAction, QuarticCoupling, RunningCoupling or Extrapolation as a Dataset (module docstring)."""
    import xarray as xr
    kind = type(result).__name__
    if kind == "GaussianAction":
        a = result
        data = {"kernel": (("point_i", "point_j"), a.kernel), "precision": (("point_i", "point_j"), a.precision),
                "mean": ((), float("nan") if a.mean is None else float(a.mean.mean)),
                "mean_err": ((), float("nan") if a.mean is None else float(a.mean.stderr))}
        if a.kernel_err is not None:
            data["kernel_err"] = (("point_i", "point_j"), a.kernel_err)
        if a.precision_err is not None:
            data["precision_err"] = (("point_i", "point_j"), a.precision_err)
        if a.field_mean is not None:
            data["field_mean"] = (("point_i",), np.asarray(a.field_mean, dtype=np.float64))
        ds = xr.Dataset(data, coords={"x": (("point_i", "coord"), a.points)})
        ds.attrs.update(condition=float(a.condition), dropped=int(a.dropped), source=str(a.source),
                        n=int(a.mean.n) if a.mean is not None else 0)
        analytic = a.mean is None and a.kernel_err is None
    elif kind == "QuarticCoupling":
        q = result
        ax4 = ("a", "b", "c", "d")
        ds = xr.Dataset({"vertex": (ax4, q.vertex.mean), "vertex_err": (ax4, q.vertex.stderr),
                         "g4c": (ax4, q.g4c.mean), "g4c_err": (ax4, q.g4c.stderr),
                         "g2": (("a", "b"), q.g2.mean), "g2_err": (("a", "b"), q.g2.stderr),
                         "locality": (("radius",), q.locality.mean), "locality_err": (("radius",), q.locality.stderr)},
                        coords={"x": (("a", "coord"), q.points), "radius": q.radii})
        if q.bias is not None:
            ds["vertex_bias"] = (ax4, np.asarray(q.bias, dtype=np.float64))
        if q.theory is not None:
            ds["vertex_theory"] = (ax4, np.asarray(q.theory, dtype=np.float64))
        ds.attrs.update(condition=float(q.condition), source=str(q.source), n=int(q.vertex.n),
                        theory_note=str(q.theory_note))
        analytic = False
    elif kind == "RunningCoupling":
        r = result
        ds = xr.Dataset({"quads": (("quad", "leg"), r.quads),
                         "delta_g4": (("quad",), r.delta_g4.mean), "delta_g4_err": (("quad",), r.delta_g4.stderr),
                         "resolved": (("quad",), r.resolved.astype(np.int8)),
                         "integral": (("cutoff", "quad"), r.integrals),
                         "coupling": (("cutoff", "quad"), r.coupling.mean),
                         "coupling_err": (("cutoff", "quad"), r.coupling.stderr)},
                        coords={"x": (("input", "coord"), r.inputs), "cutoff": r.cutoffs})
        ds.attrs.update(slope=float(r.slope), slope_err=float(r.slope_err), asymptotic_slope=float(r.asymptotic_slope),
                        bias_variance=float(r.bias_variance), n=int(r.delta_g4.n))
        analytic = False
    elif kind == "Extrapolation":
        e = result
        F = K = len(e.fits)                     # fits of order 0 … F − 1: at most F coefficients
        coef = np.full((F, K), np.nan)
        err = np.full((F, K), np.nan)
        cov = np.full((F, K, K), np.nan)
        for i, f in enumerate(e.fits):
            k = f.order + 1
            coef[i, :k], err[i, :k], cov[i, :k, :k] = f.coefficients.mean, f.coefficients.stderr, f.covariance
        ds = xr.Dataset({"coefficients": (("fit", "power"), coef), "coefficients_err": (("fit", "power"), err),
                         "covariance": (("fit", "power", "power_j"), cov),
                         "chi2": (("fit",), np.array([f.chi2 for f in e.fits])),
                         "dof": (("fit",), np.array([f.dof for f in e.fits]))},
                        coords={"width": e.widths, "fit": np.arange(F), "power": np.arange(K)})
        ds.attrs.update(order=int(e.order), criterion=str(e.criterion), flagged=int(e.flagged),
                        value=float(e.value.mean), value_err=float(e.value.stderr), n=int(e.value.n))
        analytic = True
    else:                                                        # pragma: no cover - dispatched by class name
        raise InputError(f"not an action/coupling/extrapolation result: {kind}")
    ds.attrs.update(nnft_result=kind, **provenance(theory, analytic=analytic, **known))
    return ds


def from_dataset(ds):
    """The result a Dataset of :func:`to_dataset` holds."""
    from nnft.stats import Estimate
    kind = ds.attrs["nnft_result"]
    n = int(ds.attrs.get("n", 0))
    if kind == "GaussianAction":
        from nnft.action.gaussian import GaussianAction
        m = float(ds["mean"].values)
        return GaussianAction(points=ds["x"].values, kernel=ds["kernel"].values, precision=ds["precision"].values,
                              condition=float(ds.attrs["condition"]), dropped=int(ds.attrs["dropped"]),
                              source=str(ds.attrs["source"]),
                              kernel_err=ds["kernel_err"].values if "kernel_err" in ds else None,
                              precision_err=ds["precision_err"].values if "precision_err" in ds else None,
                              field_mean=ds["field_mean"].values if "field_mean" in ds else None,
                              mean=None if np.isnan(m) else Estimate(m, float(ds["mean_err"].values), n))
    if kind == "QuarticCoupling":
        from nnft.action.quartic import QuarticCoupling
        return QuarticCoupling(points=ds["x"].values, vertex=_est(ds, "vertex", n), g2=_est(ds, "g2", n),
                               g4c=_est(ds, "g4c", n), condition=float(ds.attrs["condition"]),
                               radii=ds["radius"].values, locality=_est(ds, "locality", n), source=str(ds.attrs["source"]),
                               bias=ds["vertex_bias"].values if "vertex_bias" in ds else None,
                               theory=ds["vertex_theory"].values if "vertex_theory" in ds else None,
                               theory_note=str(ds.attrs.get("theory_note", "")))
    if kind == "RunningCoupling":
        from nnft.action.running import RunningCoupling
        return RunningCoupling(inputs=ds["x"].values, quads=ds["quads"].values.astype(np.int64),
                               cutoffs=ds["cutoff"].values, delta_g4=_est(ds, "delta_g4", n),
                               integrals=ds["integral"].values, coupling=_est(ds, "coupling", n),
                               resolved=ds["resolved"].values.astype(bool), slope=float(ds.attrs["slope"]),
                               slope_err=float(ds.attrs["slope_err"]), asymptotic_slope=float(ds.attrs["asymptotic_slope"]),
                               bias_variance=float(ds.attrs.get("bias_variance", 0.0)))
    if kind == "Extrapolation":
        from nnft.extrapolation import Extrapolation, Fit
        fits = []
        for i in range(ds.sizes["fit"]):
            k = int(np.sum(~np.isnan(ds["coefficients"].values[i])))
            fits.append(Fit(order=k - 1, coefficients=Estimate(ds["coefficients"].values[i, :k],
                                                               ds["coefficients_err"].values[i, :k], n),
                            covariance=ds["covariance"].values[i, :k, :k], chi2=float(ds["chi2"].values[i]),
                            dof=int(ds["dof"].values[i])))
        return Extrapolation(value=Estimate(float(ds.attrs["value"]), float(ds.attrs["value_err"]), n),
                             order=int(ds.attrs["order"]), fits=tuple(fits), criterion=str(ds.attrs["criterion"]),
                             flagged=bool(int(ds.attrs["flagged"])), widths=ds["width"].values)
    raise InputError(f"not an action/coupling/extrapolation Dataset: nnft_result = {kind}")
