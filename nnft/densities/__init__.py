"""Parameter densities P(theta): constraints as data, sampling / log-density / moments in JAX, and the
facts other modules need about a law (support, tail, centre of symmetry, isotropy, Gaussianity, noise map).

``get_density("normal").sample(key, (N, d), {"std": 0.1})`` etc. Modules: :mod:`~nnft.densities.base`
(the :class:`Density` class), :mod:`~nnft.densities.facts` (the records it declares),
:mod:`~nnft.densities.constraints`, :mod:`~nnft.densities.draws` (counter-based and jitted draws), :mod:`~nnft.densities.scalar` (the
scalar families), :mod:`~nnft.densities.ball` (uniform_ball), :mod:`~nnft.densities.noise` (noise-map
helpers), :mod:`~nnft.densities.registry` (the table by name).
"""

from nnft.densities.base import Density
from nnft.densities.constraints import CONSTRAINTS
from nnft.densities.facts import Gaussian, Support, Tail
from nnft.densities.registry import DENSITIES, get_density
from nnft.errors import DensityArgError

__all__ = ["CONSTRAINTS", "DENSITIES", "Density", "DensityArgError", "Gaussian", "Support", "Tail",
           "get_density"]
