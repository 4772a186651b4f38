"""Every supported result type through netCDF-4 and JSON: values, errors, coordinates, provenance
identical (float64 bit for bit, NaN/inf kept, None kept apart from NaN)."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

import nnft
from nnft.results import from_dataset, load_dataset, load_result, save, to_dataset

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
FORMATS = (".nc", ".json")


def same(a, b) -> bool:
    """Equal values, NaN equal to NaN, arrays elementwise, dataclasses field by field; types kept."""
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return type(a) is type(b) and all(same(getattr(a, f.name), getattr(b, f.name))
                                          for f in dataclasses.fields(a) if f.name not in ("model", "theory"))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and a.dtype.kind == b.dtype.kind and bool(
            np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return a == b and (a is None) == (b is None)


def roundtrip(result, tmp_path, back_prov=None, **prov):
    ds = to_dataset(result, **prov)
    out = []
    for ext in FORMATS:
        path = tmp_path / f"r{ext}"
        save(ds, path)
        back = load_dataset(path)
        assert back.identical(ds), ext                       # values, coordinates, attrs (provenance)
        for k in ds.variables:
            if ds[k].dtype.kind == "f":
                assert ds[k].values.tobytes() == back[k].values.tobytes(), (ext, k)   # float64 bit for bit
        obj = load_result(path)
        again = to_dataset(obj, **(back_prov or prov))
        assert again.drop_attrs().drop_vars("report_attrs", errors="ignore").identical(
            ds.drop_attrs().drop_vars("report_attrs", errors="ignore")), ext
        out.append(obj)
    return ds, out


@pytest.fixture(scope="module")
def cos_model():
    return nnft.compile(nnft.load("cos_net", N=4))


def _report(model):
    from nnft.study import Report, Row
    p2 = np.array([[0.0, 0.0], [0.1 + 1e-16, 0.3]])
    rows = [Row(order=2, points=p2, full=(0.1 + 0.2, 1 / 3), connected=(-0.0, 5e-324), exact_full=0.5,
                exact_connected=float("nan"), neuron_connected=(0.49, 0.01), khat_full=float("-inf"),
                khat_connected=0.3),
            Row(order=4, points=np.vstack([p2, p2]), full=(float("inf"), float("nan")), connected=(1e300, 1e-300),
                khat_full=None, khat_connected=float("nan"), error_bar_infinite=True)]
    return Report(theory=model.theory, model=model, samples=1000, seed=7, rows=rows, notes=["a note: φ, k̂"])


def test_report_roundtrip_and_table(cos_model, tmp_path):
    rep = _report(cos_model)
    ds, backs = roundtrip(rep, tmp_path, dtype="float32", devices=1, wall_time_s=0.25)
    assert ds.sizes == {"row": 2, "point": 4, "coord": 2}
    assert ds["G_stderr"].values[0] == 1 / 3 and np.isnan(ds["G_c_theory"].values[0])
    for back in backs:
        assert same(rep, back)
        assert back.theory == rep.theory
        assert back.table() == rep.table()
    # a wrong value must fail the comparison
    wrong = dataclasses.replace(rep, rows=[dataclasses.replace(rep.rows[0], full=(0.3, 1 / 3))] + rep.rows[1:])
    assert not same(wrong, backs[0])


def test_report_provenance(cos_model):
    import hashlib
    ds = to_dataset(_report(cos_model), dtype="float64", devices=2, wall_time_s=1.5)
    a = ds.attrs
    assert a["nnft_result"] == "Report" and a["seed"] == 7 and a["samples"] == 1000 and a["dtype"] == "float64"
    assert a["devices"] == 2 and a["wall_time_s"] == 1.5 and a["blocks"] == 64
    assert a["spec_sha256"] == hashlib.sha256(a["spec"].encode()).hexdigest()
    assert nnft.from_dict(json.loads(a["spec"])) == nnft.load("cos_net", N=4).model_copy(update={"source": "<dict>"})
    assert json.loads(a["spec"])["dims"]["N"] == 4            # the override is in the resolved spec
    for k in ("nnft_version", "jax_version", "numpy_version", "xarray_version", "created_utc"):
        assert a[k]
    assert a["created_utc"].endswith("+00:00")
    assert a["provenance_missing"] == ""
    missing = to_dataset(_report(cos_model)).attrs["provenance_missing"]
    assert "dtype:" in missing and "devices:" in missing and "wall_time_s:" in missing


def test_altered_spec_is_refused(cos_model, tmp_path):
    ds = to_dataset(_report(cos_model))
    ds.attrs["spec"] = ds.attrs["spec"].replace('"N": 4', '"N": 5')
    path = tmp_path / "r.json"
    save(ds, path)
    with pytest.raises(nnft.InputError, match="sha256"):
        load_result(path)


def _est(shape, weighted=False, khat=True):
    from nnft.stats import Estimate
    rng = np.random.default_rng(0)
    k = rng.normal(size=shape) if khat else None
    if khat:
        k.flat[0] = np.nan
    return Estimate(mean=rng.normal(size=shape), stderr=rng.random(shape), n=123,
                    ess=45.5 if weighted else None, khat=k, notes=("note",) if weighted else ())


def test_correlators_roundtrip(tmp_path):
    from nnft.estimators.npoint import Correlators
    c = Correlators(full=_est((3,), weighted=True), connected=_est((3,), khat=False), orders=(2, 2, 4))
    tuples = [np.zeros((2, 1)), np.array([[0.0], [0.5]]), np.array([[0.0], [0.0], [1.0], [1.0]])]
    ds, backs = roundtrip(c, tmp_path, tuples=tuples, seed=3)
    assert list(ds["order"].values) == [2, 2, 4] and np.isnan(ds["points"].values[0, 3, 0])
    assert ds.attrs["G_ess"] == 45.5 and "G_c_khat" not in ds and ds.attrs["samples"] == 123
    for back in backs:
        assert same(c, back)


def test_width_correlators_roundtrip(tmp_path):
    from nnft.estimators.neuron import WidthCorrelators
    w = WidthCorrelators(widths=(1, 10, 100), full=_est((3, 2)), connected=_est((3, 2)), orders=(2, 4))
    ds, backs = roundtrip(w, tmp_path)
    assert ds["G"].dims == ("width", "tuple") and list(ds["width"].values) == [1, 10, 100]
    for back in backs:
        assert same(w, back)


def test_ensemble_saves_its_correlators(cos_model, tmp_path):
    from nnft.results.correlators import tuples_of
    tuples = [np.array([[0.0, 0.0], [0.5, 0.0]]), np.array([[0.0, 0.0]] * 4)]
    ens = nnft.ensemble(cos_model, tuples, samples=64, key=1, blocks=8)
    ds, backs = roundtrip(ens, tmp_path, back_prov={"tuples": tuples}, seed=1)
    assert ds.attrs["blocks"] == 8 and ds.attrs["samples"] == 64
    for back in backs:
        assert same(ens.full(), back.full) and same(ens.connected(), back.connected)
    assert all(np.array_equal(a, b) for a, b in zip(tuples_of(ds), tuples))


def test_check_results_roundtrip(tmp_path):
    from nnft.checks import CheckResult, CheckResults
    rs = CheckResults([CheckResult(check="translation G2", verdict="PASS", statistic=1.25, threshold=3.9, samples=1000,
                      evidence=({"points": [[0.0], [0.5]], "z": 0.5, "t": (1, 2.5)},), message="fine",
                      data={"profile": np.array([1.0, np.nan, np.inf])}, name="translation"),
          CheckResult(check="reflection positivity (fields)", verdict="INCONCLUSIVE", statistic=float("nan"),
                      threshold=2.0, samples=0, basis="analytic", needed_samples=10 ** 12, name="reflection_positivity",
                      expected="PASS", reason="k̂ ≥ 1")])     # what nnft.check returns: a list that prints
    ds, backs = roundtrip(rs, tmp_path, seed=0)
    assert list(ds["verdict"].values) == ["PASS", "INCONCLUSIVE"]
    for back in backs:
        assert same(rs, back)
        assert all(same(a.data, b.data) for a, b in zip(rs, back))


def test_comparison_roundtrip(cos_model, tmp_path):
    from nnft.perturbation.comparison import Comparison, ComparisonRow
    from nnft.stats import Estimate
    t = (np.array([[0.0, 0.0], [0.5, 0.0]]),)
    rows = tuple(ComparisonRow(lam=lam, observable="δG", series=0, points=t[0], mc=Estimate(0.1 * lam, 0.01, 500, ess=400.0),
                               first_order=None if lam == 1 else -0.1 * lam, gaussian=0.0, ess=400.0 - lam,
                               ess_low=lam > 0.5, threshold=5.0, reason="c1 unknown" if lam == 1 else None)
                 for lam in (0.01, 0.1, 1.0))
    comp = Comparison(theory=cos_model.theory, coupling="lam", lambdas=(0.01, 0.1, 1.0), tuples=t, samples=500, seed=2,
                      rows=rows, unit=(-0.1,), unit_gaussian=(None,), threshold=5.0, notes=("n",))
    ds, backs = roundtrip(comp, tmp_path)
    assert list(ds["lam"].values) == [0.01, 0.1, 1.0]
    for back in backs:
        assert same(comp, back) and back.table() == comp.table()


def test_diagnostics_roundtrip(tmp_path):
    from nnft.sample.diagnostics import Diagnostics
    d = Diagnostics(names=("G2[0]", "S"), rhat=np.array([1.001, np.nan]), ess=np.array([400.0, 350.5]),
                    tau=np.array([1.5, 2.0]), divergences=np.array([0, 3]), acceptance=np.array([0.8, 0.9]),
                    step_size=np.array([0.1, 0.2]), block_length=12.5, draws_per_chain=100, trace_stride=1, chains=2,
                    converged=False, blocks_ok=True, messages=("R̂ high",))
    ds, backs = roundtrip(d, tmp_path)
    for back in backs:
        assert same(d, back)


def test_unsupported_and_damaged(tmp_path):
    with pytest.raises(nnft.InputError, match="cannot convert"):
        to_dataset(object())
    with pytest.raises(nnft.InputError, match=".nc"):
        save(object(), tmp_path / "x.csv")
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "nnft-result", "version": 1, "attrs": {"nnft_result": "Report"}, "coords": [], '
                   '"variables": {}}')
    with pytest.raises(nnft.InputError):
        load_result(bad)
    (tmp_path / "foreign.json").write_text("[1, 2]")
    with pytest.raises(nnft.InputError, match="not an nnft result"):
        load_result(tmp_path / "foreign.json")
    (tmp_path / "junk.nc").write_bytes(b"\x00garbage")
    with pytest.raises(nnft.InputError, match="not a readable"):
        load_result(tmp_path / "junk.nc")
    (tmp_path / "v2.json").write_text('{"format": "nnft-result", "version": 2}')
    with pytest.raises(nnft.InputError, match="version"):
        load_result(tmp_path / "v2.json")


def test_json_encodes_non_finite_explicitly(tmp_path):
    from nnft.results.files import to_json
    import xarray as xr
    ds = xr.Dataset({"x": ("i", np.array([np.nan, np.inf, -np.inf, 0.1]))}, attrs={"nnft_result": "Report"})
    doc = to_json(ds)
    assert doc["variables"]["x"]["data"][:3] == [{"$float": "nan"}, {"$float": "inf"}, {"$float": "-inf"}]
    json.dumps(doc, allow_nan=False)


def test_sweep_roundtrip(cos_model, tmp_path):
    from nnft.sweep import Sweep
    rep = _report(cos_model)
    other = dataclasses.replace(rep, rows=[dataclasses.replace(r, full=(r.full[0] * 2, r.full[1])) for r in rep.rows],
                                theory=nnft.load("cos_net", N=5))
    sw = Sweep(name="N", values=[4, 5], reports=[rep, other])
    ds, backs = roundtrip(sw, tmp_path, dtype="float32")
    assert ds["G"].dims == ("sweep", "row") and list(ds["value"].values) == [4.0, 5.0]
    for back in backs:
        assert back.name == "N" and back.values == [4, 5] and type(back.values[0]) is int
        for a, b in zip(sw.reports, back.reports):
            assert same(a, b) and a.theory == b.theory and a.table() == b.table()


def test_kernels_roundtrip(tmp_path):
    from nnft.graph.kernels import Kernels
    rng = np.random.default_rng(1)
    K, T = rng.random((3, 3)), rng.random((3, 3))
    k = Kernels(nngp=K, ntk=T, layers=(("params.W1", K / 2, T / 2), ("define.z2", K, T)))
    pts = rng.random((3, 2))
    ds, backs = roundtrip(k, tmp_path, points=pts, wall_time_s=0.1)
    assert "seed: not applicable" in ds.attrs["provenance_missing"] and list(ds["layer"].values) == ["params.W1", "define.z2"]
    for back in backs:
        assert same(k, back)


def test_html_table(cos_model):
    from nnft.results import html
    text = html(_report(cos_model))
    assert "<table>" in text and "<th>G_stderr</th>" in text and "0,0;0.1,0.3" in text and "spec_sha256" in text
    assert html(to_dataset(_report(cos_model))) .count("<tr>") == 3         # a Dataset works too: header + 2 rows


def test_exact_roundtrip(cos_model, tmp_path):
    tuples = [np.array([[0.0, 0.0], [0.5, 0.0]]), np.array([[0.0, 0.0]] * 4)]
    ex = nnft.exact(cos_model, tuples)
    ds, backs = roundtrip(ex, tmp_path, tuples=tuples, theory=cos_model.theory)
    assert ds["G_exact"].dims == ("width", "tuple") and ds.attrs["spec_sha256"]
    for back in backs:
        assert same(ex, back)


def test_json_dtypes_are_restricted(tmp_path):
    p = tmp_path / "evil.json"
    p.write_text('{"format": "nnft-result", "version": 1, "attrs": {"nnft_result": "Diagnostics"}, "coords": [], '
                 '"variables": {"x": {"dims": ["i"], "shape": [1], "dtype": "V1000000000", "data": [0], "attrs": {}}}}')
    with pytest.raises(nnft.InputError, match="dtype"):
        load_result(p)
    assert load_result(_empty_checks(tmp_path)) == []


def _empty_checks(tmp_path):
    path = tmp_path / "none.nc"
    save([], path)
    return path


def test_report_keeps_row_fields_added_later(cos_model, tmp_path, monkeypatch):
    import nnft.study
    Row2 = dataclasses.make_dataclass("Row", [("kind_full", "str | None", dataclasses.field(default=None)),
                                              ("allow_full", float, dataclasses.field(default=0.0))],
                                      bases=(nnft.study.Row,))
    monkeypatch.setattr(nnft.study, "Row", Row2)
    rep = _report(cos_model)
    rows = [dataclasses.replace(r, kind_full=k, allow_full=a) for r, k, a in zip(rep.rows, ("NNGP", None), (0.01, 0.0))]
    assert all(type(r) is Row2 for r in rows)
    rep = dataclasses.replace(rep, rows=rows)
    ds, backs = roundtrip(rep, tmp_path)
    assert list(ds["kind_full"].values) == ["NNGP", ""] and list(ds["allow_full"].values) == [0.01, 0.0]
    for back in backs:
        assert [r.kind_full for r in back.rows] == ["NNGP", None] and [r.allow_full for r in back.rows] == [0.01, 0.0]
