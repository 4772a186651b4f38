"""Analytic references (numpy/scipy only): per-neuron moments and whole-theory closed forms.

* :data:`NEURONS` -- registry name -> :class:`NeuronReference` subclass; ``NEURONS[name](d, **args)
  .moment(points)`` is the per-neuron moment M_K = E[ψ(x_1)…ψ(x_K)] (docs/physics.md §0).
  The families live in :mod:`nnft.analytic.neurons` (one module per mathematical idea) and read their
  argument signatures from ``nnft.spec.signatures.REFERENCES``.
* :mod:`nnft.analytic.closed_forms` -- G2 / G4c closed forms of docs/physics.md §1-4, 8 and the NNGP
  kernels ``relu_kernel`` / ``erf_kernel``.
* :mod:`nnft.analytic.gaussian`, :mod:`~nnft.analytic.activations`, :mod:`~nnft.analytic.criticality`,
  :mod:`~nnft.analytic.finite_width` -- Gaussian expectations of activations, infinite-width kernel
  recursions and criticality, and the O(1/n) / exact finite-width theory of deep MLPs at one input
  (docs/physics.md §4-5).

Layering: the modules imported here use only numpy, scipy, ``nnft.errors``, ``nnft.spec.signatures``
and each other (nothing above them in nnft's import stack).
"""

from .closed_forms import (cos_net_g2, cos_net_g4c, erf_kernel, free_scalar_g2, gauss_net_g2,
                           gauss_net_g4c, relu_kernel, relu_moment_22, rp_scalar_g2, scalar_net_g2,
                           scalar_net_g4c, scalar_net_h)
from .neurons import (FAMILIES, NEURONS, CauchyNet, CosNet, ErfLayer, GaussNet, NeuronArgError,
                      NeuronReference, QuadratureError, ReluLayer, RPScalar, ScalarNet, ShapedNet)

from .criticality import (critical_line, chi_parallel, chi_perp, correlation_depths, fixed_point,
                          phase_diagram)
from .finite_width import deep_linear_g2, deep_linear_g4c, leading_order, relu_leading_ratio, relu_moments

__all__ = [
    "NEURONS", "NeuronReference", "NeuronArgError", "QuadratureError",
    "CosNet", "GaussNet", "ScalarNet", "CauchyNet", "RPScalar", "ReluLayer", "ErfLayer", "ShapedNet",
    "gauss_net_g2", "gauss_net_g4c", "cos_net_g2", "cos_net_g4c", "scalar_net_g2", "scalar_net_h",
    "scalar_net_g4c", "free_scalar_g2", "rp_scalar_g2", "relu_kernel", "erf_kernel", "relu_moment_22",
]
__all__ += [
    "fixed_point", "chi_parallel", "chi_perp", "correlation_depths", "critical_line", "phase_diagram",
    "leading_order", "relu_moments", "relu_leading_ratio", "deep_linear_g2", "deep_linear_g4c",
]
