"""Exact finite-N first-order perturbation theory of a compiled neuron-sum model under an insertion.

The pure numerics (κ(O, S) from full moments, the Möbius sum over partitions) are
``nnft.analytic.perturbative.first_order_from_moments``; this module feeds them the model's exact
FULL correlators from its declared ``reference:`` (``nnft.exact``), within the order the reference
and the correlator planner (``nnft.estimators.npoint.MAX_ORDER``) provide (docs/physics.md §7; TASI
§5.2 eq. 135-137 with the sign erratum of docs/physics.md §10).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["FirstOrder", "first_order"]

#: tuples per ``nnft.exact`` call (keeps the number of distinct products below the planner's limit)
_EXACT_CHUNK = 2000


@dataclass(frozen=True)
class FirstOrder:
    """First-order shifts of correlators under an insertion, arrays (len(widths), T).

    Attributes:
      widths: the widths N (axis 0).
      orders: the order n of each requested tuple (axis 1).
      full: the O(g) shift of the full moment ⟨φ(x₁)…φ(x_n)⟩, i.e. −κ(Πᵢφᵢ, S).
      connected: the O(g) shift of the joint cumulant G_c⁽ⁿ⁾, i.e. −κ(φ₁, …, φ_n, S).
      full0, connected0: the undeformed (g = 0) G⁽ⁿ⁾ and G_c⁽ⁿ⁾ from ``nnft.exact``.
      accuracy: the reference's stated absolute accuracy per moment (0 for closed forms); the shifts
        are linear in ≲ 2ⁿ·M·(#couplings) such moments.
    """

    widths: tuple[int, ...]
    orders: tuple[int, ...]
    full: np.ndarray
    connected: np.ndarray
    full0: np.ndarray
    connected0: np.ndarray
    accuracy: float


def first_order(model, tuples, points, weights, couplings=None, widths=None) -> FirstOrder:
    """Exact finite-N first-order shift of correlators of a neuron sum under V = Σ_k g_k φᵏ/k!.

    With S = Σ_z w_z V(φ(z)) (``points`` (M, d), ``weights`` (M,)) and P̃ ∝ P e^{−S}
    (TASI §5.2 eq. 135-137 with the docs/physics.md §10 sign erratum):

        ⟨Πᵢφ(xᵢ)⟩_g = ⟨Πᵢφ(xᵢ)⟩ − Σ_k (g_k/k!) Σ_z w_z [⟨Πᵢφ(xᵢ) φ(z)ᵏ⟩ − ⟨Πᵢφ(xᵢ)⟩⟨φ(z)ᵏ⟩] + O(g²)

    (``.full``) and the connected version −κ(φ(x₁), …, φ(x_n), S) from the Möbius formula over
    partitions of {1…n, S} (``.connected``). Every moment is an exact FULL correlator from
    ``nnft.exact`` (all tuples batched), so no Gaussianity is assumed: for φ⁴ and n = 2 this is

        c1(N) = −(1/24) Σ_z w_z [G6(x,y,z,z,z,z) − G2(x,y) G4(z,z,z,z)]       (docs/physics.md §7),

    which at N → ∞ reduces to ``nnft.analytic.perturbative.delta_g2_gaussian`` and at finite N
    contains the connected 4- and 6-point functions.

    Args:
      model: a compiled theory (``nnft.compile``) whose spec declares a ``reference:``.
      tuples: list of (n, d) point tuples.
      points: the lattice points of the action, (M, d).
      weights: their weights w_z, (M,).
      couplings: {k: g_k}; default {4: 1.0}, so ``.full`` of a 2-point tuple is c1 itself (the shift
        is linear in the couplings: multiply by λ, or pass {4: λ} to get the shift δG = λ·c1).
      widths: widths N (default: the spec's).

    Raises:
      InputError: malformed lattice, tuples or couplings.
      EstimatorError: when n + max k exceeds the order the reference (or the planner) provides —
        e.g. the φ⁴ shift of a 4-point function needs 8-point moments: Cos-net has them, Scalar-net
        (moments up to order 6) does not; or the model has no usable reference.

    Returns:
      :class:`FirstOrder`: shifts and undeformed G⁽ⁿ⁾, G_c⁽ⁿ⁾ as arrays (len(widths), T), units of φⁿ.

    Source: first-order perturbation theory, −κ(O, S), with connected correlators as vertices
    (arXiv:2307.03223; arXiv:2408.00082 §5.2, sign as in docs/physics.md §10).
    """
    from nnft.analytic.perturbative import first_order_from_moments
    from nnft.estimators.npoint import MAX_ORDER
    from nnft.reference import exact, neuron_reference

    neuron = neuron_reference(model)
    got = {"widths": tuple(int(v) for v in widths) if widths else None, "accuracy": 0.0}

    def moments(plist):
        parts = []
        for s in range(0, len(plist), _EXACT_CHUNK):
            ex = exact(model, plist[s:s + _EXACT_CHUNK], widths=got["widths"])
            parts.append(ex.full)
            got["widths"], got["accuracy"] = ex.widths, max(got["accuracy"], ex.accuracy)
        return np.concatenate(parts, axis=1)

    full, conn, full0, conn0, orders = first_order_from_moments(
        moments, tuples, points, weights, couplings, d=int(model.d),
        max_order=min(int(neuron.max_order), MAX_ORDER), source=f"the reference {neuron.name} (with the planner)")
    return FirstOrder(widths=tuple(got["widths"]), orders=orders, full=full, connected=conn, full0=full0,
                      connected0=conn0, accuracy=float(got["accuracy"]))
