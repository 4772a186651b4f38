"""Public-API inputs: ambiguous arrays refused with a hint, counts checked, sizes bounded before work."""

from __future__ import annotations


import numpy as np
import pytest

import nnft
from nnft.inputs import MAX_SAMPLES, as_count, as_points, as_tuples
from nnft.spec.points import study_points
from nnft.study import MAX_TUPLES_PER_ORDER, default_tuples


@pytest.fixture(scope="module")
def cos():
    return nnft.compile(nnft.load("cos_net", N=4))


def test_a_2d_array_of_tuples_is_refused_with_a_hint(cos):
    with pytest.raises(nnft.InputError, match=r"list of tuples each of shape \(n, d\)"):
        nnft.measure(cos, np.zeros((2, 2)), samples=100)


def test_a_list_of_points_is_refused_with_a_hint(cos):
    with pytest.raises(nnft.InputError, match="read two ways"):
        nnft.measure(cos, [[0.0, 0.0], [1.0, 0.0]], samples=100)


@pytest.mark.parametrize("bad,fragment", [
    ([[[0.0, 0.0, 0.0]]], "d = 2"),
    ([[[np.nan, 0.0]]], "finite"),
    ([np.zeros((9, 2))], "orders 1..8"),
    ([np.zeros((0, 2))], "orders 1..8"),
    ([], "tuples given"),
    ("0,0", "string"),
])
def test_malformed_tuples_are_refused_before_sampling(cos, bad, fragment):
    with pytest.raises(nnft.InputError, match=fragment):
        nnft.measure(cos, bad, samples=100)


@pytest.mark.parametrize("kw,fragment", [
    ({"samples": 2.5}, "samples"), ({"samples": True}, "samples"), ({"samples": "100"}, "samples"),
    ({"samples": MAX_SAMPLES + 1}, "outside"), ({"samples": float("nan")}, "samples"),
    ({"key": 2 ** 64}, "key"), ({"key": -1}, "key"), ({"chunk": 0}, "chunk"),
])
def test_bad_counts_are_input_errors(cos, kw, fragment):
    with pytest.raises(nnft.InputError, match=fragment):
        nnft.measure(cos, [[[0.0, 0.0]]], **{"samples": 100, **kw})


def test_an_integral_float_sample_count_is_the_integer_it_names(cos):
    est = nnft.correlator(cos, np.zeros((1, 2, 2)), samples=1e3, key=0)   # 3-D arrays are unambiguous
    assert est.n == 1000


def test_helpers_directly():
    assert as_count(1e4, "samples") == 10_000
    assert as_points([0.0, 0.5, 1.0], 1).shape == (3, 1)        # d = 1: a flat list is points
    assert as_points([0.0, 0.5], 2).shape == (1, 2)             # d = 2: a flat list of d numbers is a point
    assert len(as_tuples(np.zeros((3, 2, 1)), 1)) == 3
    with pytest.raises(nnft.InputError):
        as_points([[0.0], [1.0, 2.0]], 1)


def test_run_checks_points_against_d():
    with pytest.raises(nnft.InputError, match="d = 2"):
        nnft.run(nnft.load("cos_net"), samples=100, points=[[0.0, 0.0, 0.0]])


def test_many_points_build_only_the_kept_tuples():
    pts = np.random.default_rng(0).normal(size=(30_000, 2))
    tuples = default_tuples(pts, [1, 2, 3, 4])          # built lazily: only the kept tuples exist
    assert len(tuples) == 4 * MAX_TUPLES_PER_ORDER


def test_default_points_in_high_dimension_need_no_identity():
    theory = nnft.from_dict({"nnft": 1, "name": "wide", "dims": {"d": 4096, "N": 2},
                             "params": {"W": {"shape": ["N", "d"], "density": {"normal": {"std": 1.0}}}},
                             "field": "sum_N(cos(W @ x))"})
    pts = study_points(theory)
    assert pts.shape == (3, 4096) and pts[:, 1:].max() == 0.0 and pts[2, 0] == 1.0


def test_input_dimension_is_bounded():
    with pytest.raises(nnft.SpecError, match="4096") as info:
        nnft.load("cos_net", d=100_000)
    assert info.value.field == "dims.d"


def test_ragged_study_points_are_refused_at_load(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("extends: cos_net\nname: r\nstudy: {points: {list: [[0.0, 0.0], [1.0]]}}\n", encoding="utf-8")
    with pytest.raises(nnft.SpecError, match="coordinates") as info:
        nnft.load(spec)
    assert info.value.field.startswith("study.points.list")


def test_study_points_of_the_wrong_dimension_name_the_field(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("extends: cos_net\nname: r\nstudy: {points: {list: [[0.0, 0.0, 0.0]]}}\n", encoding="utf-8")
    with pytest.raises(nnft.SpecError, match="d = 2") as info:
        study_points(nnft.load(spec))
    assert info.value.field.startswith("study.points.list")


@pytest.mark.parametrize("text,want", [("1e4", 10000), ("1.5e5", 150000), ("10000.0", 10000), ("2.5", None),
                                       ("1e-3", None), ("true", None)])
def test_study_samples_in_scientific_notation(tmp_path, text, want):
    """YAML 1.1 reads 1e4 as a string: a count in scientific notation is the integer it names; a
    fraction or a boolean is still refused."""
    path = tmp_path / "s.yaml"
    path.write_text(f"extends: cos_net\nstudy: {{samples: {text}}}\n", encoding="utf-8")
    if want is None:
        with pytest.raises(nnft.SpecError, match="study.samples"):
            nnft.load(path)
    else:
        assert nnft.load(path).study.samples == want
