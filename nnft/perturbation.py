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

* the exact finite-N first order −κ(O, S) = λ·c1(N) (``nnft.analytic.perturbative.first_order``):
  for φ⁴ and n = 2, c1(N) = −(1/24)Σ_z w_z[G6(x,y,z,z,z,z) − G2(x,y)G4(z,z,z,z)], which contains the
  connected 4- and 6-point functions of the free net (docs/physics.md §7, "at finite N the free theory is
  not Gaussian"). It needs a spec ``reference:`` with moments of order n + 4; when the reference has
  fewer (Scalar-net stops at 6, so the φ⁴ shift of G_c⁽⁴⁾ is out of reach) the column is reported
  unavailable with the reason;
* the textbook N = ∞ (Gaussian) diagrams with the exact G2 of the reference:
  δG(x, y) = −(λ/2)Σ_z w_z G(x,z)G(z,z)G(z,y) (tadpole) and δG_c⁽⁴⁾ = −λΣ_z w_z Πᵢ G(xᵢ, z) (vertex),
  both docs/physics.md §7 — the formula a finite-N net is *not* expected to follow;
* z-scores (MC − PT)/stderr, the ratio MC/PT, the Kish effective sample size of the importance
  weights, and a flag where first order stops holding: |z| > ``threshold``. The flag means that the
  O(λ²) terms are resolved at this statistical precision — more samples move it to smaller λ.

One pass, bounded memory: the whole sweep streams the free networks once through
``nnft.sample.iid.stream`` and accumulates, per jackknife block, the correlator features f of the
``nnft.estimators.npoint.Plan`` and f·e^{−S_λ}, e^{−S_λ}, e^{−2S_λ} for every λ (``nnft.stats.BlockSums``).
These are exactly the sums ``nnft.ensemble`` keeps for the λ-theory with the same key, so the numbers
are those of one ensemble per λ plus ``jackknife_joint`` — without a compilation and a sampling pass
per λ. Nothing per network is stored.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from nnft.errors import InputError, NnftError, ReweightingWarning, SpecError, TailWarning
from nnft.stats import Estimate, format_value

__all__ = ["Comparison", "ComparisonRow", "compare", "perturbation_tuples"]

#: |z| above which a row is flagged: first order no longer describes the Monte Carlo
THRESHOLD = 5.0
DEFAULT_LAMBDAS = (0.01, 0.1, 1.0)


# ----------------------------------------------------------------------------- result

@dataclass(frozen=True)
class ComparisonRow:
    """One (λ, observable, tuple) line of a :class:`Comparison`.

    Attributes:
      lam: the value of the swept coupling constant.
      observable: ``"δG"`` (full 2-point shift, or n = 1) or ``"δG_c"`` (connected n-point shift).
      series: index of the tuple in :attr:`Comparison.tuples`.
      points: the tuple, (n, d).
      mc: the reweighted Monte Carlo shift (scalar :class:`~nnft.stats.Estimate`, joint jackknife).
      first_order: exact finite-N first order (λ·c1(N) for φ⁴), or None (see ``reason``).
      gaussian: the textbook N = ∞ diagram with the reference's G2, or None.
      ess: Kish effective sample size of the λ-ensemble's importance weights.
      ess_low: the ESS is below the reweighting floor of ``nnft.sample.iid`` (estimate unreliable).
      threshold: |z| above which :attr:`breaks`.
      reason: why ``first_order`` is None.
    """

    lam: float
    observable: str
    series: int
    points: np.ndarray
    mc: Estimate
    first_order: float | None
    gaussian: float | None
    ess: float | None
    ess_low: bool
    threshold: float
    reason: str | None = None

    @property
    def estimable(self) -> bool:
        """False when the importance weights collapsed (Kish ESS < ``nnft.stats.ESS_NOT_ESTIMABLE``) or the
        shift or its error is not finite: the row then has no number, no z and no ratio."""
        from nnft.stats import ESS_NOT_ESTIMABLE
        return ((self.ess is None or self.ess >= ESS_NOT_ESTIMABLE) and bool(np.isfinite(self.mc.mean))
                and bool(np.isfinite(self.mc.stderr)))

    def _z(self, est: Estimate, ref: float | None) -> float | None:
        if ref is None or not self.estimable or (float(est.stderr) == 0.0 and float(est.mean) == ref):
            return None          # no estimate, or an exact zero-error value (λ = 0): no z
        return float(est.z(ref))

    @property
    def z(self) -> float | None:
        """(MC − first order)/stderr; None when first order is unavailable."""
        return self._z(self.mc, self.first_order)

    @property
    def z_gaussian(self) -> float | None:
        """(MC − N = ∞ diagram)/stderr."""
        return self._z(self.mc, self.gaussian)

    @property
    def ratio(self) -> float | None:
        """MC/first order (1 where first order holds)."""
        if self.first_order is None or self.first_order == 0.0 or not self.estimable:
            return None
        return float(self.mc.mean) / self.first_order

    @property
    def breaks(self) -> bool | None:
        """|z| > threshold: the MC resolves a departure from first order (None if unavailable)."""
        z = self.z
        return None if z is None else bool(abs(z) > self.threshold)


@dataclass(frozen=True)
class Comparison:
    """Reweighted MC vs first-order perturbation theory over a λ sweep (returned by :func:`compare`).

    Attributes:
      theory: the theory (at its own coupling value; only ``coupling`` is swept).
      coupling: the swept constant.
      lambdas: its values.
      tuples: the point tuples, one series each.
      samples, seed: networks per ensemble and the PRNG seed (the same networks at every λ).
      rows: one :class:`ComparisonRow` per (tuple, λ), grouped by tuple, λ ascending.
      unit: per tuple, the first-order shift per unit of the swept coupling when it is linear in it
        (c1(N) for ``phi4: {coupling: lam}``), else None.
      unit_gaussian: the same for the N = ∞ diagrams.
      threshold: |z| above which a row is flagged.
      notes: reasons and warnings (unavailable columns, degenerate importance weights).
    """

    theory: object
    coupling: str
    lambdas: tuple[float, ...]
    tuples: tuple[np.ndarray, ...]
    samples: int
    seed: int
    rows: tuple[ComparisonRow, ...]
    unit: tuple[float | None, ...]
    unit_gaussian: tuple[float | None, ...]
    threshold: float
    notes: tuple[str, ...] = field(default_factory=tuple)

    def series(self, i: int) -> list[ComparisonRow]:
        """The rows of tuple ``i`` (λ ascending)."""
        return [r for r in self.rows if r.series == i]

    def breakdown(self) -> dict[int, float | None]:
        """Per tuple: the smallest λ flagged (|z| > threshold), None if first order holds throughout
        (or is unavailable)."""
        out = {}
        for i in range(len(self.tuples)):
            flagged = [r.lam for r in self.series(i) if r.breaks]
            out[i] = min(flagged) if flagged else None
        return out

    def table(self) -> str:
        """The comparison as text, one block per tuple, one line per λ."""
        t = self.theory
        lines = [f"{t.name}  ({t.source})", "  " + "  ".join(f"{k}={v}" for k, v in t.dims.items())]
        for ins in t.insertions:
            (kind, args), = ins.potential.items()
            box = " × ".join(f"[{lo:g}, {hi:g}]" for lo, hi in ins.domain.box)
            lines.append(f"  insertion {kind} {dict(args)} on {box}, lattice {ins.domain.lattice}^{len(ins.domain.box)}")
        lines += [f"  sweep of {self.coupling}; {self.samples} networks, seed {self.seed}: the same networks at every λ, "
                  "reweighted (joint jackknife errors)",
                  "  first order: −κ(O, S), exact at finite N from the reference (docs/physics.md §7); "
                  "N→∞: textbook Gaussian diagram with the same G2",
                  f"  flag 'breaks': |z| > {self.threshold:g} vs first order (O(λ²) resolved at this precision); "
                  "'ESS low': too few effective samples"]
        lines += [f"  note: {n}" for n in self.notes]
        head = (f"{'λ':>8} {'MC':>24} {'1st order':>11} {'z':>7} {'MC/PT':>6} {'N→∞':>11} {'z':>7} "
                f"{'ESS':>9}  flag")
        for i, tp in enumerate(self.tuples):
            rows = self.series(i)
            obs = rows[0].observable if rows else ("δG" if len(tp) <= 2 else "δG_c")
            pts = "; ".join(",".join(f"{c:g}" for c in p) for p in tp)
            coef = []
            if self.unit[i] is not None:
                coef.append(f"c1(N) = {self.unit[i]:.6g}")
            if self.unit_gaussian[i] is not None:
                coef.append(f"c1(∞) = {self.unit_gaussian[i]:.6g}")
            lines += ["", f"{obs}⁽{str(len(tp)).translate(_SUP)}⁾({pts})" + ("   per unit " + self.coupling + ": " + ", ".join(coef)
                                                        if coef else "")]
            reason = next((r.reason for r in rows if r.reason), None)
            if reason:
                lines.append(f"  first order unavailable: {reason}")
            lines += [head, "-" * len(head)]
            for r in rows:
                if not r.estimable:
                    lines.append(f"{r.lam:>8g} {'not estimable':>24} {_num(r.first_order):>11} {'—':>7} {'—':>6} "
                                 f"{_num(r.gaussian):>11} {'—':>7} {_num(r.ess, '.1f'):>9}  importance weights collapsed")
                    continue
                flags = [f for f, on in (("breaks", r.breaks), ("ESS low", r.ess_low),
                                         ("HEAVY TAIL", bool(r.mc.flagged))) if on]
                lines.append(
                    f"{r.lam:>8g} {format_value(float(r.mc.mean), float(r.mc.stderr)):>24} {_num(r.first_order):>11} "
                    f"{_zs(r.z):>7} {_num(r.ratio, '.3f'):>6} {_num(r.gaussian):>11} {_zs(r.z_gaussian):>7} "
                    f"{_num(r.ess, '.0f'):>9}  {', '.join(flags)}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def plot(self, path=None, ax=None, series=None):
        """Plot −(MC shift) against λ (log-log where all values are positive) with the first-order and
        N = ∞ lines, one colour per tuple. Needs matplotlib (``pip install nnft[plot]``).

        Args:
          path: write the figure there (PNG etc.); returns the axes either way.
          ax: draw into these axes (default: a new figure).
          series: tuple indices to draw (default: all).
        """
        try:
            import matplotlib
            if ax is None and path is not None:
                matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError as err:  # pragma: no cover - optional dependency
            raise ImportError("Comparison.plot needs matplotlib: pip install 'nnft[plot]'") from err
        fig = None
        if ax is None:
            fig, ax = plt.subplots(figsize=(6.4, 4.4))
        positive, labelled = True, set()
        for k, i in enumerate(range(len(self.tuples)) if series is None else series):
            rows = self.series(i)
            if not rows:
                continue
            col = f"C{k % 10}"
            lam = np.array([r.lam for r in rows])
            m = -np.array([float(r.mc.mean) for r in rows])
            e = np.array([float(r.mc.stderr) for r in rows])
            pts = "; ".join(",".join(f"{c:g}" for c in p) for p in self.tuples[i])
            ax.errorbar(lam, m, yerr=e, fmt="o", color=col, label=f"MC −{rows[0].observable}({pts})")
            positive &= bool(np.all(m > 0))
            grid = np.geomspace(lam.min(), lam.max(), 100) if lam.min() > 0 else np.linspace(lam.min(), lam.max(), 100)
            for unit, style, what in ((self.unit[i], "-", "first order, c1(N) exact"),
                                      (self.unit_gaussian[i], "--", "first order, N = ∞ formula")):
                if unit is not None:
                    ax.plot(grid, -grid * unit, style, color=col, label=None if what in labelled else what)
                    labelled.add(what)
                    positive &= bool(-unit > 0)
        if positive and min(self.lambdas) > 0:
            ax.set_xscale("log")
            ax.set_yscale("log")
        ax.set_xlabel(f"λ ({self.coupling})")
        ax.set_ylabel("−δ (shift under the insertion)")
        ax.set_title(f"{self.theory.name}: reweighted MC vs first order")
        ax.legend(fontsize=8)
        if fig is not None:
            fig.tight_layout()
            if path is not None:
                fig.savefig(path, dpi=120)
                plt.close(fig)
        return ax


_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _num(v, fmt: str = ".5g") -> str:
    return "—" if v is None or (isinstance(v, float) and not math.isfinite(v)) else format(v, fmt)


def _zs(v) -> str:
    return "—" if v is None else f"{v:+.2f}"


# ----------------------------------------------------------------------------- helpers

def perturbation_tuples(points, orders=(2, 4)) -> list[np.ndarray]:
    """Default tuples anchored at the first point p₀ of ``points`` (P, d): for n = 2 the pairs
    (p₀, pⱼ), j = 0…P−1; for n = 1 each point; for even n ≥ 4 the coincident (p₀,…,p₀) and the
    paired (p₀,…,p₀, pⱼ,…,pⱼ), j ≥ 1; for odd n ≥ 3 the coincident tuple only."""
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


def _as_theory(theory_or_model):
    from nnft.graph.compile import Model
    from nnft.spec.load import load
    from nnft.spec.models import Theory
    if isinstance(theory_or_model, Model):
        return theory_or_model.theory
    if isinstance(theory_or_model, Theory):
        return theory_or_model
    if isinstance(theory_or_model, str):
        return load(theory_or_model)
    raise InputError(f"compare needs a Theory, a compiled Model or a spec name/path, got {type(theory_or_model).__name__}")


def _detect_coupling(theory) -> str:
    """The constant named by the φ⁴ couplings (or polynomial g4) of the insertions."""
    from nnft.spec import expr as E
    found = set()
    for ins in theory.insertions:
        (kind, args), = ins.potential.items()
        raw = args.get("coupling") if kind == "phi4" else args.get("g4") if kind == "polynomial" else None
        if raw is None:
            continue
        found |= E.names(E.parse(raw)) & set(theory.constants)
    if len(found) != 1:
        what = "no constant" if not found else f"several constants {sorted(found)}"
        raise SpecError(f"cannot tell which constant to sweep: the φ⁴ couplings name {what}", file=theory.source,
                        field="insertions", allowed=", ".join(theory.constants) or "(no constants)",
                        hint="pass coupling='NAME' (CLI: --coupling NAME), a constant used by the potential")
    return found.pop()


def _with_constant(theory, name: str, value: float):
    from nnft.spec.load import from_dict
    data = theory.model_dump(mode="python")
    data["constants"] = {**data["constants"], name: float(value)}
    return from_dict(data, source=theory.source)


def _couplings(theory) -> list[dict[int, float] | None]:
    """Per insertion, {k: g_k} of V = Σ_k g_k φᵏ/k! (None for an ``expression`` potential)."""
    from nnft.graph.build import evaluate_constants
    from nnft.spec import expr as E
    env, _ = evaluate_constants(theory)
    out = []
    for ins in theory.insertions:
        (kind, args), = ins.potential.items()
        if kind == "phi4":
            out.append({4: E.evaluate_constant(E.parse(args["coupling"]), env)})
        elif kind == "polynomial":
            g = {int(k[1:]): E.evaluate_constant(E.parse(v), env) for k, v in args.items()}
            out.append({k: v for k, v in g.items() if v != 0.0})
        else:
            out.append(None)
    return out


def _exact_g2(free):
    """G(X, Y) from the reference (vectorised over broadcast (..., d) arrays) for the Gaussian diagrams."""
    from nnft.reference import exact
    d = free.d

    def G(X, Y):
        X, Y = np.broadcast_arrays(np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64))
        shape = X.shape[:-1]
        xs, ys = X.reshape(-1, d), Y.reshape(-1, d)
        return exact(free, [np.stack([a, b]) for a, b in zip(xs, ys)]).full[0].reshape(shape)
    return G


def _unit_shifts(free, tuples, insertions, ks) -> tuple[dict, dict, dict]:
    """First-order shifts per unit coupling, per (insertion, k) and tuple: exact finite N and
    Gaussian N = ∞; and per tuple the reason when unavailable."""
    from nnft.analytic.perturbative import delta_g2_gaussian, first_order, g4c_gaussian
    exact_unit: dict[tuple[int, int], np.ndarray] = {}
    gauss_unit: dict[int, np.ndarray] = {}
    reasons: dict[int, str] = {}
    T = len(tuples)
    orders = sorted({len(t) for t in tuples})
    for i, ins in enumerate(insertions):
        for k in sorted(ks[i]):
            vals = np.full(T, np.nan)
            for n in orders:
                idx = [j for j, t in enumerate(tuples) if len(t) == n]
                try:
                    fo = first_order(free, [tuples[j] for j in idx], ins.points, ins.weights, couplings={k: 1.0})
                except NnftError as err:       # e.g. the reference lacks the order n + k
                    for j in idx:
                        reasons.setdefault(j, str(err))
                    continue
                vals[idx] = fo.full[0] if n <= 2 else fo.connected[0]
            exact_unit[(i, k)] = vals
        if ks[i] == {4}:                              # textbook diagrams exist for φ⁴ only
            vals = np.full(T, np.nan)
            try:
                G = _exact_g2(free)
                for j, t in enumerate(tuples):
                    if len(t) == 2:
                        vals[j] = delta_g2_gaussian(G, t[0], t[1], ins.points, ins.weights)
                    elif len(t) == 4:
                        vals[j] = g4c_gaussian(G, t, ins.points, ins.weights)
            except NnftError:                 # no reference: no G2 to draw the diagrams with
                pass
            gauss_unit[i] = vals
    return exact_unit, gauss_unit, reasons


#: feature elements (networks × features) one streaming step may hold
_STEP_ELEMENTS = 1 << 23


def _reweighted_shifts(free, tuples, insertions_per_lam, *, samples: int, seed: int, chunk: int, dtype: str):
    """One pass over ``samples`` free networks for all λ at once.

    Per network the free correlator features f (``Plan``), the log-weights ℓ_λ = −S_λ(θ) + c_λ of every
    λ (``nnft.insertions``: S = Σ_z w_z V(φ(z)), c_λ the shift that keeps e^{ℓ} ≤ 1) and the products
    f·e^{ℓ_λ}, e^{ℓ_λ}, e^{2ℓ_λ} go into one ``BlockSums``; then ⟨f⟩_λ = mean(f e^{ℓ_λ})/mean(e^{ℓ_λ}).
    This is the estimator of ``nnft.ensemble`` on the λ-theory with the same key followed by
    ``jackknife_joint`` with the free ensemble (same networks, same weights, same blocks, so the same
    numbers), but with one compilation and one sampling pass for the whole sweep.

    Returns:
      (Estimate of the shifts, shape (L, T) — full for n ≤ 2, connected otherwise — and the Kish ESS per λ).
    """
    import jax
    import jax.numpy as jnp

    from nnft.estimators.npoint import Plan
    from nnft.insertions import log_weight_shift
    from nnft.sample.iid import stream

    plan = Plan(list(tuples), free.d)
    L, F, P = len(insertions_per_lam), plan.n_features, len(plan.points)
    lattices = [ins.points for ins in insertions_per_lam[0]]
    for inss in insertions_per_lam[1:]:
        if len(inss) != len(lattices) or any(not np.array_equal(a.points, b) for a, b in zip(inss, lattices)):
            raise SpecError("the insertion lattices change with the swept constant; compare sweeps couplings only",
                            file=free.theory.source, field="insertions")
    offsets = np.cumsum([P] + [len(z) for z in lattices])
    all_pts = np.concatenate([plan.points] + lattices)
    shifts = [log_weight_shift(inss) for inss in insertions_per_lam]

    def values(theta):
        dt = next(iter(theta.values())).dtype
        phi = free.fields(theta, jnp.asarray(all_pts, dtype=dt))         # (chunk, P + ΣM)
        lws = []
        for inss, c in zip(insertions_per_lam, shifts):
            lw = jnp.zeros(phi.shape[0], dtype=dt)
            for k, ins in enumerate(inss):          # the sum of ``Model.log_weight``, per network
                z = phi[:, offsets[k]:offsets[k + 1]]
                lw = lw - jnp.sum(jnp.asarray(ins.weights, dtype=dt)[None, :] * ins.V(z), axis=1)
            lws.append(lw.astype(jnp.float64) - c)
        return jnp.concatenate([phi[:, :P].astype(jnp.float64), jnp.stack(lws, axis=1)], axis=1)[:, None, :]

    def features(rows):
        f = plan.features(rows[:, :P])                                       # (r, F)
        w = jnp.exp(rows[:, P:])                                             # (r, L)
        fw = (f[:, None, :] * w[:, :, None]).reshape(rows.shape[0], L * F)
        return jnp.concatenate([f, fw, w, w * w], axis=1)

    n_feat = F * (L + 1) + 2 * L
    chunk = max(1, min(chunk, _STEP_ELEMENTS // n_feat))
    with jax.enable_x64(True):
        acc = stream(free, seed, samples, values, features, n_feat, chunk=chunk, dtype=dtype,
                     points=len(all_pts))
    orders = np.asarray(plan.orders)

    def shift(means):
        f0 = means[..., :F]
        fw = means[..., F:F * (L + 1)].reshape(means.shape[:-1] + (L, F))
        w = means[..., F * (L + 1):F * (L + 1) + L]
        fl = fw / w[..., None]
        full = plan.full(fl) - plan.full(f0)[..., None, :]
        conn = plan.connected(fl) - plan.connected(f0)[..., None, :]
        return np.where(orders <= 2, full, conn)

    m = acc.mean()
    w1, w2 = m[F * (L + 1):F * (L + 1) + L], m[F * (L + 1) + L:]
    ess = [float(samples * a * a / b) if b > 0 else 0.0 for a, b in zip(w1, w2)]
    est = acc.jackknife(shift)
    fk = acc.feature_khat()
    if fk is not None:
        # tail diagnostic per (λ, tuple): the worst k̂ over the free features, the weighted features f·e^ℓ
        # and the weight e^ℓ it is computed from (nnft.estimators.tails; PSIS, arXiv:1507.02646)
        uses = [c_full if n <= 2 else c_conn for n, c_full, c_conn in zip(orders, plan.uses(False), plan.uses(True))]
        kh = np.full(est.mean.shape, np.nan)
        for j, cols in enumerate(uses):
            for lam in range(L):
                v = fk[np.concatenate([cols, F + lam * F + cols, [F * (L + 1) + lam]]).astype(int)]
                kh[lam, j] = np.nanmax(v) if not np.all(np.isnan(v)) else np.nan
        est = Estimate(est.mean, est.stderr, est.n, est.ess, kh)
    return est, ess


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
      chunk, dtype: networks per jitted step and sampling precision (default: the spec's study; the
        numbers do not depend on ``chunk``).

    Returns:
      a :class:`Comparison` (print it, or ``.plot()``).

    Raises:
      SpecError: the theory has no insertion, or the coupling cannot be determined / is not a constant.
    """
    from nnft.graph.compile import compile
    from nnft.insertions import compile_insertions
    from nnft.sample.iid import ESS_FRACTION, ESS_MIN
    from nnft.study import study_points

    theory = _as_theory(theory_or_model)
    if not theory.insertions:
        raise SpecError("compare needs a theory with an insertion (e.g. potential: {phi4: {coupling: lam}})",
                        file=theory.source, field="insertions",
                        hint="add an 'insertions:' entry, or use a shipped one such as phi4_scalar_1d")
    coupling = coupling or _detect_coupling(theory)
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

    base = compile(theory)
    free = base.free()
    per_lam = {lam: _with_constant(theory, coupling, lam) for lam in lams}
    g = {lam: _couplings(th) for lam, th in per_lam.items()}
    ks = [set().union(*(set(g[lam][i] or {}) for lam in lams)) for i in range(len(theory.insertions))]
    notes: list[str] = []
    if any(gi is None for gi in g[lams[0]]):
        notes.append("an 'expression' potential has no polynomial first order: PT columns omit it")
    exact_unit, gauss_unit, reasons = _unit_shifts(free, tuples, base.insertions, ks)
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

    est, ess = _reweighted_shifts(free, tuples, [compile_insertions(per_lam[lam]) for lam in lams],
                                  samples=samples, seed=seed, chunk=chunk, dtype=dtype)
    ess_floor = max(ESS_MIN, ESS_FRACTION * samples)
    degenerate = [lam for lam, e in zip(lams, ess) if e < ess_floor]
    if degenerate:
        msg = (f"importance weights degenerate at {coupling} = {', '.join(f'{v:g}' for v in degenerate)} "
               f"(ESS < {ess_floor:g}): those rows are unreliable; lower the coupling or sample P̃ by MCMC")
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
                      notes=tuple(notes))
