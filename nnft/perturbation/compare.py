"""Reweighted Monte Carlo beside first-order perturbation theory, swept over the coupling λ.

For a theory with a local insertion, P̃(θ) ∝ P(θ) exp(−S(θ)) with S = Σ_z w_z V(φ_θ(z)) on the
insertion's lattice (docs/physics.md §7; TASI §5.2 eq. 135-137 with the sign erratum of docs/physics.md §10),
``⟨O⟩_λ = ⟨O e^{−S}⟩/⟨e^{−S}⟩ = ⟨O⟩ − κ(O, S) + O(λ²)``. :func:`compare` measures, for every λ of a
sweep and on **one** set of free networks (same key at every λ, so the λ-ensembles are the free
networks reweighted and the joint jackknife of ``nnft.stats.jackknife_joint`` gives the small error
of a correlated difference),

* δG⁽²⁾(x, y) = ⟨φ(x)φ(y)⟩_λ − ⟨φ(x)φ(y)⟩_0                              (2-point tuples, full), and
* δG_c⁽ⁿ⁾ = G_c⁽ⁿ⁾|_λ − G_c⁽ⁿ⁾|_0, the joint cumulant                        (n ≠ 2, e.g. the 4-point),

and puts beside them

* the exact finite-N first order −κ(O, S) = λ·c1(N) (``nnft.perturbation.first_order.first_order``):
  for φ⁴ and n = 2, c1(N) = −(1/24)Σ_z w_z[G6(x,y,z,z,z,z) − G2(x,y)G4(z,z,z,z)], which contains the
  connected 4- and 6-point functions of the free net (docs/physics.md §7, "at finite N the free theory is
  not Gaussian"). It needs a spec ``reference:`` with moments of order n + 4; when the reference has
  fewer (Scalar-net stops at 6, so the φ⁴ shift of G_c⁽⁴⁾ is out of reach) the column is reported
  unavailable with the reason;
* the textbook N = ∞ (Gaussian) diagrams with the exact G2 of the reference:
  δG(x, y) = −(λ/2)Σ_z w_z G(x,z)G(z,z)G(z,y) (tadpole) and δG_c⁽⁴⁾ = −λΣ_z w_z Πᵢ G(xᵢ, z) (vertex),
  both docs/physics.md §7 — the formula a finite-N net is *not* expected to follow;
* z-scores (MC − PT)/stderr (``nnft.stats.zscore``, PT taken as exact), the ratio MC/PT, the Kish
  effective sample size of the importance weights (``nnft.stats.kish_ess``), and a flag where first order stops holding: |z| > ``threshold``. The flag means that the
  O(λ²) terms are resolved at this statistical precision — more samples move it to smaller λ.

One pass, bounded memory: the whole sweep streams the free networks once through
``nnft.sample.iid.stream`` and accumulates, per jackknife block, the correlator features f of the
``nnft.estimators.npoint.Plan`` and f·e^{−S_λ}, e^{−S_λ}, e^{−2S_λ} for every λ (the multi-λ layout
``nnft.sample.reweight.MultiLambda`` in one ``nnft.stats.BlockSums``).
These are exactly the sums ``nnft.ensemble`` keeps for the λ-theory with the same key, so the numbers
are those of one ensemble per λ plus ``jackknife_joint`` — without a compilation and a sampling pass
per λ. Nothing per network is stored. A compiled Model passed in is used as is (its free theory is
compiled once, for the sampler); only a Theory or a spec name is compiled here.

The package: ``couplings`` (g_k of the insertions, c1(N) and c1(∞) per unit coupling),
``first_order`` (exact finite-N first order of a model), ``comparison`` (the result and its table and
plot), this module (the workflow).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from nnft.errors import (EstimatorError, InputError, NnftError, ReweightingWarning, SamplingError, SpecError,
                         TailWarning)
from nnft.perturbation.comparison import THRESHOLD, Comparison, ComparisonRow
from nnft.perturbation.couplings import detect_coupling, insertion_couplings, unit_shifts, with_constant
from nnft.stats import Estimate

__all__ = ["DEFAULT_LAMBDAS", "compare", "perturbation_tuples"]

#: the default sweep of the coupling
DEFAULT_LAMBDAS = (0.01, 0.1, 1.0)


# ----------------------------------------------------------------------------- helpers

def perturbation_tuples(points, orders=(2, 4)) -> list[np.ndarray]:
    """Default tuples anchored at the first point p₀ of ``points`` (P, d): for n = 2 the pairs
    (p₀, pⱼ), j = 0…P−1; for n = 1 each point; for even n ≥ 4 the coincident (p₀,…,p₀) and the
    paired (p₀,…,p₀, pⱼ,…,pⱼ), j ≥ 1; for odd n ≥ 3 the coincident tuple only.

    Args:
      points: (P, d) points (a (d,) point is one point).
      orders: correlator orders n ≥ 1.

    Returns:
      list of (n, d) float64 tuples, by order then j.

    Raises:
      InputError: an order < 1.

    Source: not from a paper: the tuples compare() measures by default.
    """
    pts = np.atleast_2d(np.asarray(points, dtype=np.float64))
    out = []
    for n in orders:
        n = int(n)
        if n < 1:
            raise InputError(f"orders are n ≥ 1, got {n}")
        if n == 1:
            out += [pts[[j]] for j in range(len(pts))]
        elif n == 2:
            out += [pts[[0, j]] for j in range(len(pts))]
        else:
            out.append(pts[[0] * n])
            if n % 2 == 0:
                out += [pts[[0] * (n // 2) + [j] * (n // 2)] for j in range(1, len(pts))]
    return out


def _as_model(theory_or_model):
    """The compiled model: a Model as given (not recompiled), a Theory or spec name/path compiled once."""
    from nnft.graph.compile import Model, compile
    from nnft.spec.load import load
    from nnft.spec.models import Theory
    if isinstance(theory_or_model, Model):
        return theory_or_model
    if isinstance(theory_or_model, Theory):
        return compile(theory_or_model)
    if isinstance(theory_or_model, str):
        return compile(load(theory_or_model))
    raise InputError(f"compare needs a Theory, a compiled Model or a spec name/path, got {type(theory_or_model).__name__}")


#: feature elements (networks × features) one streaming step may hold
_STEP_ELEMENTS = 1 << 23


def _reweighted_shifts(free, tuples, insertions_per_lam, *, samples: int, seed: int, chunk: int, dtype: str):
    """One pass over ``samples`` free networks for all λ at once.

    Per network the free correlator features f (``Plan``), the log-weights ℓ_λ = −S_λ(θ) + c_λ of every
    λ (``nnft.insertions``: S = Σ_z w_z V(φ(z)), c_λ the shift that keeps e^{ℓ} ≤ 1) and the products
    f·e^{ℓ_λ}, e^{ℓ_λ}, e^{2ℓ_λ} go into one ``BlockSums`` (``nnft.sample.reweight.MultiLambda``); then
    ⟨f⟩_λ = mean(f e^{ℓ_λ})/mean(e^{ℓ_λ}). This is the estimator of ``nnft.ensemble`` on the λ-theory
    with the same key followed by ``jackknife_joint`` with the free ensemble (same networks, same
    weights, same blocks, so the same numbers), but with one compilation and one sampling pass for the
    whole sweep.

    Returns:
      (Estimate of the shifts, shape (L, T) — full for n ≤ 2, connected otherwise — and the Kish ESS per λ).
    """
    import jax

    from nnft.estimators.npoint import Plan
    from nnft.insertions import log_weight_shift
    from nnft.sample.iid import stream
    from nnft.sample.reweight import MultiLambda, sweep_values

    plan = Plan(list(tuples), free.d)
    L, F, P = len(insertions_per_lam), plan.n_features, len(plan.points)
    lattices = [ins.points for ins in insertions_per_lam[0]]
    for inss in insertions_per_lam[1:]:
        if len(inss) != len(lattices) or any(not np.array_equal(a.points, b) for a, b in zip(inss, lattices)):
            raise SpecError("the insertion lattices change with the swept constant; compare sweeps couplings only",
                            file=free.theory.source, field="insertions")
    layout = MultiLambda(F, L)
    values = sweep_values(free.fields, plan.points, insertions_per_lam,
                          [log_weight_shift(inss) for inss in insertions_per_lam])

    def features(rows):
        return layout.columns(plan.features(rows[:, :P]), rows[:, P:])

    n_feat = layout.n_columns
    chunk = max(1, min(chunk, _STEP_ELEMENTS // n_feat))
    with jax.enable_x64(True):
        acc = stream(free, seed, samples, values, features, n_feat, chunk=chunk, dtype=dtype,
                     points=P + sum(len(z) for z in lattices))
    orders = np.asarray(plan.orders)

    def shift(means):
        f0, fl = layout.free(means), layout.reweighted(means)
        full = plan.full(fl) - plan.full(f0)[..., None, :]
        conn = plan.connected(fl) - plan.connected(f0)[..., None, :]
        return np.where(orders <= 2, full, conn)

    ess = [float(e) for e in layout.ess(acc)]
    est = acc.jackknife(shift)
    fk = acc.feature_khat()
    if fk is not None:
        # tail diagnostic per (λ, tuple): the worst k̂ over the free features, the weighted features f·e^ℓ
        # and the weight e^ℓ it is computed from (nnft.tails; PSIS, arXiv:1507.02646)
        uses = [c_full if n <= 2 else c_conn for n, c_full, c_conn in zip(orders, plan.uses(False), plan.uses(True))]
        kh = np.full(est.mean.shape, np.nan)
        for j, cols in enumerate(uses):
            for lam in range(L):
                v = fk[layout.tail_columns(cols, lam)]
                kh[lam, j] = np.nanmax(v) if not np.all(np.isnan(v)) else np.nan
        est = Estimate(est.mean, est.stderr, est.n, est.ess, kh)
    return est, ess


def refusal_reason(err: NnftError) -> str:
    """One line saying why a value of the sweep is refused: the field and message of a spec error, with
    its hint; else the error's text on one line."""
    if isinstance(err, SpecError):
        where = f"{err.field}: " if err.field and err.field != "<top level>" else ""
        return f"{where}{err.message}" + (f" ({err.hint})" if err.hint else "")
    return "; ".join(p.strip() for p in str(err).splitlines() if p.strip()) or type(err).__name__


