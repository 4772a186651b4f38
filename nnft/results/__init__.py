"""Results as data: every result type as an ``xarray.Dataset`` with provenance, saved as netCDF or JSON.

    ds = nnft.results.to_dataset(report)          # labelled dims, values, standard errors, provenance attrs
    nnft.results.save(report, "run.nc")           # or "run.json"
    report = nnft.load_result("run.nc")           # the Report back (float64 exact)

Supported (one module each): ``nnft.run``'s :class:`~nnft.study.Report` (:mod:`.report`),
:class:`~nnft.estimators.npoint.Correlators`, :class:`~nnft.estimators.npoint.Ensemble` and
:class:`~nnft.estimators.neuron.WidthCorrelators` and the reference :class:`~nnft.reference.Exact`
(:mod:`.correlators`), local-operator :class:`~nnft.estimators.local.LocalCorrelators` (:mod:`.local`), a list of
:class:`~nnft.checks.CheckResult` (:mod:`.checks`), the perturbative
:class:`~nnft.perturbation.comparison.Comparison` (:mod:`.comparison`) and MCMC
:class:`~nnft.sample.diagnostics.Diagnostics` (:mod:`.diagnostics`), a :class:`~nnft.sweep.Sweep`
(:mod:`.sweep`) the infinite-width :class:`~nnft.graph.kernels.Kernels` (:mod:`.kernels`) and the MLP
:class:`~nnft.analytic.criticality.Criticality` (:mod:`.criticality`) and a trained ensemble
:class:`~nnft.training.result.Training` (:mod:`.training`, time as a dimension). The provenance attributes are
described in :mod:`.provenance`, the file formats in :mod:`.files`.
"""

from __future__ import annotations

import importlib
import weakref

from nnft.errors import InputError

#: provenance a loaded result carries into a re-save (its object does not record these)
_CARRIED_KEYS = ("spec", "spec_sha256", "spec_source", "seed", "samples", "dtype", "blocks", "devices", "wall_time_s")
#: id(result) -> (weak reference to it, the provenance attrs of the file it was loaded from)
_LOADED: dict = {}


def _remember(result, attrs) -> None:
    carried = {k: attrs[k] for k in _CARRIED_KEYS if k in attrs}
    key = id(result)
    try:
        ref = weakref.ref(result, lambda _r, key=key: _LOADED.pop(key, None))
    except TypeError:                                # a list of CheckResult: nothing to carry by identity
        return
    _LOADED[key] = (ref, carried)


def _carried(result) -> dict:
    entry = _LOADED.get(id(result))
    return entry[1] if entry is not None and entry[0]() is result else {}


def _restore(ds, carried: dict) -> None:
    """Give ``ds`` the provenance a loaded result came with, where the new Dataset lacks it."""
    added = {k: v for k, v in carried.items() if k not in ds.attrs}
    if not added:
        return
    ds.attrs.update(added)
    missing = [m for m in str(ds.attrs.get("provenance_missing", "")).split("; ") if m and m.split(":")[0] not in added]
    ds.attrs["provenance_missing"] = "; ".join(missing)

#: result class name -> module converting it (the Dataset's ``nnft_result`` attribute names the kind)
_BY_CLASS = {
    "Report": "nnft.results.report",
    "Correlators": "nnft.results.correlators",
    "Ensemble": "nnft.results.correlators",
    "WidthCorrelators": "nnft.results.correlators",
    "Exact": "nnft.results.correlators",
    "CheckResult": "nnft.results.checks",
    "Comparison": "nnft.results.comparison",
    "Diagnostics": "nnft.results.diagnostics",
    "Sweep": "nnft.results.sweep",
    "Kernels": "nnft.results.kernels",
    "Criticality": "nnft.results.criticality",
    **dict.fromkeys(("GaussianAction", "QuarticCoupling", "RunningCoupling", "Extrapolation"), "nnft.results.couplings"),
    "PowerSpectrum": "nnft.results.spectrum",
    "Training": "nnft.results.training",
    **dict.fromkeys(("Posterior", "GPPosterior"), "nnft.results.posterior"),
    "LocalCorrelators": "nnft.results.local",
}
#: Dataset kind -> module: the same, except that an Ensemble is saved as Correlators and check results as one
#: CheckResults list
_BY_KIND = {**{k: v for k, v in _BY_CLASS.items() if k not in ("Ensemble", "CheckResult")},
            "CheckResults": _BY_CLASS["CheckResult"]}


def _module_for(result):
    name = type(result).__name__
    if isinstance(result, (list, tuple)) and all(type(r).__name__ == "CheckResult" for r in result):
        name = "CheckResult"
    if name not in _BY_CLASS:
        raise InputError(f"cannot convert a {type(result).__name__} to a Dataset; supported: {', '.join(_BY_CLASS)}")
    return importlib.import_module(_BY_CLASS[name])


def to_dataset(result, **provenance):
    """A result as an ``xarray.Dataset`` (labelled dims, values, standard errors, provenance attrs).

    Args:
      result: a Report, Correlators, Ensemble, WidthCorrelators, a CheckResult or list of them,
        a Comparison, Diagnostics or Sweep.
      provenance: what the result object does not record: ``dtype``, ``devices``, ``wall_time_s``
        (and for results without a theory ``theory=``, ``seed``, ``samples``, ``blocks``);
        Correlators take ``tuples=`` (the point tuples, for the coordinates).

    A result returned by :func:`load_result` keeps the provenance of its file (spec, seed, samples,
    dtype, blocks, devices, wall time) where ``provenance`` does not give it, so a re-save loses none.

    Returns:
      An :class:`xarray.Dataset` whose ``nnft_result`` attribute names the result type; estimates
      are stored as value and standard-error variables over labelled dims (e.g. ``tuple``, ``width``).

    Raises:
      InputError: an unsupported type.

    Source: not from a paper: a file format (xarray Dataset).
    """
    ds = _module_for(result).to_dataset(result, **provenance)
    _restore(ds, _carried(result))
    return ds


