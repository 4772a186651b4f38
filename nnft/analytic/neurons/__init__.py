"""Per-neuron analytic moments M_K(x_1..x_K) = E[ψ(x_1)…ψ(x_K)] for named neuron families.

A theory φ(x) = Σ_{i=1..N} v_i ψ_i(x) with (v_i, ψ_i) i.i.d. and v ⟂ ψ has joint cumulants
κ_n(φ(x_1)..φ(x_n)) = N κ_n(vψ(x_1)..vψ(x_n)) (docs/physics.md §0; TASI arXiv:2408.00082 eq. 39,
50-51), so the readout moments E[v^k] and the per-neuron moments M_K determine every correlator.

One module per mathematical idea:

* :mod:`.base` -- :class:`NeuronReference` (validation against ``nnft.spec.signatures.REFERENCES``)
  and :class:`GaussianPreactivation` (first-layer neurons σ(w·x + b));
* :mod:`.cosine` -- plane-wave neurons A F(w) cos(w·x + b): CosNet, CauchyNet, ScalarNet, ShapedNet,
  RPScalar;
* :mod:`.gauss_net` -- GaussNet (closed form);
* :mod:`.relu` -- ReLU moment numerics and ReluLayer;
* :mod:`.erf` -- ErfLayer (sign moments, Price's theorem).

:data:`NEURONS` maps each registry name (the ``reference:`` tag of a spec, the keys of
``REFERENCES``) to its final class; ``NEURONS[name](d, **args).moment(points)`` is M_K.
"""

from __future__ import annotations

from nnft.errors import NeuronArgError, QuadratureError  # noqa: F401 - the errors moment() raises, importable here too

from .base import GaussianPreactivation, NeuronReference
from .cosine import CauchyNet, CosNet, RPScalar, ScalarNet, ShapedNet
from .erf import ErfLayer, sign_moment4
from .gauss_net import GaussNet
from .relu import ReluLayer, relu_arc_moment, relu_cone_moment, relu_orthant_moment

#: every final neuron family, in the order of ``nnft.spec.signatures.REFERENCES``
FAMILIES: tuple[type[NeuronReference], ...] = (
    CosNet, GaussNet, ScalarNet, CauchyNet, RPScalar, ReluLayer, ErfLayer, ShapedNet)

#: registry name -> family (``NEURONS[name](d, **args)``); same keys as ``REFERENCES``
NEURONS: dict[str, type[NeuronReference]] = {cls.name: cls for cls in FAMILIES}

__all__ = [
    "NEURONS", "FAMILIES", "NeuronReference", "GaussianPreactivation", "NeuronArgError", "QuadratureError",
    "CosNet", "CauchyNet", "ScalarNet", "ShapedNet", "RPScalar", "GaussNet", "ReluLayer", "ErfLayer",
    "relu_arc_moment", "relu_cone_moment", "relu_orthant_moment", "sign_moment4",
]
