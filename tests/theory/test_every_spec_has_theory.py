"""Every shipped spec's `nnft run` table has, in every row, a theory value (labelled with its kind) or a
footnoted reason — never a bare "—". The theory is filled without sampling (fill_theory) for all specs,
and one real `nnft run` table (tiny sample) is checked for its labels and footnotes."""

import numpy as np
import pytest

import nnft
from nnft.graph.compile import compile
from nnft.spec.points import study_points
from nnft.study import KINDS, Row, default_tuples, fill_theory, run

def _spec_names():
    from pathlib import Path
    return sorted(p.stem for p in (Path(nnft.__file__).parent / "specs").glob("*.yaml"))


@pytest.mark.parametrize("name", _spec_names())
def test_every_row_has_theory_or_reason(name):
    th = nnft.load(name)
    model = compile(th)
    tuples = default_tuples(study_points(th), list(th.study.correlators.orders))
    rows = [Row(order=len(t), points=t, full=(0.0, 1.0), connected=(0.0, 1.0)) for t in tuples]
    notes = []
    fill_theory(model, rows, tuples, notes)
    for r in rows:
        if r.exact_full is None or r.exact_connected is None:
            assert r.reason, (name, r.points)
        else:
            assert np.isfinite(r.exact_full) and np.isfinite(r.exact_connected)
            assert r.kind_full in KINDS and r.kind_connected in KINDS
            if r.kind_full != "exact":
                assert r.allow_full > 0 or r.exact_full == 0.0


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore")
def test_run_table_labels_and_footnotes():
    rep = run(nnft.load("relu_mlp", N=4, L=2), samples=64, neurons=0)
    table = rep.table()
    assert "[1]" in table and "[1] no theory:" in table
    assert "NNGP (N→∞)" in table and "z~" in table
    body = table.split("-" * 20)[1]
    assert " — " not in body.replace("—      ", "")       # no theory cell is a bare dash (a z may be)
    from dataclasses import replace
    shown = replace(rep, ess=123.0, rhat=1.004, bulk_ess=456.0).table()
    assert "Kish ESS = 123 of 64" in shown and "split-R̂ = 1.0040" in shown and "bulk ESS ≥ 456" in shown
    assert "ESS" in shown.splitlines()[[i for i, l in enumerate(shown.splitlines()) if l.startswith(" n ")][0]]
