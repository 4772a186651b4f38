"""Set partitions and the moment <-> cumulant (Möbius) relations.

Joint cumulants from raw moments (docs/physics.md §0; no assumption that odd moments vanish):

    κ(X_S) = Σ_{π ∈ Π(S)} (−1)^{|π|−1} (|π|−1)! Π_{B∈π} E[Π_{i∈B} X_i]

and back, E[Π_{i∈S} X_i] = Σ_{π ∈ Π(S)} Π_{B∈π} κ(X_B).
Subsets of a tuple of n points are bitmasks 1 .. 2ⁿ−1.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Callable

import numpy as np


@lru_cache(maxsize=None)
def set_partitions(n: int) -> tuple[tuple[tuple[int, ...], ...], ...]:
    """All partitions of {0..n−1} into non-empty blocks (Bell(n) of them)."""
    if n == 0:
        return ((),)
    out = []
    for part in set_partitions(n - 1):
        out.append(part + ((n - 1,),))
        for i in range(len(part)):
            out.append(part[:i] + (part[i] + (n - 1,),) + part[i + 1:])
    return tuple(out)


@lru_cache(maxsize=None)
def mask_partitions(mask: int) -> tuple[tuple[int, ...], ...]:
    """Partitions of the set bits of ``mask``, each as a tuple of block masks."""
    elems = [i for i in range(mask.bit_length()) if mask >> i & 1]
    return tuple(tuple(sum(1 << elems[j] for j in block) for block in part)
                 for part in set_partitions(len(elems)))


def mobius(blocks: int) -> int:
    """(−1)^{k−1}(k−1)!: the weight of a k-block partition in the cumulant formula."""
    return (-1) ** (blocks - 1) * math.factorial(blocks - 1)


def cumulants(moment: Callable[[int], np.ndarray], masks: list[int]) -> dict[int, np.ndarray]:
    """κ for each mask from a function mask -> raw moment (arrays broadcast)."""
    cache: dict[int, np.ndarray] = {}

    def m(b: int) -> np.ndarray:
        if b not in cache:
            cache[b] = moment(b)
        return cache[b]

    out = {}
    for s in masks:
        total = 0.0
        for part in mask_partitions(s):
            term = mobius(len(part))
            for b in part:
                term = term * m(b)
            total = total + term
        out[s] = total
    return out


def moments_from_cumulants(kappa: Callable[[int], np.ndarray], masks: list[int]) -> dict[int, np.ndarray]:
    """Raw moments for each mask from a function mask -> joint cumulant."""
    out = {}
    for s in masks:
        total = 0.0
        for part in mask_partitions(s):
            term = 1.0
            for b in part:
                term = term * kappa(b)
            total = total + term
        out[s] = total
    return out


def all_masks(n: int) -> list[int]:
    """The non-empty subsets of a tuple of n points as bitmasks 1 .. 2ⁿ−1 (bit i: point i)."""
    return list(range(1, 2 ** n))
