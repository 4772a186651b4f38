"""The points of a spec's study (``study.points``) as coordinates in ℝᵈ.

Spec layer: reads a validated :class:`~nnft.spec.models.Theory` only (NumPy for the array; no JAX).
Used by the reference check, the study, the command line and the perturbative comparison.
"""

from __future__ import annotations

import numpy as np

from nnft.errors import SpecError
from nnft.spec.models import Theory


def study_points(theory: Theory) -> np.ndarray:
    """The study's points as an array (P, d); default: 3 points on the first axis in [0, 1].

    Raises:
      SpecError: the points do not have d coordinates each (naming the field).
    """
    d = theory.dims["d"]
    pts = theory.study.points

    def axis0(t: float) -> np.ndarray:       # t·e_0 without building a d×d identity
        v = np.zeros(d)
        v[0] = t
        return v

    if pts is None:
        return np.stack([axis0(t) for t in np.linspace(0.0, 1.0, 3)])
    if pts.list is not None:
        bad = next((i for i, p in enumerate(pts.list) if len(p) != d), None)
        if bad is not None:
            raise SpecError(f"point {bad} has {len(pts.list[bad])} coordinates; every point needs d = {d}",
                            file=theory.source, field=("study", "points", "list", bad))
        return np.asarray(pts.list, dtype=np.float64).reshape(len(pts.list), d)

    def vec(v, which: str) -> np.ndarray:
        if isinstance(v, list):
            if len(v) != d:
                raise SpecError(f"{v} has {len(v)} coordinates; d = {d}", file=theory.source,
                                field=("study", "points", "line", which))
            return np.asarray(v, dtype=np.float64)
        return axis0(float(v))

    a, b = vec(pts.line.start, "start"), vec(pts.line.stop, "stop")
    return np.stack([a + (b - a) * t for t in np.linspace(0.0, 1.0, pts.line.n)])
