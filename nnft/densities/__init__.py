"""Parameter densities P(theta): constraints as data, sampling / log-density / moments in JAX, and the
facts other modules need about a law (support, tail, centre of symmetry, isotropy, Gaussianity, noise map).

``get_density("normal").sample(key, (N, d), {"std": 0.1})`` etc. Modules: :mod:`~nnft.densities.base`
(the :class:`Density` class), :mod:`~nnft.densities.facts` (the records it declares),
:mod:`~nnft.densities.constraints`, :mod:`~nnft.densities.draws` (counter-based and jitted draws), :mod:`~nnft.densities.scalar` (the
scalar families), :mod:`~nnft.densities.ball` (uniform_ball), :mod:`~nnft.densities.noise` (noise-map
helpers), :mod:`~nnft.densities.registry` (the table by name).

To add a density: give its signature (argument names, constraints, defaults) in
:data:`nnft.spec.signatures.DENSITIES`; subclass :class:`Density` (``scalar.py`` for a scalar family,
a module of its own otherwise) with ``_sample``, ``_log_prob``, ``_moment``, ``_noise_map`` and the
facts that differ from the defaults (``_tail``, ``_support``, ``_centre``, ``_isotropic``,
``_gaussian``, ``flat``, ``affine_args``; ``elementwise`` with ``_from_uniform`` for counter-based
draws); register it in :mod:`~nnft.densities.registry`; add its rows to
``tests/densities/test_densities.py`` and ``tests/densities/test_facts.py`` (which refuse a density
without them). No other module needs to know its name.
"""

from nnft.densities.base import Density
from nnft.densities.constraints import CONSTRAINTS
from nnft.densities.facts import Gaussian, Support, Tail
from nnft.densities.registry import DENSITIES, get_density
from nnft.errors import DensityArgError

__all__ = ["CONSTRAINTS", "DENSITIES", "Density", "DensityArgError", "Gaussian", "Support", "Tail",
           "get_density"]
