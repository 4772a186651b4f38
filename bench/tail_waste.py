"""Padding waste of the i.i.d. stream's step shape against the number of compiled shapes (pure
arithmetic, no JAX): every jackknife block is cut into chunks of one step shape and the last chunk
of a block is padded to it (``nnft.sample.iid.work_list``); a padded row is computed and discarded.

Rules compared, for a requested chunk C and K blocks of n networks (largest block L):
  pow2     (before): shape = min(C, next power of two >= L)
  even/s   (now, s = ``iid.LADDER_STEPS``): m = ceil(L / min(C, pow2)) chunks per block, shape = the
           smallest value >= ceil(L / m) of a ladder with s values per octave (2^e·(1 + j/s)),
           capped at min(C, pow2): the block is split evenly, the shape rounded up to the ladder.
Printed: mean and worst padding (fraction of the networks computed in vain) over n log-uniform in
[1e3, 1e7], and how many distinct shapes those n compile (a user varying n pays one compile each).

Usage: ``python bench/tail_waste.py [CHUNK [BLOCKS]]`` (default 4096 64).
"""

from __future__ import annotations

import sys

import numpy as np


def pow2_shape(n: int, k: int, chunk: int) -> int:
    largest = -(-n // k)
    return max(1, min(chunk, 1 << max(0, (largest - 1).bit_length())))


def ladder_up(x: int, steps: int) -> int:
    """The smallest value >= x of {2^e·(1 + j/steps)} (integers; exact powers of two below ``steps``)."""
    if x <= steps:
        return x
    e = (x - 1).bit_length() - 1          # 2^e < x <= 2^(e+1)
    unit = (1 << e) // steps
    return -(-x // unit) * unit


def even_shape(n: int, k: int, chunk: int, steps: int) -> int:
    cap = pow2_shape(n, k, chunk)
    largest = -(-n // k)
    m = -(-largest // cap)
    return min(cap, ladder_up(-(-largest // m), steps))


def waste(n: int, k: int, shape: int) -> float:
    sizes = [(-(-(b + 1) * n // k)) - (-(-b * n // k)) for b in range(k)]
    computed = sum(-(-s // shape) * shape for s in sizes)
    return computed / n - 1.0


def main(chunk: int = 4096, k: int = 64) -> None:
    ns = np.unique(np.round(np.logspace(3, 7, 400)).astype(int))
    rules = {"pow2": lambda n: pow2_shape(n, k, chunk)}
    for s in (1, 2, 4, 8, 16):
        rules[f"even/{s}"] = (lambda s: lambda n: even_shape(n, k, chunk, s))(s)
    print(f"chunk {chunk}, {k} blocks, {len(ns)} sample counts log-uniform in [1e3, 1e7]")
    print(f"{'rule':>8} {'mean waste':>11} {'worst':>7} {'shapes':>7}  {'n>=1e5: mean':>12} {'worst':>6} {'shapes':>6}")
    for name, rule in rules.items():
        shapes = [rule(int(n)) for n in ns]
        w = [waste(int(n), k, s) for n, s in zip(ns, shapes)]
        big = [i for i, n in enumerate(ns) if n >= 1e5]
        wb = [w[i] for i in big]
        print(f"{name:>8} {np.mean(w):>10.2%} {max(w):>7.1%} {len(set(shapes)):>7}  {np.mean(wb):>12.2%} "
              f"{max(wb):>6.1%} {len({shapes[i] for i in big}):>6}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
