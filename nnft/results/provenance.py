"""Provenance of a saved result: the resolved spec, its hash, versions, sampling settings, a timestamp.

Every Dataset :func:`nnft.results.to_dataset` makes carries these as attributes (netCDF global
attributes; the same keys in the JSON layout):

==================  ==========================================================================
``nnft_result``     the result type (``"Report"``, ``"Correlators"``, ``"CheckResults"`` ...)
``spec``            the resolved spec (after ``extends:`` and overrides) as JSON text; reload it with
                    ``nnft.from_dict(json.loads(ds.attrs["spec"]))``
``spec_sha256``     SHA-256 (hex) of the UTF-8 bytes of ``spec``
``spec_source``     the file the spec was loaded from
``nnft_version``, ``jax_version``, ``numpy_version``, ``xarray_version``
``seed``            the PRNG seed
``samples``         networks drawn
``dtype``           sampling precision (sums are float64 either way)
``blocks``          jackknife blocks of the standard errors
``devices``         local devices the run sampled on
``wall_time_s``     wall-clock seconds of the computation (s)
``created_utc``     ISO 8601 UTC time the Dataset was made
``provenance_missing``  ``"; "``-separated ``key: why`` for each key above the result does not know
==================  ==========================================================================

A key the result does not know is absent (netCDF attributes cannot be null) and named, with the
reason, in ``provenance_missing``.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from importlib import metadata

#: the provenance keys, in the order they are written
KEYS = ("spec", "spec_sha256", "spec_source", "nnft_version", "jax_version", "numpy_version", "xarray_version",
        "seed", "samples", "dtype", "blocks", "devices", "wall_time_s", "created_utc")

#: why a key is missing when the result object does not record it (the CLI records these)
WHY = {
    "spec": "the result does not hold its theory",
    "spec_sha256": "the result does not hold its theory",
    "spec_source": "the result does not hold its theory",
    "seed": "not recorded by the result object",
    "samples": "not recorded by the result object",
    "dtype": "not recorded by the result object (the CLI and nnft.results.to_dataset(..., dtype=) record it)",
    "blocks": "not recorded by the result object",
    "devices": "not recorded by the result object (the CLI and to_dataset(..., devices=) record it)",
    "wall_time_s": "not recorded by the result object (the CLI and to_dataset(..., wall_time_s=) record it)",
}


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


def spec_text(theory) -> str:
    """The resolved spec of a :class:`~nnft.spec.models.Theory` as JSON text (the declaration order of the file)."""
    data = theory.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return json.dumps(data, ensure_ascii=False, indent=1)


def provenance(theory=None, *, analytic: bool = False, **known) -> dict:
    """The provenance attributes of a result (see the module docstring).

    Args:
      theory: the result's theory (None: the spec keys are missing).
      analytic: the result is computed, not sampled (seed, samples, dtype, blocks, devices are then
        missing as "not applicable").
      known: values of the other keys the result knows (``seed``, ``samples``, ``dtype``, ``blocks``,
        ``devices``, ``wall_time_s``); None means unknown.

    Returns:
      a dict of str/int/float attributes.
    """
    import numpy as np
    import xarray as xr
    out: dict = {}
    if theory is not None:
        text = spec_text(theory)
        out.update(spec=text, spec_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
                   spec_source=str(theory.source))
    out.update(nnft_version=_version("nnft"), jax_version=_version("jax"), numpy_version=np.__version__,
               xarray_version=xr.__version__)
    for key in ("seed", "samples", "dtype", "blocks", "devices", "wall_time_s"):
        v = known.get(key)
        if v is not None:
            out[key] = float(v) if key == "wall_time_s" else (str(v) if key == "dtype" else int(v))
    out["created_utc"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    sampled = ("seed", "samples", "dtype", "blocks", "devices")
    missing = [f"{k}: " + ("not applicable (an analytic result, nothing sampled)" if analytic and k in sampled else WHY[k])
               for k in KEYS if k not in out and k in WHY]
    out["provenance_missing"] = "; ".join(missing)
    return {k: out[k] for k in (*KEYS, "provenance_missing") if k in out}


def theory_of(attrs: dict):
    """The :class:`~nnft.spec.models.Theory` a Dataset's ``spec`` attribute holds (None without one).

    Raises:
      InputError: the spec text is not a valid spec, or its hash does not match ``spec_sha256``.
    """
    from nnft.errors import InputError, NnftError
    text = attrs.get("spec")
    if text is None:
        return None
    if hashlib.sha256(str(text).encode("utf-8")).hexdigest() != attrs.get("spec_sha256"):
        raise InputError("the saved spec does not match its sha256: the file was altered or damaged")
    from nnft.spec.load import from_dict
    try:
        return from_dict(json.loads(text), source=str(attrs.get("spec_source", "<saved result>")))
    except (ValueError, NnftError) as err:
        raise InputError(f"the saved spec is not a valid spec: {str(err)[:200]}") from None
