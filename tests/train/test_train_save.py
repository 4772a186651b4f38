"""A saved training result keeps its flags: the Pareto k̂ of E f_t, Var f_t and the loss, the notes and the
variance resolution floor round-trip through .nc and .json, so ``load_result(file).table()`` is the table
that was printed (HEAVY TAIL and "< floor" included); a file saved before they were written loads and says
its tail flags were not recorded."""

import numpy as np
import pytest

import nnft
from nnft.results import load_dataset, load_result, save, to_dataset
from nnft.results.training import NOT_RECORDED
from train.test_train_stats import FIT, NORMAL, STUDENT, _spec
from train.test_training import erf_spec

FORMATS = (".nc", ".json")


@pytest.fixture(scope="module")
def runs():
    """A Gaussian erf-train net (trained bias, with theory), a Student-t(2.1) readout bias (not trained: f_t
    keeps its tail, flagged) and a float32 fit whose final variance is below the dtype's resolution."""
    kw = dict(steps=2, record=[0, 2], lr=0.1)
    gauss = nnft.train(nnft.compile(nnft.from_dict(erf_spec(8, networks=64, **kw))))
    student = nnft.train(nnft.compile(nnft.from_dict(_spec(STUDENT, N=8, networks=1000, **kw))))
    floor = nnft.train(nnft.compile(nnft.from_dict(erf_spec(64))), networks=32, steps=400, record=[0, 400],
                       dtype="float32", **FIT)
    return {"gauss": gauss, "student": student, "floor": floor}


def _roundtrip(r, path):
    save(r, path)
    return load_result(path)


@pytest.mark.parametrize("ext", FORMATS)
@pytest.mark.parametrize("name", ["gauss", "student", "floor"])
def test_the_saved_table_is_the_printed_table(runs, tmp_path, name, ext):
    r = runs[name]
    back = _roundtrip(r, tmp_path / f"{name}{ext}")
    assert back.table(width=240) == r.table(width=240)
    assert back.table(width=80) == r.table(width=80)
    assert back.notes == r.notes
    for part in ("mean", "cov", "loss"):
        a, b = getattr(r, part).khat, getattr(back, part).khat
        assert a is not None and a.shape == b.shape and a.tobytes() == b.tobytes()
    assert back.var_floor.tobytes() == r.var_floor.tobytes()
    assert back.kappa4.notes == r.kappa4.notes


def test_the_flags_survive_and_their_twins_are_clean(runs, tmp_path):
    heavy = _roundtrip(runs["student"], tmp_path / "student.nc").table(width=240)
    assert "HEAVY TAIL (" in heavy and "*" in heavy and "note: κ4_t is not computed" in heavy
    light = _roundtrip(runs["gauss"], tmp_path / "gauss.json").table(width=240)
    assert "HEAVY TAIL" not in light and "resolution" not in light and "not recorded" not in light
    low = _roundtrip(runs["floor"], tmp_path / "floor.json")
    assert low.unresolved[-1].all() and "below float32's resolution" in low.table(width=240)


def test_the_khat_variables_have_the_statistics_dims(runs):
    ds = to_dataset(runs["student"])
    for part in ("mean", "cov", "loss"):
        assert ds[f"{part}_khat"].dims == ds[part].dims
    assert ds["var_floor"].dims == ("step", "point")
    assert "ntk_khat" not in ds                      # not tracked: absent, read back as None


@pytest.mark.parametrize("ext", FORMATS)
def test_an_old_file_loads_and_says_its_tail_flags_were_not_recorded(runs, tmp_path, ext):
    r = runs["student"]
    ds = to_dataset(r)
    ds = ds.drop_vars(["mean_khat", "cov_khat", "loss_khat", "var_floor"])
    for key in [k for k in ds.attrs if k == "notes" or k.endswith("_notes")]:
        del ds.attrs[key]
    path = tmp_path / f"old{ext}"
    save(ds, path)
    assert "notes" not in load_dataset(path).attrs
    old = load_result(path)
    assert old.notes == (NOT_RECORDED,) and old.mean.khat is None and old.var_floor is None
    table = old.table(width=240)
    assert table.count("not recorded") == 1 and f"note: {NOT_RECORDED}" in table
    assert "HEAVY TAIL (" in runs["student"].table(width=240) and "HEAVY TAIL (" not in table   # the note says why
    # twin: the same run saved now has no such note
    assert "not recorded" not in _roundtrip(r, tmp_path / f"new{ext}").table(width=240)


def test_nnft_show_prints_the_saved_flags(runs, tmp_path):
    from click.testing import CliRunner

    from nnft.cli import main
    path = tmp_path / "student.nc"
    save(runs["student"], path)
    shown = CliRunner().invoke(main, ["show", str(path)])
    assert shown.exit_code == 0 and "HEAVY TAIL (" in shown.output and "not recorded" not in shown.output
