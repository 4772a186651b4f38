"""Exact-in-N neuron-level estimators (TASI eq. 39, 50-51; docs/physics.md §0).

For φ(x) = b + Σ_{i=1}^{N} vᵢ ψᵢ(x) with (vᵢ, ψᵢ) i.i.d., v independent of ψ, and b independent of
both, joint cumulants add over the independent terms:

    κ_S(N) = N · κ_S(vψ) + κ_{|S|}(b),      κ_S(vψ) = Σ_π μ(π) Π_{B∈π} E[v^{|B|}](N) · M_B,

where M_B = E[Π_{i∈B} ψ(xᵢ)] are per-neuron moments. The per-neuron moments are estimated once
from drawn neurons (every neuron of a drawn network counts; ``neurons`` is their number), the readout and
offset moments E[v^k] at width N and E[b^k] are exact (from their densities at each N), so G_c⁽⁴⁾ ∝ 1/N comes
with a relative error that does not grow with N, and a width sweep costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import jax
import jax.numpy as jnp
import numpy as np

from nnft.densities import get_density
from nnft.errors import EstimatorError
from nnft.estimators.npoint import Plan, periodic, plan_for
from nnft.graph.compile import Model
from nnft.graph.moments import field_moment_check
from nnft.materialise import materialised
from nnft.partitions import all_masks, cumulants, moments_from_cumulants
from nnft.sample.step import row_elements
from nnft.spec import expr as E
from nnft.spec.constants import evaluate_constants
from nnft.stats import Estimate
from nnft.tables import TextTable

MAX_NEURON_ROWS = 1 << 18
#: array elements of one step's rows (neurons × (points + what the reduction holds per row,
#: ``nnft.sample.step.row_elements``)): steps are cut this small so the half-monomials stay in cache.
#: The 2008.08601 grid (6 points, 923 products, ~170 elements per neuron), width-1000 networks per step,
#: CPU per architecture: 1: 1.5 s, 2: 1.8 s, 4: 2.4 s, 16 (the memory cap before): 2.2 s with the per-row
#: check compiled; without it (float32 since 52c46c6) 1 vs 16: 1.7–1.8 s vs 1.7–2.0 s (bench/README.md)
STEP_ELEMENTS = 1 << 18


@dataclass(frozen=True)
class WidthCorrelators(TextTable):
    """G⁽ⁿ⁾ and G_c⁽ⁿ⁾ at each width (axis 0) and point tuple (axis 1).

    Source: the neuron-sum theorem, arXiv:2408.00082 eq. 39, 50-51 (see :func:`neuron_measure`).
    """

    widths: tuple[int, ...]
    full: Estimate
    connected: Estimate
    orders: tuple[int, ...]

    def table(self, width: int | None = None) -> str:
        """One row per (width, tuple): G and G_c ± standard error (``print`` shows it, Jupyter as HTML)."""
        from nnft.result_tables import correlators
        return correlators(self, width=width)


def _require(model: Model):
    if model.insertions:
        raise EstimatorError("the theory has insertions: e^{−∫V(φ)} couples the neurons, so the neuron-sum theorem "
                             "(and the exact references) hold only for its free theory, model.free()")
    ns = model.structure.neuron_sum
    if ns is None:
        raise EstimatorError("neuron-level estimators need φ = Σᵢ vᵢψᵢ(x) with i.i.d. neurons; the analysis found: "
                             + "; ".join(model.structure.notes))
    return ns


def param_moments(model: Model, param: str, kmax: int, sizes: dict[str, int] | None = None) -> np.ndarray:
    """Exact raw moments E[p^k], k = 0..kmax, of a parameter with constant density arguments,
    with the named sizes ``sizes`` overriding the theory's (e.g. a different width)."""
    theory = model.theory.with_dims(**sizes) if sizes else model.theory
    env, _ = evaluate_constants(theory)
    p = theory.params[param]
    dens = get_density(p.density_kind)
    args = {**dens.defaults, **{k: E.evaluate_constant(E.parse(v), env) for k, v in p.density_args.items()}}
    try:
        return np.array([1.0] + [dens.moment(k, args) for k in range(1, kmax + 1)])
    except ValueError as err:
        raise EstimatorError(f"parameter {param}: {err}; exact-in-N estimators need finite readout moments") from None


