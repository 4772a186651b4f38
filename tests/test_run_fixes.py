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
