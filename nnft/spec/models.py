"""Pydantic v2 models of a spec file (no JAX here).

A theory is the pair (φ_θ, P(θ)) (TASI §5, eq. 131): named sizes, named constants, parameters
with a shape in named sizes and a density, and the field equation φ(x) as an expression. The
language reference is ``docs/spec-language.md``; ``nnft schema`` prints the JSON Schema.
"""

from __future__ import annotations

import builtins
from typing import Annotated, Literal, Union

from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr,
                      field_validator, model_validator)

from nnft.errors import suggest
from nnft.spec.expr import RESERVED, ExprError, parse

MAX_DIM = 10_000_000
MAX_AXES = 4


def _check_expr(value: object) -> object:
    try:
        parse(value)  # type: ignore[arg-type]
    except ExprError as err:
        raise ValueError(str(err) + (f" ({err.hint})" if err.hint else "")) from None
    return value


#: An expression: a number, or a string in the expression grammar (``nnft.spec.expr``).
ExprField = Annotated[Union[StrictInt, StrictFloat, StrictStr], AfterValidator(_check_expr)]
Ident = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=64)]


def _tagged(value: dict, registry: dict, what: str) -> dict:
    """Validate a one-key tagged mapping ``{kind: {arg: expr}}`` against a registry of kinds."""
    if len(value) != 1:
        raise ValueError(f"a {what} is a mapping with exactly one key (its kind), got keys {sorted(value)}; "
                         f"allowed kinds: {', '.join(sorted(registry))}")
    (kind, args), = value.items()
    if kind not in registry:
        guess = suggest(kind, registry)
        raise ValueError(f"unknown {what} {kind!r}; allowed: {', '.join(sorted(registry))}"
                         + (f"; did you mean {guess!r}?" if guess else ""))
    entry = registry[kind]
    allowed = set(entry.args)
    for a in args:
        if a not in allowed:
            guess = suggest(a, allowed)
            raise ValueError(f"{what} {kind!r} has no argument {a!r}; allowed: {', '.join(sorted(allowed))}"
                             + (f"; did you mean {guess!r}?" if guess else ""))
    missing = [a for a in entry.args if a not in args and a not in entry.defaults]
    if missing:
        raise ValueError(f"{what} {kind!r} needs argument(s) {', '.join(missing)}; "
                         f"allowed: {', '.join(sorted(allowed))}")
    return value


def _check_density(value: dict) -> dict:
    from nnft.densities import DENSITIES
    return _tagged(value, DENSITIES, "density")


def _check_reference(value: dict) -> dict:
    from nnft.analytic import NEURONS
    return _tagged(value, NEURONS, "reference")


Tagged = dict[str, dict[str, ExprField]]


class Strict(BaseModel):
    """Base of all spec models: unknown fields are errors, models are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Param(Strict):
    """A parameter block: ``{shape: [N, d], density: {normal: {std: sigma / sqrt(d)}}}``.

    ``shape`` lists named sizes (axes); the density's arguments are expressions that may use
    constants, sizes and *other parameters* (broadcast by axis name).
    """

    shape: list[Ident] = Field(default_factory=list, max_length=MAX_AXES)
    density: Annotated[Tagged, AfterValidator(_check_density)]

    @field_validator("shape")
    @classmethod
    def _distinct_axes(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError(f"an axis appears twice in shape {v}; give the axes distinct names (e.g. N1, N2)")
        return v

    @property
    def density_kind(self) -> str:
        return next(iter(self.density))

    @property
    def density_args(self) -> dict[str, object]:
        return self.density[self.density_kind]


class Line(Strict):
    """``n`` points evenly spaced on the segment from ``start`` to ``stop`` (vectors in ℝᵈ, or numbers
    meaning the first coordinate with the others 0)."""

    start: Union[StrictFloat, StrictInt, list[Union[StrictFloat, StrictInt]]]
    stop: Union[StrictFloat, StrictInt, list[Union[StrictFloat, StrictInt]]]
    n: int = Field(ge=1, le=256)


class Points(Strict):
    """Where to evaluate correlators: exactly one of ``line`` or ``list``."""

    line: Line | None = None
    list: builtins.list[builtins.list[Union[StrictFloat, StrictInt]]] | None = Field(default=None, max_length=256)

    @model_validator(mode="after")
    def _one(self) -> "Points":
        if (self.line is None) == (self.list is None):
            raise ValueError("give exactly one of 'line' or 'list'")
        return self


class Correlators(Strict):
    orders: list[Annotated[int, Field(ge=1, le=6)]] = Field(default_factory=lambda: [2, 4], min_length=1)
    connected: bool = True


class Study(Strict):
    """What to compute (the CLI's ``nnft run`` defaults; every entry can be overridden)."""

    samples: int = Field(default=100_000, ge=10, le=1_000_000_000)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    chunk: int = Field(default=4096, ge=1, le=1_000_000)
    dtype: Literal["float32", "float64"] = "float32"
    points: Points | None = None
    correlators: Correlators = Field(default_factory=Correlators)
    widths: list[Annotated[int, Field(ge=1, le=MAX_DIM)]] | None = None


class Theory(Strict):
    """A neural-network field theory (φ_θ, P(θ)) as declared in a spec file."""

    nnft: Literal[1] = Field(description="spec format version")
    name: str = Field(min_length=1, max_length=80)
    description: str = Field(default="", max_length=4000)
    dims: dict[Ident, Annotated[int, Field(ge=1, le=MAX_DIM)]]
    constants: dict[Ident, ExprField] = Field(default_factory=dict)
    params: dict[Ident, Param] = Field(min_length=1)
    field: ExprField
    reference: Annotated[Tagged, AfterValidator(_check_reference)] | None = None
    study: Study = Field(default_factory=Study)
    #: file the theory was loaded from (set by the loader; "<dict>" otherwise)
    source: str = Field(default="<dict>", exclude=True)

    @field_validator("dims")
    @classmethod
    def _has_d(cls, v: dict[str, int]) -> dict[str, int]:
        if "d" not in v:
            raise ValueError("dims must declare the input dimension 'd' (e.g. dims: {d: 1, N: 100})")
        return v

    @model_validator(mode="after")
    def _distinct_names(self) -> "Theory":
        seen: dict[str, str] = {}
        for section in ("dims", "constants", "params"):
            for name in getattr(self, section):
                if name in RESERVED:
                    raise ValueError(f"{section}.{name}: {name!r} is reserved (a function, 'x', 'pi' or 'e'); rename it")
                if name in seen:
                    raise ValueError(f"name {name!r} is declared in both {seen[name]} and {section}; names must be unique")
                seen[name] = section
        return self

    def with_dims(self, **sizes: int) -> "Theory":
        """A copy with some named sizes overridden (e.g. ``theory.with_dims(N=64)``), re-validated."""
        from nnft.spec.load import from_dict
        unknown = [k for k in sizes if k not in self.dims]
        if unknown:
            from nnft.errors import SpecError
            raise SpecError(f"unknown size(s) {unknown}", file=self.source, field="dims",
                            allowed=", ".join(self.dims), hint=None)
        data = self.model_dump(mode="python")
        data["dims"] = {**self.dims, **sizes}
        return from_dict(data, source=self.source)