def _screen(theory, coupling: str, lams, dtype: str):
    """Per λ, the λ-theory, its couplings and compiled insertions, or the reason it is refused (a spec
    error of the λ-theory, e.g. a potential unbounded below at λ < 0, or a coupling the sampling
    precision cannot hold). Returns ``(accepted {λ: (theory, g, insertions)}, refused {λ: reason},
    first error)``."""
    from nnft.insertions import compile_insertions
    big = float(np.finfo(np.float32 if dtype == "float32" else np.float64).max)
    ok, refused, first = {}, {}, None
    for lam in lams:
        try:
            th = with_constant(theory, coupling, lam)
            g = insertion_couplings(th)
            if any(abs(v) > big for gi in g if gi for v in gi.values()):
                raise InputError(f"the coupling is beyond the {dtype} range (|g| > {big:.3g}); "
                                 "the weights e^{-S} are not representable")
            ok[lam] = (th, g, compile_insertions(th))
        except NnftError as err:
            refused[lam] = refusal_reason(err)
            first = first or err
    return ok, refused, first


# ----------------------------------------------------------------------------- the comparison

def compare(theory_or_model, tuples=None, *, lambdas=DEFAULT_LAMBDAS, samples: int | None = None,
            key: int | None = None, coupling: str | None = None, orders=(2, 4), points=None,
            threshold: float = THRESHOLD, chunk: int | None = None, dtype: str | None = None) -> Comparison:
    """Reweighted MC shifts beside first-order perturbation theory, for each λ of a sweep.

    The λ-theory is the theory with ``constants[coupling] = λ``; its correlators are those of the free
    networks (``model.free()``, one key) with importance weights e^{−S_λ(θ)} (docs/physics.md §7:
    ⟨O⟩_λ = ⟨O e^{−λS}⟩/⟨e^{−λS}⟩), so δ = (λ-correlator) − (free correlator) is a correlated difference
    with a jackknife error over the whole estimator. All λ are measured in one pass over the same
    networks — the numbers of ``nnft.ensemble`` on each λ-theory with the same key followed by
    ``nnft.stats.jackknife_joint`` with the free ensemble, without recompiling per λ.

    The first-order column is the exact finite-N −κ(O, S) (docs/physics.md §7: c1(N) = −(1/24)∫dz[12G_xzG_yzG_zz
    + 6κ4(x,y,z,z)G_zz + 4κ4(x,z,z,z)G_yz + 4κ4(y,z,z,z)G_xz + κ6(x,y,z,z,z,z)] for φ⁴), the N→∞
    column the Gaussian tadpole δG = −(λ/2)∫dz G_xzG_zzG_zy and vertex G4c = −λ∫dz ΠᵢG(xᵢ, z)
    (docs/physics.md §7). 2-point tuples compare the full ⟨φφ⟩; other orders the connected G_c⁽ⁿ⁾.

    Args:
      theory_or_model: a Theory, a compiled Model or a spec name/path, with at least one insertion.
      tuples: list of (n, d) point tuples (default: :func:`perturbation_tuples` of ``points``).
      lambdas: values of the swept constant (≥ 0 for a potential bounded below).
      samples: networks (default: the spec's ``study.samples``), the same at every λ.
      key: integer seed (default: the spec's ``study.seed``); the same at every λ.
      coupling: the constant to sweep (default: the one named by the φ⁴ coupling).
      orders: correlator orders of the default tuples.
      points: (P, d) points for the default tuples (default: the spec's study points).
      threshold: |z| above which a row is flagged as "first order no longer holds".
      chunk: networks per jitted step (default: the spec's study; the numbers do not depend on it).
      dtype: sampling precision (default: the spec's study).

    Returns:
      a :class:`Comparison` (print it, or ``.plot()``). A value of the sweep the theory refuses (a spec
      error of the λ-theory, e.g. a φ⁴ coupling < 0 is unbounded below; a coupling beyond the sampling
      precision; non-finite weights at that λ alone) is left out of the rows and listed, with its reason,
      in ``Comparison.refused``; the other values are measured as usual.

    Raises:
      SpecError: the theory has no insertion, or the coupling cannot be determined / is not a constant;
        the λ-theory's error when every value of the sweep is refused.
      InputError: a coupling beyond the sampling precision at every value of the sweep.
      SamplingError, EstimatorError: non-finite field values, features or shifts at every λ.

    Source: the interacting theory e^{−S_λ} as a reweighting (arXiv:2408.00082 §5.2 eq. 135-137, sign as
    in docs/physics.md §10), first-order perturbation theory with connected correlators as vertices
    (arXiv:2307.03223).
    """
    from nnft.sample.reweight import ess_floor
    from nnft.spec.points import study_points

    model = _as_model(theory_or_model)
    theory = model.theory
    if not theory.insertions:
        raise SpecError("compare needs a theory with an insertion (e.g. potential: {phi4: {coupling: lam}})",
                        file=theory.source, field="insertions",
                        hint="add an 'insertions:' entry, or use a shipped one such as phi4_scalar_1d")
    coupling = coupling or detect_coupling(theory)
    if coupling not in theory.constants:
        raise SpecError(f"{coupling!r} is not a constant of the theory", file=theory.source, field="constants",
                        allowed=", ".join(theory.constants) or "(no constants)")
    lams = tuple(float(v) for v in lambdas)
    if not lams or not all(math.isfinite(v) for v in lams):
        raise InputError(f"lambdas must be a non-empty list of finite numbers, got {lambdas!r}")
    lams = tuple(sorted(set(lams)))
    st = theory.study
    samples = int(samples or st.samples)
    seed = st.seed if key is None else int(key)
    chunk = chunk or st.chunk
    dtype = dtype or st.dtype
    if tuples is None:
        pts = study_points(theory) if points is None else np.atleast_2d(np.asarray(points, dtype=np.float64))
        tuples = perturbation_tuples(pts, orders)
    tuples = tuple(np.atleast_2d(np.asarray(t, dtype=np.float64)) for t in tuples)

    accepted, refused, first_error = _screen(theory, coupling, lams, dtype)
    if not accepted:
        raise first_error
    lams = tuple(accepted)
    free = model.free()                      # the sampler: the one compilation compare adds to the model's
    per_lam = {lam: accepted[lam][0] for lam in lams}
    g = {lam: accepted[lam][1] for lam in lams}
    ks = [set().union(*(set(g[lam][i] or {}) for lam in lams)) for i in range(len(theory.insertions))]
    notes: list[str] = []
    if any(gi is None for gi in g[lams[0]]):
        notes.append("an 'expression' potential has no polynomial first order: PT columns omit it")
    exact_unit, gauss_unit, reasons = unit_shifts(free, tuples, model.insertions, ks)
    pure_phi4 = all(k == {4} for k in ks)

    def pt(lam: float) -> tuple[np.ndarray, np.ndarray]:
        fo = np.zeros(len(tuples))
        ga = np.zeros(len(tuples)) if pure_phi4 else np.full(len(tuples), np.nan)
        for i, gi in enumerate(g[lam]):
            if gi is None:
                fo[:] = np.nan
                ga[:] = np.nan
                continue
            for k, gk in gi.items():
                fo = fo + gk * exact_unit[(i, k)]
            if pure_phi4:
                ga = ga + gi.get(4, 0.0) * gauss_unit[i]
        return fo, ga

    # per unit of the swept constant, when the shift is linear in it (e.g. coupling: lam)
    nz = [lam for lam in lams if lam != 0.0]
    unit, unit_g = [None] * len(tuples), [None] * len(tuples)
    if nz:
        fo_all = np.stack([pt(lam)[0] / lam for lam in nz])
        ga_all = np.stack([pt(lam)[1] / lam for lam in nz])
        for j in range(len(tuples)):
            for arr, dest in ((fo_all[:, j], unit), (ga_all[:, j], unit_g)):
                if np.all(np.isfinite(arr)) and np.allclose(arr, arr[0], rtol=1e-9, atol=0.0):
                    dest[j] = float(arr[0])

    def shifts(ls):
        return _reweighted_shifts(free, tuples, [accepted[lam][2] for lam in ls], samples=samples, seed=seed,
                                  chunk=chunk, dtype=dtype)

    try:
        est, ess = shifts(lams)
    except (SamplingError, EstimatorError):
        if len(lams) == 1:
            raise
        # non-finite weights or shifts at some λ (e.g. an overflowing coupling): measure λ by λ — the same
        # networks and blocks, so the same numbers — and refuse the values that fail alone
        parts = {}
        for lam in lams:
            try:
                parts[lam] = shifts((lam,))
            except (SamplingError, EstimatorError) as err:
                refused[lam] = refusal_reason(err)
                first_error = err
        if not parts:
            raise first_error from None
        lams = tuple(parts)
        khats = [parts[lam][0].khat for lam in lams]
        est = Estimate(np.concatenate([parts[lam][0].mean for lam in lams]),
                       np.concatenate([parts[lam][0].stderr for lam in lams]), samples, None,
                       None if any(k is None for k in khats) else np.concatenate(khats))
        ess = [parts[lam][1][0] for lam in lams]
    floor = ess_floor(samples)
    degenerate = [lam for lam, e in zip(lams, ess) if e < floor]
    if degenerate:
        msg = (f"importance weights degenerate at {coupling} = {', '.join(f'{v:g}' for v in degenerate)} "
               f"(ESS < {floor:g}): those rows are unreliable; lower the coupling or sample P̃ by MCMC")
        notes.append(msg)
        warnings.warn(msg, ReweightingWarning, stacklevel=2)
    by_lam = {lam: (Estimate(est.mean[l], est.stderr[l], samples, ess[l], None if est.khat is None else est.khat[l]),
                    *pt(lam)) for l, lam in enumerate(lams)}
    heavy = [lam for lam in lams if by_lam[lam][0].flagged.any()]
    if heavy:
        msg = (f"heavy tail of per-network contributions (Pareto k̂ > 0.7) at {coupling} = "
               f"{', '.join(f'{v:g}' for v in heavy)}: those shifts and their error bars are unreliable "
               "(PSIS diagnostic, arXiv:1507.02646)")
        notes.append(msg)
        warnings.warn(msg, TailWarning, stacklevel=2)
    rows = []
    for j, tp in enumerate(tuples):
        for lam in lams:
            d, fo, ga = by_lam[lam]
            rows.append(ComparisonRow(
                lam=lam, observable="δG" if len(tp) <= 2 else "δG_c", series=j, points=tp, mc=d[j],
                first_order=float(fo[j]) if np.isfinite(fo[j]) else None,
                gaussian=float(ga[j]) if np.isfinite(ga[j]) else None,
                ess=d.ess, ess_low=lam in degenerate, threshold=float(threshold),
                reason=reasons.get(j) if not np.isfinite(fo[j]) else None))
    return Comparison(theory=theory, coupling=coupling, lambdas=lams, tuples=tuples, samples=samples, seed=seed,
                      rows=tuple(rows), unit=tuple(unit), unit_gaussian=tuple(unit_g), threshold=float(threshold),
                      notes=tuple(notes), refused=tuple(sorted(refused.items())))

