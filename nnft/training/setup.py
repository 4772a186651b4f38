"""The ``train:`` block as numbers: training inputs X and targets Y, test points, the learning rate and
the optimiser's constants, the recorded steps (docs/training.md). NumPy only.

The target expression is evaluated by nnft's own expression tree (``nnft.spec.expr``: never ``eval``)
on the training inputs, with the numpy versions of the grammar's functions (``nnft.functions``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnft.errors import ExprError, SpecError
from nnft.spec import expr as E
from nnft.spec.models import Theory
from nnft.spec.train import Train

#: loss -> c, the factor in L = (c/2) Σ_α (f(x_α) − y_α)²: ``square`` c = 1, ``mse`` c = 2/M; ``logistic``
#: L = Σ_α log(1 + e^{−y_α f_α}) has the curvature c = 1/4 at f = 0 (for its critical learning rate)
LOSSES = ("mse", "square", "logistic")


@dataclass(frozen=True)
class TrainSetup:
    """A ``train:`` block resolved to numbers.

    Attributes:
      X: training inputs (M, d); Y: targets (M,); test: test points (P, d).
      lr, momentum, weight_decay: the optimiser's constants (floats); temperature: T of the Langevin noise.
      steps: gradient steps; record: the recorded steps (T,), sorted, from 0 … steps.
      loss_factor: c in L = (c/2) Σ_α (f(x_α) − y_α)² (``square``: 1, ``mse``: 2/M; ``logistic``: 1/4, its
        curvature ∂²L/∂f² at f = 0).
      block: the validated block (optimizer, parameterisation, networks, seed, chunk, dtype, ...).
    """

    X: np.ndarray
    Y: np.ndarray
    test: np.ndarray
    lr: float
    momentum: float
    weight_decay: float
    steps: int
    record: np.ndarray
    loss_factor: float
    block: Train
    temperature: float = 0.0

    @property
    def times(self) -> np.ndarray:
        """Gradient-flow time t = η·k of each recorded step k (TASI arXiv:2408.00082 eq. 96 convention)."""
        return self.lr * self.record.astype(np.float64)


def _points(theory: Theory, pts, field: tuple) -> np.ndarray:
    """A ``Points`` block (list or line) as (P, d), checked against d."""
    from nnft.spec.points import study_points
    study = theory.study.model_copy(update={"points": pts})
    try:
        return study_points(theory.model_copy(update={"study": study}))
    except SpecError as err:
        raise SpecError(err.message, file=theory.source, field=field + tuple(str(err.field).split(".")[2:]),
                        allowed=err.allowed, hint=err.hint) from None


def _constant(theory: Theory, env: dict, name: str, src) -> float:
    try:
        return E.evaluate_constant(E.parse(src), env)
    except ExprError as err:
        raise SpecError(str(err), file=theory.source, field=("train", name), got=src,
                        allowed="numbers, sizes (dims), constants, pi, e",
                        hint="declare the name under constants: (then --set NAME=... sweeps it)") from None


def target_values(theory: Theory, src, X: np.ndarray, env: dict) -> np.ndarray:
    """Y = target(X) for an expression of ``x`` (``x[i]`` components; ``x`` itself when d = 1), sizes
    and constants, evaluated elementwise in numpy on the points (M, d) -> (M,).

    Raises:
      SpecError: unknown names, an index out of range, a reduction or ``@``, a non-finite value
        (naming ``train.target``).
    """
    from nnft.functions import FUNCTIONS
    d = X.shape[1]
    field = ("train", "target")

    def fail(msg: str, hint: str | None = None):
        raise SpecError(msg, file=theory.source, field=field, got=src,
                        allowed="x[0] … x[d-1] (x when d = 1), numbers, sizes, constants, pi, e, "
                                "elementwise functions", hint=hint)

    def subst(e):
        if isinstance(e, E.Index):
            if not (isinstance(e.base, E.Name) and e.base.id == "x"):
                fail("only the input x may be indexed here")
            if not 0 <= e.index < d:
                fail(f"x[{e.index}] is out of range: d = {d}", hint=f"use x[0] … x[{d - 1}]")
            return E.Name(f"x[{e.index}]")
        if isinstance(e, E.Name):
            if e.id == "x":
                if d != 1:
                    fail(f"x is a vector of d = {d} components here", hint="use its components x[0], x[1], ...")
                return E.Name("x[0]")
            if e.id not in env and e.id not in E.CONSTANTS:
                fail(f"undefined name {e.id!r}", hint="declare it under constants:")
            return e
        if isinstance(e, E.BinOp):
            if e.op == "@":
                fail("'@' needs named axes; a target is elementwise in x")
            return E.BinOp(e.op, subst(e.left), subst(e.right))
        if isinstance(e, E.Neg):
            return E.Neg(subst(e.operand))
        if isinstance(e, E.Call):
            if e.axis is not None or e.func not in FUNCTIONS:
                fail(f"{e.func}(...) is not elementwise; a target may use elementwise functions only")
            return E.Call(e.func, tuple(subst(a) for a in e.args))
        return e

    tree = subst(E.parse(src))
    values = {f"x[{i}]": X[:, i] for i in range(d)}

    def lookup(name):
        if name in values:
            return values[name]
        return env[name] if name in env else E.CONSTANTS[name]

    unary = {k: f.numpy for k, f in FUNCTIONS.items() if f.arity == 1}
    binary = {k: f.numpy for k, f in FUNCTIONS.items() if f.arity == 2}
    with np.errstate(all="ignore"):
        try:
            y = np.broadcast_to(np.asarray(E.evaluate(tree, lookup, unary, binary), dtype=np.float64), (len(X),))
        except ExprError as err:
            fail(str(err))
    if not np.all(np.isfinite(y)):
        bad = int(np.nonzero(~np.isfinite(y))[0][0])
        fail(f"the target is not finite at training input {bad} ({X[bad].tolist()})")
    return np.array(y)


def resolve(theory: Theory) -> TrainSetup:
    """The theory's ``train:`` block as numbers (:class:`TrainSetup`).

    Raises:
      SpecError: no ``train:`` block; names in ``lr``/``momentum``/``weight_decay``/``target`` that are
        not sizes or constants; targets whose number differs from the inputs'; points of the wrong d
        (each naming the field).
    """
    from nnft.spec.constants import evaluate_constants
    from nnft.spec.points import study_points
    block = theory.train
    if block is None:
        raise SpecError("the spec has no train: block", file=theory.source, field="train",
                        hint="add train: {inputs: {list: [[0.5]]}, targets: [1.0], steps: 100}")
    env, _ = evaluate_constants(theory)
    X = _points(theory, block.inputs, ("train", "inputs"))
    test = study_points(theory) if block.test is None else _points(theory, block.test, ("train", "test"))
    if block.targets is not None:
        Y = np.asarray(block.targets, dtype=np.float64)
        if len(Y) != len(X):
            raise SpecError(f"{len(Y)} targets for {len(X)} training inputs", file=theory.source,
                            field=("train", "targets"), allowed="one target per input")
    else:
        Y = target_values(theory, block.target, X, env)
    lr = _constant(theory, env, "lr", block.lr)
    if not lr > 0:
        raise SpecError(f"the learning rate must be positive, got {lr:g}", file=theory.source, field=("train", "lr"))
    mom = _constant(theory, env, "momentum", block.momentum)
    if not 0 <= mom < 1:
        raise SpecError(f"momentum must be in [0, 1), got {mom:g}", file=theory.source, field=("train", "momentum"))
    wd = _constant(theory, env, "weight_decay", block.weight_decay)
    if not wd >= 0:
        raise SpecError(f"weight_decay must be ≥ 0, got {wd:g}", file=theory.source, field=("train", "weight_decay"))
    temp = _constant(theory, env, "temperature", block.temperature)
    if not temp >= 0:
        raise SpecError(f"the temperature must be ≥ 0, got {temp:g}", file=theory.source, field=("train", "temperature"))
    if temp > 0 and block.optimizer != "sgd":
        raise SpecError(f"Langevin noise is added to gradient descent (sgd), not to {block.optimizer}",
                        file=theory.source, field=("train", "temperature"), allowed="temperature: 0, or optimizer: sgd")
    if block.loss == "logistic" and not np.all(np.abs(Y) == 1.0):
        bad = int(np.nonzero(np.abs(Y) != 1.0)[0][0])
        raise SpecError(f"the logistic loss needs targets ±1, target {bad} is {Y[bad]:g}", file=theory.source,
                        field=("train", "targets" if block.targets is not None else "target"),
                        allowed="-1 or 1", hint="e.g. target: 'sign(x)' (nonzero at the inputs)")
    c = {"square": 1.0, "mse": 2.0 / len(X), "logistic": 0.25}[block.loss]
    return TrainSetup(X=X, Y=Y, test=test, lr=lr, momentum=mom, weight_decay=wd, steps=block.steps,
                      record=np.asarray(block.record_steps(), dtype=np.int64), loss_factor=c, block=block,
                      temperature=temp)
