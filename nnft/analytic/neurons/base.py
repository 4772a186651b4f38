"""The base class of the analytic neuron families: one neuron's law and its moments.

A theory φ(x) = Σ_{i=1..N} v_i ψ_i(x) with (v_i, ψ_i) i.i.d. and v ⟂ ψ has joint cumulants
κ_n(φ(x_1)..φ(x_n)) = N κ_n(vψ(x_1)..vψ(x_n)) (docs/physics.md §0; TASI arXiv:2408.00082 eq. 39,
50-51), so the readout moments E[v^k] and the per-neuron moments M_K = E[ψ(x_1)…ψ(x_K)] determine
every correlator; e.g. G2 = N E[v²] M2.

:class:`NeuronReference` validates the input dimension and arguments and wraps each family's
``_moment``; a family's argument names, constraints and defaults are read from
``nnft.spec.signatures.REFERENCES`` (the same table the spec layer validates ``reference:`` blocks
against). :class:`GaussianPreactivation` is the common base of the first-layer families
ψ = σ(w·x + b) (ReLU, erf).
"""

from __future__ import annotations

import math
from types import MappingProxyType
from typing import ClassVar, Mapping

import numpy as np

from nnft.errors import NeuronArgError, suggest
from nnft.spec.signatures import REFERENCES, Signature

#: constraint name (nnft.spec.signatures) -> (predicate, description for error messages)
_CONSTRAINTS = {
    "positive": (lambda v: v > 0, "positive (> 0)"),
    "nonnegative": (lambda v: v >= 0, "nonnegative (>= 0)"),
    "real": (lambda v: True, "real (finite)"),
}


