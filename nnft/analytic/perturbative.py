"""Perturbation theory for local insertions (docs/physics.md §7; TASI §5.2, eq. 135-137).

An insertion deforms the parameter density, P̃(θ) ∝ P(θ) exp(−S(θ)), with the action regulated on a
lattice of points z (shape (M, d)) with quadrature weights w_z (shape (M,)):

    S(θ) = Σ_z w_z V(φ_θ(z)),        V(φ) = Σ_k g_k φᵏ/k!      (φ⁴: g_4 = λ, i.e. V = λ/4! φ⁴).

The sign is e^{−S} (TASI eq. 135 and 137 print e^{+∫V} and e^{∫φ⁴}: docs/physics.md §10 erratum). Then
⟨O⟩_g = ⟨O e^{−S}⟩/⟨e^{−S}⟩ = Σ_j (−1)^j/j! κ(O, S, …, S) (j copies of S), so to first order

    ⟨O⟩_g = ⟨O⟩ − κ(O, S) + O(g²),     κ(O, S) = ⟨O S⟩ − ⟨O⟩⟨S⟩,

and for a connected correlator the joint cumulant of the n fields *and* S:
G_c⁽ⁿ⁾_g = G_c⁽ⁿ⁾ − κ(φ₁, …, φ_n, S) + O(g²).

Two routes are provided; both take the lattice ``points`` and ``weights`` explicitly:

* **Gaussian (N = ∞) theory** from a two-point function ``G`` — the textbook Feynman diagrams of
  docs/physics.md §7: :func:`delta_g2_gaussian` (tadpole), :func:`g4c_gaussian` (the tree-level vertex),
  :func:`second_order_g2_gaussian` (double tadpole, cactus and sunset).
* **Exact first order from full moments**, :func:`first_order_from_moments`: κ(O, S) assembled from
  FULL moments supplied by the caller, no Gaussian assumption. With a model's exact finite-N moments
  (``nnft.perturbation.first_order.first_order``, which feeds it ``nnft.exact``) c1(N) picks up the
  connected 4- and 6-point functions (docs/physics.md §7); for Cos-net at N = 10 it differs from the
  Gaussian formula by tens of percent.

Pure numpy: this module imports nothing above ``nnft.analytic`` (models and references are assembled
in ``nnft.perturbation``).

The lattice sum *is* the regulated action (docs/physics.md §7: "the domain is part of the theory"); no
continuum limit is taken here, so every formula below is exact for the given (points, weights).
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from nnft.errors import InputError, EstimatorError
from nnft.partitions import mask_partitions, mobius

__all__ = ["delta_g2_gaussian", "g4c_gaussian", "second_order_g2_gaussian", "first_order_from_moments",
           "kernel_matrix"]


# ----------------------------------------------------------------------------- helpers

def _lattice(points, weights) -> tuple[np.ndarray, np.ndarray]:
    z = np.asarray(points, dtype=np.float64)
    if z.ndim == 1:
        z = z[:, None]
    w = np.asarray(weights, dtype=np.float64).ravel()
    if z.ndim != 2 or len(z) != len(w) or len(w) == 0:
        raise InputError(f"points must be (M, d) and weights (M,), got {np.shape(points)} and {np.shape(weights)}")
    if not (np.all(np.isfinite(z)) and np.all(np.isfinite(w))):
        raise InputError("points and weights must be finite")
    return z, w


def _point(x, d: int) -> np.ndarray:
    x = np.atleast_1d(np.asarray(x, dtype=np.float64)).ravel()
    if x.shape != (d,):
        raise InputError(f"point {x} has {x.size} coordinates; the lattice has d = {d}")
    return x


def kernel_matrix(G: Callable, A, B) -> np.ndarray:
    """The matrix G(A_a, B_b), shape (len(A), len(B)), for A (m, d) and B (n, d).

    ``G`` may be vectorised (``G(X, Y)`` with X, Y broadcasting arrays of shape (..., d) returning
    (...)) or pointwise (``G(x, y)`` on two (d,) points, e.g. ``nnft.analytic.cos_net_g2`` with the
    width parameters bound). A vectorised call is tried first and accepted only if it has the right
    shape and agrees with a pointwise call on a corner entry; otherwise the pointwise loop is used.
    """
    A = np.atleast_2d(np.asarray(A, dtype=np.float64))
    B = np.atleast_2d(np.asarray(B, dtype=np.float64))
    try:
        K = np.asarray(G(A[:, None, :], B[None, :, :]), dtype=np.float64)
        ok = K.shape == (len(A), len(B))
        if ok:
            for a, b in ((0, 0), (len(A) - 1, len(B) - 1)):
                ref = float(G(A[a], B[b]))
                ok = ok and math.isclose(float(K[a, b]), ref, rel_tol=1e-12, abs_tol=1e-300)
        if ok:
            return K
    except Exception:  # noqa: BLE001 -- not vectorised: fall back to the loop below
        pass
    return np.array([[float(G(a, b)) for b in B] for a in A], dtype=np.float64)


# ----------------------------------------------------------------------------- Gaussian (N = ∞)

def delta_g2_gaussian(G: Callable, x, y, points, weights, lam: float = 1.0) -> float:
    """First-order shift of ⟨φ(x)φ(y)⟩ in a Gaussian theory with two-point function G (the tadpole):

        δG(x, y) = −(λ/2) Σ_z w_z G(x, z) G(z, z) G(z, y)          (docs/physics.md §7)

    for V = λ/4! φ⁴ (TASI §5.2, eq. 135-137 with the sign erratum e^{−∫V}). Exact for the lattice
    action S = Σ_z w_z V(φ(z)); the full O(λ) answer, since 12/4! = 1/2 counts the tadpole contractions.
    """
    z, w = _lattice(points, weights)
    d = z.shape[1]
    x, y = _point(x, d), _point(y, d)
    gxz = kernel_matrix(G, x[None], z)[0]
    gzy = kernel_matrix(G, z, y[None])[:, 0]
    gzz = np.array([float(kernel_matrix(G, zi[None], zi[None])[0, 0]) for zi in z])
    return float(-0.5 * lam * np.sum(w * gxz * gzz * gzy))


def g4c_gaussian(G: Callable, xs, points, weights, lam: float = 1.0) -> float:
    """Leading connected 4-point function of the φ⁴-deformed Gaussian theory (tree-level vertex):

        G4c(x₁…x₄) = −λ Σ_z w_z Πᵢ G(xᵢ, z) + O(λ²)               (docs/physics.md §7; TASI §5.2)

    (the 4! contractions cancel the 1/4!). ``xs`` has shape (4, d).
    """
    z, w = _lattice(points, weights)
    xs = np.asarray(xs, dtype=np.float64).reshape(4, z.shape[1])
    K = kernel_matrix(G, xs, z)                    # (4, M)
    return float(-lam * np.sum(w * np.prod(K, axis=0)))


def second_order_g2_gaussian(G: Callable, x, y, points, weights, lam: float = 1.0) -> float:
    """Second-order term λ²·c2 of ⟨φ(x)φ(y)⟩ in a Gaussian theory with φ⁴ (docs/physics.md §7):

        c2 = Σ_{z,u} w_z w_u [¼ G_xz G_zz G_zu G_uu G_uy + ¼ G_xz G_zu² G_uu G_zy + ⅙ G_xz G_zu³ G_uy]

    (double tadpole in series, tadpole on the tadpole loop, sunset); (λ²/2)κ(φxφy, S₁, S₁) = λ² c2.
    Cost O(M²).
    """
    z, w = _lattice(points, weights)
    d = z.shape[1]
    x, y = _point(x, d), _point(y, d)
    gx = kernel_matrix(G, x[None], z)[0]
    gy = kernel_matrix(G, z, y[None])[:, 0]
    Gzz = kernel_matrix(G, z, z)
    gd = np.diag(Gzz).copy()
    a = w * gx                                      # weighted external legs
    b = w * gy
    t1 = 0.25 * (a * gd) @ Gzz @ (b * gd)
    t2 = 0.25 * np.sum((a * gy) * ((Gzz ** 2) @ (w * gd)))
    t3 = (1.0 / 6.0) * a @ (Gzz ** 3) @ b
    return float(lam ** 2 * (t1 + t2 + t3))


# ----------------------------------------------------------------------------- exact finite N

def _couplings(couplings) -> dict[int, float]:
    if couplings is None:
        return {4: 1.0}
    out = {}
    for k, g in dict(couplings).items():
        if int(k) != k or int(k) < 0:
            raise InputError(f"coupling keys are powers k ≥ 0 of V = Σ_k g_k φ^k/k!; got {k!r}")
        if not np.isfinite(float(g)):
            raise InputError(f"coupling g_{k} = {g!r} is not finite")
        if int(k) > 0 and float(g) != 0.0:       # g_0 is a constant: it cancels from every ⟨·⟩
            out[int(k)] = out.get(int(k), 0.0) + float(g)
    return out


def first_order_from_moments(moments: Callable, tuples, points, weights, couplings=None, *, d: int,
                             max_order: int | None = None, source: str = "the moments"):
    """First-order shifts of correlators under V = Σ_k g_k φᵏ/k!, assembled from FULL moments.

    With S = Σ_z w_z V(φ(z)) (``points`` (M, d), ``weights`` (M,)) and P̃ ∝ P e^{−S}
    (TASI §5.2 eq. 135-137 with the docs/physics.md §10 sign erratum):

        ⟨Πᵢφ(xᵢ)⟩_g = ⟨Πᵢφ(xᵢ)⟩ − Σ_k (g_k/k!) Σ_z w_z [⟨Πᵢφ(xᵢ) φ(z)ᵏ⟩ − ⟨Πᵢφ(xᵢ)⟩⟨φ(z)ᵏ⟩] + O(g²)

    (``full``), and the connected version −κ(φ(x₁), …, φ(x_n), S) from the Möbius formula over the
    set partitions of {1…n, S} (``connected``). No Gaussianity is assumed: every moment comes from
    ``moments``. For φ⁴ and n = 2 this is c1 = −(1/24) Σ_z w_z [G6(x,y,z,z,z,z) − G2(x,y) G4(z,z,z,z)]
    (docs/physics.md §7), which for Gaussian moments is :func:`delta_g2_gaussian`.

    Args:
      moments: the moment oracle: a list of (k, d) point arrays (k ≥ 1; each moment needed once,
        de-duplicated up to the order of the points) -> their full moments ⟨Πφ⟩, array (W, len(list))
        (W: e.g. one row per width N).
      tuples: list of (n, d) point tuples.
      points: the lattice points of the action, (M, d).
      weights: their weights w_z, (M,).
      couplings: {k: g_k}; default {4: 1.0} (the shift is linear in the couplings).
      d: the input dimension of the field.
      max_order: the highest moment order ``moments`` provides (None: unlimited).
      source: what provides the moments (for the error message).

    Returns:
      (full, connected, full0, connected0, orders): arrays (W, T) — the O(g) shifts of G⁽ⁿ⁾ and G_c⁽ⁿ⁾
      and the undeformed G⁽ⁿ⁾ and G_c⁽ⁿ⁾ — and the order n of each tuple.

    Raises:
      InputError: malformed lattice, tuples or couplings, or a lattice of another dimension than ``d``.
      EstimatorError: n + max k exceeds ``max_order`` (e.g. the φ⁴ shift of a 4-point function needs
        8-point moments).
    """
    z, w = _lattice(points, weights)
    d = int(d)
    if z.shape[1] != d:
        raise InputError(f"the lattice has d = {z.shape[1]}, the model d = {d}")
    g = _couplings(couplings)
    ts = [np.atleast_2d(np.asarray(t, dtype=np.float64)) for t in tuples]
    if not ts:
        raise InputError("no point tuples given")
    for i, t in enumerate(ts):
        if t.ndim != 2 or t.shape[1] != d or len(t) < 1:
            raise InputError(f"tuple {i} has shape {t.shape}; expected (n, d) with d = {d}")
    orders = tuple(len(t) for t in ts)
    kmax = max(g) if g else 0
    need = max(orders) + kmax
    if max_order is not None and need > max_order:
        raise EstimatorError(
            f"first_order: an order-{max(orders)} correlator with a φ^{kmax} insertion needs exact moments of "
            f"order {need}; {source} provides order ≤ {max_order}"
            + (" — e.g. the φ⁴ shift of G4 needs order 8" if kmax == 4 and max(orders) == 4 else ""))

    # --- every needed moment as one tuple, de-duplicated
    index: dict[bytes, int] = {}
    plist: list[np.ndarray] = []

    def slot(pts: np.ndarray) -> int:
        if len(pts) == 0:
            return -1                                           # the empty product: moment 1
        key = np.ascontiguousarray(pts[np.lexsort(pts.T[::-1])]).tobytes()
        if key not in index:
            index[key] = len(plist)
            plist.append(pts)
        return index[key]

    # per tuple t, per subset mask B of its points: moment slot of Πφ(x_B) and, per (k, z), of Πφ(x_B)φ(z)^k
    plain: list[dict[int, int]] = []
    withS: list[dict[int, dict[int, np.ndarray]]] = []
    for t in ts:
        n = len(t)
        p_t, s_t = {}, {}
        for B in range(2 ** n):
            xb = t[[i for i in range(n) if B >> i & 1]]
            p_t[B] = slot(xb)
            s_t[B] = {k: np.array([slot(np.concatenate([xb, np.repeat(zi[None], k, axis=0)])) for zi in z])
                      for k in g}
        plain.append(p_t)
        withS.append(s_t)

    vals = np.asarray(moments(plist), dtype=np.float64)
    nW = vals.shape[0]
    ones = np.ones(nW)

    def mom(j: int) -> np.ndarray:
        return ones if j < 0 else vals[:, j]

    full = np.zeros((nW, len(ts)))
    conn = np.zeros((nW, len(ts)))
    full0 = np.zeros((nW, len(ts)))
    conn0 = np.zeros((nW, len(ts)))
    for ti, t in enumerate(ts):
        n = len(t)
        m0 = {B: mom(plain[ti][B]) for B in range(2 ** n)}
        # ⟨Πφ(x_B) S⟩ = Σ_k g_k/k! Σ_z w_z ⟨Πφ(x_B) φ(z)^k⟩
        mS = {B: sum(gk / math.factorial(k) * (vals[:, withS[ti][B][k]] @ w) for k, gk in g.items())
              if g else np.zeros(nW) for B in range(2 ** n)}
        top = 2 ** n - 1
        full0[:, ti] = m0[top]
        full[:, ti] = -(mS[top] - m0[top] * mS[0])
        # joint cumulants over {0..n-1} ∪ {S = bit n}
        sbit = 1 << n

        def block(b: int) -> np.ndarray:
            return mS[b & ~sbit] if b & sbit else m0[b]

        def kappa(mask: int) -> np.ndarray:
            tot = np.zeros(nW)
            for part in mask_partitions(mask):
                term = float(mobius(len(part))) * ones
                for b in part:
                    term = term * block(b)
                tot = tot + term
            return tot

        conn0[:, ti] = kappa(top)
        conn[:, ti] = -kappa(top | sbit)
    return full, conn, full0, conn0, orders
