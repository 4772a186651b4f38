"""Infinite-width NNGP of any neuron sum with a declared reference: the graph's recursion first, the
per-neuron law's exact 2-point function when the recursion has no kernel map for a layer.

For a neuron sum φ(x) = Σᵢ w1ᵢ hᵢ(x) with i.i.d. neurons and readout variance ∝ 1/N, the central limit
theorem makes φ Gaussian as N → ∞ with K(x, y) = N E[w1²] E[h(x)h(y)] = G2(x, y) of the declared neuron
law (``nnft.reference``: TASI arXiv:2408.00082 eq. 53-56; Cos-net eq. 68-69, Gauss-net eq. 61-62).
That kernel is exact; the NTK is not read from a reference (NaN, labelled).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from nnft.errors import EstimatorError, KernelError
from nnft.graph.kernels import Kernels, kernels

#: the ``Kernels.source`` of a kernel read from the neuron reference
REFERENCE_SOURCE = "neuron reference: exact G2 of the declared per-neuron law (N→∞ NNGP); NTK not available"


def kernels_or_reference(model, points) -> Kernels:
    """NNGP K and NTK Θ of a compiled model on points (P, d): :func:`nnft.graph.kernels.kernels`, or,
    when the graph has no kernel map for a layer (a non-Gaussian density feeding the units, ...) and the
    spec is a neuron sum with a ``reference:``, K from that reference (``Kernels.source`` says so; Θ is
    NaN, layers hold the one reference layer).

    Args:
      model: a compiled theory (``nnft.compile``).
      points: (P, d) array-like of input points (P <= ``nnft.inputs.MAX_KERNEL_POINTS``).

    Returns:
      :class:`nnft.graph.kernels.Kernels`, (P, P) matrices in units of φ².

    Raises:
      KernelError: the graph's error, with why the reference cannot stand in (no neuron sum, no
        ``reference:``, an insertion: an interacting theory is not a Gaussian process).

    Source: NNGP kernel recursion (Lee et al. ICLR 2018; arXiv:2309.01592 eq. 13-14) and NTK
    (Jacot et al. NeurIPS 2018); the neuron reference is G⁽²⁾ of arXiv:2408.00082 eq. 34-41.
    """
    try:
        return kernels(model, points)
    except KernelError as err:
        graph_err = err
    from nnft.reference import exact
    X = np.atleast_2d(np.asarray(points, dtype=np.float64))
    if model.structure.neuron_sum is None or not getattr(model.theory, "reference", None) or model.insertions:
        raise graph_err
    pairs = [X[[i, j]] for i in range(len(X)) for j in range(i, len(X))]
    try:
        g2 = np.asarray(exact(model, pairs).full[0], dtype=np.float64)
    except EstimatorError as ref_err:
        raise KernelError(f"{graph_err}; the neuron reference cannot stand in: {ref_err}") from None
    K = np.zeros((len(X), len(X)))
    K[np.triu_indices(len(X))] = g2
    K = K + np.triu(K, 1).T
    T = np.full_like(K, np.nan)
    return replace(Kernels(nngp=K, ntk=T, layers=(("field (neuron reference)", K, T),)), source=REFERENCE_SOURCE)
