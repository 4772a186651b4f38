"""A study: the spec's ``study:`` block (or overrides) turned into correlators beside theory.

``nnft.run(theory)`` measures G⁽ⁿ⁾ and G_c⁽ⁿ⁾ on point tuples built from the study's points,
adds the neuron-level (exact-in-N) estimate where φ is a neuron sum, and the analytic reference
with z-scores where the spec declares one. The CLI's ``nnft run`` prints :meth:`Report.table`.
The result types :class:`Row` and :class:`Report` and their table are in ``nnft.study_report``
(importable from here).
"""

from __future__ import annotations

import itertools

import numpy as np

from nnft.errors import EstimatorError, NnftError
from nnft.estimators.neuron import neuron_measure
from nnft.estimators.npoint import measure
from nnft.graph.compile import Model, compile
from nnft.spec.points import study_points
from nnft.stats import require_ess
from nnft.study_report import KINDS, Report, Row, _distinguishing_digits  # noqa: F401 - importable from here too
from nnft.study_theory import fill_theory
from nnft.tables import versions

MAX_TUPLES_PER_ORDER = 24

def _index_tuples(P: int, n: int):
    """Candidate index tuples of order n, lazily, in the documented order."""
    if n == 1:
        yield from ((i,) for i in range(P))
    elif n == 2:
        yield from itertools.combinations_with_replacement(range(P), 2)
    else:
        yield from ((i,) * n for i in range(P))
        if n % 2 == 0:
            yield from ((i,) * (n // 2) + (j,) * (n // 2) for i, j in itertools.combinations(range(P), 2))
        if P > 1:
            yield from (tuple((i + k) % P for k in range(n)) for i in range(P))


def default_tuples(points: np.ndarray, orders) -> list[np.ndarray]:
    """Point tuples for each order n: all pairs for n ≤ 2; for higher n the coincident tuple
    (i,…,i), the paired tuples (i,i,j,j,…) and consecutive windows — at most
    :data:`MAX_TUPLES_PER_ORDER` per order. Candidates are generated lazily and generation stops
    at the bound, so P points cost O(P + bound), never the P² pairs."""
    P = len(points)
    out = []
    for n in orders:
        keys: set[tuple[int, ...]] = set()
        kept = 0
        for t in _index_tuples(P, n):
            if tuple(sorted(t)) in keys:
                continue
            keys.add(tuple(sorted(t)))
            out.append(points[list(t)])
            kept += 1
            if kept == MAX_TUPLES_PER_ORDER:
                break
    return out


#: width of the networks whose neurons the neuron-level estimate draws, whatever the spec's width (when
#: the neuron's law does not depend on it): a width sweep then compiles and draws one neuron program
NEURON_WIDTH = 64
_NEURON_MODELS: dict = {}


def min_neurons(model: Model) -> int:
    """The fewest neurons the neuron-level estimate draws from ``model`` (:func:`neuron_model`'s): two
    whole networks of its width, the two jackknife blocks an error bar needs (a positive ``neurons``
    below it is rounded up to it)."""
    ns = model.structure.neuron_sum
    return 2 * int(model.theory.dims[ns.width]) if ns is not None else 0


def neuron_model(model: Model) -> Model:
    """The model whose networks :func:`run` draws neurons from for the neuron-level (exact-in-N) estimate:
    ``model`` at width :data:`NEURON_WIDTH` when ψ's law does not depend on the width (the readout's
    moments are exact at every N, ``nnft.estimators.neuron``), else ``model`` itself. The same for
    every value of a width sweep, so the neuron step compiles once and every width gets the same neurons
    (the brute-force step changes shape with N and compiles once per width).
    """
    ns = model.structure.neuron_sum
    if ns is None or ns.width_dependent or model.theory.dims.get(ns.width) == NEURON_WIDTH:
        return model
    try:
        theory = model.theory.with_dims(**{ns.width: NEURON_WIDTH})
    except NnftError:                      # the spec refuses that width: draw at its own
        return model
    key = theory.model_dump_json()
    if key not in _NEURON_MODELS:
        if len(_NEURON_MODELS) >= 8:
            _NEURON_MODELS.pop(next(iter(_NEURON_MODELS)))
        _NEURON_MODELS[key] = compile(theory)
    return _NEURON_MODELS[key]


def run(theory, *, samples: int | None = None, seed: int | None = None, chunk: int | None = None,
        dtype: str | None = None, points=None, orders=None, neurons: int | None = 1_000_000,
        sampler: str = "iid", chains: int = 4) -> Report:
    """Measure the study of a theory (spec defaults, overridden by the arguments).

    Args:
      theory: a :class:`Theory`, a compiled model, a spec file, a shipped spec name or a spec mapping
        (read as :func:`nnft.run_sweep` reads its spec).
      samples: networks (default: the spec's ``study.samples``).
      seed: integer seed (default: the spec's ``study.seed``).
      chunk: networks per compiled step (default: the spec's ``study.chunk``; memory only).
      dtype: "float32" or "float64" sampling (default: the spec's ``study.dtype``).
      points: (P, d) study points (default: the spec's ``study.points``).
      orders: correlator orders n (default: the spec's ``study.correlators.orders``); the point
        tuples are built from ``points`` for each order.
      neurons: neurons drawn for the exact-in-N estimate (None or 0: skip it), from networks of width
        :data:`NEURON_WIDTH` when ψ's law does not depend on the width (:func:`neuron_model`); rounded
        up to whole networks, and to at least two networks (:func:`min_neurons`, the two jackknife blocks
        an error bar needs; 128 neurons at width 64); the number drawn is :attr:`Report.neurons`.
      sampler: ``"iid"`` (default: i.i.d. networks, importance-reweighted under an insertion; the
        Report shows the Kish ESS) or ``"mcmc"`` (``nnft.mcmc_ensemble``, ``chains`` NUTS chains; the
        Report shows split-R̂ and bulk ESS).
      chains: NUTS chains with ``sampler="mcmc"``.

    Returns:
      A :class:`Report`: one row per point tuple with G⁽ⁿ⁾ and G_c⁽ⁿ⁾ (mean, standard error) in units
      of φⁿ, the exact reference and z-scores where the spec has one, notes and the sampler's
      diagnostics (Kish ESS or R̂).

    Raises:
      InputError: ``theory`` is none of those, or ``sampler`` is neither "iid" nor "mcmc".
      SpecError: a spec that does not validate.
      EstimatorError: an order whose moments do not exist (``nnft.graph.moments``), or a
        correlator that is not estimable (NaN/inf, fewer than 2 jackknife blocks, importance
        weights collapsed below ESS 10): never a row.
      SamplingError: non-finite field values, features or block sums.

    Rows carry the Pareto k̂ of their largest per-network contributions; rows with k̂ > 0.7 are
    marked HEAVY TAIL in :meth:`Report.table` (``nnft.tails``; PSIS, arXiv:1507.02646).

    Source: G⁽ⁿ⁾ and G_c⁽ⁿ⁾ as in :func:`nnft.measure` (arXiv:2408.00082 eq. 14, 29-30, 49).
    """
    if isinstance(theory, Model):
        model, theory = theory, theory.theory
    else:
        from nnft.spec.load import as_theory
        model, theory = None, as_theory(theory)
    st = theory.study
    samples = samples or st.samples
    seed = st.seed if seed is None else seed
    chunk = chunk or st.chunk
    dtype = dtype or st.dtype
    pts = np.asarray(points, dtype=np.float64) if points is not None else study_points(theory)
    orders = list(orders or st.correlators.orders)
    model = model or compile(theory)
    tuples = default_tuples(pts, orders)
    diag = None
    if sampler == "mcmc":
        from nnft.estimators.mcmc import mcmc_ensemble
        from nnft.estimators.npoint import Correlators
        ens, diag = mcmc_ensemble(model, tuples, samples=samples, chains=chains, key=seed)
        mc = Correlators(full=ens.full(), connected=ens.connected(), orders=ens.orders)
    elif sampler == "iid":
        mc = measure(model, tuples, samples=samples, key=seed, chunk=chunk, dtype=dtype)
    else:
        from nnft.errors import InputError
        raise InputError(f"sampler must be 'iid' or 'mcmc', got {sampler!r}")
    require_ess(mc.full, f"{theory.source}: the correlators")
    def k(est, i):
        return None if est.khat is None else float(est.khat[i])

    rows = [Row(order=len(tp), points=tp, full=(float(mc.full.mean[i]), float(mc.full.stderr[i])),
                connected=(float(mc.connected.mean[i]), float(mc.connected.stderr[i])),
                khat_full=k(mc.full, i), khat_connected=k(mc.connected, i))
            for i, tp in enumerate(tuples)]
    hi = model.moments["phi"].hi
    for r in rows:
        r.error_bar_infinite = 2 * r.order >= hi
    notes = list(dict.fromkeys(mc.full.notes + mc.connected.notes))
    fill_theory(model, rows, tuples, notes)
    drawn = None
    if neurons and model.structure.neuron_sum:
        nm = neuron_model(model)
        neurons = max(int(neurons), min_neurons(nm))     # fewer: no error bar, the column would be dropped
        try:
            nl = neuron_measure(nm, tuples, neurons=neurons, key=seed + 1, dtype=dtype,
                                widths=[model.theory.dims[model.structure.neuron_sum.width]])
            for i, r in enumerate(rows):
                r.neuron_connected = (float(nl.connected.mean[0, i]), float(nl.connected.stderr[0, i]))
            drawn = int(nl.connected.n)       # neurons drawn: ``neurons`` rounded up to whole networks
        except EstimatorError as err:
            notes.append(f"no neuron-level estimate: {err}")
    ess = mc.full.ess if diag is None else None
    from nnft.graph.symmetry import static_symmetries
    return Report(theory=theory, model=model, samples=samples, seed=seed, rows=rows, notes=notes,
                  dtype=str(np.dtype(dtype)) if dtype else None, versions=versions(),
                  zero_mean=static_symmetries(model.graph).reason("z2"),
                  ess=None if ess is None else float(np.min(ess)),
                  rhat=None if diag is None else diag.max_rhat,
                  bulk_ess=None if diag is None else float(np.nanmin(diag.ess)), neurons=drawn)
