"""The ``train:`` block of a spec: train the ensemble by gradient descent and measure it over time
(docs/training.md). No JAX here; ``nnft.train`` reads it.

    train:
      inputs: {line: {start: -1.0, stop: 1.0, n: 4}}   # training inputs X (a point list or a line)
      target: "sin(pi * x[0])"                          # Y = target(X), in the expression grammar
      # targets: [0.1, 0.5, -0.2, 0.3]                  # ... or the targets written out, one per input
      test: {list: [[0.0], [0.5]]}                      # where f_t is measured (default: study.points)
      loss: mse                                          # mse: (1/M) Σ (f − y)²; square: ½ Σ (f − y)²
      optimizer: sgd                                     # sgd (small lr ≈ gradient flow), momentum, adam
      lr: lr                                             # an expression: a constant makes --set lr=... a sweep
      steps: 100
      record: [0, 10, 50, 100]                           # steps at which statistics are taken
      parameterisation: ntk                              # ntk: θ_p = s_p ω_p, ω trained; standard: θ trained;
                                                         # mup; abcd (per-parameter exponents, below)
      # abcd: {width: N, d: 0, sigma: multiplier, params: {W0: {a: 0, b: 0, c: 0}, ...}}
      networks: 256

The expressions ``lr``, ``momentum``, ``weight_decay`` may use sizes and constants; ``target`` may also
use ``x`` (its components ``x[0]``, ``x[1]``, ...; for d = 1 ``x`` alone). Names are resolved when
the block is used (``nnft.training.setup``), with the field named in the error.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictBool, field_validator, model_validator

from nnft.errors import LocatedError
from nnft.inputs import MAX_CHUNK, MAX_SEED
from nnft.spec.fields import NO_BOOL, Count, ExprField, Int, Strict, count_schema
from nnft.spec.study import Points

#: bounds of the block (untrusted specs): gradient steps, recorded times, networks
MAX_STEPS = 1_000_000
MAX_RECORD = 200
MAX_NETWORKS = 10_000_000
MAX_TRAIN_POINTS = 4096

Step = Annotated[int, Field(ge=0, le=MAX_STEPS), NO_BOOL]
#: bound on the width exponents a, b, c, d of an abcd parameterisation (|x| ≤ MAX_EXPONENT)
MAX_EXPONENT = 4.0
Exponent = Annotated[float, Field(ge=-MAX_EXPONENT, le=MAX_EXPONENT, allow_inf_nan=False), NO_BOOL]


class Exponents(Strict):
    """One parameter's width exponents (TASI arXiv:2408.00082 eq. 102-106): multiplier n^-a, initial
    variance n^-b of the trained coordinate, learning rate n^-c (docs/training.md)."""

    a: Exponent = 0.0
    b: Exponent = 0.0
    c: Exponent = 0.0


class ABCD(Strict):
    """The width scalings of an abc(d) parameterisation (TASI arXiv:2408.00082 eq. 100-127; Yang & Hu
    arXiv:2011.14522 §3), relative to the spec's densities (docs/training.md).

    Attributes:
      width: the width n of the exponents, an expression of sizes (default: the hidden width, when the
        trained parameters' width axes all have one size).
      d: TASI's output exponent (eq. 101, 106): the readout is multiplied by n^-d and every learning
        rate by n^{2d}; not given: 0 with ``abcd``, 1/2 with ``mup`` (which refuses another value).
      sigma: where the O(1) scale σ_p of a parameter sits: ``multiplier`` (θ = σ n^-a w, w ~ N(0, n^-b);
        TASI's 1/√D, Jacot's NTK) or ``init`` (θ = n^-a w, w ~ N(0, σ² n^-b); Yang & Hu).
      params: trained parameter -> its exponents {a, b, c}; every trained parameter, with
        ``parameterisation: abcd`` (empty with ``mup``, which sets them).
    """

    width: ExprField | None = None
    d: Exponent | None = None
    sigma: Literal["multiplier", "init"] = "multiplier"
    params: dict[str, Exponents] = Field(default_factory=dict, max_length=256)


class Train(Strict):
    """Training of the ensemble (docs/training.md): data, loss, optimiser, parameterisation, times.

    Attributes:
      inputs: the training inputs X (M points in ℝᵈ).
      targets / target: the targets Y, written out (M numbers) or as an expression of ``x``; exactly one.
      test: the points f_t(x) is measured at (default: the study's points).
      loss: ``mse`` L = (1/M) Σ_α (f(x_α) − y_α)², or ``square`` L = ½ Σ_α (f(x_α) − y_α)² (the
        convention of TASI arXiv:2408.00082 eq. 96 and Les Houches arXiv:2309.01592 eq. 85), or
        ``logistic`` L = Σ_α log(1 + e^{−y_α f(x_α)}) (binary cross-entropy, targets ±1; no theory).
      optimizer: ``sgd`` (full-batch gradient descent; small ``lr`` approximates gradient flow),
        ``momentum`` (heavy ball, ``momentum`` β), ``adam`` (optax defaults b1 = 0.9, b2 = 0.999).
      lr: the learning rate η, an expression of sizes and constants.
      steps: gradient steps.
      record: the steps at which statistics are taken (sorted, ≤ steps); default 11 evenly spaced.
      parameterisation: ``ntk``: each trainable parameter θ_p ~ N(0, s_p²) is written θ_p = s_p ω_p
        and ω_p (unit variance) is trained; ``standard``: θ_p itself is trained; ``mup``: the maximal
        update parameterisation of an MLP of any depth (TASI arXiv:2408.00082 eq. 126-127, c = 1,
        d = 1/2); ``abcd``: the exponents of ``abcd.params``.
      abcd: width, d, sigma and per-parameter exponents of ``mup``/``abcd`` (:class:`ABCD`).
      weight_decay: λ of the L2 term (λ/2) Σ ω² added to the loss (ω the trained coordinates).
      temperature: T of Langevin noise (``sgd`` only): each step adds √(2ηr_pT)·ξ, ξ ~ N(0, 1), to the trained
        coordinates, so the stationary law is ∝ exp(−(L + (λ/2)Σω²)/T) (Welling & Teh 2011, ULA).
      networks: ensemble size; seed, chunk (networks per jitted step), dtype.
      linearised: also train the linearised model f_lin (for ‖f − f_lin‖).
    """

    inputs: Points
    targets: list[Annotated[float, Field(allow_inf_nan=False)]] | None = Field(default=None, max_length=MAX_TRAIN_POINTS)
    target: ExprField | None = None
    test: Points | None = None
    loss: Literal["mse", "square", "logistic"] = "mse"
    optimizer: Literal["sgd", "momentum", "adam"] = "sgd"
    lr: ExprField = 0.1
    momentum: ExprField = 0.9
    steps: Step = 100
    record: list[Step] | None = Field(default=None, min_length=1, max_length=MAX_RECORD)
    parameterisation: Literal["ntk", "standard", "mup", "abcd"] = "ntk"
    abcd: ABCD | None = None
    weight_decay: ExprField = 0
    temperature: ExprField = 0
    networks: Annotated[Count, count_schema(4, MAX_NETWORKS, 256)] = Field(default=256, ge=4, le=MAX_NETWORKS)
    seed: Int = Field(default=0, ge=0, le=MAX_SEED)
    chunk: Int = Field(default=64, ge=1, le=MAX_CHUNK)
    dtype: Literal["float32", "float64"] = "float32"
    linearised: StrictBool = True

    @field_validator("targets", mode="before")
    @classmethod
    def _numbers(cls, v):
        if v is None:
            return v
        if isinstance(v, tuple) or (type(v).__module__ == "numpy" and getattr(v, "ndim", None) == 1):
            v = list(v.tolist() if hasattr(v, "tolist") else v)      # the Python API: a tuple or a numpy vector
        v = [y.item() if type(y).__module__ == "numpy" and getattr(y, "ndim", None) == 0 else y for y in v] \
            if isinstance(v, list) else v
        if not isinstance(v, list):
            raise LocatedError("expected a list of numbers (one target per training input)",
                               allowed="[0.1, -0.3, ...]")
        for i, y in enumerate(v):
            if isinstance(y, bool) or not isinstance(y, (int, float)):
                raise LocatedError(f"target {i} is not a number", (i,), allowed="a number")
        return [float(y) for y in v]

    @field_validator("record")
    @classmethod
    def _sorted(cls, v):
        if v is not None and any(b <= a for a, b in zip(v, v[1:])):
            raise LocatedError(f"record steps must be strictly increasing, got {v[:10]}",
                               allowed="strictly increasing step numbers", hint="sort the list and drop repeats")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> "Train":
        if (self.targets is None) == (self.target is None):
            raise LocatedError("give exactly one of 'targets' (numbers) or 'target' (an expression of x)",
                               ("target",), hint="e.g. target: 'sin(pi * x[0])'")
        if self.parameterisation == "abcd" and (self.abcd is None or not self.abcd.params):
            raise LocatedError("parameterisation abcd needs the exponents of every trained parameter",
                               ("abcd", "params"), hint="abcd: {params: {W0: {a: 0, b: 0, c: 0}, ...}}")
        if self.abcd is not None and self.parameterisation in ("ntk", "standard"):
            raise LocatedError(f"an abcd block has no effect with parameterisation {self.parameterisation}",
                               ("abcd",), allowed="parameterisation: abcd or mup",
                               hint="set parameterisation: abcd, or drop the abcd block")
        if self.abcd is not None and self.parameterisation == "mup" and self.abcd.params:
            raise LocatedError("mup sets every parameter's exponents; abcd.params is for parameterisation: abcd",
                               ("abcd", "params"), hint="use parameterisation: abcd to give your own")
        if self.abcd is not None and self.parameterisation == "mup" and self.abcd.d not in (None, 0.5):
            raise LocatedError(f"mup has d = 1/2 (TASI arXiv:2408.00082 eq. 125), got d = {self.abcd.d:g}",
                               ("abcd", "d"), allowed="d: 0.5, or no d",
                               hint="use parameterisation: abcd for another d")
        if self.record is not None and self.record[-1] > self.steps:
            raise LocatedError(f"record step {self.record[-1]} is after the last step ({self.steps})",
                               ("record",), allowed=f"steps 0 … {self.steps}")
        return self

    def record_steps(self) -> list[int]:
        """The recorded steps: ``record``, or 11 evenly spaced steps 0 … ``steps`` (duplicates removed)."""
        if self.record is not None:
            return list(self.record)
        return sorted({round(self.steps * k / 10) for k in range(11)})

