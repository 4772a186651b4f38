"""Axiom-check verdicts (a list of :class:`~nnft.checks.CheckResult`, what ``nnft.check`` returns) as
an ``xarray.Dataset`` and back.

Layout (C checks)::

    coords   check (C): what was checked, e.g. "translation G4" · name (check): the checker's name
    verdict (check)            "PASS" | "FAIL" | "INCONCLUSIVE"
    statistic, threshold       the deciding number (max |z|, or λ_min/σ for RP) and its critical value
    samples, alpha             networks the verdict rests on (0: proven); family-wise false-FAIL level
    needed_samples             for INCONCLUSIVE the sample size that would decide; -1 for none
    basis, message             "statistical" / "analytic" / "by construction: ..."; one line for a physicist
    expected, reason, evidence, data   packed JSON text (``nnft.results.files.pack``): the declared
                               verdict and why, the deciding configurations, the plot arrays
"""

from __future__ import annotations

import numpy as np

from nnft.results.files import pack, unpack
from nnft.results.provenance import provenance

KIND = "CheckResults"


def to_dataset(results, *, theory=None, seed=None, samples=None, blocks=None, **known):
    """A CheckResult or a list of them as a Dataset (layout in the module docstring).

    Args:
      theory, seed, samples, blocks, known: provenance (the results do not hold their theory or seed;
        ``samples`` defaults to the largest per-check sample count).
    """
    import xarray as xr
    results = [results] if type(results).__name__ == "CheckResult" else list(results)

    def text(get):
        return ("check", np.array([get(r) for r in results], dtype=object))

    ds = xr.Dataset(
        {"verdict": text(lambda r: r.verdict),
         "statistic": ("check", np.array([r.statistic for r in results], dtype=np.float64)),
         "threshold": ("check", np.array([r.threshold for r in results], dtype=np.float64)),
         "samples": ("check", np.array([r.samples for r in results], dtype=np.int64)),
         "alpha": ("check", np.array([r.alpha for r in results], dtype=np.float64)),
         "needed_samples": ("check", np.array([-1 if r.needed_samples is None else r.needed_samples
                                               for r in results], dtype=np.int64)),
         "basis": text(lambda r: r.basis), "message": text(lambda r: r.message),
         "expected": text(lambda r: pack(r.expected)), "reason": text(lambda r: pack(r.reason)),
         "evidence": text(lambda r: pack(tuple(r.evidence))), "data": text(lambda r: pack(dict(r.data)))},
        coords={"check": np.array([r.check for r in results], dtype=object),
                "name": ("check", np.array([r.name for r in results], dtype=object))})
    ds["statistic"].attrs["long_name"] = "deciding statistic (max |z|; lambda_min/sigma for reflection positivity)"
    ds["needed_samples"].attrs["missing_value_meaning"] = "-1: none"
    if samples is None and results:
        samples = max(r.samples for r in results)
    ds.attrs.update(nnft_result=KIND, **provenance(theory, seed=seed, samples=samples, blocks=blocks, **known))
    return ds


def from_dataset(ds) -> list:
    """The list (a :class:`~nnft.checks.result.CheckResults`) of :class:`~nnft.checks.CheckResult` a
    Dataset of :func:`to_dataset` holds."""
    from nnft.checks.result import CheckResult, CheckResults
    out = []
    for i in range(ds.sizes["check"]):
        def v(name):
            return ds[name].values[i]
        need = int(v("needed_samples"))
        out.append(CheckResult(check=str(ds["check"].values[i]), verdict=str(v("verdict")),
                               statistic=float(v("statistic")), threshold=float(v("threshold")),
                               samples=int(v("samples")), alpha=float(v("alpha")), basis=str(v("basis")),
                               evidence=tuple(unpack(v("evidence"))), needed_samples=None if need < 0 else need,
                               message=str(v("message")), data=unpack(v("data")), name=str(ds["name"].values[i]),
                               expected=unpack(v("expected")), reason=unpack(v("reason"))))
    return CheckResults(out)
