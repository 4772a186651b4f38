"""Posteriors (:class:`~nnft.bayes.finite.Posterior`, :class:`~nnft.bayes.gp.GPPosterior`) as an
``xarray.Dataset`` and back.

Layout (n training points, m test points, d input dimensions)::

    coords    train (n), test (m), test_j (m), coord (d)
    x_train (train, coord), y_train (train), x_test (test, coord)
    nngp_mean (test), nngp_cov (test, test_j)          the NNGP posterior (GPPosterior)
    mean, mean_stderr (test), cov, cov_stderr (test, test_j)   finite-width posterior (Posterior only)
    attrs     nnft_result ("Posterior" | "GPPosterior"), noise_var, log_evidence, jitter, kernel_source,
              method, ess, rhat, samples, width, mc_log_evidence(_stderr) (Posterior only; NaN / -1 for
              not available)
"""

from __future__ import annotations

import math

import numpy as np

from nnft.results.provenance import provenance

KINDS = ("Posterior", "GPPosterior")


def _gp_vars(gp, ds_vars: dict, attrs: dict) -> None:
    ds_vars["nngp_mean"] = (("test",), np.asarray(gp.mean, dtype=np.float64))
    ds_vars["nngp_cov"] = (("test", "test_j"), np.asarray(gp.cov, dtype=np.float64))
    attrs.update(log_evidence=float(gp.log_evidence), jitter=float(gp.jitter), kernel_source=str(gp.source))


def to_dataset(result, *, theory=None, **known):
    """A Posterior or GPPosterior as a Dataset (layout in the module docstring).

    Args:
      theory: the prior's theory (spec provenance); ``known``: seed, dtype, blocks, devices, wall_time_s.
    """
    import xarray as xr
    kind = type(result).__name__
    gp = result if kind == "GPPosterior" else result.nngp
    x_train, y_train, noise_var = result.x_train, result.y_train, result.noise_var
    x_test = np.asarray(result.x_test, dtype=np.float64)
    m, d = x_test.shape
    n = len(x_train)
    v: dict = {"x_test": (("test", "coord"), x_test)}          # test first: the leading dim of html()
    attrs: dict = {"nnft_result": kind, "noise_var": float(noise_var), "has_nngp": int(gp is not None)}
    if gp is not None:
        _gp_vars(gp, v, attrs)
    if kind == "Posterior":
        v.update(mean=(("test",), result.mean.mean), mean_stderr=(("test",), result.mean.stderr),
                 cov=(("test", "test_j"), result.cov.mean), cov_stderr=(("test", "test_j"), result.cov.stderr))
        attrs.update(method=result.method, ess=float(result.ess),
                     rhat=float("nan") if result.rhat is None else float(result.rhat),
                     width=-1 if result.width is None else int(result.width), n_networks=int(result.mean.n))
        if result.log_evidence is not None:
            attrs.update(mc_log_evidence=float(result.log_evidence.mean),
                         mc_log_evidence_stderr=float(result.log_evidence.stderr))
        known.setdefault("samples", result.samples)
    v.update(x_train=(("train", "coord"), np.asarray(x_train, dtype=np.float64).reshape(n, d)),
             y_train=(("train",), np.asarray(y_train, dtype=np.float64)))
    ds = xr.Dataset(v, coords={"test": np.arange(m), "test_j": np.arange(m), "train": np.arange(n),
                               "coord": np.arange(d)})
    if gp is not None:
        ds["nngp_mean"].attrs["long_name"] = "NNGP posterior mean K*^T (K + s2 I)^-1 y (arXiv:1711.00165 eq. 3)"
        ds["nngp_cov"].attrs["long_name"] = "NNGP posterior covariance of the latent field (arXiv:1711.00165 eq. 4)"
    ds.attrs.update(attrs)
    ds.attrs.update(provenance(theory, analytic=(kind == "GPPosterior"), **known))
    return ds


def from_dataset(ds):
    """The Posterior or GPPosterior a Dataset of :func:`to_dataset` holds."""
    from nnft.bayes.finite import Posterior
    from nnft.bayes.gp import GPPosterior
    from nnft.stats import Estimate
    a = ds.attrs
    gp = None
    if int(a.get("has_nngp", 1)):
        gp = GPPosterior(x_train=ds["x_train"].values, y_train=ds["y_train"].values, x_test=ds["x_test"].values,
                         noise_var=float(a["noise_var"]), mean=ds["nngp_mean"].values, cov=ds["nngp_cov"].values,
                         log_evidence=float(a["log_evidence"]), jitter=float(a["jitter"]),
                         source=str(a.get("kernel_source", "")))
    if a["nnft_result"] == "GPPosterior":
        return gp
    n = int(a.get("n_networks", a.get("samples", 0)))
    ess = float(a["ess"])
    rhat = float(a["rhat"])
    width = int(a["width"])
    logev = None
    if "mc_log_evidence" in a:
        logev = Estimate(np.asarray(float(a["mc_log_evidence"])), np.asarray(float(a["mc_log_evidence_stderr"])), n,
                         ess=ess)
    return Posterior(x_test=ds["x_test"].values,
                     mean=Estimate(ds["mean"].values, ds["mean_stderr"].values, n, ess=ess),
                     cov=Estimate(ds["cov"].values, ds["cov_stderr"].values, n, ess=ess),
                     nngp=gp, method=str(a["method"]), ess=ess, rhat=None if math.isnan(rhat) else rhat,
                     samples=int(a.get("samples", n)), width=None if width < 0 else width,
                     x_train=ds["x_train"].values, y_train=ds["y_train"].values, noise_var=float(a["noise_var"]), log_evidence=logev)
