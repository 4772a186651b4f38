"""Infinite-width kernels read off the graph: NNGP K and NTK Θ, op by op.

Each op kind has a kernel map (:data:`nnft.graph.kernel_maps.KERNEL_MAPS`, the way a neural-tangents
layer carries its ``kernel_fn``). The interpreter walks the graph in topological order with one state per node:

- ``det``   the input x: S = Σ_j x_j x'_j (the Gram matrix X Xᵀ);
- ``weight`` a parameter W ~ N(0, s²) with constant s (the only densities with a kernel map);
- ``gp``    Gaussian units, i.i.d. over the node's axes: per-unit covariance K and NTK Θ;
- ``fgp``   a pointwise function f of one ``gp`` node (an activation, or any elementwise expression
            of it): f and f' are composed symbolically (chain rule);
- ``wsum``  W ⊙ f(z) awaiting the sum over its axis (the readout ``sum_N(W * σ(z))``).
- ``phase`` a uniform phase b ~ U[−π, π] (Cos-net), ``dvec`` a deterministic function of x such as |x|²
            (Gauss-net): closed forms in :mod:`nnft.graph.kernel_maps`.

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

from collections import namedtuple
from dataclasses import dataclass, field
from typing import Callable

import networkx as nx
import numpy as np

from nnft.errors import KernelError  # noqa: F401 - defined in nnft.errors, importable here too
from nnft.graph import ir
from nnft.graph.kernel_maps import KERNEL_MAPS, KState, _map_fn, _param_state
from nnft.tables import TextTable


@dataclass(frozen=True)
class Kernels(TextTable):
    """NNGP and NTK on a point set.

    Attributes:
      nngp: K(xᵢ, xⱼ) of the field, (P, P).
      ntk: Θ(xᵢ, xⱼ) of the field w.r.t. standardised Gaussian parameters, (P, P).
      layers: per layer, in graph order: (label, K, Θ) — the layer-by-layer recursion; the label names the
        layer as the spec does (:func:`layer_labels`: ``z1`` … ``zL``, ``field``).
      source: where the kernels come from: "graph recursion" (this module), or the neuron reference
        (``nnft.kernels_reference``).
      ntk_terms: Θ split by trained parameter p, name -> (P, P) summing to ``ntk``: s_p² Σ ∂φ/∂θ_p ∂φ/∂θ_p
        at infinite width (the per-layer terms of the recursion; empty when not read off the graph).

    Source: NNGP and NTK recursions (Lee et al. arXiv:1711.00165 eq. 4; Jacot et al. arXiv:1806.07572); the container is not from a paper.
    """

    nngp: np.ndarray
    ntk: np.ndarray
    layers: tuple[tuple[str, np.ndarray, np.ndarray], ...]
    source: str = "graph recursion"
    ntk_terms: dict = field(default_factory=dict, compare=False)

    def table(self, width: int | None = None, *, name: str = "", layers: bool = False) -> str:
        """K and Θ as tables fitted to ``width`` cells, as ``nnft kernel`` prints them (``print`` shows
        it, Jupyter as HTML); ``layers``: also the diagonals layer by layer."""
        from nnft.result_tables import kernels as text
        return text(self, name=name, layers=layers, width=width)


def kernels(model, points) -> Kernels:
    """NNGP and NTK of a compiled model on a point set (P, d), read off its graph (the recursions of
    the module docstring: Lee et al. arXiv:1711.00165, Jacot et al. arXiv:1806.07572, LH
    arXiv:2309.01592 eq. 25-26).

    Args:
      model: a compiled model (``nnft.compile``).
      points: (P, d) array-like of input points (a single point (d,) is read as P = 1).

    Returns:
      :class:`Kernels` with (P, P) float64 matrices ``nngp`` and ``ntk`` (units of φ²) and the
      per-layer (K, Θ).

    Raises:
      KernelError: points without d coordinates; a node has no kernel map (non-Gaussian densities
        feeding the units, shared parameters, activations whose Gaussian integrals diverge, ...),
        naming the spec field; a field that is not a Gaussian process at infinite width.
    """
    if getattr(model, "is_vector", False):
        raise KernelError(f"{model.theory.source}: kernel maps are built for scalar fields, and this theory is a "
                          f"vector field with {model.components} components (components: {model.theory.components}); "
                          "measure its component correlators with nnft local SPEC 'phi[0](x) * phi[0](y)'")
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
    if out.kind != "gp" or out.mean is not None or out.phase:
        what = out.kind if out.kind != "gp" else "Gaussian field with a deterministic offset or a phase"
        raise KernelError(f"{model.theory.source}: field: the field is not a centred Gaussian process at infinite "
                          f"width (its final operation gives a {what})")
    return Kernels(nngp=out.K, ntk=out.T, layers=layer_labels(layers), ntk_terms=dict(out.terms or {}))


def layer_labels(layers: list) -> tuple:
    """Name each layer by the spec: a definition's name (``z1`` … ``zL``, as ``mlp:`` specs expand to),
    ``field`` for the output; several layers inside one expression are numbered ``field: layer i/n``."""
    where = [w.removeprefix("define.") for w, _, _ in layers]
    count = {w: where.count(w) for w in where}
    seen: dict[str, int] = {}
    out = []
    for w, (_, K, T) in zip(where, layers):
        seen[w] = seen.get(w, 0) + 1
        out.append((w if count[w] == 1 else f"{w}: layer {seen[w]}/{count[w]}", K, T))
    return tuple(out)


def nngp(model, points) -> np.ndarray:
    """The NNGP kernel K(xᵢ, xⱼ) of the field (infinite width), (P, P) for points (P, d).

    Args:
      model: a compiled model (``nnft.compile``).
      points: (P, d) input points.

    Returns:
      (P, P) float64 array in units of φ².

    Raises:
      KernelError: as :func:`kernels`.

    Source: Lee et al. arXiv:1711.00165 eq. 4; arXiv:2309.01592 eq. 13-14.
    """
    return kernels(model, points).nngp


def ntk(model, points) -> np.ndarray:
    """The NTK Θ(xᵢ, xⱼ) of the field (infinite width, NTK parameterisation), (P, P) for points (P, d).

    Args:
      model: a compiled model (``nnft.compile``).
      points: (P, d) input points.

    Returns:
      (P, P) float64 array in units of φ².

    Raises:
      KernelError: as :func:`kernels`.

    Source: Jacot et al. arXiv:1806.07572; arXiv:2309.01592 eq. 25-26.
    """
    return kernels(model, points).ntk



def kernel_fn(model, batch_size: int = 256) -> Callable:
    """The infinite-width kernel of a compiled model as a two-set function, the way a neural-tangents
    ``kernel_fn`` is called: ``kernel_fn(model)(x1, x2=None, get=("nngp", "ntk"))``.

    Args:
      model: a compiled model (``nnft.compile``).
      batch_size: points of x1 and of x2 per block; memory is O(batch_size²) per block whatever n1·n2.

    The returned function takes x1 (n1, d), x2 (n2, d) or None (= x1), and ``get``: one of "nngp",
    "ntk" (returns the (n1, n2) array) or a tuple of them (returns a namedtuple ``Kernel`` with those
    fields, each (n1, n2)). Each block is read off the graph on the union of the two blocks' points
    (:func:`kernels`; recursions of Lee et al. arXiv:1711.00165 and Jacot et al. arXiv:1806.07572), so
    it equals the corresponding block of the one-set Gram on concat(x1, x2). Units: those of φ², as K.

    Returns:
      ``fn(x1, x2=None, get=("nngp", "ntk"))``: an (n1, n2) float64 array for one name, else a
      namedtuple of such arrays.

    Raises:
      KernelError: as :func:`kernels`; also an unknown ``get``, or a batch_size < 1.
    """
    if int(batch_size) < 1:
        raise KernelError(f"batch_size must be ≥ 1, got {batch_size}")
    b = int(batch_size)

    def fn(x1, x2=None, get=("nngp", "ntk")):
        names = (get,) if isinstance(get, str) else tuple(get)
        bad = [n for n in names if n not in ("nngp", "ntk")]
        if bad or not names:
            raise KernelError(f"get must be 'nngp', 'ntk' or a tuple of them, got {get!r}")
        X1 = np.atleast_2d(np.asarray(x1, dtype=np.float64))
        X2 = X1 if x2 is None else np.atleast_2d(np.asarray(x2, dtype=np.float64))
        for X in (X1, X2):
            if X.ndim != 2 or X.shape[1] != model.d:
                raise KernelError(f"points must have shape (n, d) with d = {model.d}, got {X.shape}")
        out = {n: np.empty((len(X1), len(X2))) for n in names}
        for i in range(0, len(X1), b):
            A = X1[i:i + b]
            for j in range(0, len(X2), b):
                B = X2[j:j + b]
                k = kernels(model, np.concatenate([A, B]))
                for n in names:
                    out[n][i:i + len(A), j:j + len(B)] = getattr(k, n)[:len(A), len(A):]
        if isinstance(get, str):
            return out[get]
        return namedtuple("Kernel", names)(*(out[n] for n in names))

    return fn
