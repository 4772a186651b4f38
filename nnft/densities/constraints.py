"""Argument constraints of the densities, as data: a constraint name -> a predicate and its words.

The names are those of the signature table :data:`nnft.spec.signatures.DENSITIES` (``"real"``,
``"positive"``, ``"nonnegative"``); :meth:`nnft.densities.Density.check` applies them to constant
arguments.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

#: Constraint name -> (predicate on a float64 numpy array, human-readable description).
#: Every constraint also requires finiteness (NaN / inf are always rejected).
CONSTRAINTS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], str]] = {
    "real": (lambda x: np.ones(np.shape(x), dtype=bool), "real (finite)"),
    "positive": (lambda x: x > 0, "positive (> 0)"),
    "nonnegative": (lambda x: x >= 0, "nonnegative (>= 0)"),
}


def fmt_value(value: np.ndarray) -> str:
    """A value for an error message: scalars as floats, arrays as lists."""
    return repr(float(value)) if np.ndim(value) == 0 else repr(value.tolist())
