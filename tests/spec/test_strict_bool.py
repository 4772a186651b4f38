"""Switches of a spec are booleans, not strings that look like one: ``connected: "yes"`` (quoted) or
``linearised: "no"`` is refused in one line naming the field, instead of pydantic's lax reading of
"no" as False. YAML's own ``true``/``false`` (and the reader's unquoted ``yes``) stay booleans."""

import pytest
from click.testing import CliRunner

from nnft.cli import main
from nnft.spec.load import resolve

SPEC = open(resolve("cos_net"), encoding="utf-8").read()


@pytest.mark.parametrize("value", ['"yes"', '"no"', "1", '"true"'])
def test_a_quoted_or_numeric_switch_is_refused_naming_the_field(tmp_path, value):
    p = tmp_path / "s.yaml"
    p.write_text(SPEC.replace("connected: true", f"connected: {value}"))
    r = CliRunner().invoke(main, ["validate", str(p)])
    assert r.exit_code == 2, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and "study.correlators.connected" in lines[0], r.output


@pytest.mark.parametrize("value", ["true", "false"])
def test_a_boolean_switch_is_accepted(tmp_path, value):                      # the twin: real booleans pass
    p = tmp_path / "s.yaml"
    p.write_text(SPEC.replace("connected: true", f"connected: {value}"))
    assert CliRunner().invoke(main, ["validate", str(p)]).exit_code == 0
