"""Power spectrum G̃(p) from samples: neuron level for plane-wave nets, periodogram on a lattice for any net.

Convention (docs/spectrum.md): G̃(p) = ∫dᵈr e^{−ip·r} G_c(r), with G_c(x − y) = ⟨φ(x)φ(y)⟩ − ⟨φ(x)⟩⟨φ(y)⟩, so
G_c(r) = ∫dᵈp/(2π)ᵈ e^{ip·r} G̃(p).

* **Neuron route** (:func:`neuron_spectrum`). A neuron sum of plane waves ψ = A(θ) cos(w(θ)·x + b) with b
  uniform over a 2π period (found in the graph, as the translation proof of ``nnft.graph.symmetry`` does)
  has G̃(p) = (2π)ᵈ (μ2/4) E[A² (δ(p − w) + δ(p + w))], μ2 = N E[v²] (TASI arXiv:2408.00082 eq. 65-67): the
  frequency law weighted by the squared amplitude. Each drawn neuron gives (A², w) exactly (A² = ψ(0;b=0)² +
  ψ(0;b=−π/2)², w = ∇ arg of ψ(x;0) + iψ(x;−π/2) at x = 0), and the delta is averaged over a window
  [p − h, p + h]ᵈ: Ĝ_h(p) = (2π)ᵈ(μ2/4) E[A²(1_h(p − w) + 1_h(p + w))]/(2h)ᵈ, an unbiased estimate of G̃
  averaged over the window (``nnft.analytic.spectrum.box_average``), with a relative error independent of N
  (every neuron is a sample; μ2 is exact). A frequency law with atoms has no spectral density: refused.
* **Lattice route** (:func:`lattice_spectrum`). Whole networks on the midpoint lattice of a box (declared like
  an insertion's ``domain: {box, lattice}``), n points per axis, spacing a: Ĝ(p_k) = (aᵈ/nᵈ)(E|F_k|² −
  |E F_k|²), F_k = Σ_j e^{−2πik·j/n} φ(x_j), p_k = 2πk/(na). Its expectation is the continuum spectrum
  smoothed by the Fejér window (finite volume) and folded by p + 2πm/a (aliasing above π/a):
  ``nnft.analytic.spectrum.lattice_expectation`` gives it exactly from G_c.

Errors: the delete-one-block jackknife of ``nnft.stats.BlockSums`` over neurons (neuron route) or networks.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import networkx as nx
import numpy as np

from nnft.errors import EstimatorError, InputError
from nnft.estimators.neuron import _require, width_moments
from nnft.estimators.npoint import Plan, periodic
from nnft.graph import ir
from nnft.graph.compile import Model
from nnft.inputs import MAX_NEURONS, MAX_SAMPLES
from nnft.graph.moments import field_moment_check
from nnft.graph.symmetry import _feeds_linearly, _phase_nodes
from nnft.insertions import lattice as midpoint_lattice
from nnft.sample.iid import as_key, stream
from nnft.stats import Estimate
from nnft.tables import TextTable

CONVENTION = "G̃(p) = ∫dᵈr e^{−ip·r} G_c(r),  G_c(r) = ∫dᵈp/(2π)ᵈ e^{ip·r} G̃(p)"
#: largest lattice (points) and number of momenta a spectrum may ask for
MAX_LATTICE_POINTS = 1 << 16
MAX_MOMENTA = 4096
#: largest window half-width h (units 1/|x|): (2h)ᵈ must stay finite in float64
MAX_WINDOW = 1e6
#: fraction of repeated frequencies among the drawn neurons above which the law is taken to have atoms
ATOM_FRACTION = 0.01
#: fewest drawn frequencies in a window for its error bar to be trusted (a Poisson count of k has relative
#: error 1/sqrt(k), itself uncertain by ~1/sqrt(2k)); fewer is noted beside the table
MIN_HITS = 25


@dataclass(frozen=True)
class PowerSpectrum(TextTable):
    """G̃(p) with standard errors at M momenta.

    Attributes:
      momenta: (M, d), units 1/|x|.
      spectrum: Estimate of G̃ (M,), units φ²·|x|ᵈ, convention :data:`CONVENTION`.
      route: ``"neurons"`` (window average, exact in N) or ``"lattice"`` (periodogram).
      window: half-width h of the neuron route's momentum window (None on a lattice).
      lattice: on a lattice: ``box`` [[lo, hi], ...], ``n``, ``spacing`` a, ``nyquist`` π/a, ``resolution``
        2π/(na), ``modes`` (M, d) integers.
      theory: the expectation of this estimator from the declared reference (window average, or the
        exact lattice expectation), or None.
      continuum: the continuum G̃(p) at the momenta (None without a closed form).
      theory_label: what ``theory`` is, or why there is none.
      notes: findings printed beside the table (offset deltas, aliasing, finite volume).

    Source: G̃(p) = ∫dᵈr e^{−ip·r} G_c(r) (arXiv:2408.00082 eq. 65-74); the container is not from a paper.
    """

    momenta: np.ndarray
    spectrum: Estimate
    route: str
    window: float | None = None
    lattice: dict | None = None
    theory: np.ndarray | None = None
    continuum: np.ndarray | None = None
    theory_label: str = ""
    notes: tuple[str, ...] = field(default=())
    source: str = ""

    def z(self) -> np.ndarray | None:
        """(MC − theory)/σ per momentum, or None without theory."""
        return None if self.theory is None else self.spectrum.z(self.theory)

    def table(self) -> str:
        """The text table (:func:`table`)."""
        return table(self)


def plane_wave(model: Model) -> tuple[str, str]:
    """(phase parameter, trig op) of a neuron sum of plane waves ψ = A(θ) trig(L_θ(x) + b), L linear in x, b
    uniform over a 2π period, independent, used once, x entering only through that phase and φ linear in
    the trig (the rules of ``nnft.graph.symmetry``).

    Raises:
      EstimatorError: not a neuron sum, or no such phase (naming what was found); use the lattice route.
    """
    _require(model)
    g = model.graph
    phases = _phase_nodes(g, {})
    why = None
    if len(phases) != 1:
        why = f"{len(phases)} uniform-phase cos/sin(w·x + b) nodes found (need exactly one)"
    else:
        (node, b), = phases.items()
        trig = [v for v, _ in ir.consumers(g, node)]
        h = g.copy()
        h.remove_nodes_from([node])
        if len(trig) != 1 or not _feeds_linearly(g, trig[0], {}):
            why = "φ is not linear in the one cos/sin of the phase"
        elif ir.INPUT in h and ir.OUTPUT in h and nx.has_path(h, ir.INPUT, ir.OUTPUT):
            why = "x reaches φ other than through the uniform-phase cos/sin"
    if why:
        raise EstimatorError(f"{model.theory.source}: the neuron route needs plane-wave neurons A cos(w·x + b) with b "
                             f"uniform over 2π: {why}; estimate the spectrum on a lattice (route='lattice')")
    return b, ir.op(g, trig[0])[3:]


def _neuron_law(model: Model, phase: str):
    """θ-batch -> (chunk, W, 1 + d): per neuron (A², w)."""
    d = model.d

    def one(theta):
        dt = theta[phase].dtype
        th0 = {**theta, phase: jnp.zeros_like(theta[phase])}
        th1 = {**theta, phase: jnp.full_like(theta[phase], -math.pi / 2)}
        x0 = jnp.zeros((d,), dtype=dt)
        c0, c1 = model.neurons(th0, x0), model.neurons(th1, x0)
        g0 = jax.jacfwd(lambda x: model.neurons(th0, x))(x0)
        g1 = jax.jacfwd(lambda x: model.neurons(th1, x))(x0)
        a2 = c0 * c0 + c1 * c1
        w = (c0[:, None] * g1 - c1[:, None] * g0) / jnp.where(a2 > 0, a2, 1)[:, None]
        return jnp.concatenate([a2[:, None], w], axis=1)

    return jax.vmap(one)


def _checked_momenta(momenta, d: int) -> np.ndarray:
    try:
        p = np.asarray(momenta, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"momenta must be an (M, d) array of numbers with d = {d}") from None
    if p.ndim == 1 and d == 1:                    # d = 1: a list of momenta [p1, p2, ...]
        p = p[:, None]
    p = np.atleast_2d(p)
    if p.ndim != 2 or p.shape[1] != d:
        raise InputError(f"momenta have shape {np.shape(momenta)}; expected (M, d) with d = {d}")
    if not 1 <= len(p) <= MAX_MOMENTA or not np.all(np.isfinite(p)):
        raise InputError(f"momenta: 1..{MAX_MOMENTA} finite rows expected, got {len(p)}")
    return p


def check_law(model: Model, phase: str, *, key=0, neurons: int = 4096) -> None:
    """Refuse a frequency law with atoms, or neurons that are not plane waves, from a few drawn neurons.

    Raises:
      EstimatorError: more than :data:`ATOM_FRACTION` of the drawn frequencies repeat (atoms: G̃ is a sum of
        delta functions, no density), or ψ(x) ≠ Re[z(0) e^{iw·x}] at a test point.
    """
    W = model.theory.dims[_require(model).width]
    n = max(1, -(-neurons // W))
    theta = jax.jit(lambda k: model.sample(k, n))(jax.random.fold_in(as_key(key), 7919))
    law = np.asarray(jax.jit(_neuron_law(model, phase))(theta), dtype=np.float64).reshape(-1, 1 + model.d)
    live = law[law[:, 0] > 0]
    if len(live):
        # w is read off in the sampling precision: equal frequencies may differ in the last bits (a random
        # amplitude divides out), so frequencies are compared to 1e-6 of their typical size: the median |w|,
        # not the rms, which a heavy-tailed law (Cauchy frequencies: no variance) blows up until distinct
        # frequencies near 0 share a rounding cell and look like atoms
        scale = float(np.median(np.linalg.norm(live[:, 1:], axis=1))) or 1.0
        live = live.copy()
        live[:, 1:] = np.round(live[:, 1:] / (1e-6 * scale)) * (1e-6 * scale)
        _, counts = np.unique(live[:, 1:], axis=0, return_counts=True)
        repeated = float(np.sum(counts[counts > 1])) / len(live)
        if repeated > ATOM_FRACTION:
            top = np.unique(live[:, 1:], axis=0, return_counts=True)
            atoms = top[0][np.argsort(-top[1])[:3]]
            raise EstimatorError(
                f"{model.theory.source}: {repeated:.0%} of the drawn neuron frequencies repeat (e.g. w = "
                f"{', '.join(np.array2string(a, precision=4) for a in atoms)}): the frequency law has atoms, so G̃ "
                "is a sum of delta functions (2π)ᵈ(μ2/4)Σ_k a_k[δ(p − w_k) + δ(p + w_k)], a_k = E[A²; w = w_k], and "
                "has no spectral density; the window average would grow like 1/(2h)ᵈ. Use a continuous frequency law")
    # plane-wave identity at a test point
    x = jnp.full((model.d,), 0.37, dtype=theta[phase].dtype)
    t1 = {k: v[0] for k, v in theta.items()}
    ev = jax.jit(model.neurons)
    psi = np.asarray(ev(t1, x), dtype=np.float64)
    th0 = {**t1, phase: jnp.zeros_like(t1[phase])}
    th1 = {**t1, phase: jnp.full_like(t1[phase], -math.pi / 2)}
    x0 = jnp.zeros((model.d,), dtype=x.dtype)
    z0 = np.asarray(ev(th0, x0)) + 1j * np.asarray(ev(th1, x0))
    w = law[:W, 1:]
    ph = np.asarray(t1[phase], dtype=np.float64)
    pred = np.real(z0 * np.exp(1j * (w @ np.asarray(x) + ph)))
    scale = np.sqrt(law[:W, 0]) + 1e-30
    if np.max(np.abs(pred - psi) / scale) > 1e-3:
        raise EstimatorError(f"{model.theory.source}: the neurons are not plane waves A cos(w·x + b) (ψ(x) differs "
                             "from A cos(w·x + b) at a test point); estimate the spectrum on a lattice (route='lattice')")


def neuron_spectrum(model: Model, momenta, *, window: float, neurons: int = 1_000_000, key=0, chunk: int = 4096,
                    blocks: int = 64, dtype: str = "float32") -> PowerSpectrum:
    """G̃(p) averaged over the window [p − h, p + h]ᵈ, from drawn neurons (exact in N; module docstring).

    Args:
      model: a compiled plane-wave neuron sum (:func:`plane_wave`), no insertions.
      momenta: (M, d), units 1/|x|.
      window: h > 0, units 1/|x|; the estimate's expectation is G̃ averaged over the window (bias O(h²G̃''),
        variance ∝ 1/(neurons (2h)ᵈ)).
      neurons: neurons drawn (rounded up to whole networks).

    Returns:
      :class:`PowerSpectrum` (route ``"neurons"``), theory not attached (``nnft.power_spectrum`` does).

    Raises:
      EstimatorError: not a plane-wave neuron sum, a frequency law with atoms, an insertion, E φ² infinite.
      InputError: bad momenta or window.

    Source: plane-wave neuron sums and their spectra, arXiv:2408.00082 eq. 65-74.
    """
    phase, _ = plane_wave(model)
    ns = _require(model)
    p = _checked_momenta(momenta, model.d)
    h = float(window)
    if not (math.isfinite(h) and 0 < h <= MAX_WINDOW):
        raise InputError(f"window must be a finite half-width in (0, {MAX_WINDOW:g}] (units 1/|x|), got {window!r}")
    if isinstance(neurons, bool) or not float(neurons).is_integer() or not 2 <= neurons <= MAX_NEURONS:
        raise InputError(f"neurons must be an integer in 2 .. {MAX_NEURONS}, got {neurons!r}")
    moment_notes = field_moment_check(model, 2, "the power spectrum")
    check_law(model, phase, key=key)
    W = model.theory.dims[ns.width]
    v_mom, _ = width_moments(model, [W], 2)
    mu2 = W * float(v_mom[0, 2])
    networks = -(-int(neurons) // W)
    pj = jnp.asarray(p)

    def features(vals):
        a2, w = vals[:, :1], vals[:, 1:]
        inside = lambda q: jnp.all(jnp.abs(q) <= h, axis=-1).astype(vals.dtype)   # noqa: E731
        hits = inside(pj[None] - w[:, None]) + inside(pj[None] + w[:, None])
        return jnp.concatenate([a2 * hits, hits], axis=1)

    law = _neuron_law(model, phase)
    acc = stream(model, key, networks, law, features, 2 * len(p), chunk=max(1, min(chunk, (1 << 18) // W)),
                 n_blocks=blocks, dtype=dtype, cache_key=("spectrum-neurons", p.tobytes(), h), points=1 + 2 * model.d,
                 rows=W)
    acc.n = networks * W
    c = (2 * math.pi) ** model.d * mu2 / 4.0 / (2 * h) ** model.d
    est = acc.jackknife(lambda m: c * m[:len(p)], [np.asarray([i]) for i in range(len(p))], "G̃ (neuron-level)")
    notes = list(moment_notes)
    hits = np.rint(acc.mean()[len(p):] * acc.n).astype(np.int64)        # drawn frequencies in each window (±p)
    few = np.nonzero((hits > 0) & (hits < MIN_HITS))[0]
    if len(few):
        notes.append(f"only {', '.join(str(hits[i]) for i in few[:4])} drawn frequencies in the window at p = "
                     f"{', '.join(np.array2string(p[i], precision=4) for i in few[:4])}{' …' if len(few) > 4 else ''} "
                     f"(fewer than {MIN_HITS}): a count that small makes the error bar unreliable; draw more neurons "
                     "or widen the window")
    empty = np.nonzero(~(est.stderr > 0))[0]
    if len(empty):
        notes.append(f"no drawn frequency fell in the window at p = {', '.join(np.array2string(p[i], precision=4) for i in empty[:4])}"
                     f"{' …' if len(empty) > 4 else ''}: 0 with no error bar (G̃ = 0 there, or too few neurons for the window)")
    if ns.offset:
        notes.append(f"the offset {ns.offset} adds (2π)ᵈ Var({ns.offset}) δ(p) (a constant in G_c), not shown")
    return PowerSpectrum(momenta=p, spectrum=est, route="neurons", window=h, notes=tuple(notes),
                         source=model.theory.source)


def lattice_spectrum(model: Model, box, n: int, *, modes=None, samples: int = 20_000, key=0, chunk: int = 4096,
                     blocks: int = 64, dtype: str = "float32") -> PowerSpectrum:
    """Periodogram Ĝ(p_k) = (aᵈ/nᵈ)(E|F_k|² − |E F_k|²) from whole networks on a midpoint lattice (any net).

    Args:
      box: [[lo, hi], ...] per input dimension (an insertion's ``domain.box``).
      n: lattice points per axis (``domain.lattice``); nᵈ ≤ :data:`MAX_LATTICE_POINTS`.
      modes: integer modes k (M, d), momenta p_k = 2πk/(n a) (default k = (j, 0, …), j = 0 … ⌊n/2⌋;
        ``"all"``: every mode, one of each pair ±k).
      samples: networks.

    Returns:
      :class:`PowerSpectrum` (route ``"lattice"``) whose ``lattice`` states the Nyquist momentum π/a and
      the resolution 2π/(na): the expectation is the continuum G̃ smoothed by the Fejér window and folded
      at p + 2πm/a (``nnft.analytic.spectrum.lattice_expectation``).

    Raises:
      InputError: a box of the wrong dimension, too many lattice points, modes outside the lattice.
      EstimatorError: E φ² is infinite (``nnft.graph.moments``), lattice points the precision cannot resolve
        (``Plan.check_precision``), or the estimate is not estimable.

    A theory with insertions is reweighted like every other estimator (the weights enter the block sums).

    Source: G̃(p) = ∫dᵈr e^{−ip·r} G_c(r) (arXiv:2408.00082 eq. 65-74) by its lattice periodogram; the estimator is not from a paper.
    """
    from nnft.analytic.spectrum import lattice_modes
    d = model.d
    try:
        box = [[float(lo), float(hi)] for lo, hi in box]
    except (TypeError, ValueError):
        raise InputError(f"box must be [[lo, hi], ...], one edge per input dimension (d = {d}), got {box!r}") from None
    if len(box) != d or any(not (math.isfinite(lo) and math.isfinite(hi) and lo < hi) for lo, hi in box):
        raise InputError(f"box must give one finite [lo, hi] with lo < hi per input dimension (d = {d}), got {box}")
    if isinstance(n, bool) or not float(n).is_integer():
        raise InputError(f"lattice: points per axis must be an integer, got {n!r}")
    n = int(n)
    if isinstance(samples, bool) or not float(samples).is_integer() or not 2 <= samples <= MAX_SAMPLES:
        raise InputError(f"samples must be an integer in 2 .. {MAX_SAMPLES} (networks), got {samples!r}")
    if not 2 <= n or n ** d > MAX_LATTICE_POINTS:
        raise InputError(f"lattice: {n} points per axis in d = {d} gives {n ** d} points; allowed 2 .. "
                         f"{MAX_LATTICE_POINTS} in all")
    k = lattice_modes(n, d, modes)
    if k.ndim != 2 or k.shape[1] != d or not 1 <= len(k) <= MAX_MOMENTA:
        raise InputError(f"modes must be (M, {d}) integers, 1 ≤ M ≤ {MAX_MOMENTA}")
    if np.any(2 * k <= -n) or np.any(2 * k > n):
        # k and k + n·e give the same DFT coefficient: reporting p = 2πk/(na) beyond Nyquist would label the
        # aliased periodogram with a momentum it does not measure
        raise InputError(f"modes: every component must lie in −n/2 < k ≤ n/2 (n = {n}; k is defined mod n, "
                         f"p = 2πk/(na) up to the Nyquist momentum), got {k[np.any((2 * k <= -n) | (2 * k > n), axis=1)][:3].tolist()}")
    moment_notes = field_moment_check(model, 2, "the power spectrum")
    pts, _ = midpoint_lattice(box, n)
    Plan([p[None] for p in pts], d).check_precision(dtype, periodic(model))
    a = np.array([(hi - lo) / n for lo, hi in box])
    kk = np.mod(k, n)
    flat = np.ravel_multi_index(tuple(kk.T), (n,) * d)
    M = len(k)
    flat_j = jnp.asarray(flat)

    def values(theta):
        return model.fields(theta, jnp.asarray(pts, dtype=next(iter(theta.values())).dtype))[:, None, :]

    def features(vals):
        F = jnp.fft.fftn(vals.reshape((vals.shape[0],) + (n,) * d), axes=tuple(range(1, d + 1)))
        power = jnp.sum(vals.reshape(vals.shape[0], -1) ** 2, axis=1, keepdims=True)    # Σ_j φ_j² = mean_k |F_k|²
        F = F.reshape(vals.shape[0], -1)[:, flat_j]
        return jnp.concatenate([jnp.abs(F) ** 2, F.real, F.imag, power], axis=1)

    acc = stream(model, key, int(samples), values, features, 3 * M + 1, chunk=chunk, n_blocks=blocks, dtype=dtype,
                 cache_key=("spectrum-lattice", pts.tobytes(), flat.tobytes()), points=len(pts))
    c = float(np.prod(a)) / n ** d
    est = acc.jackknife(lambda m: c * (m[:M] - m[M:2 * M] ** 2 - m[2 * M:3 * M] ** 2),
                        [np.asarray([i, M + i, 2 * M + i]) for i in range(M)], "G̃ (lattice)")
    # a mode whose F_k vanishes identically (e.g. k = 0 for a field odd in x on a symmetric box) carries only the
    # sampling precision's rounding: E|F_k|² below (10³ eps)² of the mean mode power Σ_j φ_j² is exactly zero
    means = acc.mean()
    eps = float(np.finfo(np.dtype(dtype)).eps)
    zero = means[:M] <= (1e3 * eps) ** 2 * means[3 * M]
    exact_zero = ()
    if np.any(zero):
        est = dataclasses.replace(est, mean=np.where(zero, 0.0, est.mean), stderr=np.where(zero, 0.0, est.stderr))
        exact_zero = (f"F_k vanishes identically at k = {', '.join(str(r.tolist()) for r in k[zero][:4])}"
                      f"{' …' if zero.sum() > 4 else ''} (a symmetry of the field on this lattice, e.g. φ odd in x on "
                      "a symmetric box): G̃ = 0 there, 0 ± 0 (the Monte Carlo value was the precision's rounding)",)
    p = 2 * math.pi * k / (n * a)[None, :]
    nyq = math.pi / float(np.min(a))
    info = {"box": box, "n": n, "spacing": a.tolist(), "nyquist": nyq,
            "resolution": float(2 * math.pi / np.max(n * a)), "modes": k}
    notes = (f"lattice: Nyquist momentum π/a = {nyq:.4g}; power above it is folded back (aliasing, p + 2πm/a); "
             f"resolution 2π/(na) = {info['resolution']:.4g}: the box smooths G̃ with the Fejér window (finite volume)",
             *moment_notes, *exact_zero)
    if model.insertions:
        notes += (f"the theory has insertions: networks reweighted by e^{{−∫V(φ)}} (Kish ESS = {acc.ess:.4g} of "
                  f"{int(samples)} networks; a degenerate ESS warns); the "
                  "insertion's box breaks translation invariance, so G̃ is the spectrum of the lattice box only",)
    return PowerSpectrum(momenta=p, spectrum=est, route="lattice", lattice=info, notes=notes,
                         source=model.theory.source)


def table(res: PowerSpectrum, name: str = "") -> str:
    """The text table of a power spectrum (``nnft spectrum``, ``nnft show``): one row per momentum, MC ± error,
    the theory of the same estimator and z, the continuum G̃, then the route, convention and notes."""
    from nnft import tables
    head = ["p", "G̃(p) MC", "theory", "z", "continuum"]
    rows = []
    z = res.z()
    for i, p in enumerate(res.momenta):
        th = "—" if res.theory is None else f"{res.theory[i]:.6g}"
        zz = "—" if z is None or not res.spectrum.stderr[i] > 0 else f"{z[i]:+.2f}"
        co = "—" if res.continuum is None else f"{res.continuum[i]:.6g}"
        rows.append([",".join(f"{c:.4g}" for c in p), tables.estimate(res.spectrum.mean[i], res.spectrum.stderr[i]),
                     th, zz, co])
    where = (f"window [p − h, p + h]^d, h = {res.window:.4g}, {res.spectrum.n} neurons (exact in N)"
             if res.route == "neurons" else
             f"lattice n = {res.lattice['n']} per axis on box {res.lattice['box']}, {res.spectrum.n} networks")
    lines = [f"{name + ': ' if name else ''}power spectrum, {res.route} route: {where}", f"convention: {CONVENTION}"]
    lines += tables.render(head, rows, align=["<", ">", ">", ">", ">"])
    lines.append(f"theory: {res.theory_label or 'none'}")
    lines += [f"note: {n}" for n in res.notes]
    return "\n".join(lines)
