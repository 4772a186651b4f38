"""What a density declares about its law, as small records: :class:`Tail` (which moments exist),
:class:`Support` (where it is positive), :class:`Gaussian` (mean and std of a normal law).

Returned by :meth:`nnft.densities.Density.tail`, ``.support`` and ``.gaussian``; read by the graph's
moment and symmetry analyses, the kernel maps and the NTK estimator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

INF = math.inf


@dataclass(frozen=True)
class Tail:
    """The moments a density has.

    Fields:
      alpha: E|X|ᵖ < ∞ exactly for 0 ≤ p < alpha (inf: every moment exists).
      bounded: the support is bounded.
      light: E e^{t|X|} < ∞ for every t (sub-Gaussian or bounded), so exp(X) has every moment.
    """

    alpha: float
    bounded: bool
    light: bool

    def has_moment(self, k: float) -> bool:
        """Whether E|X|^k is finite."""
        return k < self.alpha


@dataclass(frozen=True)
class Support:
    """Where a density is positive (the closure of that set).

    Fields:
      low, high: for a scalar density (``event_dims == 0``), the interval [low, high]; ``-inf`` /
        ``inf`` for an unbounded end (the real line, a half-line).
      radius: for a vector density (``event_dims == 1``), the ball |w| ≤ radius about the origin
        (``low``/``high`` are then -inf/inf and mean nothing); None for scalar densities.
    """

    low: float = -INF
    high: float = INF
    radius: float | None = None

    @property
    def bounded(self) -> bool:
        """Whether the support is bounded."""
        return self.radius is not None or (math.isfinite(self.low) and math.isfinite(self.high))

    def contains(self, x: np.ndarray) -> np.ndarray:
        """Whether points lie in the support: scalars elementwise (same shape), vectors along the
        last axis (shape ``x.shape[:-1]``)."""
        x = np.asarray(x, dtype=np.float64)
        if self.radius is not None:
            return np.sum(x * x, axis=-1) <= self.radius ** 2
        return (x >= self.low) & (x <= self.high)


class Gaussian(NamedTuple):
    """A normal law N(mean, std²): what :meth:`Density.gaussian` declares."""

    mean: float
    std: float
