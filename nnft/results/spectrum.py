"""Power spectra (:class:`~nnft.estimators.spectrum.PowerSpectrum`, ``nnft.power_spectrum``, ``nnft spectrum``)
as an ``xarray.Dataset`` and back.

Layout (M momenta in d dimensions)::

    coords    momentum (M) · coord (d) · p (momentum, coord): the momenta, units 1/|x|
    spectrum  (momentum)   G̃(p) Monte Carlo mean;  stderr (momentum) its standard error
    khat      (momentum)   Pareto k̂ of the entry (NaN: not tracked)
    theory    (momentum)   the estimator's expectation from the reference (NaN: none)
    continuum (momentum)   the closed-form G̃(p) (NaN: none)
    modes     (momentum, coord)  integer lattice modes (lattice route only)

Attributes: ``route``, ``window``, ``lattice`` (JSON: box, n, spacing, nyquist, resolution), ``theory_label``,
``notes`` (JSON list), ``convention``, ``n`` and the provenance of :mod:`.provenance`.
"""

from __future__ import annotations

import json

import numpy as np

from nnft.results.provenance import provenance

KIND = "PowerSpectrum"


def to_dataset(res, *, theory=None, **known):
    """A PowerSpectrum as a Dataset (layout in the module docstring); ``theory`` is the spec's Theory (provenance)."""
    import xarray as xr
    from nnft.estimators.spectrum import CONVENTION
    M, d = res.momenta.shape
    nan = np.full(M, np.nan)
    est = res.spectrum
    data = {"spectrum": (("momentum",), est.mean), "stderr": (("momentum",), est.stderr),
            "khat": (("momentum",), nan if est.khat is None else np.asarray(est.khat, dtype=np.float64)),
            "theory": (("momentum",), nan if res.theory is None else np.asarray(res.theory, dtype=np.float64)),
            "continuum": (("momentum",), nan if res.continuum is None else np.asarray(res.continuum, dtype=np.float64))}
    lat = None
    if res.lattice is not None:
        data["modes"] = (("momentum", "coord"), np.asarray(res.lattice["modes"], dtype=np.int64))
        lat = {k: v for k, v in res.lattice.items() if k != "modes"}
    ds = xr.Dataset(data, coords={"momentum": np.arange(M), "coord": np.arange(d),
                                  "p": (("momentum", "coord"), np.asarray(res.momenta, dtype=np.float64))})
    ds["spectrum"].attrs["long_name"] = "power spectrum G~(p) = int d^dr e^{-ip.r} G_c(r), Monte Carlo"
    ds["theory"].attrs["long_name"] = "expectation of the same estimator from the declared reference"
    ds["continuum"].attrs["long_name"] = "closed-form continuum G~(p)"
    ds.attrs.update(nnft_result=KIND, route=res.route, window=float("nan") if res.window is None else float(res.window),
                    lattice=json.dumps(lat), theory_label=str(res.theory_label), notes=json.dumps(list(res.notes)),
                    convention=CONVENTION, n=int(est.n), source=str(res.source),
                    **provenance(theory, **known))
    return ds


def from_dataset(ds):
    """The PowerSpectrum a Dataset of :func:`to_dataset` holds."""
    from nnft.estimators.spectrum import PowerSpectrum
    from nnft.stats import Estimate

    def opt(name):
        v = np.asarray(ds[name].values, dtype=np.float64)
        return None if np.all(np.isnan(v)) else v
    lat = json.loads(ds.attrs.get("lattice", "null"))
    if lat is not None:
        lat["modes"] = np.asarray(ds["modes"].values, dtype=np.int64)
    est = Estimate(ds["spectrum"].values, ds["stderr"].values, int(ds.attrs["n"]), None, opt("khat"))
    w = float(ds.attrs.get("window", float("nan")))
    return PowerSpectrum(momenta=np.asarray(ds["p"].values, dtype=np.float64), spectrum=est, route=str(ds.attrs["route"]),
                         window=None if np.isnan(w) else w, lattice=lat, theory=opt("theory"),
                         continuum=opt("continuum"), theory_label=str(ds.attrs.get("theory_label", "")),
                         notes=tuple(json.loads(ds.attrs.get("notes", "[]"))), source=str(ds.attrs.get("source", "")))
