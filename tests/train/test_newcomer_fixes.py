"""Training refusals and notes a newcomer needed: an insertion theory cannot be trained (the ensemble starts
from P(θ), so both the ensemble and its theory column would be the free theory's), and a small ensemble's
table says that its z-scores follow a Student-t (few jackknife blocks), as `nnft run` does."""

import pytest
from click.testing import CliRunner

import nnft
from nnft.cli import main
from nnft.errors import SpecError
from train.test_training import erf_spec


def _with_insertion(N=8):
    spec = erf_spec(N, networks=8, steps=2, record=[0, 2])
    spec["constants"]["lam"] = 0.5
    spec["insertions"] = [{"potential": {"phi4": {"coupling": "lam"}},
                           "domain": {"box": [[-1.0, 1.0]], "lattice": 4}}]
    return spec


def test_training_an_insertion_theory_is_refused_naming_train(tmp_path):
    model = nnft.compile(nnft.from_dict(_with_insertion()))
    with pytest.raises(SpecError) as err:
        nnft.train(model)
    assert err.value.field == "train" and "insertions" in str(err.value)
    # the free theory trains (the twin: the refusal is about the insertion only)
    assert nnft.train(model.free()).mean.n == 8


@pytest.mark.parametrize("networks, noted", [(8, True), (128, False)])
def test_few_networks_note_in_the_training_table(networks, noted):
    model = nnft.compile(nnft.from_dict(erf_spec(8, networks=networks, steps=2, record=[0, 2])))
    table = nnft.train(model).table(width=200)
    assert ("few networks" in table and "Student-t" in table) is noted
