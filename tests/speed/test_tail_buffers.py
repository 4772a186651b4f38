"""The streamed tail buffer (``nnft.tails.RunningTop``) keeps exactly the ``keep`` largest values of every
column, whatever the chunking: the same multiset as sorting everything at once and as the chunk-by-chunk
``merge_top`` it replaces (so the k̂ diagnostic does not change by a bit)."""

from __future__ import annotations

import numpy as np
import pytest

from nnft.tails import RunningTop, merge_top


def _exact(data: np.ndarray, keep: int) -> np.ndarray:
    return np.sort(data.T, axis=1)[:, -min(keep, len(data)):]


def _stream(data: np.ndarray, keep: int, cuts, start_at: int | None = None) -> np.ndarray:
    rt = RunningTop(data.shape[1], keep)
    edges = [0, *cuts, len(data)]
    for k, (a, b) in enumerate(zip(edges[:-1], edges[1:])):
        if start_at is not None and k == start_at:                  # as after a checkpoint restore
            rt = RunningTop(data.shape[1], keep, rt.result())
        rt.add(data[a:b])
    return np.sort(rt.result(), axis=1)


@pytest.mark.parametrize("keep", [1, 7, 40, 300])
def test_any_chunking_keeps_the_exact_top_values(keep):
    rng = np.random.default_rng(keep)
    data = np.abs(rng.standard_normal((900, 6))) ** np.arange(1, 7)          # light to heavy columns
    data[:, 5] = np.round(data[:, 5], 1)                                     # many ties
    data[:, 4] = np.where(np.arange(900) < 450, 0.0, data[:, 4])             # an atom, late tail
    exact = _exact(data, keep)
    for cuts in ([], [1, 2, 3], list(range(5, 900, 37)), list(range(1, 900))):   # dense and sparse merges
        for start_at in (None, len(cuts) // 2):
            got = _stream(data, keep, cuts, start_at)
            assert got.tobytes() == exact.tobytes(), (keep, len(cuts), start_at)


def test_uneven_columns_and_the_previous_merge_agree():
    rng = np.random.default_rng(3)
    data = rng.standard_normal((2000, 4))
    data[1000:, 0] += np.linspace(0, 50, 1000)          # one column's values keep rising: most new hits there
    keep = 60
    old = None
    for a in range(0, 2000, 16):
        old = merge_top(old, data[a:a + 16].T, keep)
    got = _stream(data, keep, list(range(16, 2000, 16)))
    assert got.tobytes() == np.sort(old, axis=1).tobytes() == _exact(data, keep).tobytes()
    wide = rng.standard_normal((4000, 64))                # many columns, one with nearly all the hits:
    wide[:, 0] = np.arange(4000.0)                        # the merge that ranks within columns first
    assert _stream(wide, 5, list(range(200, 4000, 200))).tobytes() == _exact(wide, 5).tobytes()


def test_fewer_values_than_kept_and_a_wrong_buffer_fails_the_comparison():
    data = np.arange(12.0).reshape(4, 3)
    rt = RunningTop(3, 10)
    rt.add(data)
    assert rt.result().shape == (3, 4)
    assert np.sort(rt.result(), axis=1).tobytes() == _exact(data, 10).tobytes()
    wrong = _exact(data, 10).copy()
    wrong[0, 0] = np.nextafter(wrong[0, 0], 1.0)           # one value off by an ulp is seen
    assert wrong.tobytes() != np.sort(rt.result(), axis=1).tobytes()


def test_segment_nanmax_is_nanmax_per_segment():
    from nnft.stats import segment_nanmax
    rng = np.random.default_rng(5)
    vals = rng.standard_normal(50)
    vals[::7] = np.nan
    vals[3] = -np.inf
    segs = [rng.choice(50, size=rng.integers(0, 6), replace=False) for _ in range(300)] + [np.array([0, 7, 14])]
    want = [np.nanmax(vals[s]) if len(s) and not np.all(np.isnan(vals[s])) else np.nan for s in segs]
    got = segment_nanmax(vals, segs)
    assert got.tobytes() == np.asarray(want).tobytes()
    assert np.isnan(got[-1]) and np.isnan(segment_nanmax(vals, [np.zeros(0, int)])[0])


def test_batched_khat_is_the_per_column_fit_bit_for_bit():
    from nnft.tails import khat_from_top, khat_rows, khat_two_sided
    rng = np.random.default_rng(6)
    for n, cols in ((8, 40), (120, 30)):
        draws = np.concatenate([np.abs(rng.standard_normal((20 * n, cols))) ** rng.integers(1, 5, cols),
                                rng.pareto(0.8, (20 * n, cols))], axis=1)
        top = np.sort(draws, axis=0)[-n:].T.copy()
        top[0] = 1.0                      # constant: -inf
        top[1, :3] = 0.0                  # an atom at the threshold
        top[2, 4] = np.inf                # not finite: NaN
        want = np.array([khat_from_top(r) for r in top])
        assert khat_rows(top).tobytes() == want.tobytes()
        assert np.isneginf(want[0]) and np.isnan(want[2]) and np.sum(np.isfinite(want)) > len(top) - 3
        assert khat_two_sided(top, top[::-1]).tobytes() == np.fmax(want, want[::-1]).tobytes()
    assert np.isnan(khat_rows(np.ones((3, 4)))).all()          # too few values for a fit