class NeuronReference:
    """The law of one neuron ψ(x), x ∈ ℝᵈ: its moments M_K = E[ψ(x_1)…ψ(x_K)] (docs/physics.md §0).

    ``NeuronReference(d, **args)`` validates the input dimension and the arguments against the
    family's signature and precomputes what :meth:`moment` needs.

    Class variables (set by each final subclass):
      name: the registry name, the ``reference:`` tag of a spec (``"cos_net"``, ...).
      signature: ``nnft.spec.signatures.REFERENCES[name]`` -- set automatically from ``name``.
      args: argument name -> constraint (``"positive"``, ``"nonnegative"``, ``"real"``), read from
        ``signature`` (never declared by the family: the signature has one home).
      defaults: default values of the optional arguments, read from ``signature``.
      equation: where the moments come from (paper + equation, docs/physics.md section).
      max_order: largest K :meth:`moment` accepts.
      dims: allowed (min, max) input dimension d, or None for any d ≥ 1.

    Subclasses implement ``_moment(points)`` for K ≥ 1 (points already validated: shape (K, d),
    1 ≤ K ≤ max_order) and may override ``_setup()`` (precomputation after validation).

    Raises (constructor):
      NeuronArgError: d not an integer ≥ 1 or outside ``dims``; unknown, missing or non-numeric
        arguments; an argument violating its constraint; arguments out of the floating-point range.
    """

    name: ClassVar[str]
    signature: ClassVar[Signature]
    args: ClassVar[Mapping[str, str]] = MappingProxyType({})
    defaults: ClassVar[Mapping[str, float]] = MappingProxyType({})
    equation: ClassVar[str]
    max_order: ClassVar[int]
    dims: ClassVar[tuple[int, int] | None] = None

    def __init_subclass__(cls, **kwargs) -> None:
        """A family naming itself (``name = ...`` in its body) takes args/defaults from REFERENCES."""
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            return  # an abstract intermediate (e.g. the cosine families' common base)
        cls.signature = REFERENCES[cls.name]
        cls.args = cls.signature.args
        cls.defaults = cls.signature.defaults

    def __init__(self, d: int, **args: float):
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
            raise NeuronArgError(f"{self.name}: input dimension d must be an integer >= 1, got {d!r}")
        if self.dims is not None and not (self.dims[0] <= d <= self.dims[1]):
            raise NeuronArgError(f"{self.name}: input dimension d={d} not allowed; "
                                 f"allowed d in [{self.dims[0]}, {self.dims[1]}]")
        self.d = int(d)
        allowed = ", ".join(f"{k} ({c})" for k, c in self.args.items())
        unknown = [k for k in args if k not in self.args]
        if unknown:
            hint = suggest(unknown[0], self.args)
            raise NeuronArgError(f"{self.name}: unknown argument(s) {unknown}; allowed: {allowed}"
                                 + (f"; did you mean {hint!r}?" if hint else ""))
        values = {**self.defaults, **args}
        missing = [k for k in self.args if k not in values]
        if missing:
            raise NeuronArgError(f"{self.name}: missing argument(s) {missing}; allowed: {allowed}")
        self.params: dict[str, float] = {}
        for k, constraint in self.args.items():
            try:
                v = float(values[k])
            except (TypeError, ValueError):
                raise NeuronArgError(f"{self.name}: argument {k}={values[k]!r} is not a number; "
                                     f"must be {_CONSTRAINTS[constraint][1]}") from None
            ok, desc = _CONSTRAINTS[constraint]
            if not (math.isfinite(v) and ok(v)):
                raise NeuronArgError(f"{self.name}: argument {k}={v!r} violates constraint: must be {desc}")
            self.params[k] = v
            setattr(self, k, v)
        try:
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                self._setup()
        except (OverflowError, FloatingPointError, ZeroDivisionError) as err:
            raise NeuronArgError(f"{self.name}: arguments {self._args_text()} at d={self.d} are out of the numerically "
                                 f"representable range ({err})") from None

    def _setup(self) -> None:
        """Hook for subclasses (precomputation after validation; arguments are attributes by then)."""

    def _args_text(self) -> str:
        return ", ".join(f"{k}={v:g}" for k, v in self.params.items())

    def __repr__(self) -> str:
        a = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}(d={self.d}, {a})"

    def _points(self, points) -> np.ndarray:
        p = np.asarray(points, dtype=float)
        if p.ndim == 1 and self.d == 1:
            p = p[:, None]
        if p.ndim != 2 or p.shape[1] != self.d:
            raise NeuronArgError(f"{self.name}: points must have shape (K, d={self.d}), got {p.shape}")
        if p.shape[0] > self.max_order:
            raise NeuronArgError(f"{self.name}: order K={p.shape[0]} > max_order={self.max_order}")
        if not np.all(np.isfinite(p)):
            raise NeuronArgError(f"{self.name}: points must be finite")
        return p

    def moment(self, points: np.ndarray) -> float:
        """M_K = E[ψ(x_1)…ψ(x_K)] (dimensionless float) for ``points`` of shape (K, d).

        For d = 1 a vector of shape (K,) is accepted; K = 0 gives 1.0. Accurate to
        :meth:`error_bound` (absolute).

        Raises:
          NeuronArgError: wrong shape, K > max_order, non-finite points, or a moment that
            overflows / is not finite for these arguments.
          QuadratureError: a quadrature did not reach its stated accuracy (ReluLayer, ErfLayer).
        """
        p = self._points(points)
        if p.shape[0] == 0:
            return 1.0
        try:
            with np.errstate(over="ignore", under="ignore"):
                value = float(self._moment(p))
        except (OverflowError, FloatingPointError, ZeroDivisionError) as err:
            raise NeuronArgError(f"{self.name}: moment of order {p.shape[0]} overflows for {self._args_text()} "
                                 f"({err})") from None
        if not math.isfinite(value):
            raise NeuronArgError(f"{self.name}: moment of order {p.shape[0]} is not finite for {self._args_text()} "
                                 f"(arguments out of the representable range)")
        return value

    def _moment(self, points: np.ndarray) -> float:
        raise NotImplementedError

    @property
    def accuracy(self) -> float:
        """Stated absolute accuracy of :meth:`moment` (0.0 for closed forms)."""
        return 0.0

    def error_bound(self, points: np.ndarray) -> float:
        """Absolute error bound of ``moment(points)``; equals :attr:`accuracy` unless overridden."""
        return self.accuracy


class GaussianPreactivation(NeuronReference):
    """First-layer neuron ψ = σ(w·x + b), w ~ N(0, weight_std² I_d), b ~ N(0, bias_std²).

    The preactivations u_k = w·x_k + b are jointly Gaussian, u ~ N(0, C) with
    C_ij = bias_std² + weight_std² x_i·x_j (docs/physics.md §4 with C_W/n0 = weight_std²,
    C_b = bias_std²; LH arXiv:2309.01592 eq. 118-120), so M_K = E[Π_k σ(u_k)] is a Gaussian
    integral; subclasses supply σ's.
    """

    max_order = 4

    def cov(self, points: np.ndarray) -> np.ndarray:
        """Preactivation covariance C (shape (K, K)) of points reshaped to (K, d)."""
        p = np.asarray(points, dtype=float).reshape(-1, self.d)
        return self.bias_std ** 2 + self.weight_std ** 2 * (p @ p.T)
