"""Insertion couplings of a theory and the first-order shifts per unit coupling, c1(N) and c1(∞).

V = Σ_k g_k φᵏ/k! per insertion (φ⁴: g_4 = λ, V = λ/4! φ⁴; TASI §5.2 eq. 135-137 with the sign erratum of
docs/physics.md §10). The shift of a correlator is linear in the g_k at first order, so it is computed
once per unit coupling (exact finite N from the reference, ``nnft.perturbation.first_order``, and the
textbook N = ∞ diagrams with the reference's G2, ``nnft.analytic.perturbative``) and scaled per λ.
"""

from __future__ import annotations

import numpy as np

from nnft.errors import NnftError, SpecError

__all__ = ["detect_coupling", "insertion_couplings", "reference_g2", "unit_shifts", "with_constant"]


def detect_coupling(theory) -> str:
    """The constant named by the φ⁴ couplings (or polynomial g4) of the theory's insertions.

    Args:
      theory: a validated Theory with insertions.

    Returns:
      the constant's name.

    Raises:
      SpecError: no constant, or several, appear there (pass ``coupling=`` explicitly).
    """
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


def with_constant(theory, name: str, value: float):
    """The theory with ``constants[name] = value`` (validated again, same source file).

    Args:
      theory: a validated Theory.
      name: a constant of it.
      value: the new value.

    Returns:
      the new Theory.

    Raises:
      SpecError: the theory with that value does not validate (e.g. a potential unbounded below).
    """
    from nnft.spec.load import from_dict
    data = theory.model_dump(mode="python")
    data["constants"] = {**data["constants"], name: float(value)}
    return from_dict(data, source=theory.source)


def insertion_couplings(theory) -> list[dict[int, float] | None]:
    """Per insertion, {k: g_k} of V = Σ_k g_k φᵏ/k! with the theory's constants evaluated (``phi4``:
    {4: coupling}; ``polynomial``: its non-zero g_k; None for an ``expression`` potential, which has no
    polynomial first order). TASI §5.2 eq. 135 normalisation: V = λ/4! φ⁴ (arXiv:2408.00082).

    Args:
      theory: a validated Theory.

    Returns:
      one dict (or None) per insertion, in order.

    Raises:
      SpecError: a constant that does not evaluate.
    """
    from nnft.spec.constants import evaluate_constants
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


def reference_g2(free):
    """G(X, Y) = ⟨φ(X)φ(Y)⟩ from the model's reference (``nnft.exact``), vectorised over broadcast
    (..., d) arrays -> (...): the two-point function the N = ∞ diagrams of
    ``nnft.analytic.perturbative`` are drawn with.

    Args:
      free: the compiled free theory (with a ``reference:``).

    Returns:
      a function G(X, Y) of two broadcast (..., d) arrays -> (...) (units φ²).

    Raises:
      EstimatorError: what ``nnft.exact`` raises (no reference), when G is called.
    """
    from nnft.reference import exact
    d = free.d

    def G(X, Y):
        X, Y = np.broadcast_arrays(np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64))
        shape = X.shape[:-1]
        xs, ys = X.reshape(-1, d), Y.reshape(-1, d)
        return exact(free, [np.stack([a, b]) for a, b in zip(xs, ys)]).full[0].reshape(shape)
    return G


def unit_shifts(free, tuples, insertions, ks) -> tuple[dict, dict, dict]:
    """First-order shifts per unit coupling: c1(N) and c1(∞).

    Args:
      free: the compiled free theory (with a ``reference:``).
      tuples: T point tuples, (n, d) each.
      insertions: the compiled insertions (``Model.insertions``).
      ks: per insertion, the powers k of its couplings g_k.

    Returns:
      (exact, gaussian, reasons): ``exact[(i, k)]`` the (T,) exact finite-N shift of insertion i per unit
      g_k (``first_order``; full G⁽ⁿ⁾ for n ≤ 2, G_c⁽ⁿ⁾ otherwise; NaN where unavailable);
      ``gaussian[i]`` the (T,) N = ∞ diagrams per unit φ⁴ coupling (tadpole for n = 2, vertex for n = 4;
      docs/physics.md §7), for pure-φ⁴ insertions only; ``reasons[j]`` why tuple j has no exact value.

    Raises:
      EstimatorError: the reference has no two-point function for the N = ∞ diagrams.
    """
    from nnft.analytic.perturbative import delta_g2_gaussian, g4c_gaussian
    from nnft.perturbation.first_order import first_order
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
                G = reference_g2(free)
                for j, t in enumerate(tuples):
                    if len(t) == 2:
                        vals[j] = delta_g2_gaussian(G, t[0], t[1], ins.points, ins.weights)
                    elif len(t) == 4:
                        vals[j] = g4c_gaussian(G, t, ins.points, ins.weights)
            except NnftError:                 # no reference: no G2 to draw the diagrams with
                pass
            gauss_unit[i] = vals
    return exact_unit, gauss_unit, reasons

