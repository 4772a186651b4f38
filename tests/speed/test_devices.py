"""Sharding the work items over local devices does not change a bit: block sums, tail buffers and the
final estimates are bitwise identical with 1, 2 and 4 devices (forced host devices, set before JAX is
imported, in a subprocess)."""

from __future__ import annotations

import numpy as np
import pytest

from . import _runs

FOUR_DEVICES = """
import os
os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
"""


@pytest.fixture(scope="module")
def by_devices(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("devices")
    body = """
    import jax, sys
    assert jax.local_device_count() == 4, jax.local_devices()
    for d in (1, 2, 4):
        with runtime.settings(devices=d):
            np.savez(f"d{d}.npz", **measure_all())
    with runtime.settings(devices=4):          # another seed: the comparison below can fail
        np.savez("other_key.npz", **measure_all(key=4, neurons=False))
    try:
        with runtime.settings(devices=5):
            measure_all(neurons=False)
    except nnft.InputError as err:
        open("too_many.txt", "w").write(str(err))
    """
    res = _runs.run(_runs.script(body, FOUR_DEVICES), tmp)
    assert res.returncode == 0, res.stderr[-3000:]
    load = lambda name: dict(np.load(tmp / name))      # noqa: E731
    return {d: load(f"d{d}.npz") for d in (1, 2, 4)}, load("other_key.npz"), (tmp / "too_many.txt").read_text()


@pytest.mark.parametrize("d", [2, 4])
def test_block_sums_tails_and_estimates_are_bitwise_the_same(by_devices, d):
    runs, _, _ = by_devices
    one, many = runs[1], runs[d]
    assert set(one) == set(many)
    for prefix in ("cos", "phi4", "neuron"):              # G2/G4 connected, an insertion, neuron level
        assert any(k.startswith(prefix + ".") for k in one), prefix
    assert "phi4.weights2" in one and "cos.top_pos" in one
    for name in one:
        np.testing.assert_array_equal(many[name], one[name], err_msg=f"{name} with {d} devices")
        assert many[name].tobytes() == one[name].tobytes(), name       # also NaN payloads and signed zeros


def test_the_comparison_sees_a_different_key(by_devices):
    runs, other, _ = by_devices
    assert not np.array_equal(other["cos.sums"], runs[4]["cos.sums"])
    assert not np.array_equal(other["phi4.connected.mean"], runs[4]["phi4.connected.mean"])


def test_more_devices_than_present_is_refused_naming_the_count(by_devices):
    _, _, message = by_devices
    assert "devices = 5" in message and "4 cpu device(s)" in message


def test_devices_is_checked_in_process():
    import nnft
    from nnft import runtime
    with pytest.raises(nnft.InputError, match="devices"):
        runtime.local_devices(0)
    with pytest.raises(nnft.InputError, match="devices"):
        runtime.local_devices(2.5)
    assert len(runtime.local_devices(None)) >= 1


def test_work_items_never_cross_a_block_and_cover_the_run():
    from nnft.sample.iid import blocks_of, work_list
    for n, k, c in [(1000, 7, 64), (10, 5, 3), (4096, 64, 4096)]:
        items = work_list(n, k, c)
        blocks = blocks_of(n, k)
        assert sum(count for _, _, count in items) == n
        for b, start, count in items:
            lo, hi = blocks[b]
            assert lo <= start and start + count <= hi and 0 < count <= c
