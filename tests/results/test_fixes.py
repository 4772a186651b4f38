"""Regressions for bugs a tester found in results-as-data (fast: no sampling unless stated)."""

from __future__ import annotations

import numpy as np
import pytest

import nnft
from nnft.errors import InputError
from nnft.results import files


def _check_with_reasons():
    from nnft.checks.result import CheckResult
    reasons = np.array(["zero variance", None, "φ constant"], dtype=object)
    return [CheckResult(check="cluster G2", verdict="PASS", statistic=1.0, threshold=3.0, samples=10,
                        data={"degenerate_reason": reasons, "r": np.array([0.5, 1.0, 2.0])})]


@pytest.mark.parametrize("ext", [".nc", ".json"])
def test_object_array_of_text_round_trips(tmp_path, ext):
    from nnft.results import save
    path = str(tmp_path / f"c{ext}")
    save(_check_with_reasons(), path)
    back = nnft.load_result(path)[0].data["degenerate_reason"]
    assert back.dtype == object and list(back) == ["zero variance", None, "φ constant"]


def test_object_array_not_text_refused_at_write(tmp_path):
    from nnft.results import save
    res = _check_with_reasons()
    res[0].data["degenerate_reason"] = np.array([1, "a"], dtype=object)
    path = tmp_path / "c.json"
    with pytest.raises(InputError, match="object array holding a int"):
        save(res, str(path))
    assert not path.exists()
    # and a wrong answer: an object array of text passes the same check
    files.pack(np.array(["a", None], dtype=object))


def test_unicode_array_and_single_damage_prefix():
    u = np.array(["ab", "c"])
    assert np.array_equal(files.unpack(files.pack(u)), u)
    bad = '{"$array": [1], "dtype": "|O", "shape": [1]}'
    with pytest.raises(InputError) as err:
        files.unpack(bad)
    assert str(err.value).count("damaged result file") == 1
