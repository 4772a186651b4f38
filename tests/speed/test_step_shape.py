"""The step shape of the i.i.d. stream (``nnft.sample.iid.step_chunk``) splits every jackknife block
evenly: the padded rows of the last chunk of a block (computed, then masked) stay below the stated
bound for any run size, and runs of nearby sizes share compiled shapes."""

from __future__ import annotations

import numpy as np

from nnft.sample.iid import LADDER_STEPS, blocks_of, step_chunk, work_list


def _padding(n, k, shape):
    return sum(-(-(hi - lo) // shape) * shape for lo, hi in blocks_of(n, k)) / n - 1.0


def _bound(n, k, chunk):
    """Padding ≤ (1 + 1/s)(L + m)/(L − 1) − 1 with L the largest block, m its chunks, s = LADDER_STEPS."""
    largest = -(-n // k)
    m = -(-largest // min(chunk, 1 << (largest - 1).bit_length()))
    return (1 + 1 / LADDER_STEPS) * (largest + m) / max(1, largest - 1) - 1


def test_padding_stays_below_the_bound_and_items_cover_the_run():
    for n in np.unique(np.round(np.logspace(2, 7, 120)).astype(int)):
        for k, chunk in [(64, 4096), (16, 1000), (7, 64)]:
            n, shape = int(n), step_chunk(chunk, int(n), k)
            assert 1 <= shape <= chunk
            assert _padding(n, k, shape) <= _bound(n, k, chunk) + 1e-12, (n, k, chunk, shape)
            if n // shape < 20_000:                       # the work list itself, where it is short
                items = work_list(n, k, shape)
                assert sum(c for _, _, c in items) == n and all(0 < c <= shape for _, _, c in items)


def test_cutting_blocks_by_the_whole_chunk_would_break_the_bound():
    """Blocks of 2050 networks cut into chunks of the next power of two (4096) pad 100 %; split
    evenly (one chunk of 2560) 25 %."""
    n, k, chunk = 64 * 2050, 64, 4096
    assert _padding(n, k, 4096) > _bound(n, k, chunk)
    assert step_chunk(chunk, n, k) == 2560 and abs(_padding(n, k, 2560) - 0.2488) < 1e-3


def test_nearby_run_sizes_share_shapes():
    shapes = {step_chunk(4096, n, 64) for n in range(1_000_000, 1_100_000, 1000)}
    assert len(shapes) <= 2, shapes
