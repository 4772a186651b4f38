"""MCMC chains in fixed groups, group j on local device j mod D.

The i.i.d. stream shards chunks of networks over devices (``nnft.sample.iid``); MCMC shards chains the
same way. The C chains are cut into C/G groups of G chains (``chain_batch``); every group is computed by
the same jitted per-group program, group j on device j mod D (:class:`GroupDispatch`). A chain's draws
therefore depend on the key, C and G only — never on the number of devices that run the groups
(tests/mcmc/test_devices.py checks 1, 2 and 4 devices bit for bit).

G is fixed per machine, not per run: by default the largest divisor of C that is at most
⌈C / (local devices)⌉, so on one device all chains stay vmapped together (the fastest there) and with
several local devices every device gets whole chains, whatever ``devices=`` selects.
"""

from __future__ import annotations

from typing import Callable

import jax
import numpy as np

from nnft.errors import InputError

__all__ = ["chain_batch", "GroupDispatch"]


def chain_batch(chains: int, batch: int | None) -> int:
    """G, the chains vmapped together in one per-device program.

    Args:
      chains: C.
      batch: the requested G (must divide C), or None for the default: the largest divisor of C that
        is at most ⌈C / jax.local_device_count()⌉.

    Raises:
      InputError: ``batch`` is not a positive divisor of ``chains``.
    """
    if batch is None:
        cap = -(-chains // max(1, jax.local_device_count()))
        return max(d for d in range(1, chains + 1) if chains % d == 0 and d <= cap)
    if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 1 or chains % batch:
        divisors = [d for d in range(1, chains + 1) if chains % d == 0]
        raise InputError(f"chain_batch = {batch!r} must divide chains = {chains}: one of {divisors}")
    return int(batch)


class GroupDispatch:
    """``fn(*replicated, *per_group)`` run for every group of chains, group j on device j mod D.

    ``fn`` is the per-group program (``replicated`` arguments first): ``per_group`` arguments are
    pytrees with a leading axis of the G chains of the group; its outputs are pytrees of arrays.
    :meth:`__call__` runs all C/G groups, group j on device j mod D (dispatched asynchronously, so the devices work at once), and returns the
    outputs on the host, stacked on a leading group axis (C/G, ...).

    Every device runs the same jitted program (one XLA compilation per device, of the same HLO): a
    ``shard_map`` over a one-device mesh is lowered without SPMD partitioning and can round its last bit
    differently from the partitioned program of two or more devices, so it is not used here.
    """

    def __init__(self, fn: Callable, name: str):
        def per_group(*args):
            return fn(*args)

        per_group.__name__ = per_group.__qualname__ = name       # compile events are named after it
        self._jitted = jax.jit(per_group)

    def __call__(self, replicated: tuple, per_chain: tuple, groups: int, devices: list):
        """Run every group on ``devices``. ``per_chain``: pytrees with a leading axis of C = groups·G
        chains (chain c is in group c // G). Returns the outputs as numpy arrays with a leading axis of
        ``groups``."""
        by_group = jax.tree_util.tree_map(lambda a: a.reshape((groups, -1) + a.shape[1:]), tuple(per_chain))
        outs = []
        for g in range(groups):
            dev = devices[g % len(devices)]
            args = jax.device_put((tuple(replicated), jax.tree_util.tree_map(lambda a: a[g], by_group)), dev)
            outs.append(self._jitted(*args[0], *args[1]))         # asynchronous: the next group starts now
        outs = jax.device_get(outs)
        return jax.tree_util.tree_map(lambda *xs: np.stack(xs), *outs)
