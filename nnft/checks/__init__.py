"""Axiom checkers: symmetries, cluster decomposition, reflection positivity (see docs/checkers.md).

Each returns a :class:`CheckResult` (verdict PASS | FAIL | INCONCLUSIVE, statistic, threshold,
samples, basis, evidence); :func:`check` runs a named set (the spec's ``study.checks`` by default).
"""

from nnft.errors import InputError, TailWarning
import dataclasses
import warnings

from nnft.checks.cluster import check_cluster
from nnft.checks.reflection import check_reflection_positivity, positive_time_points, rp_analytic, rp_exact, rp_matrix
from nnft.checks.result import ALPHA, FAIL, INCONCLUSIVE, PASS, CheckResult, CheckResults, table
from nnft.checks.symmetry import ACTIONS, Action, check_symmetry, linear
from nnft.checks.internal import check_internal_rotation

#: names accepted by :func:`check` (and ``study.checks`` / ``nnft check --only``)
CHECKS = ("translation", "rotation", "reflection", "permutation", "z2", "cluster", "cluster_point",
          "reflection_positivity", "internal_rotation")
#: checks of a vector field (``components:``): the symmetries (spatial ones on random component directions)
VECTOR_CHECKS = ("translation", "rotation", "reflection", "permutation", "z2", "internal_rotation")


#: the checks judge tails (the Pareto-k̂ warning of an estimate) only when k̂ rests on at least this many
#: exceedances, M = ⌈min(0.2 n, 3√n)⌉ of n samples (``nnft.tails.tail_size``): n ≥ 267. Below, k̂ of a light
#: tail exceeds 0.7 by chance in most runs (bench/tail_false_flags.py, max over the study's G and G_c
#: entries, 10 seeds: Cos-net 6/10 runs flagged at n = 100 (M = 20), 1/10 at 300 (M = 52), 1/10 at 1000,
#: 0/10 at 3000; Gauss-net 8/10, 8/10, 2/10, 0/10), so the checks say "too few samples to judge tails"
#: instead of warning. Divergent moments are refused from the graph whatever the sample size.
MIN_JUDGED_TAIL = 50
#: the TailWarning text of a k̂ flag (``nnft.stats.warn_tails``), as opposed to the graph's undecided moments
_KHAT_FLAG_TEXT = "heavy tail of per-sample contributions"


def _judged(n: int) -> bool:
    from nnft.tails import tail_size
    return tail_size(int(n)) >= MIN_JUDGED_TAIL


def min_judged_samples() -> int:
    """The fewest samples whose tail has :data:`MIN_JUDGED_TAIL` exceedances (267)."""
    n = MIN_JUDGED_TAIL
    while not _judged(n):
        n += 1
    return n


def _run_judging_tails(run, n: int):
    """``run()``, its Pareto-k̂ tail warnings held back when ``n`` samples are too few to judge tails.
    Returns ``(result, whether a k̂ flag was held back)``; every other warning passes through."""
    if _judged(n):
        return run(), False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run()
    held = False
    for w in caught:
        if issubclass(w.category, TailWarning) and _KHAT_FLAG_TEXT in str(w.message):
            held = True
            continue
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return result, held


def check_key(seed, name: str):
    """The PRNG stream of check ``name``: ``fold_in(key(seed), crc32(name))``. Each check draws from
    its own stream, so adding or removing a check never changes another check's numbers.

    Args:
      seed: an integer seed or a JAX key.
      name: the check's name.

    Returns:
      a JAX PRNG key.

    Raises:
      InputError: a seed that is not an integer or a key.

    Source: not from a paper: independent random streams per check.
    """
    import zlib

    import jax

    from nnft.sample.iid import as_key
    return jax.random.fold_in(as_key(seed), zlib.crc32(name.encode()) & 0x7FFFFFFF)


def expectations(theory) -> dict[str, tuple[str, str | None]]:
    """The verdicts a spec declares as known physics, ``{check: (VERDICT, reason)}``, from
    ``study.checks`` (``run`` entries and the list form declare none).

    Args:
      theory: a validated Theory.

    Returns:
      dict check name -> (``"PASS"`` | ``"FAIL"`` | ``"INCONCLUSIVE"``, reason or None).

    Raises:
      nothing.

    Source: not from a paper: reads the spec.
    """
    checks = getattr(getattr(theory, "study", None), "checks", None)
    if not isinstance(checks, dict):
        return {}
    return {name: (e.expect.upper(), e.reason) for name, e in checks.items() if e.expect != "run"}


