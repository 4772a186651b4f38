"""An override whose value the reader refuses (non-finite, empty) is located in the spec it overrides:
the error names that file, not "<dict>" (API and `--set`, one line, exit 2)."""

import pytest
from click.testing import CliRunner

import nnft
from nnft.cli import main
from nnft.errors import SpecError


def test_api_names_the_file():
    with pytest.raises(SpecError) as e:
        nnft.load("cos_net", N="1e400")
    assert e.value.file.endswith("cos_net.yaml") and e.value.field == "N" and "non-finite" in e.value.message


@pytest.mark.parametrize("pair", ["N=1e400", "train.temperature=1e400"])
def test_cli_names_the_file(pair):
    r = CliRunner().invoke(main, ["run", "cos_net", "--set", pair])
    assert r.exit_code == 2 and len(r.output.strip().splitlines()) == 1, r.output
    assert "cos_net.yaml" in r.output and "<dict>" not in r.output and pair.split("=")[0] in r.output
