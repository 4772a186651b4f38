"""Argument signatures of the tagged spec entries, as data (no JAX, no numerics here).

A spec names a density (``density: {normal: {std: ...}}``), an analytic reference
(``reference: {cos_net: {...}}``) or a potential (``potential: {phi4: {...}}``) by a tag and its
arguments. The spec layer validates those names and arguments against the tables below; the
implementations (``nnft.densities``, ``nnft.analytic``, ``nnft.insertions``) read their argument
names, constraints and defaults from the same tables, so a signature has one home.

Common other names of a kind (``gaussian`` for ``normal``) are in the ``*_ALIASES`` tables: a spec
may use them, and validation replaces them by the canonical name, so a validated theory, its dump,
its hash and every implementation see one name per kind.

Constraints are names: ``"real"``, ``"positive"`` (> 0), ``"nonnegative"`` (>= 0); a potential's
``expression`` argument is ``"expression in phi"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from nnft.errors import NnftError


@dataclass(frozen=True)
class Signature:
    """The arguments of one tagged entry.

    Attributes:
      name: the tag as written in a spec (``normal``, ``cos_net``, ``phi4``, ...).
      args: argument name -> constraint name, in canonical order.
      defaults: default values of the optional arguments (a subset of ``args``).
    """

    name: str
    args: Mapping[str, str]
    defaults: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not set(self.defaults) <= set(self.args):
            raise NnftError(f"signature {self.name!r}: defaults {sorted(self.defaults)} not among its arguments")
        object.__setattr__(self, "args", MappingProxyType(dict(self.args)))
        object.__setattr__(self, "defaults", MappingProxyType(dict(self.defaults)))

    @property
    def required(self) -> tuple[str, ...]:
        """The arguments without a default, in canonical order."""
        return tuple(a for a in self.args if a not in self.defaults)

    @property
    def signature_text(self) -> str:
        """``a, b=1``: the arguments as error messages show them."""
        return ", ".join(a if a not in self.defaults else f"{a}={self.defaults[a]:g}" for a in self.args)

    def __str__(self) -> str:
        """``name(a, b=1)``: the form error messages show."""
        return f"{self.name}({self.signature_text})"


def _table(*signatures: Signature) -> Mapping[str, Signature]:
    return MappingProxyType({s.name: s for s in signatures})


#: Parameter densities (``nnft.densities``).
DENSITIES: Mapping[str, Signature] = _table(
    Signature("normal", {"std": "positive", "mean": "real"}, {"mean": 0.0}),
    Signature("uniform", {"low": "real", "high": "real"}),
    Signature("uniform_ball", {"radius": "positive"}),
    Signature("cauchy", {"scale": "positive", "loc": "real"}, {"loc": 0.0}),
    Signature("student_t", {"df": "positive", "scale": "positive", "loc": "real"}, {"scale": 1.0, "loc": 0.0}),
    Signature("laplace", {"scale": "positive", "loc": "real"}, {"loc": 0.0}),
    Signature("exponential", {"rate": "positive", "loc": "real"}, {"loc": 0.0}),
    Signature("rademacher", {"scale": "positive"}, {"scale": 1.0}),
    Signature("discrete", {f"{a}{i}": c for i in range(1, 5) for a, c in (("v", "real"), ("p", "nonnegative"))},
              {"v1": -1.0, "p1": 0.5, "v2": 1.0, "p2": 0.5, "v3": 0.0, "p3": 0.0, "v4": 0.0, "p4": 0.0}),
    Signature("haar_orthogonal", {"scale": "positive"}, {"scale": 1.0}),
)

#: Analytic single-neuron references (``nnft.analytic``, the ``reference:`` block of a spec).
REFERENCES: Mapping[str, Signature] = _table(
    Signature("cos_net", {"sigma_w0": "nonnegative", "amplitude": "real"}, {"amplitude": 1.0}),
    Signature("gauss_net", {"sigma_w0": "nonnegative", "sigma_b0": "nonnegative"}),
    Signature("scalar_net", {"mass": "positive", "cutoff": "positive", "amplitude": "real"}, {"amplitude": 1.0}),
    Signature("cauchy_net", {"mass": "positive", "amplitude": "real"}, {"amplitude": 1.0}),
    Signature("rp_scalar", {"mass": "positive", "cutoff": "positive", "amplitude": "real"}, {"amplitude": 1.0}),
    Signature("relu_layer", {"weight_std": "nonnegative", "bias_std": "nonnegative"}),
    Signature("erf_layer", {"weight_std": "nonnegative", "bias_std": "nonnegative"}),
    Signature("shaped_net", {"sigma_w0": "positive", "mass": "positive", "amplitude": "real"}, {"amplitude": 1.0}),
)

#: Local potentials V(φ) of insertions (``nnft.insertions``): V = λ/4! φ⁴; Σ_k g_k φᵏ/k!; any expression in phi.
POTENTIALS: Mapping[str, Signature] = _table(
    Signature("phi4", {"coupling": "real"}),
    Signature("polynomial", {f"g{k}": "real" for k in range(1, 9)}, {f"g{k}": 0.0 for k in range(1, 9)}),
    Signature("expression", {"V": "expression in phi"}),
)


def _aliases(table: Mapping[str, Signature], aliases: dict[str, str]) -> Mapping[str, str]:
    for alias, kind in aliases.items():
        if kind not in table or alias in table:
            raise NnftError(f"alias {alias!r} -> {kind!r}: the target must be a kind and the alias must not be one")
    return MappingProxyType(dict(aliases))


#: other names of densities -> the canonical name (accepted in a spec, normalised at validation)
DENSITY_ALIASES: Mapping[str, str] = _aliases(DENSITIES, {
    "gaussian": "normal", "gauss": "normal",
    "lorentzian": "cauchy", "lorentz": "cauchy",
    "student": "student_t", "students_t": "student_t",
    "double_exponential": "laplace",
    "orthogonal": "haar_orthogonal",
})
#: other names of references -> the canonical name (none yet)
REFERENCE_ALIASES: Mapping[str, str] = _aliases(REFERENCES, {})
#: other names of potentials -> the canonical name (none: "quartic" could mean λφ⁴ or λφ⁴/4!; a name
#: is an alias only where its meaning is unambiguous)
POTENTIAL_ALIASES: Mapping[str, str] = _aliases(POTENTIALS, {})
