"""Infinite-width kernels read off the graph: NNGP K and NTK Θ, op by op.

Each op kind has a kernel map (:data:`KERNEL_MAPS`, the way a neural-tangents layer carries its
``kernel_fn``). The interpreter walks the graph in topological order with one state per node:

- ``det``   the input x: S = Σ_j x_j x'_j (the Gram matrix X Xᵀ);
- ``weight`` a parameter W ~ N(0, s²) with constant s (the only densities with a kernel map);
- ``gp``    Gaussian units, i.i.d. over the node's axes: per-unit covariance K and NTK Θ;
- ``fgp``   a pointwise function f of one ``gp`` node (an activation, or any elementwise expression
            of it): f and f' are composed symbolically (chain rule);
- ``wsum``  W ⊙ f(z) awaiting the sum over its axis (the readout ``sum_N(W * σ(z))``).

Sums of Gaussian nodes: independent terms add their kernels. Terms that share parameters add
their kernels too when their cross-covariance vanishes, which the interpreter proves from the
*lead* parameters it tracks: a ``gp`` value is a sum of terms each linear in a zero-mean weight
(its lead) that appears nowhere else in the term, so E[term · other] = 0 whenever the lead is not a
parameter of the other summand (and the NTK cross terms vanish the same way). That is the residual
layer z⁽ˡ⁾ = W σ(z⁽ˡ⁻¹⁾) + b + γ z⁽ˡ⁻¹⁾ (Les Houches lectures arXiv:2309.01592 eq. 25-26):

    K⁽ˡ⁾ = σ_b² + s² n F(K⁽ˡ⁻¹⁾) + γ² K⁽ˡ⁻¹⁾,    Θ⁽ˡ⁾ = σ_b² + s² n F + (s² n Ḟ + γ²) Θ⁽ˡ⁻¹⁾.

The recursions (docs/physics.md §4, Lee et al. arXiv:1711.00165, Jacot et al. arXiv:1806.07572), for
z' = W σ(z) + b with W ~ N(0, s²) over n units and b ~ N(0, σ_b²):

    K'  = σ_b² + s² n F(K),          F(K) = E[σ(u)σ(v)],  (u, v) ~ N(0, K)
    Θ'  = K' + s² n Ḟ(K) ⊙ Θ,         Ḟ(K) = E[σ'(u)σ'(v)]

— the NTK with respect to the *standardised* parameters θ/std (the NTK parameterisation), which is
what ``nnft.empirical_ntk`` computes. F and Ḟ use the closed forms of the function table
(``nnft.functions``: ``Function.kernel``) for a function applied directly to Gaussian units, and the
graded Gaussian quadrature of ``nnft.analytic.gaussian`` otherwise (accurate to ``ACCURACY`` relative to E|f g| at any K ≤ 10⁴, checked per entry; quadrature
that does not converge is refused).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from nnft.errors import KernelError  # noqa: F401 - defined in nnft.errors, importable here too
from nnft.graph import ir
from nnft.graph.kernel_maps import KERNEL_MAPS, KState, _map_fn, _param_state


@dataclass(frozen=True)
class Kernels:
    """NNGP and NTK on a point set.

    Attributes:
      nngp: K(xᵢ, xⱼ) of the field, (P, P).
      ntk: Θ(xᵢ, xⱼ) of the field w.r.t. standardised Gaussian parameters, (P, P).
      layers: per Gaussian node, in graph order: (spec location, K, Θ) — the layer-by-layer recursion.
    """

    nngp: np.ndarray
    ntk: np.ndarray
    layers: tuple[tuple[str, np.ndarray, np.ndarray], ...]


def kernels(model, points) -> Kernels:
    """NNGP and NTK of a compiled model on a point set (P, d), read off its graph (the recursions of
    the module docstring: Lee et al. arXiv:1711.00165, Jacot et al. arXiv:1806.07572, LH
    arXiv:2309.01592 eq. 25-26).

    Returns:
      :class:`Kernels` with (P, P) matrices ``nngp`` and ``ntk`` and the per-layer (K, Θ).

    Raises:
      KernelError: points without d coordinates; a node has no kernel map (non-Gaussian densities
        feeding the units, shared parameters, activations whose Gaussian integrals diverge, ...),
        naming the spec field; a field that is not a Gaussian process at infinite width.
    """
    g = model.graph
    dims = model.theory.dims
    X = np.atleast_2d(np.asarray(points, dtype=np.float64))
    if X.shape[1] != model.d:
        raise KernelError(f"points have {X.shape[1]} coordinates, d = {model.d}")
    states: dict[str, KState] = {}
    layers = []
    for node in nx.topological_sort(g):
        a = g.nodes[node]
        ins = ir.inputs(g, node)
        kind = ir.kind(g, node)
        try:
            if kind == "input":
                st = KState("det", ("d",), K=X @ X.T, T=np.zeros((len(X), len(X))))
            elif kind == "const":
                st = KState("const", value=ir.value(g, node))
            elif kind == "param":
                st = _param_state(g, node)
            elif kind == "output":
                st = states[ins[0]]
            elif a["op"].startswith("fn:"):
                st = _map_fn(a["op"][3:], states[ins[0]], ins[0])
            elif a["op"] in KERNEL_MAPS:
                in_states = [states[i] for i in ins]
                for s in in_states:
                    if s.kind == "other":
                        raise KernelError("a parameter with a non-Gaussian (or non-constant) density feeds the "
                                          "units; infinite-width kernels need W, b ~ N(0, const)")
                st = KERNEL_MAPS[a["op"]](a, in_states, ins, dims)
            else:
                raise KernelError(f"no kernel map for the operation {a['op']}")
        except KernelError as err:
            raise KernelError(f"{model.theory.source}: {ir.field(g, node)}: {err}") from None
        states[node] = st
    for node in nx.topological_sort(g):                 # layers: preactivations not extended further
        st = states[node]
        if st.kind == "gp" and ir.is_op(g, node) and not any(
                states[v].kind == "gp" and ir.is_op(g, v, "add", "sub", "mul", "div", "neg")
                for v in g.successors(node)):
            layers.append((ir.field(g, node), st.K, st.T))
    out = states[ir.OUTPUT]
    if out.kind != "gp":
        raise KernelError(f"{model.theory.source}: field: the field is not a Gaussian process at infinite width "
                          f"(its final operation gives a {out.kind})")
    return Kernels(nngp=out.K, ntk=out.T, layers=tuple(layers))


def nngp(model, points) -> np.ndarray:
    """The NNGP kernel K(xᵢ, xⱼ) of the field (infinite width), (P, P) for points (P, d).

    Raises:
      KernelError: as :func:`kernels`.
    """
    return kernels(model, points).nngp


def ntk(model, points) -> np.ndarray:
    """The NTK Θ(xᵢ, xⱼ) of the field (infinite width, NTK parameterisation), (P, P) for points (P, d).

    Raises:
      KernelError: as :func:`kernels`.
    """
    return kernels(model, points).ntk

