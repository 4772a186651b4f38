"""Table point labels tell distinct points apart (1e6 and 1e6 + 0.5 printed alike with 6 digits)."""

from nnft.study import _distinguishing_digits


def test_distinct_points_get_distinct_labels():
    assert _distinguishing_digits([(0.0, 0.0), (0.5, 0.0)]) == 6
    pts = [(1e6, 0.0), (1e6 + 0.5, 0.0)]
    k = _distinguishing_digits(pts)
    assert len({tuple(f"{c:.{k}g}" for c in p) for p in pts}) == 2
    assert f"{1e6:.6g}" == f"{1e6 + 0.5:.6g}"          # the failure this prevents
    assert _distinguishing_digits([(0.1234567,), (0.1234568,)]) == 7