def check(model, only=None, *, samples: int | None = None, seed: int | None = None, alpha: float = ALPHA,
          statistical: bool = True) -> list[CheckResult]:
    """Run the checks ``only`` (default: the spec's ``study.checks``, else all applicable) on a
    compiled model (or a Theory) and return their results.

    ``samples`` is networks for symmetry checks and 10× that in neurons for the neuron-level
    cluster / RP estimators. Each check draws from its own PRNG stream (:func:`check_key`). Each
    result carries its check ``name`` and the verdict the spec declares (``expected``, ``reason``;
    see :func:`expectations`); ``result.unexpected`` is what ``nnft check`` exits 1 on.

    Args:
      model: a compiled :class:`~nnft.graph.compile.Model` or a :class:`~nnft.spec.models.Theory`
        (compiled here).
      only: check names to run (``translation``, ``rotation``, ``reflection``, ``permutation``,
        ``z2``, ``internal_rotation``, ``cluster``, ``cluster_point``, ``reflection_positivity``);
        None: the spec's ``study.checks``, else every applicable check.
      samples: networks per symmetry check (default 50 000; 10× in neurons for the neuron-level
        cluster / RP estimators).
      seed: integer seed (default the spec's ``study.seed``); each check gets its own stream.
      alpha: significance level of each check's test (dimensionless).
      statistical: when a symmetry is proven by construction (static analysis of the graph), still
        run the Monte Carlo test; False returns the proof alone.

    Returns:
      A list of :class:`~nnft.checks.result.CheckResult`, one per check run, in the order asked
      (checks that do not apply, e.g. rotation in d = 1, are skipped unless named explicitly).

    Raises:
      InputError: an unknown check name, or a check named explicitly that does not apply to the
        field (``internal_rotation`` on a scalar field, a scalar-only check on a vector field).
      SpecError: ``model`` is a Theory that does not compile (see :func:`nnft.compile`).
      EstimatorError: a check's estimate is not estimable (infinite moments, too few blocks).
      SamplingError: a network gave non-finite values.

    Source: symmetries as invariance of the correlators, arXiv:2106.00694 and arXiv:2408.00082 §3.3;
    cluster decomposition and reflection positivity as in arXiv:2112.04527 (Osterwalder & Schrader,
    Commun. Math. Phys. 31 (1973) 83); docs/physics.md §8-9.
    """
    from nnft.graph.compile import Model, compile
    from nnft.graph.symmetry import static_symmetries
    model = model if isinstance(model, Model) else compile(model)
    study = model.theory.study
    declared = getattr(study, "checks", None)
    names = list(only or declared or CHECKS)
    bad = [n for n in names if n not in CHECKS]
    if bad:
        raise InputError(f"unknown check(s) {bad}; one of {', '.join(CHECKS)}")
    expect = expectations(model.theory)
    n = int(samples or 50_000)
    seed = int(seed if seed is not None else study.seed)
    static = static_symmetries(model.graph)
    out = []
    held: dict[str, int] = {}
    explicit = bool(only or declared)
    for name in names:
        key = check_key(seed, name)
        if name == "internal_rotation" or (model.is_vector and name not in VECTOR_CHECKS):
            if not model.is_vector or model.components < 2 or name != "internal_rotation":
                if explicit:
                    raise InputError(f"check {name!r} needs " + ("a vector field (components: with D ≥ 2)"
                                     if name == "internal_rotation" else "a scalar field (not yet for vector fields)"))
                continue
            m = n
            run = lambda: check_internal_rotation(model, samples=n, key=key, alpha=alpha,  # noqa: E731
                                                  static=static, statistical=statistical, radius=0.5)
        elif name in ("translation", "rotation", "reflection", "permutation", "z2"):
            if name == "rotation" and model.d < 2:
                continue
            m = n
            run = lambda: check_symmetry(model, name, samples=n, key=key, alpha=alpha, static=static,  # noqa: E731
                                         statistical=statistical, radius=0.5)
        elif name in ("cluster", "cluster_point"):
            m = 10 * n
            run = lambda: check_cluster(model, moved=(2, 3) if name == "cluster" else (3,), samples=m,  # noqa: E731
                                        key=key, alpha=alpha, estimator="auto")
        else:
            m = 10 * n if model.structure.neuron_sum else n
            run = lambda: check_reflection_positivity(model, samples=m, key=key, alpha=alpha)  # noqa: E731
        r, flagged = _run_judging_tails(run, m)
        if flagged:
            held[name] = m
        exp, why = expect.get(name, (None, None))
        out.append(dataclasses.replace(r, name=name, expected=exp, reason=why))
    if held:
        from nnft.tails import tail_size
        m = min(held.values())
        warnings.warn(f"too few samples to judge tails ({', '.join(held)}): the Pareto-k̂ diagnostic would rest on the "
                      f"{tail_size(m)} largest of {m} samples, where light tails reach k̂ > 0.7 by chance; no tail "
                      f"verdict either way (at least {min_judged_samples()} samples judge them; divergent moments are "
                      "refused from the graph regardless)", TailWarning, stacklevel=2)
    return CheckResults(out)


__all__ = ["ACTIONS", "ALPHA", "Action", "CHECKS", "CheckResult", "CheckResults", "FAIL", "INCONCLUSIVE", "PASS", "check",
           "check_key", "expectations",
           "check_cluster", "check_internal_rotation", "check_reflection_positivity", "check_symmetry", "linear", "positive_time_points",
           "rp_analytic", "rp_exact", "rp_matrix", "table"]
