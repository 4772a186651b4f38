"""The leading quartic coupling of an ensemble on a lattice: the amputated connected 4-point function.

Convention (stated once, used everywhere in nnft): the action of the field on P lattice points is
    S[φ] = ½ φᵀ G⁻¹ φ + (1/4!) Σ_{abcd} λ_{abcd} φ_a φ_b φ_c φ_d + …,
λ symmetric. To first order in λ, G_c⁽⁴⁾_{ijkl} = −Σ_{abcd} G_ia G_jb G_kc G_ld λ_{abcd} (the tree-level
contact diagram; the 4! of the vertex cancels the 4! ways to attach four legs), so

    λ_{abcd} = −Σ_{ijkl} G⁻¹_{ai} G⁻¹_{bj} G⁻¹_{ck} G⁻¹_{dl} G_c⁽⁴⁾_{ijkl}

(Demirtas, Halverson, Maiti, Schwartz, Stoner arXiv:2307.03223: the action rebuilt from connected correlators
at leading order in the non-Gaussianity; the Edgeworth expansion of the lattice density). A leptokurtic
ensemble (G_c⁽⁴⁾ > 0, e.g. neuron sums with Gaussian readouts) has λ < 0. At the same order the quadratic
term is ½φᵀ(G⁻¹ − ½ λ·G)φ when G is the *full* two-point function (the tadpole counterterm,
``QuarticCoupling.mass_shift``).

For a single-layer neuron sum G2 is independent of the width N and G_c⁽⁴⁾ ∝ 1/N exactly (TASI
arXiv:2408.00082 eq. 50-51), so λ ∝ 1/N exactly. Errors: one ensemble, one delete-one-block jackknife
over the whole non-linear map (G2, G4) -> λ.

Bias: λ̂ is a non-linear function of sample means (four inverses of the noisy Ĝ2), so it is biased at
O(1/samples) while its error falls as 1/√samples. Two guards: the measured G2 is refused when the jackknife
relative error of Ĝ2⁻¹ reaches ``nnft.action.lattice.NOISE_LIMIT`` (for Gaussian data the inverse's bias is
O(P/samples) whatever the conditioning: the inverse-Wishart mean), and the jackknife bias estimate
(k − 1)(mean of the leave-one-block-out λ − λ̂) is reported per entry (:attr:`QuarticCoupling.bias`, in the
table as a fraction of the error; not subtracted: the correction adds variance and is itself noisy).
Measured for the Cos-net (N = 4, three points 0.8 apart): |bias| ≤ 0.05 σ at 60 000 networks, ≤ 0.35 σ at
2 000.

Theory beside it: where ``nnft.exact`` has the exact G2 and G_c⁽⁴⁾ of the model at its width (a neuron sum
with a declared reference: G_c⁽⁴⁾ ∝ 1/N exactly; an ``mlp:`` net whose values are all exact), the same
contraction of the exact tensors is the vertex the estimator converges to (:attr:`QuarticCoupling.theory`,
z per entry); otherwise :attr:`QuarticCoupling.theory_note` says why there is none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnft.action.lattice import (NOISE_LIMIT, RCOND, amputate, check_points, check_rcond, inverse, inverse_noise,
                                 sorted_tuples, tensor_index)
from nnft.errors import EstimatorError, NnftError
from nnft.stats import Estimate
from nnft.tables import TextTable

__all__ = ["QuarticCoupling", "exact_vertex", "quartic_coupling", "vertex"]

#: advice when the G2 that amputates the legs is ill-conditioned (the vertex takes no pseudo-inverse)
_HINT = "Spread the points further apart or use fewer (the vertex needs the full inverse, no pseudo-inverse)"


def vertex(g2: np.ndarray, g4c: np.ndarray, *, rcond: float = RCOND) -> np.ndarray:
    """λ_{abcd} = −Σ G⁻¹G⁻¹G⁻¹G⁻¹ G_c⁽⁴⁾ from a (P, P) two-point matrix and a (P, P, P, P) connected
    4-point tensor (units: φ⁻⁴ for φ on the lattice; arXiv:2307.03223, the module docstring's convention).

    Args:
      g2: (P, P) symmetric two-point matrix G.
      g4c: (P, P, P, P) connected 4-point tensor G_c⁽⁴⁾.
      rcond: relative eigenvalue cut-off in (0, 1): G with condition number > 1/rcond is refused.

    Returns:
      (P, P, P, P) array λ.

    Raises:
      EstimatorError: G ill-conditioned or not positive definite.
    """
    H = inverse(g2, rcond=rcond, what="G2", hint=_HINT).matrix
    return -amputate(np.asarray(g4c, dtype=np.float64), H)


def _tensors(full2: np.ndarray, conn2: np.ndarray, conn4: np.ndarray, P: int) -> tuple[np.ndarray, np.ndarray]:
    return conn2[tensor_index(P, 2)], conn4[tensor_index(P, 4)]


def diameters(X: np.ndarray) -> np.ndarray:
    """(P, P, P, P): the largest distance between the points of each index tuple (0 on the diagonal)."""
    D = np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1))
    P = len(X)
    out = np.zeros((P,) * 4)
    for a, b in [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]:
        shape = [1, 1, 1, 1]
        shape[a], shape[b] = P, P
        out = np.maximum(out, D.reshape(shape))
    return out


@dataclass(frozen=True)
class QuarticCoupling(TextTable):
    """The quartic vertex λ_{abcd} of an ensemble on P lattice points, with jackknife errors.

    Attributes:
      points: (P, d).
      vertex: λ, an Estimate of shape (P, P, P, P) (symmetric; units φ⁻⁴).
      g2: G2 (connected two-point matrix), Estimate (P, P).
      g4c: G_c⁽⁴⁾, Estimate (P, P, P, P).
      condition: condition number of the G2 the vertex is amputated with.
      radii: distinct tuple diameters (largest pairwise distance) in increasing order.
      locality: per radius, RMS of λ over tuples of that diameter divided by the RMS of the diagonal
        λ_{aaaa} (Estimate (len(radii),); 1 at radius 0): how fast the vertex decays off the diagonal.
      source: what G2 amputates the legs ("measured" or "exact …").
      bias: (P, P, P, P) the jackknife bias estimate of λ̂ (k − 1)(mean of the leave-one-block-out λ − λ̂), or
        None when not computed (results saved before it existed); not subtracted from ``vertex``.
      theory: (P, P, P, P) the vertex of the exact G2 and G_c⁽⁴⁾ (``nnft.exact`` at the model's width), or
        None when there is no exact theory.
      theory_note: what ``theory`` is (its source), or why there is none.
    """

    points: np.ndarray
    vertex: Estimate
    g2: Estimate
    g4c: Estimate
    condition: float
    radii: np.ndarray
    locality: Estimate
    source: str = "measured"
    bias: np.ndarray | None = None
    theory: np.ndarray | None = None
    theory_note: str = ""

    @property
    def z(self) -> np.ndarray | None:
        """(P, P, P, P): (λ̂ − theory)/stderr per entry (``nnft.stats.zscore``), None without a theory."""
        return None if self.theory is None else np.asarray(self.vertex.z(self.theory), dtype=np.float64)

    @property
    def bias_ratio(self) -> float:
        """max over entries of |bias|/stderr of λ (NaN when the bias was not computed): the O(1/samples) bias of the
        plug-in λ̂ in units of its error; ≪ 1 means it is negligible."""
        if self.bias is None:
            return float("nan")
        with np.errstate(all="ignore"):
            r = np.abs(self.bias) / self.vertex.stderr
        return float(np.nanmax(np.where(self.vertex.stderr > 0, r, 0.0)))

    @property
    def mass_shift(self) -> np.ndarray:
        """δ_{cd} = −½ Σ_ab λ_{abcd} G_ab: the O(λ) change of the quadratic kernel, S₂ = ½φᵀ(G⁻¹ + δ)φ, when
        G is the full two-point function (the tadpole counterterm; central values)."""
        return -0.5 * np.einsum("abcd,ab->cd", self.vertex.mean, self.g2.mean)

    def table(self, width: int | None = None) -> str:
        """The vertex as text (what ``nnft couplings`` prints; ``print`` shows it, Jupyter as HTML tables):
        λ_aaaa per point with the exact vertex and z beside it where there is one, then the locality profile;
        fitted to ``width`` cells (None: the terminal's)."""
        from nnft.tables import estimate, render, wrap_text
        P = len(self.points)
        lines = [f"quartic vertex λ_abcd = −Σ G⁻¹G⁻¹G⁻¹G⁻¹ G_c⁽⁴⁾ on {P} points, S ⊃ (1/4!) Σ λ_abcd φ_aφ_bφ_cφ_d "
                 f"(arXiv:2307.03223); {self.vertex.n} networks, G2 condition number {self.condition:.4g}"]
        if self.bias is not None:
            lines.append(f"jackknife bias estimate of λ: at most {self.bias_ratio:.2g} standard errors (not subtracted)")
        z = self.z
        if z is not None:
            lines.append(f"theory: {self.theory_note}; max |z| over all {P ** 4} entries: {np.nanmax(np.abs(z)):.2f}")
        elif self.theory_note:
            lines.append(f"theory: none ({self.theory_note})")
        header = ["point a", "λ_aaaa"] + (["theory", "z"] if z is not None else [])
        cells = []
        for a in range(P):
            i = (a,) * 4
            row = [",".join(f"{c:.4g}" for c in self.points[a]),
                   estimate(float(self.vertex.mean[i]), float(self.vertex.stderr[i]))]
            cells.append(row + ([f"{self.theory[i]:.6g}", f"{z[i]:+.2f}"] if z is not None else []))
        loc = [[f"{r:.4g}", estimate(float(m), float(e))]
               for r, m, e in zip(self.radii, self.locality.mean, self.locality.stderr)]
        return "\n".join(wrap_text(lines, width) + render(header, cells, align=["<"] + [">"] * (len(header) - 1),
                                                          width=width)
                         + wrap_text(["locality: RMS λ over 4-tuples of diameter r / RMS λ_aaaa"], width)
                         + render(["r", "RMS λ / RMS λ_aaaa"], loc, width=width))

    def __repr__(self) -> str:
        P = len(self.points)
        diag = Estimate(np.array([self.vertex.mean[(a,) * 4] for a in range(P)]),
                        np.array([self.vertex.stderr[(a,) * 4] for a in range(P)]), self.vertex.n)
        return (f"QuarticCoupling(P={P}, condition={self.condition:.3g}, λ_aaaa = {diag!r}, "
                f"locality {dict(zip(np.round(self.radii, 4).tolist(), [f'{m:.3g}' for m in self.locality.mean]))})")


def _locality(lam: np.ndarray, diam: np.ndarray, radii: np.ndarray) -> np.ndarray:
    P = lam.shape[0]
    diag = np.sqrt(np.mean([lam[(a,) * 4] ** 2 for a in range(P)]))
    return np.array([np.sqrt(np.mean(lam[np.isclose(diam, r)] ** 2)) for r in radii]) / diag


def exact_vertex(model, X: np.ndarray, *, rcond: float = RCOND) -> tuple[np.ndarray | None, str]:
    """The vertex of the model's exact G2 and G_c⁽⁴⁾ on the points ``X`` (P, d), and what it is; or None and
    why there is none (``nnft.exact`` has no exact theory of the model: an insertion, no reference, an
    ``mlp:`` net whose values are NNGP or leading order, a reference without order 4).

    Args:
      model: a compiled theory.
      X: (P, d) checked lattice points.
      rcond: as in :func:`quartic_coupling`.

    Returns:
      ``(theory, note)``: the (P, P, P, P) vertex and its source, or ``(None, reason)``.

    Raises:
      nothing: every refusal of ``nnft.exact`` becomes the reason.
    """
    from nnft.reference import exact
    P = len(X)
    t2, t4 = sorted_tuples(P, 2), sorted_tuples(P, 4)
    try:
        th = exact(model, [X[list(t)] for t in t2] + [X[list(t)] for t in t4])
        if th.kinds is not None and any(k != "exact" for k in th.kinds):
            return None, (f"the theory nnft has for this net is {th.label}, not exact at width "
                          f"{th.widths[0]}: a vertex from it is no test of the finite-width estimate")
        c = th.connected[0]
        lam = vertex(c[:len(t2)][tensor_index(P, 2)], c[len(t2):][tensor_index(P, 4)], rcond=rcond)
    except NnftError as err:
        return None, " ".join(str(err).split())
    return lam, f"exact vertex of nnft.exact's G2 and G_c⁽⁴⁾ at N = {th.widths[0]}"


def quartic_coupling(model, points, *, samples: int, key=0, blocks: int = 64, rcond: float = RCOND,
                     dtype: str = "float32", theory: bool = True) -> QuarticCoupling:
    """The quartic vertex λ_{abcd} = −Σ G⁻¹G⁻¹G⁻¹G⁻¹ G_c⁽⁴⁾ of a model on a lattice, from one ensemble
    (convention S = ½φᵀG⁻¹φ + (1/4!)Σλ_{abcd}φ_aφ_bφ_cφ_d; arXiv:2307.03223; module docstring).

    Args:
      model: a compiled theory.
      points: (P, d) lattice points, 2 ≤ P ≤ 12, distinct.
      samples: networks drawn.
      key: their seed (integer or JAX key).
      blocks: jackknife blocks.
      rcond: relative eigenvalue cut-off in (0, 1): G2 with condition number > 1/rcond is refused.
      dtype: "float32" or "float64" sampling precision.
      theory: put the exact vertex beside it where there is one (:func:`exact_vertex`; its reason otherwise).

    Returns:
      :class:`QuarticCoupling` (λ, G2, G_c⁽⁴⁾ with jackknife errors, the locality profile, the exact vertex
      or why there is none).

    Raises:
      EstimatorError: G2 ill-conditioned (condition number > 1/rcond) or not positive definite, or too noisy
        (jackknife relative error of G2⁻¹ ≥ ``nnft.action.lattice.NOISE_LIMIT``); what ``nnft.ensemble``
        raises (divergent 4th moments, not estimable).
      InputError: bad points, rcond outside (0, 1).
    """
    from nnft.estimators.npoint import ensemble
    X = check_points(points, model.d)
    rcond = check_rcond(rcond)
    P = len(X)
    t2, t4 = sorted_tuples(P, 2), sorted_tuples(P, 4)
    tuples = [X[list(t)] for t in t2] + [X[list(t)] for t in t4]
    n2 = len(t2)
    ens = ensemble(model, tuples, samples=int(samples), key=key, blocks=blocks, dtype=dtype)
    conn = ens.connected()
    g2 = Estimate(conn.mean[:n2][tensor_index(P, 2)], conn.stderr[:n2][tensor_index(P, 2)], conn.n)
    g4c = Estimate(conn.mean[n2:][tensor_index(P, 4)], conn.stderr[n2:][tensor_index(P, 4)], conn.n)
    inv = inverse(g2.mean, rcond=rcond, what="the measured G2", hint=_HINT)
    cond = inv.condition
    try:
        noise = inverse_noise(ens.derived(lambda f, c: inverse(c[:n2][tensor_index(P, 2)], rcond=rcond).matrix))
    except EstimatorError:                              # a leave-one-block-out Ĝ2 is singular
        noise = float("inf")
    if not noise < NOISE_LIMIT:
        raise EstimatorError(f"quartic vertex: the measured G2 is too noisy to amputate the legs with: the jackknife "
                             f"relative error of G2⁻¹ is {noise:.2g} ≥ {NOISE_LIMIT} ({conn.n} networks, condition number "
                             f"{cond:.3g}), and λ carries four of them; measure more networks (the error falls as "
                             "1/√samples)")
    diam = diameters(X)
    radii = np.unique(np.round(diam, 12))

    def lam(full, c):
        return vertex(c[:n2][tensor_index(P, 2)], c[n2:][tensor_index(P, 4)], rcond=rcond)

    try:
        lam_est = ens.derived(lam)
        loc = ens.derived(lambda f, c: _locality(lam(f, c), diam, radii))
        bias = _jackknife_bias(ens, lam)
    except EstimatorError as err:
        raise EstimatorError(f"quartic vertex: {err} (in a leave-one-block-out replicate of G2, condition number "
                             f"{cond:.3g} on all {conn.n} networks: too few networks per jackknife block; measure more)") from None
    th, note = exact_vertex(model, X, rcond=rcond) if theory else (None, "")
    return QuarticCoupling(points=X, vertex=lam_est, g2=g2, g4c=g4c, condition=cond, radii=radii, locality=loc,
                           bias=bias, theory=th, theory_note=note)


def _jackknife_bias(ens, fn) -> np.ndarray:
    """(k − 1)(mean_b fn(leave block b out) − fn(all)) over the k non-empty blocks: the jackknife estimate of the
    O(1/samples) bias of the plug-in estimator fn(means) (Quenouille; Efron & Stein 1981)."""
    S, W = ens.sums.sums, ens.sums.weights
    keep = np.nonzero(W > 0)[0]
    tot, wt = S.sum(0), W.sum()

    def at(means):
        return np.asarray(fn(ens.plan.full(means), ens.plan.connected(means)), dtype=np.float64)

    full = at(tot / wt)
    loo = np.mean([at((tot - S[b]) / (wt - W[b])) for b in keep], axis=0)
    return (len(keep) - 1) * (loo - full)