def from_dataset(ds):
    """The result a Dataset of :func:`to_dataset` holds (the type its ``nnft_result`` attribute names).

    Args:
      ds: an :class:`xarray.Dataset` from :func:`to_dataset` or :func:`load_dataset`.

    Returns:
      The result object of the named type.

    Raises:
      InputError: not an nnft result Dataset, or damaged.

    Source: not from a paper: a file format (xarray Dataset).
    """
    kind = ds.attrs.get("nnft_result")
    if kind not in _BY_KIND:
        raise InputError(f"not an nnft result (nnft_result = {str(kind)[:40]!r})")
    try:
        return importlib.import_module(_BY_KIND[kind]).from_dataset(ds)
    except InputError:
        raise
    except (KeyError, ValueError, TypeError, IndexError, AttributeError) as err:
        raise InputError(f"damaged nnft result ({kind}): {type(err).__name__}: {str(err)[:120]}") from None


def save(result, path, **provenance) -> None:
    """Write a result (or a Dataset of one) to ``path``: netCDF-4 for ``.nc``, JSON for ``.json``.

    Args:
      result: a result object (Report, Correlators, list of CheckResult, ...) or an
        :class:`xarray.Dataset` from :func:`to_dataset`.
      path: the file to write, ending in ``.nc`` or ``.json``.
      **provenance: extra attributes stored with the result (passed to :func:`to_dataset`).

    Returns:
      None; the file is written.

    Raises:
      InputError: another extension, an unwritable path, or an unsupported result type.

    Source: not from a paper: a file format (xarray Dataset).
    """
    from nnft.results.files import check_writable, write
    check_writable(path)
    import xarray as xr
    ds = result if isinstance(result, xr.Dataset) else to_dataset(result, **provenance)
    write(ds, path)


def load_dataset(path):
    """The Dataset saved in a ``.nc`` or ``.json`` result file.

    Args:
      path: a ``.nc`` or ``.json`` file written by :func:`save`.

    Returns:
      The :class:`xarray.Dataset` as stored (its ``nnft_result`` attribute names the result type).

    Raises:
      InputError: wrong extension, missing, damaged or foreign file.

    Source: not from a paper: a file format (xarray Dataset).
    """
    from nnft.results.files import read
    return read(path)


def load_result(path):
    """The result saved in a ``.nc`` or ``.json`` file (a Report, Correlators, list of CheckResult, ...).

    Args:
      path: a ``.nc`` (netCDF, via xarray) or ``.json`` file written by ``nnft.results.save`` or a
        CLI ``--out``.

    Returns:
      The result object it holds, of the type that was saved (shapes as when saved).

    Raises:
      InputError: wrong extension, missing, damaged or foreign file.

    Source: not from a paper: a file format (xarray Dataset).
    """
    ds = load_dataset(path)
    try:
        result = from_dataset(ds)
    except InputError as err:
        raise InputError(f"{str(path)[:200]!r}: {err}") from None
    _remember(result, ds.attrs)
    return result


def table(result) -> str:
    """The text table of a result (what ``nnft show`` prints)."""
    if isinstance(result, (list, tuple)):
        from nnft.checks.result import table as check_table
        return check_table(list(result), evidence=2)
    if type(result).__name__ == "Kernels":
        from nnft.results.kernels import table as kernel_table
        return kernel_table(result)
    if hasattr(result, "table"):
        return result.table()
    if hasattr(result, "summary"):
        return result.summary()
    return str(result)


def html(result) -> str:
    """An HTML table of a result (or of its Dataset): one row per entry of the result's leading
    dimension (row, tuple, check, observable ...), one column per variable along it, then the
    provenance. For Jupyter (``_repr_html_``); the text table is :func:`table`."""
    import html as _html

    import numpy as np
    import xarray as xr
    ds = result if isinstance(result, xr.Dataset) else to_dataset(result)
    dims = [d for d in ds.dims if d not in ("point", "coord", "point_j")]
    lead = next((d for d in ("row", "tuple", "check", "observable", "point_i") if d in dims), dims[0] if dims else None)
    out = [f"<p><b>{_html.escape(str(ds.attrs.get('nnft_result', 'result')))}</b></p>"]
    if lead is not None:
        names = [n for n, v in ds.variables.items() if v.dims == (lead,) and n != lead and "extra" not in str(n)
                 and not str(n).startswith("has_")]
        if "points" in ds.variables and ds["points"].dims[0] == lead:
            names = ["points"] + names
        cells = ["<tr>" + "".join(f"<th>{_html.escape(str(n))}</th>" for n in names) + "</tr>"]
        for i in range(ds.sizes[lead]):
            row = []
            for n in names:
                v = ds[n].values[i]
                if n == "points":
                    v = ";".join(",".join(f"{c:.6g}" for c in p) for p in v if not np.all(np.isnan(p)))
                elif isinstance(v, (float, np.floating)):
                    v = f"{v:.6g}"
                row.append(f"<td>{_html.escape(str(v))}</td>")
            cells.append("<tr>" + "".join(row) + "</tr>")
        out.append("<table>" + "".join(cells) + "</table>")
    from nnft.results.provenance import KEYS
    prov = [f"{k}={ds.attrs[k]}" for k in KEYS if k in ds.attrs and k not in ("spec",)]
    out.append(f"<p><small>{_html.escape('; '.join(prov))}</small></p>")
    return "\n".join(out)