def width_moments(model: Model, widths, kmax: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Readout moments (len(widths), kmax+1) and offset moments (kmax+1,) or None."""
    ns = _require(model)
    v = np.stack([param_moments(model, ns.readout, kmax, {ns.width: int(w)}) for w in widths])
    b = param_moments(model, ns.offset, kmax) if ns.offset else None
    return v, b


def combine(plan: Plan, M: np.ndarray, widths, v_mom: np.ndarray, b_mom: np.ndarray | None):
    """(full, connected), each (len(widths), T), from per-neuron moments M (features of ψ), by the
    set-partition sums per tuple and subset: the reference :func:`combine_fast` (what
    :func:`neuron_measure` uses) is tested against; ``nnft.exact`` and the checks use it."""
    W = np.asarray(widths, dtype=np.float64)[:, None]
    nW, T = len(W), len(plan.ids)
    full = np.zeros((nW, T))
    conn = np.zeros((nW, T))
    for n, (tix, cols) in plan.by_order.items():
        masks = all_masks(n)
        k1 = cumulants(lambda m: v_mom[:, bin(m).count("1")][:, None] * M[cols[m]][None, :], masks)
        if b_mom is not None:
            kb = {k: cumulants(lambda m: np.float64(b_mom[bin(m).count("1")]), [2 ** k - 1])[2 ** k - 1]
                  for k in range(1, n + 1)}
        else:
            kb = {k: 0.0 for k in range(1, n + 1)}
        kap = {m: W * k1[m] + kb[bin(m).count("1")] for m in masks}
        conn[:, tix] = kap[2 ** n - 1]
        full[:, tix] = moments_from_cumulants(lambda m: kap[m], [2 ** n - 1])[2 ** n - 1]
    return full, conn


def _recursion(plan: Plan) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per feature size m (ascending): the features' columns (n,) and, for each feature S = (s₁ ≤ … ≤ s_m)
    and each subset T of its positions that holds position 1 and is not all of them (2^{m−1} − 1 of
    them), the columns (n, 2^{m−1} − 1) of the sub-multisets T and S∖T. Built once per plan (every
    sub-multiset of a tuple is one of its features)."""
    memo = plan.__dict__.setdefault("_neuron_recursion", [])
    if memo:
        return memo
    by_size: dict[int, list] = {}
    for key, col in plan.key_col.items():
        by_size.setdefault(len(key), []).append((key, col))
    col_of = plan.key_col
    for m in sorted(by_size):
        keys = np.asarray([k for k, _ in by_size[m]], dtype=np.int64).reshape(-1, m)      # rows sorted
        full = (1 << m) - 1
        subsets = range(1, full, 2)                       # position 1 in T, T ≠ S
        tc = np.empty((len(keys), len(subsets)), dtype=np.int64)
        rc = np.empty_like(tc)
        for j, t in enumerate(subsets):
            inside = [i for i in range(m) if t >> i & 1]
            rest = [i for i in range(m) if not t >> i & 1]
            tc[:, j] = [col_of[k] for k in map(tuple, keys[:, inside].tolist())]
            rc[:, j] = [col_of[k] for k in map(tuple, keys[:, rest].tolist())]
        memo.append((np.asarray([c for _, c in by_size[m]]), tc, rc))
    return memo


def combine_fast(plan: Plan, M: np.ndarray, widths, v_mom: np.ndarray, b_mom: np.ndarray | None):
    """:func:`combine` for per-neuron moments M of shape (..., F), by the subset recursions
    κ_S = m_S − Σ_{T∋s₁, T≠S} κ_T m_{S∖T} and m_S = Σ_{T∋s₁} κ_T m_{S∖T} (s₁ the first point of S) over
    the distinct features instead of the set-partition sums per tuple and subset (Bell(6) = 203 terms
    per order-6 tuple): (full, connected), each (..., W, T). Equal to :func:`combine` to float64
    rounding (tests/speed/test_neuron_combine.py); rows of a leading axis are independent (the same
    floats one by one or batched), as the jackknife's ``batched`` needs.

    Source: the moment-cumulant recursion (e.g. Smith, Int. Stat. Rev. 63 (1995) 217, eq. 3.1), with the
    neuron-sum theorem κ_S(φ) = N·κ_S(vψ) + κ_{|S|}(b) (arXiv:2408.00082 eq. 39, 50-51)."""
    M = np.asarray(M, dtype=np.float64)
    W = np.asarray(widths, dtype=np.float64)[:, None]
    lead = M.shape[:-1]
    F = plan.n_features
    sizes = np.zeros(F, dtype=int)
    for key, col in plan.key_col.items():
        sizes[col] = len(key)
    kmax = max(plan.orders)
    kb = np.zeros(kmax + 1)
    if b_mom is not None:
        kb[1:] = [cumulants(lambda m: np.float64(b_mom[bin(m).count("1")]), [2 ** k - 1])[2 ** k - 1]
                  for k in range(1, kmax + 1)]
    nW = len(W)
    L = int(np.prod(lead, dtype=np.int64)) * nW
    # features on axis 0 (row gathers), leading axes × widths flattened on axis 1
    mom = (M.reshape(-1, F).T[:, :, None] * v_mom[:, sizes].T[:, None, :]).reshape(F, L)     # m_S(vψ)
    kap = np.zeros((F, L))                                       # κ_S(vψ), then κ_S(φ)
    for cols, tc, rc in _recursion(plan):
        acc = np.zeros((len(cols), L))
        for j in range(tc.shape[1]):
            acc += kap[tc[:, j]] * mom[rc[:, j]]
        kap[cols] = mom[cols] - acc
    kap = np.tile(W[:, 0], L // nW) * kap + kb[sizes, None]
    mphi = np.zeros((F, L))                                      # m_S(φ)
    for cols, tc, rc in _recursion(plan):
        acc = kap[cols].copy()
        for j in range(tc.shape[1]):
            acc += kap[tc[:, j]] * mphi[rc[:, j]]
        mphi[cols] = acc
    tix = np.asarray([plan.key_col[plan.key(ids, (1 << len(ids)) - 1)] for ids in plan.ids])

    def out(x):                                                  # (T, L) -> (..., W, T)
        return np.moveaxis(x[tix].reshape((len(tix),) + lead + (nW,)), 0, -1)
    return out(mphi), out(kap)


#: below this many jackknife blocks an error bar is itself too noisy to read z on a normal scale: flagged
MIN_TRUSTED_BLOCKS = 16

def neuron_measure(model: Model, tuples, *, neurons: int = 1_000_000, widths=None, key=0, chunk: int = 4096,
                   blocks: int = 64, dtype: str = "float32", devices=None, checkpoint=None, resume: bool = False,
                   progress=None) -> WidthCorrelators:
    """G⁽ⁿ⁾ and G_c⁽ⁿ⁾ at any widths from per-neuron moments of drawn neurons (exact in N).

    Args:
      model: a compiled theory whose analysis found a neuron sum.
      tuples: list of (n, d) point tuples.
      neurons: number of neurons drawn (rounded up to whole networks of the spec's width).
      widths: widths N to report (default: the spec's); any N works when ψ's law does not
        depend on N.
      key: integer seed or JAX key; the numbers do not depend on ``chunk``.
      chunk: networks per compiled step, capped so that the step's rows (chunk × width) hold at most
        :data:`STEP_ELEMENTS` values (speed: the products stay in cache) and :data:`MAX_NEURON_ROWS`
        rows; at least one network. Changes only the float64 summation order.
      blocks: jackknife blocks.
      dtype: "float32" or "float64" sampling; sums are float64 either way.
      devices: passed to ``nnft.sample.iid.stream`` when set (as are the next three).
      checkpoint: checkpoint file.
      resume: resume from ``checkpoint``.
      progress: show a progress bar.

    k̂ per entry is the per-point-power bound of ``nnft.sample.step.Products`` over single-neuron rows.

    Returns:
      :class:`WidthCorrelators`: ``full`` and ``connected`` :class:`~nnft.stats.Estimate` of shape
      (W, T) for W widths and T tuples, in units of φⁿ; ``widths`` and ``orders`` label the axes.

    Raises:
      EstimatorError: the theory has insertions or no neuron-sum form φ = Σᵢ vᵢψᵢ(x); widths other
        than the spec's when ψ's law depends on N; infinite moments; points that coincide in
        ``dtype``; a non-estimable estimate.
      InputError: malformed tuples (as :func:`nnft.measure`).
      SamplingError: a neuron gave non-finite values.

    Source: the neuron-sum theorem κₙ(φ) = N·κₙ(vψ) (arXiv:2408.00082 eq. 39, 50-51; appendix
    eq. 141-143), with moments of sums of N i.i.d. neurons assembled exactly in N.
    """
    ns = _require(model)
    W_s = model.theory.dims[ns.width]
    widths = tuple(int(w) for w in (widths or [W_s]))
    if ns.width_dependent and any(w != W_s for w in widths):
        raise EstimatorError(f"the neuron law depends on the width {ns.width}; sweep by setting {ns.width} instead")
    plan = plan_for(tuples, model.d)
    kmax = max(plan.orders)
    notes = field_moment_check(model, kmax)
    v_mom, b_mom = width_moments(model, widths, kmax)
    plan.check_precision(dtype, periodic(model))
    pts = np.asarray(plan.points, dtype=np.float64)   # converted in the step, in the sampling precision
    networks = -(-int(neurons) // W_s)
    per_row = len(pts) + row_elements(plan.products, plan.n_features)
    chunk = max(1, min(chunk, MAX_NEURON_ROWS // W_s, STEP_ELEMENTS // (per_row * W_s)))

    def values(theta):
        def neuron_values():
            per_point = jax.vmap(model.neurons, in_axes=(None, 0))        # (P, W)
            vals = jax.vmap(per_point, in_axes=(0, None))(theta, jnp.asarray(pts, dtype=theta[ns.readout].dtype))
            return jnp.swapaxes(vals, 1, 2)                                 # (chunk, W, P)
        # computed once into memory: else XLA:CPU fuses the whole neuron (the draws' inverse CDF, the
        # activation) into each of the Gram products' half-monomial columns, ≈ 100 evaluations per value
        return materialised(neuron_values, theta[ns.readout])

    acc = plan.stream(model, key, networks, values, chunk=chunk, n_blocks=blocks, dtype=dtype,
                      cache_key=("neurons", plan.signature), points=len(pts), rows=W_s, devices=devices,
                      checkpoint=checkpoint, resume=resume, progress=progress)
    acc.n = networks * W_s
    done: dict = {}

    def both(M):                   # (full, connected) of one mean vector or a batch of leave-one-out means,
        key = (M.shape, M.tobytes())                  # computed once for the two jackknifes
        if key not in done:
            done[key] = combine_fast(plan, M, widths, v_mom, b_mom)
        return done[key]

    full = acc.jackknife(lambda M: both(M)[0], plan.uses(False), "G (neuron-level)", batched=True)
    conn = acc.jackknife(lambda M: both(M)[1], plan.uses(True), "G_c (neuron-level)", batched=True)
    used = blocks if networks >= 2 * blocks else max(2, networks // 2)     # as nnft.sample.iid.stream splits them
    if used < MIN_TRUSTED_BLOCKS:
        notes = tuple(notes) + (f"few blocks: {neurons} neurons are {networks} networks of width {W_s}, so the error "
                                f"bars come from {used} jackknife blocks and z follows a Student-t with {used - 1} "
                                f"degrees of freedom (heavier tails than normal); draw ≥ "
                                f"{2 * MIN_TRUSTED_BLOCKS * W_s} neurons for {MIN_TRUSTED_BLOCKS}+ blocks",)
    if notes:
        full, conn = replace(full, notes=full.notes + tuple(notes)), replace(conn, notes=conn.notes + tuple(notes))
    return WidthCorrelators(widths=widths, full=full, connected=conn, orders=plan.orders)
