"""Regression tests for `nnft run` / sweep / schema / analyse fixes (fast: no sampling above 200 networks)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import nnft
from nnft.cli import main

SPECS = sorted((Path(nnft.__file__).parent / "specs").glob("*.yaml"))


def _required_ok(schema: dict, data: dict) -> list[str]:
    """A minimal JSON Schema check (jsonschema is not installed): the top-level ``required``, the
    ``if``/``else`` on ``extends`` and ``additionalProperties: false`` — the part the bug was in."""
    missing = [k for k in schema.get("required", []) if k not in data]
    if "if" in schema:
        cond = all(k in data for k in schema["if"].get("required", []))
        branch = schema.get("then", {}) if cond else schema.get("else", {})
        missing += [k for k in branch.get("required", []) if k not in data]
        for key, sub in branch.get("properties", {}).items():
            if isinstance(data.get(key), dict):
                missing += [f"{key}.{k}" for k in sub.get("required", []) if k not in data[key]]
    if schema.get("additionalProperties") is False:
        missing += [f"unknown {k}" for k in data if k not in schema["properties"]]
    return missing


def test_every_shipped_spec_meets_the_schema():
    res = CliRunner().invoke(main, ["schema"])
    assert res.exit_code == 0, res.output
    schema = json.loads(res.output)
    assert SPECS
    for p in SPECS:
        data = yaml.safe_load(p.read_text())
        assert _required_ok(schema, data) == [], p.name
    extends = [p for p in SPECS if "extends" in yaml.safe_load(p.read_text())]
    assert any("dims" not in yaml.safe_load(p.read_text()) for p in extends)
    # a spec without extends and without dims still fails (the wrong answer)
    assert _required_ok(schema, {"nnft": 1, "name": "x"}) == ["dims"]
    assert _required_ok(schema, {"nnft": 1, "name": "x", "dims": {"N": 2}}) == ["dims.d"]


_NOTES = ("import nnft; from nnft.graph.analyse import analyse; from nnft.graph.build import build; "
          "from nnft.spec.mlp import expand; "
          "print('|'.join(analyse(build(expand(nnft.load('tanh_mlp')))).notes))")


def test_neuron_sum_note_is_deterministic():
    outs = set()
    for h in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": h, "JAX_PLATFORMS": "cpu"}
        r = subprocess.run([sys.executable, "-c", _NOTES], capture_output=True, text=True, env=env, timeout=120)
        assert r.returncode == 0, r.stderr[-2000:]
        outs.add(r.stdout.strip())
    assert len(outs) == 1, outs
    assert "parameter W1 is shared by all neurons" in outs.pop()     # the first in declaration order


@pytest.fixture(scope="module")
def one_report():
    return nnft.run(nnft.load("deep_linear"), samples=100, neurons=0)


def test_sweep_header_says_samples_and_seed_vary(one_report):
    from dataclasses import replace

    from nnft.sweep import Sweep
    r = one_report
    by_samples = Sweep("study.samples", [100, 200], [r, replace(r, samples=200)]).table()
    assert "networks vary by value (100, 200)" in by_samples and "100 networks per value" not in by_samples
    assert f"seed {r.seed} at every value" in by_samples
    by_seed = Sweep("study.seed", [1, 2], [replace(r, seed=1), replace(r, seed=2)]).table()
    assert "seed varies (1, 2)" in by_seed and "at every value" not in by_seed
    assert "common random numbers" not in by_seed
    same = Sweep("C_W", [1, 2], [r, r]).table()           # the wrong answer for a sweep that varies neither
    assert f"100 networks per value, seed {r.seed} at every value" in same


@pytest.mark.parametrize("args", [["--set", "study.samples=200,400", "--samples", "100"],
                                  ["--set", "study.seed=1,2", "--seed", "3"]])
def test_cli_refuses_swept_samples_or_seed_with_option(args):
    res = CliRunner().invoke(main, ["run", "deep_linear", *args])
    assert res.exit_code == 2, res.output
    assert "would override every value" in res.output and "Traceback" not in res.output


def test_run_reads_a_spec_as_run_sweep_does(one_report):
    from nnft.errors import InputError
    from nnft.spec.load import spec_mapping
    from nnft.sweep import _data
    theory = nnft.load("deep_linear")
    assert _data("deep_linear") == spec_mapping("deep_linear")      # one loader for both
    for spec in ("deep_linear", Path(theory.source), spec_mapping(theory)[0], theory, nnft.compile(theory)):
        r = nnft.run(spec, samples=100, neurons=0)
        assert r.samples == 100 and r.theory.name == theory.name
        assert [x.full for x in r.rows] == [x.full for x in one_report.rows]     # same seed, same numbers
    with pytest.raises(InputError, match="not int"):
        nnft.run(3, samples=100)
    with pytest.raises(InputError):
        nnft.run_sweep(3, "N", [4])


def test_sweep_values_integral_float_empty_and_duplicates():
    from nnft.errors import SpecError
    from nnft.sweep import theories
    assert [t.dims["N"] for t in theories("deep_linear", "N", [4.0, "8"])] == [4, 8]   # 4.0 is the size 4
    assert nnft.load("deep_linear", N=4.0).dims["N"] == 4
    with pytest.raises(SpecError, match="must be an integer"):                      # 4.5 is not a size
        theories("deep_linear", "N", [4.5])
    with pytest.raises(SpecError) as err:
        theories("deep_linear", "C_W", [])
    assert "deep_linear.yaml" in str(err.value) and "<dict>" not in str(err.value)
    with pytest.raises(SpecError, match="swept twice"):
        theories("deep_linear", "N", [4, 8, 4])
    with pytest.raises(SpecError, match="swept twice"):
        theories("deep_linear", "study.samples", ["1e3", 1000])     # the same value, written two ways
    res = CliRunner().invoke(main, ["run", "deep_linear", "--set", "N=4,8,4"])
    assert res.exit_code == 2 and "swept twice" in res.output and len(res.output.strip().splitlines()) == 1


def test_theory_kind_column_has_its_own_header(one_report):
    """The kind-of-theory column is headed `source`, not `theory` (which read as `k̂ theory`)."""
    text = one_report.table()
    header = next(line for line in text.splitlines() if line.lstrip().startswith("n ") and "points" in line)
    assert header.split()[-1] == "source" and not header.rstrip().endswith("theory")


# -- the neuron count of the neuron-level column: in the header and in the saved file ------------------

_SMALL_RUN = ["run", "cos_net", "--samples", "100", "--set", "N=8", "--points", "0,0;0.5,0", "--orders", "2"]


def _header(table: str) -> str:
    return next(ln for ln in table.splitlines() if "networks" in ln)


def test_sweep_header_names_the_neurons_once_or_by_value(one_report):
    """A sweep's header says the neuron count of its neuron-level column as the run header does: once
    when every value drew the same number, by value when they differ, not at all without the column."""
    from dataclasses import replace

    from nnft.sweep import Sweep
    r = one_report
    same = Sweep("study.seed", [1, 2], [replace(r, seed=1, neurons=1000), replace(r, seed=2, neurons=1000)])
    assert "100 networks per value, 1000 neurons (neuron level), seed varies" in same.table()
    differ = Sweep("N", [4, 8], [replace(r, neurons=1000), replace(r, neurons=1024)])
    assert "neurons vary by value (1000, 1024)" in differ.table()
    none = Sweep("study.seed", [1, 2], [replace(r, seed=1), replace(r, seed=2)])
    assert "neurons" not in none.table().splitlines()[1]


def test_run_header_names_the_neurons_of_the_neuron_level_column(tmp_path):
    """``nnft run`` without --neurons draws the default 10⁶ neurons (cos_net's neuron law does not depend
    on N: networks of width 64, 15625 of them, exactly 10⁶); the header and the saved attributes say so."""
    from nnft.results import load_result
    from nnft.results.files import read
    default = next(p.default for p in main.commands["run"].params if p.name == "neurons")
    assert default == 1_000_000
    out = tmp_path / "run.json"
    r = CliRunner().invoke(main, _SMALL_RUN + ["--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "G_c (neuron-level)" in r.output
    assert _header(r.output).strip() == "100 networks, 1000000 neurons (neuron level), seed 0"
    assert read(out).attrs["neurons"] == 1_000_000
    back = load_result(out)
    assert back.neurons == 1_000_000 and _header(back.table()) == _header(r.output)


def test_run_header_has_no_neurons_without_the_column(tmp_path):
    """--neurons 0: no neuron-level column, so no neuron count in the header or the file (the wrong
    twin of the test above)."""
    from nnft.results.files import read
    out = tmp_path / "run.json"
    r = CliRunner().invoke(main, _SMALL_RUN + ["--neurons", "0", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "neuron-level" not in r.output and "neurons" not in _header(r.output)
    assert _header(r.output).strip() == "100 networks, seed 0"
    assert "neurons" not in read(out).attrs


def test_neuron_count_is_the_number_drawn_and_absent_when_the_estimate_is():
    """neurons=1000 on networks of width 64 draws 16 whole networks, 1024 neurons: the report says 1024;
    a theory that is not a neuron sum has no column and no count whatever ``neurons`` asks."""
    rep = nnft.run(nnft.load("cos_net", N=8), samples=100, points=[[0.0, 0.0]], orders=[2], neurons=1000)
    assert rep.neurons == 1024 and all(r.neuron_connected for r in rep.rows)
    assert "1024 neurons (neuron level)" in _header(rep.table())
    deep = nnft.run(nnft.load("deep_linear"), samples=100, orders=[2], neurons=1000)
    assert deep.model.structure.neuron_sum is None
    assert deep.neurons is None and "neurons" not in _header(deep.table())


def test_saved_report_without_a_neuron_count_still_loads():
    """A file written before the count was saved (no ``neurons`` attribute): the column stays, the count
    is not claimed."""
    from nnft.results import report as report_io
    rep = nnft.run(nnft.load("cos_net", N=8), samples=100, points=[[0.0, 0.0]], orders=[2], neurons=640)
    ds = report_io.to_dataset(rep)
    assert ds.attrs["neurons"] == 640
    del ds.attrs["neurons"]
    back = report_io.from_dataset(ds)
    assert back.neurons is None and back.rows[0].neuron_connected == rep.rows[0].neuron_connected
    assert _header(back.table()).strip() == "100 networks, seed 0"
