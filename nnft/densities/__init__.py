"""Parameter densities P(theta): constraints as data, sampling / log-density / moments in JAX.

``get_density("normal").sample(key, (N, d), {"std": 0.1})`` etc.; see :mod:`nnft.densities.base`.
"""

from nnft.densities.base import (
    CONSTRAINTS,
    DENSITIES,
    Density,
    DensityArgError,
    Tail,
    get_density,
)

__all__ = ["CONSTRAINTS", "DENSITIES", "Density", "DensityArgError", "Tail", "get_density"]
