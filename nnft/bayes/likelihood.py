"""The Gaussian likelihood of training data as an insertion: a finite-width posterior P(θ | D).

Bayes' theorem on the parameters, P(θ | D) ∝ P(θ) Π_i N(y_i; φ_θ(x_i), σ_ε²) (LH arXiv:2309.01592
§1.6; Neal 1996 ch. 1), is an insertion in the sense of TASI arXiv:2408.00082 §5.2: a potential
on the network output, at the training inputs instead of a lattice,

    P(θ | D) ∝ P(θ) e^{−S(θ)},    S(θ) = Σ_i (φ_θ(x_i) − y_i)² / (2σ_ε²),

so everything that samples an insertion samples the posterior: importance reweighting of prior
networks (``nnft.ensemble``, Kish ESS, ReweightingWarning when degenerate) and NUTS
(``nnft.mcmc_ensemble``). The potential is bounded below by 0, so the weights e^{−S} lie in (0, 1].

:func:`condition` returns a :class:`~nnft.graph.compile.Model` whose ``insertions`` end with one
:class:`~nnft.insertions.CompiledInsertion` at the points X, weight 1 each, with V(φ) = (φ − y)²/(2σ_ε²)
read elementwise against the targets (the point axis is the last axis of φ, as in every caller of
an insertion). No spec grammar is needed: the data are arrays, not a box and a potential.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field, replace
from functools import cached_property

import jax.numpy as jnp
import numpy as np

from nnft.errors import InputError
from nnft.graph.compile import Model
from nnft.insertions import CompiledInsertion

__all__ = ["ConditionedModel", "MAX_TRAIN", "condition", "likelihood_insertion"]

#: most training points of a likelihood insertion (each network is evaluated at all of them per draw)
MAX_TRAIN = 4096


def likelihood_insertion(x_train, y_train, noise_var: float, d: int) -> CompiledInsertion:
    """The Gaussian likelihood as a compiled insertion: points X (n, d), weights 1,
    V(φ) = (φ − y)² / (2σ_ε²) with the targets along the last (point) axis of φ; V_min = 0.

    Args:
      x_train: (n, d) training inputs.
      y_train: (n,) targets (units of φ).
      noise_var: σ_ε² > 0 (units of φ²).
      d: the input dimension.

    Returns:
      a CompiledInsertion with n points, weights 1.

    Raises:
      InputError: malformed X (not (n, d)), y (not n finite values), n > :data:`MAX_TRAIN`, or σ_ε² not > 0.
    """
    X = np.atleast_2d(np.asarray(x_train, dtype=np.float64))
    y = np.asarray(y_train, dtype=np.float64).reshape(-1)
    if X.ndim != 2 or X.shape[1] != d:
        raise InputError(f"x_train must have shape (n, d) with d = {d}, got {X.shape}")
    if len(y) != len(X) or not 1 <= len(X) <= MAX_TRAIN:
        raise InputError(f"need 1 … {MAX_TRAIN} training points with one target each; got {len(X)} inputs, "
                         f"{len(y)} targets")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise InputError("training inputs and targets must be finite")
    nv = float(noise_var)
    if not (math.isfinite(nv) and nv > 0):
        raise InputError(f"noise_var σ_ε² must be finite and > 0 for a likelihood insertion, got {noise_var}")
    half_prec = 0.5 / nv

    def V(phi, y=y):
        return half_prec * (phi - jnp.asarray(y, dtype=phi.dtype)) ** 2

    def V_np(phi, y=y):
        return half_prec * (np.asarray(phi) - y) ** 2

    return CompiledInsertion(points=X, weights=np.ones(len(X)), V=V, V_np=V_np, V_min=0.0, where="likelihood")


@dataclass(frozen=True)
class ConditionedModel(Model):
    """A compiled model conditioned on data by a likelihood insertion (:func:`condition`).

    Attributes (besides :class:`~nnft.graph.compile.Model`'s):
      prior: the model before conditioning.
      x_train (n, d), y_train (n,), noise_var σ_ε²: the data and the likelihood's variance.
    """

    prior: Model | None = field(default=None, compare=False, repr=False)
    x_train: np.ndarray | None = field(default=None, compare=False, repr=False)
    y_train: np.ndarray | None = field(default=None, compare=False, repr=False)
    noise_var: float = 1.0

    @cached_property
    def step_key(self) -> tuple:
        """The prior's key plus a digest of the data and σ_ε² (a compiled step bakes the targets in)."""
        return Model.step_key.func(self) + (("likelihood", _digest(self.x_train, self.y_train, self.noise_var)),)

    def free(self) -> Model:
        """The prior without any insertion (the free theory P(θ))."""
        return self.prior.free() if self.prior.insertions else self.prior


def _digest(x, y, noise_var: float) -> str:
    h = hashlib.sha256()
    for a in (x, y, np.float64(noise_var)):
        h.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
    return h.hexdigest()


def condition(model: Model, x_train, y_train, noise_var: float) -> ConditionedModel:
    """The model conditioned on data D = {(x_i, y_i)}: P(θ | D) ∝ P(θ) e^{−Σ_i (φ_θ(x_i) − y_i)²/(2σ_ε²)}
    (the Gaussian likelihood as a potential; LH arXiv:2309.01592 eq. 32-33 is its infinite-width limit).

    Args:
      model: a compiled model (``nnft.compile``); its own insertions, if any, are kept.
      x_train: training inputs, (n, d).
      y_train: targets, (n,) (units of φ).
      noise_var: σ_ε² > 0 (units of φ²).

    Returns:
      :class:`ConditionedModel`: sample it with ``nnft.ensemble`` (reweighting) or ``nnft.mcmc_ensemble``.

    Raises:
      InputError: malformed data or σ_ε² ≤ 0 (:func:`likelihood_insertion`).
    """
    ins = likelihood_insertion(x_train, y_train, noise_var, model.d)
    y = np.asarray(y_train, dtype=np.float64).reshape(-1)
    digest = _digest(ins.points, y, float(noise_var))
    # the theory records the conditioning, so whatever keys on the theory (checkpoint fingerprints, the
    # step key of a model with insertions) tells two data sets apart
    note = f"[conditioned on data: n = {len(y)}, noise_var = {float(noise_var):g}, sha256 {digest[:16]}]"
    theory = model.theory.model_copy(update={"description": f"{model.theory.description} {note}".strip()})
    structure = model.structure
    if structure.neuron_sum is not None:
        structure = replace(structure, neuron_sum=None, notes=structure.notes + (
            "the likelihood e^{−S(φ)} couples the neurons (the posterior is not a neuron sum)",))
    return ConditionedModel(theory=theory, graph=model.graph, structure=structure,
                            insertions=tuple(model.insertions) + (ins,), jit_cache={}, prior=model,
                            x_train=ins.points, y_train=y,
                            noise_var=float(noise_var))
