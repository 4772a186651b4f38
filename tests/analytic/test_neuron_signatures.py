"""The analytic neuron families read their argument signatures from nnft.spec.signatures (one home)."""

import ast
from pathlib import Path

import pytest

from nnft.analytic import NEURONS
from nnft.analytic.neurons import FAMILIES
from nnft.spec.signatures import REFERENCES

NEURONS_DIR = Path(__file__).resolve().parents[2] / "nnft" / "analytic" / "neurons"


def test_registry_and_signature_table_have_the_same_keys():
    assert set(NEURONS) == set(REFERENCES)
    assert list(NEURONS) == [cls.name for cls in FAMILIES]


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_family_args_and_defaults_are_the_table_entries(name):
    cls, sig = NEURONS[name], REFERENCES[name]
    assert cls.signature is sig
    assert dict(cls.args) == dict(sig.args) and list(cls.args) == list(sig.args)
    assert dict(cls.defaults) == dict(sig.defaults)


def test_no_family_declares_its_own_signature():
    """``args = ...`` / ``defaults = ...`` in a class body would be a second home for a signature."""
    declared = []
    for path in NEURONS_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                for stmt in node.body:
                    targets = (stmt.targets if isinstance(stmt, ast.Assign)
                               else [stmt.target] if isinstance(stmt, ast.AnnAssign) and stmt.value is not None
                               else [])
                    names = {t.id for t in targets if isinstance(t, ast.Name)}
                    if names & {"args", "defaults"} and node.name != "NeuronReference":
                        declared.append(f"{path.name}:{node.name}")
    assert not declared, declared
