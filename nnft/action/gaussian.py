"""The Gaussian (NNGP) action of a field on a lattice of points: S₀[φ] = ½ φᵀ K⁻¹ φ (½(φ − μ)ᵀK⁻¹(φ − μ) for a
field with mean μ).

At infinite width a neuron sum is a Gaussian process with kernel K (TASI arXiv:2408.00082 eq. 42-43:
P[φ] ∝ exp(−S₀), S₀ = ½ ∫∫ φ(x) K⁻¹(x, y) φ(y)); on P points x₁..x_P the integral kernel is the
inverse of the P×P Gram matrix K_ij = K(x_i, x_j). K comes from the kernel map (``nnft.kernels``: the
graph's recursion, or the exact G2 of the neuron reference) or is measured (the G2 matrix of an
ensemble, with its jackknife errors).

Check: whatever the ensemble's higher cumulants, ⟨φᵀ A φ⟩ = tr(A G2), so an ensemble whose two-point
function is K has ⟨S₀⟩ = ½ tr(K⁻¹ G2) = P/2 (rank/2 with dropped modes); a wrong K does not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnft.action.lattice import NOISE_LIMIT, RCOND, check_points, inverse, inverse_noise, sorted_tuples, tensor_index
from nnft.errors import EstimatorError, InputError
from nnft.stats import Estimate
from nnft.tables import TextTable

__all__ = ["GaussianAction", "gaussian_action", "NOISE_LIMIT"]

@dataclass(frozen=True)
class GaussianAction(TextTable):
    """S₀[φ] = ½ φᵀ K⁻¹ φ on a lattice of points.

    Attributes:
      points: (P, d) the lattice.
      kernel: (P, P) K, units of φ².
      precision: (P, P) K⁻¹ (a pseudo-inverse when ``dropped`` > 0), units of φ⁻².
      condition: the condition number λ_max/λ_min of K.
      dropped: eigenmodes of K dropped as unresolved (0 unless ``truncate=True``).
      source: where K comes from ("kernel map: …" or "measured G2 (n networks)").
      kernel_err: (P, P) standard errors of a measured K (None for the kernel map).
      precision_err: (P, P) jackknife standard errors of a measured K⁻¹ (over the whole map sample → K̂ → K̂⁻¹;
        None for the kernel map or a given K).
      mean: ⟨S₀⟩ over a Monte Carlo ensemble (an Estimate, dimensionless) or None; its expectation
        is :attr:`expected` when the ensemble's mean is ``field_mean`` and its connected G2 is K.
      field_mean: (P,) μ, the field's mean the action is centred on, S₀ = ½(φ − μ)ᵀK⁻¹(φ − μ) (None: 0).
    """

    points: np.ndarray
    kernel: np.ndarray
    precision: np.ndarray
    condition: float
    dropped: int
    source: str
    kernel_err: np.ndarray | None = None
    mean: Estimate | None = None
    precision_err: np.ndarray | None = None
    field_mean: np.ndarray | None = None

    @property
    def expected(self) -> float:
        """½ rank(K⁻¹) = (P − dropped)/2: ⟨S₀⟩ of any ensemble whose two-point function is K."""
        return 0.5 * (len(self.points) - self.dropped)

    def __call__(self, phi) -> np.ndarray:
        """S₀ = ½(φ − μ)ᵀK⁻¹(φ − μ) of field configurations ``phi`` (..., P) -> (...,) (dimensionless)."""
        phi = np.asarray(phi, dtype=np.float64)
        if phi.shape[-1:] != (len(self.points),):
            raise InputError(f"phi must have last axis P = {len(self.points)}, got shape {phi.shape}")
        if self.field_mean is not None:
            phi = phi - self.field_mean
        return 0.5 * np.einsum("...i,ij,...j->...", phi, self.precision, phi)

    def table(self, width: int | None = None) -> str:
        """The action as text: K (a table, i, j the points), its condition number, ⟨S₀⟩ against P/2 (what
        ``nnft couplings`` prints; ``print`` shows it, Jupyter as HTML), fitted to ``width`` cells."""
        from nnft.result_tables import matrix
        from nnft.tables import estimate, wrap_text
        with np.printoptions(precision=6, suppress=True, linewidth=120):
            mu = "0" if self.field_mean is None else str(self.field_mean)
        head = [f"Gaussian action S₀ = ½ (φ − μ)ᵀK⁻¹(φ − μ) on {len(self.points)} points (TASI arXiv:2408.00082 "
                f"eq. 42-43), μ = {mu}",
                "points: " + "; ".join(f"{i}: " + ",".join(f"{c:.4g}" for c in p) for i, p in enumerate(self.points)),
                f"K(x_i, x_j) [{self.source}]"]
        tail = [f"condition number {self.condition:.4g}" + (f", {self.dropped} unresolved modes dropped" if self.dropped else "")]
        if self.mean is not None:
            tail.append(f"⟨S₀⟩ = {estimate(float(self.mean.mean), float(self.mean.stderr))} over {self.mean.n} networks; "
                        f"expected {self.expected:g} when G2 = K (z = {float(self.mean.z(self.expected)):+.2f})")
        return "\n".join(wrap_text(head, width) + matrix(self.kernel, width=width) + wrap_text(tail, width))

    def __repr__(self) -> str:
        m = "" if self.mean is None else f", ⟨S₀⟩ = {self.mean!r} (expected {self.expected:g})"
        return (f"GaussianAction(P={len(self.points)}, condition={self.condition:.3g}, dropped={self.dropped}, "
                f"source={self.source!r}{m})")


def kernel_matrix(model, points) -> tuple[np.ndarray, str]:
    """K(x_i, x_j) of the model on the points from the kernel map (``nnft.kernels``) and its source."""
    from nnft.kernels_reference import kernels_or_reference
    k = kernels_or_reference(model, points)
    return np.asarray(k.nngp, dtype=np.float64), f"kernel map: {k.source}"


def _tuples(X: np.ndarray) -> list[np.ndarray]:
    """The P one-point tuples (the mean), then the sorted pairs (G2)."""
    return [X[[i]] for i in range(len(X))] + [X[list(t)] for t in sorted_tuples(len(X), 2)]


def gaussian_action(model, points, *, kernel="nngp", samples: int | None = None, key=0, blocks: int = 64,
                    rcond: float = RCOND, truncate: bool = False, field_mean=None, dtype: str = "float32") -> GaussianAction:
    """The Gaussian action S₀ = ½ φᵀ K⁻¹ φ of a model on a lattice of points (TASI arXiv:2408.00082
    eq. 42-43), and optionally ⟨S₀⟩ measured over an ensemble.

    Args:
      model: a compiled theory (``nnft.compile``).
      points: (P, d) lattice points, 2 ≤ P ≤ 12, distinct.
      kernel: "nngp" (the kernel map: graph recursion or the neuron reference's exact G2), "measured"
        (the G2 matrix of ``samples`` networks drawn with ``key``), or a (P, P) array.
      samples: networks for ⟨S₀⟩ (with ``kernel="nngp"`` or an array; None: not measured) or for the
        measured K (then ⟨S₀⟩ is not measured: on the same ensemble it is P/2 identically; measure it
        with the measured K passed as an array and another ``key``).
      key: seed of the ensemble.
      blocks: jackknife blocks of the ensemble.
      rcond: relative eigenvalue cut-off in (0, 1) (``nnft.action.lattice.inverse``): eigenvalues below
        rcond·λ_max are refused, or with ``truncate=True`` dropped.
      truncate: drop the eigenvalues below rcond·λ_max instead of refusing K.
      field_mean: (P,) the mean μ of φ at the points, the action then ½(φ − μ)ᵀK⁻¹(φ − μ); None: 0 (the kernel
        map refuses fields with a mean), or with ``kernel="measured"`` the measured mean (K is then the
        connected G2, the covariance). A field with a mean and S₀ = ½φᵀK⁻¹φ would give ⟨S₀⟩ = P/2 + ½μᵀK⁻¹μ.
      dtype: "float32" or "float64" sampling precision of the ensemble.

    Returns:
      :class:`GaussianAction`.

    Raises:
      EstimatorError: K not positive definite, ill-conditioned (condition number > 1/rcond), or (measured
        K) the jackknife relative error of K̂⁻¹ reaches ``nnft.action.lattice.NOISE_LIMIT``; what
        the ensemble raises.
      KernelError: ``kernel="nngp"`` on a model with no kernel map and no reference.
      InputError: bad points, rcond outside (0, 1), an unknown ``kernel``, ``kernel="measured"`` with
        fewer than 2 samples, or a ``field_mean`` that is not P finite numbers (or given with
        ``kernel="measured"``).
    """
    from nnft.estimators.npoint import ensemble
    X = check_points(points, model.d)
    P = len(X)
    idx = tensor_index(P, 2)
    kernel_err = None
    mu = None
    if field_mean is not None:
        if isinstance(kernel, str) and kernel == "measured":
            raise InputError("field_mean: with kernel='measured' the mean is measured from the same networks; "
                             "pass field_mean only with kernel='nngp' or an array")
        try:
            mu = np.asarray(field_mean, dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError(f"field_mean must be {P} numbers (the mean of φ at each point), got {field_mean!r}") from None
        if mu.shape != (P,) or not np.all(np.isfinite(mu)):
            raise InputError(f"field_mean must be {P} finite numbers (the mean of φ at each point), got shape {mu.shape}")

    def two(arr):                                       # per-tuple array -> (P, P) G2 block
        return arr[..., P:][..., idx]
    if isinstance(kernel, str) and kernel == "nngp":
        K, source = kernel_matrix(model, X)
    elif isinstance(kernel, str) and kernel == "measured":
        if samples is None or int(samples) < 2:
            raise InputError("kernel='measured' needs samples ≥ 2 networks to measure G2 from")
        ens = ensemble(model, _tuples(X), samples=int(samples), key=key, blocks=blocks, dtype=dtype)
        g2 = ens.connected()
        K, kernel_err = two(g2.mean), two(g2.stderr)
        mu = g2.mean[:P]
        source = f"measured G2 ({g2.n} networks)"
    elif isinstance(kernel, str):
        raise InputError(f"kernel must be 'nngp', 'measured' or a (P, P) array, got {kernel!r}")
    else:
        K = np.asarray(kernel, dtype=np.float64)
        if K.shape != (P, P):
            raise InputError(f"kernel array must have shape ({P}, {P}), got {K.shape}")
        source = "given"
    inv = inverse(K, rcond=rcond, truncate=truncate, what=f"K ({source})")
    precision_err = None
    if kernel_err is not None:
        try:
            inv_est = ens.derived(lambda full, conn: inverse(two(conn), rcond=rcond, truncate=truncate).matrix)
            noise, precision_err = inverse_noise(inv_est), inv_est.stderr
        except EstimatorError:                          # a leave-one-block-out K̂ is singular: no trustworthy inverse
            noise = float("inf")
        if not noise < NOISE_LIMIT:
            raise EstimatorError(f"the measured K is too noisy to invert: the jackknife relative error of K⁻¹ is "
                                 f"{noise:.2g} ≥ {NOISE_LIMIT} ({g2.n} networks, condition number {inv.condition:.3g}); "
                                 "measure more networks (the error falls as 1/√samples) or spread the points")
    mean = None
    if samples is not None and not (isinstance(kernel, str) and kernel == "measured"):
        ens = ensemble(model, _tuples(X), samples=int(samples), key=key, blocks=blocks, dtype=dtype)
        H = inv.matrix
        m0 = np.zeros(P) if mu is None else mu
        # ⟨(φ − μ)ᵀH(φ − μ)⟩ = tr(H⟨φφᵀ⟩) − 2μᵀH⟨φ⟩ + μᵀHμ, from the full moments
        mean = ens.derived(lambda full, conn: 0.5 * (np.sum(H * two(full), axis=(-2, -1))
                                                     - 2 * (full[..., :P] @ H @ m0) + m0 @ H @ m0))
    return GaussianAction(points=X, kernel=K, precision=inv.matrix, condition=inv.condition, dropped=inv.dropped,
                          source=source, kernel_err=kernel_err, mean=mean, precision_err=precision_err,
                          field_mean=mu)
