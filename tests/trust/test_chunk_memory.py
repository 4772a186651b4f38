"""Chunks are sized from the whole step's memory: parameters + field intermediates at every point the
step evaluates (an insertion's lattice included) + features. A 65 536-point insertion lattice once made
a 4096-network chunk ask XLA for 34 GB; the memory estimate is checked here without allocating it."""

import nnft
from nnft.sample.iid import CHUNK_ELEMENTS, chunk_size, step_elements


def test_a_large_insertion_lattice_gives_a_small_chunk():
    d = nnft.load("cos_net", N=16).model_dump()
    d["insertions"] = [{"potential": {"phi4": {"coupling": 0.1}},
                        "domain": {"box": [[-1.0, 1.0], [-1.0, 1.0]], "lattice": 256}}]
    model = nnft.compile(nnft.from_dict(d))
    free = model.free()
    assert sum(len(i.points) for i in model.insertions) == 65_536
    per_point = model.point_elements
    assert per_point >= 16 * 3                       # at least W0·x + b0, cos and W1·cos over N = 16
    # the lattice is counted: 65 536 field evaluations per network
    assert step_elements(model, 3, 1, 10) - step_elements(free, 3, 1, 10) == 65_536 * per_point
    chunk = chunk_size(model, 4096, 10**6, points=3, rows=1, n_features=10)
    assert chunk * step_elements(model, 3, 1, 10) <= CHUNK_ELEMENTS
    assert chunk < 16                                 # was 4096 (parameters alone: 64 per network)
    assert chunk_size(free, 4096, 10**6, points=3, rows=1, n_features=10) == 4096


def test_points_and_features_count_too():
    model = nnft.compile(nnft.load("cos_net", N=16))
    many = chunk_size(model, 4096, 10**6, points=5000, rows=1, n_features=50_000)
    assert many * step_elements(model, 5000, 1, 50_000) <= CHUNK_ELEMENTS and many < 4096
