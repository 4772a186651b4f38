"""Correlators on a lattice of P points as symmetric tensors, and the regularised inverse of a kernel.

The n-point functions of nnft are measured per *sorted* index tuple (i₁ ≤ … ≤ iₙ) of the points; a
symmetric tensor T[a₁..aₙ] is read from them through :func:`tensor_index`. The inverse propagator
G⁻¹ of a kernel matrix is taken on its eigenbasis (:func:`inverse`), with the condition number
reported and an ill-conditioned matrix refused (or, asked for, truncated to its well-determined modes).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations_with_replacement, product

import numpy as np

from nnft.errors import EstimatorError, InputError

#: at most this many lattice points (the quartic vertex is a P⁴ tensor from C(P+3, 4) four-point tuples)
MAX_POINTS = 12
#: eigenvalues below RCOND × the largest are not resolved: the inverse is refused (or they are dropped)
RCOND = 1e-10
#: a measured K is refused when the jackknife relative error of its inverse, ‖σ(K̂⁻¹)‖_F/‖K̂⁻¹‖_F, reaches this
#: fraction (:func:`inverse_noise`)
NOISE_LIMIT = 0.2


def inverse_noise(inv) -> float:
    """‖stderr‖_F/‖mean‖_F of a jackknifed inverse (an Estimate (P, P) of K̂⁻¹ over the whole map sample → K̂ → K̂⁻¹):
    the typical relative error of a measured inverse.

    Taken by the jackknife, not from the entries' errors as if independent (δ(K⁻¹) = −K⁻¹δK K⁻¹ with independent
    δK_ij): the entries of a sample covariance are strongly correlated, and that formula overstates the error
    of the inverse by the condition number and more (Cos-net, three points 0.01 apart, 2000 networks:
    ~3·10⁷ against the jackknife's 0.09). For Gaussian data the inverse's bias is O(P/samples) whatever the
    conditioning (E[Ŝ⁻¹] = Σ⁻¹ (n − 1)/(n − P − 2), the inverse-Wishart mean).
    """
    return float(np.linalg.norm(inv.stderr) / np.linalg.norm(inv.mean))


@lru_cache(maxsize=32)
def sorted_tuples(P: int, n: int) -> tuple[tuple[int, ...], ...]:
    """The sorted index tuples i₁ ≤ … ≤ iₙ of P points, in ``combinations_with_replacement`` order."""
    return tuple(combinations_with_replacement(range(P), n))


@lru_cache(maxsize=32)
def tensor_index(P: int, n: int) -> np.ndarray:
    """(P,)*n integer array: the position in :func:`sorted_tuples` (P, n) of each index tuple, sorted."""
    pos = {t: k for k, t in enumerate(sorted_tuples(P, n))}
    out = np.empty((P,) * n, dtype=np.int64)
    for idx in product(range(P), repeat=n):
        out[idx] = pos[tuple(sorted(idx))]
    return out


def check_points(points, d: int) -> np.ndarray:
    """Lattice points (P, d) as float64, distinct and finite, 2 ≤ P ≤ :data:`MAX_POINTS`.

    Raises:
      InputError: wrong shape, non-finite or repeated points, too few or too many.
    """
    X = np.asarray(points, dtype=np.float64)
    if X.ndim == 1 and d == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[1] != d:
        raise InputError(f"points must have shape (P, d) with d = {d}, got {X.shape}")
    if not 2 <= len(X) <= MAX_POINTS:
        raise InputError(f"points: {len(X)} given; the lattice takes 2..{MAX_POINTS} points (the quartic vertex "
                         "is a P⁴ tensor)")
    if not np.all(np.isfinite(X)):
        raise InputError("points must be finite")
    if len(np.unique(X, axis=0)) < len(X):
        raise InputError("points must be distinct (a repeated point makes the kernel matrix singular)")
    return X


@dataclass(frozen=True)
class Inverse:
    """G⁻¹ of a symmetric positive kernel matrix on its eigenbasis.

    Attributes:
      matrix: (P, P) the inverse (on the kept modes: a pseudo-inverse when modes were dropped).
      condition: λ_max/λ_min of the matrix (inf when λ_min ≤ 0).
      dropped: eigenmodes dropped (0 unless ``truncate``).
    """

    matrix: np.ndarray
    condition: float
    dropped: int


def check_rcond(rcond) -> float:
    """rcond as a float in (0, 1). Raises InputError otherwise."""
    try:
        r = float(rcond)
    except (TypeError, ValueError):
        raise InputError(f"rcond must be a number in (0, 1), got {rcond!r}") from None
    if not 0 < r < 1:
        raise InputError(f"rcond must be in (0, 1) (eigenvalues below rcond·λ_max count as unresolved), got {r:g}; "
                         f"the default is {RCOND:g}")
    return r


def inverse(K, *, rcond: float = RCOND, truncate: bool = False, what: str = "the kernel",
            hint: str | None = None) -> Inverse:
    """The inverse of a symmetric positive (semi-)definite (P, P) matrix, with its condition number.

    Raises:
      EstimatorError: K is not symmetric positive definite, or its condition number exceeds 1/rcond and
        ``truncate`` is False (the inverse would amplify rounding or statistical errors by the condition
        number); with ``truncate`` the modes below rcond·λ_max are dropped (a pseudo-inverse; say so).
        ``hint`` replaces the default advice in that message.
      InputError: K not square, rcond outside (0, 1).
    """
    rcond = check_rcond(rcond)
    K = np.asarray(K, dtype=np.float64)
    if K.ndim != 2 or K.shape[0] != K.shape[1]:
        raise InputError(f"{what} must be a square matrix, got shape {K.shape}")
    if not np.all(np.isfinite(K)):
        raise EstimatorError(f"{what} has non-finite entries")
    K = 0.5 * (K + K.T)
    ev, U = np.linalg.eigh(K)
    top = float(ev[-1])
    if not top > 0 or ev[0] < -1e-8 * top:
        raise EstimatorError(f"{what} is not positive definite (eigenvalues {ev[0]:.3g} .. {top:.3g}): not a "
                             "covariance; its action S₀ = ½φᵀK⁻¹φ does not exist")
    cond = top / ev[0] if ev[0] > 0 else float("inf")
    keep = ev > rcond * top
    if not keep.all() and not truncate:
        raise EstimatorError(f"{what} is ill-conditioned: condition number {cond:.3g} > 1/rcond = {1 / rcond:.3g}; "
                             "its inverse amplifies errors by that factor. " + (hint or (
                                 "Spread the points further apart, use fewer, or pass truncate=True to drop the "
                                 "unresolved modes (a pseudo-inverse)")))
    inv = (U[:, keep] / ev[keep]) @ U[:, keep].T
    return Inverse(matrix=inv, condition=float(cond), dropped=int((~keep).sum()))


def amputate(C: np.ndarray, H: np.ndarray) -> np.ndarray:
    """Σ_{ijkl} H_{ai}H_{bj}H_{ck}H_{dl} C_{ijkl} (every index contracted with H), for any order of C."""
    out = C
    for _ in range(C.ndim):
        out = np.tensordot(out, H, axes=([0], [1]))      # contracts the leading axis, appends the new one
    return out
