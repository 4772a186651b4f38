"""Operator insertions: local potentials V(φ) turned into log-weights of the parameter density.

P̃(θ) ∝ P(θ) exp(−S(θ)),  S(θ) = Σ_insertions Σ_z w_z V(φ_θ(z))   (TASI §5.2, docs/physics.md §7)

with the midpoint rule on each insertion's box (z the cell centres, w_z the cell volume).
``log_weight(θ) = −S(θ)`` is what reweighting and MCMC use. Potentials must be bounded below (else
P̃ is not normalisable): an unbounded one (e.g. −φ⁴) is refused unless the spec opts in with
``allow_unbounded: true``. The lower bound V_min gives the shift c = −Σ w V_min ≥ max log_weight, so
importance weights e^{log_weight − c} never overflow.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from nnft.errors import SpecError
from nnft.functions import FUNCTIONS
from nnft.spec import expr as E
from nnft.spec.models import Theory


@dataclass(frozen=True)
class CompiledInsertion:
    """One insertion, ready to evaluate.

    Attributes:
      points: lattice points z, (M, d).
      weights: quadrature weights w_z, (M,).
      V: the potential, jnp elementwise.
      V_np: the same in numpy.
      V_min: inf_φ V(φ) (−inf when unbounded and allowed).
      where: the spec location (for messages).
    """

    points: np.ndarray
    weights: np.ndarray
    V: Callable
    V_np: Callable
    V_min: float
    where: str

    @property
    def volume(self) -> float:
        """|Ω| = Σ_z w_z, the volume of the domain box (the sum of the lattice cell volumes)."""
        return float(self.weights.sum())


def lattice(box, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Midpoint lattice on a box: n cell centres per dimension, weights = cell volume."""
    axes = [lo + (np.arange(n) + 0.5) * (hi - lo) / n for lo, hi in box]
    cell = math.prod((hi - lo) / n for lo, hi in box)
    pts = np.array(list(itertools.product(*axes)), dtype=np.float64)
    return pts, np.full(len(pts), cell)


def _expression_fns(ex: E.Expr, env: dict[str, float], where: str, theory: Theory):
    unknown = E.names(ex) - {"phi"} - set(env) - set(E.CONSTANTS)
    if unknown:
        raise SpecError(f"the potential uses undefined name(s) {sorted(unknown)}", file=theory.source, field=where,
                        allowed="phi, constants, sizes, pi, e")
    if "@" in E.to_source(ex):
        raise SpecError("'@' has no meaning in a potential of one field value", file=theory.source, field=where)

    def build(version: str) -> Callable:
        # every grammar function (nnft.functions), as in a field: version "jnp" or "numpy"
        def V(phi):
            functions = {n: getattr(f, version) for n, f in FUNCTIONS.items() if f.arity == 1}
            binary = {n: getattr(f, version) for n, f in FUNCTIONS.items() if f.arity == 2}
            lookup = lambda n: phi if n == "phi" else env.get(n, E.CONSTANTS.get(n))   # noqa: E731
            return E.evaluate(ex, lookup, functions, binary) + 0.0 * phi
        return V

    V, V_np = build("jnp"), build("numpy")
    try:
        V_np(np.linspace(-1.0, 1.0, 3))
    except E.ExprError as err:
        raise SpecError(f"the potential {err}", file=theory.source, field=where) from None
    return V, V_np


def _potential(kind: str, args: dict, env: dict, where: str, theory: Theory):
    if kind == "expression":
        try:
            ex = E.parse(args["V"])
        except E.ExprError as err:
            raise SpecError(str(err), file=theory.source, field=f"{where}.expression.V", got=args["V"]) from None
        return _expression_fns(ex, env, f"{where}.expression.V", theory)
    vals = {}
    for k, v in args.items():
        try:
            vals[k] = E.evaluate_constant(E.parse(v), env)
        except E.ExprError as err:
            raise SpecError(f"must be a constant: {err}", file=theory.source, field=f"{where}.{kind}.{k}",
                            got=v) from None
    if kind == "phi4":
        lam = vals["coupling"]
        return (lambda phi: lam / 24.0 * phi ** 4), (lambda phi: lam / 24.0 * phi ** 4)
    g = {int(k[1:]): v for k, v in vals.items() if v != 0.0}

    def poly(phi, g=g):
        return sum(c * phi ** k / math.factorial(k) for k, c in g.items()) + 0.0 * phi
    return poly, poly


def lower_bound(V_np: Callable) -> tuple[float, bool]:
    """(inf V, whether V is bounded below): the minimum over |φ| ≤ 50 must not be undercut farther
    out (checked on a logarithmic grid to |φ| = 10⁶)."""
    centre = np.linspace(-50, 50, 200_001)
    far = np.concatenate([-np.logspace(1.5, 6, 400), np.logspace(1.5, 6, 400)])
    with np.errstate(all="ignore"):
        vc = np.asarray(V_np(centre), dtype=np.float64)
        vf = np.asarray(V_np(far), dtype=np.float64)
    if np.any(np.isnan(vc)) or np.any(np.isnan(vf)) or not np.all(np.isfinite(vc)):
        return -math.inf, False
    vmin = float(np.min(vc))
    bounded = bool(np.min(vf) >= vmin - 1e-9 * max(1.0, abs(vmin)))
    return (vmin if bounded else -math.inf), bounded


def compile_insertions(theory: Theory) -> tuple[CompiledInsertion, ...]:
    """The theory's insertions as lattices and potentials; raises SpecError for a box of the wrong
    dimension or a potential unbounded below (without ``allow_unbounded``)."""
    if not theory.insertions:
        return ()
    from nnft.spec.constants import evaluate_constants
    env, _ = evaluate_constants(theory)
    d = theory.dims["d"]
    out = []
    for i, ins in enumerate(theory.insertions):
        where = f"insertions[{i}]"
        if len(ins.domain.box) != d:
            raise SpecError(f"the box has {len(ins.domain.box)} edges but d = {d}", file=theory.source,
                            field=f"{where}.domain.box", hint="give one [lo, hi] per input dimension")
        n_pts = ins.domain.lattice ** d
        if n_pts > 65_536:
            raise SpecError(f"the lattice has {n_pts} points (at most 65536)", file=theory.source,
                            field=f"{where}.domain.lattice")
        (kind, args), = ins.potential.items()
        V, V_np = _potential(kind, args, env, f"{where}.potential", theory)
        vmin, bounded = lower_bound(V_np)
        if not bounded:
            if not ins.allow_unbounded:
                raise SpecError("the potential is unbounded below: P̃(θ) ∝ P(θ)e^{−∫V} is not normalisable",
                                file=theory.source, field=f"{where}.potential", got=dict(ins.potential),
                                hint="use a potential bounded below (e.g. coupling > 0), or opt in with "
                                     "allow_unbounded: true")
            vmin = -math.inf
        pts, w = lattice(ins.domain.box, ins.domain.lattice)
        out.append(CompiledInsertion(points=pts, weights=w, V=V, V_np=V_np, V_min=vmin, where=where))
    return tuple(out)


def log_weight_shift(insertions) -> float:
    """c = max_θ log_weight(θ) bound = −Σ w V_min (0 if some potential is unbounded: then weights
    are shifted per chunk and may overflow; a NaN is reported, never averaged)."""
    if not insertions:
        return 0.0
    if any(not math.isfinite(ins.V_min) for ins in insertions):
        return 0.0
    return float(-sum(ins.volume * ins.V_min for ins in insertions))
