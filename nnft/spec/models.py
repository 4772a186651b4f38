"""Pydantic v2 models of a spec file (no JAX here).

A theory is the pair (φ_θ, P(θ)) (TASI §5, eq. 131): named sizes, named constants, parameters
with a shape in named sizes and a density, and the field equation φ(x) as an expression. The
language reference is ``docs/spec-language.md``; ``nnft schema`` prints the JSON Schema.
"""

from __future__ import annotations

import builtins
import re
from typing import Annotated, Literal, Mapping, Union

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, StrictFloat,
                      StrictInt, StrictStr, ValidationError, field_validator, model_validator)

from pydantic.json_schema import SkipJsonSchema, WithJsonSchema

from nnft.errors import SpecError, suggest
from nnft.errors import LocatedError  # noqa: F401 - defined in nnft.errors, importable here too
from nnft.spec.expr import RESERVED, ExprError, parse
from nnft.spec.signatures import DENSITIES, POTENTIALS, REFERENCES, Signature
from nnft.spec.validation import to_spec_error

from nnft.inputs import MAX_CHUNK, MAX_COORDINATE, MAX_POINTS, MAX_SAMPLES, MAX_SEED

MAX_DIM = 10_000_000
MAX_AXES = 4
#: the input dimension d (points, W0 [N, d] and d-vectors are allocated from it)
MAX_INPUT_DIM = 4096


def _kind_of(value: object) -> str:
    """How a YAML/JSON user would call the type of ``value``."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__


def _no_bool(value: object) -> object:
    """YAML's true/false are Python ints; refuse them where an integer is meant."""
    if isinstance(value, bool) or getattr(getattr(value, "dtype", None), "kind", None) == "b":  # also numpy.bool_
        raise LocatedError(f"expected an integer, got {_kind_of(bool(value))}", allowed="an integer, e.g. 1")
    return value


_NO_BOOL = BeforeValidator(_no_bool)
#: an integer that refuses booleans (``true`` is not a size); inside Annotated put bounds *before*
#: ``_NO_BOOL`` (``Annotated[int, Field(ge=1), _NO_BOOL]``) so the JSON Schema says minimum/maximum
Int = Annotated[int, _NO_BOOL]


def _count(value: object) -> object:
    """A count written in scientific notation is the integer it names: YAML 1.1 reads ``1e4`` as a
    string and JSON as a float; ``1e4``, ``1.5e5`` and ``10000.0`` are 10000, 150000, 10000
    (``2.5`` and ``1e-3`` stay refused)."""
    if isinstance(value, str) and re.fullmatch(r"\s*\d+(\.\d*)?[eE]\+?\d{1,2}\s*", value):
        value = float(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e18:
        return int(value)
    return value


#: a count (samples): an integer, or a number in scientific notation that is one
Count = Annotated[int, _NO_BOOL, BeforeValidator(_count)]


def _expr_type(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise LocatedError(f"expected a number or an expression string, got {_kind_of(value)}",
                           allowed="a number (1.5) or an expression ('sigma_w / sqrt(d)')")
    return value


def _check_expr(value: object) -> object:
    try:
        parse(value)  # type: ignore[arg-type]
    except ExprError as err:
        raise LocatedError(str(err), hint=err.hint) from None
    return value


#: An expression: a number, or a string in the expression grammar (``nnft.spec.expr``).
ExprField = Annotated[Union[StrictInt, StrictFloat, StrictStr], BeforeValidator(_expr_type), AfterValidator(_check_expr)]
Ident = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=64)]


def _tagged(value: dict, registry: Mapping[str, Signature], what: str) -> dict:
    """Validate a one-key tagged mapping ``{kind: {arg: expr}}`` against a table of signatures
    (``nnft.spec.signatures``)."""
    kinds = ", ".join(sorted(registry))
    if len(value) != 1:
        raise LocatedError(f"a {what} is a mapping with exactly one key (its kind), got "
                           + (f"keys {sorted(value)}" if value else "an empty mapping"),
                           allowed=f"one of: {kinds}", hint=f"e.g. {what}: {{{'normal' if 'normal' in registry else min(registry)}: {{...}}}}")
    (kind, args), = value.items()
    if kind not in registry:
        guess = suggest(kind, registry)
        raise LocatedError(f"unknown {what} {kind!r}", allowed=kinds,
                           hint=f"did you mean {guess!r}?" if guess else None)
    entry = registry[kind]
    signature = ", ".join(a if a not in entry.defaults else f"{a}={entry.defaults[a]:g}" for a in entry.args)
    for a in args:
        if a not in entry.args:
            guess = suggest(a, entry.args)
            raise LocatedError(f"{what} {kind!r} has no argument {a!r}", (kind, a),
                               allowed=f"{kind}({signature})", hint=f"did you mean {guess!r}?" if guess else None)
    missing = [a for a in entry.args if a not in args and a not in entry.defaults]
    if missing:
        raise LocatedError(f"{what} {kind!r} needs argument(s) {', '.join(missing)}", (kind,),
                           allowed=f"{kind}({signature})")
    return value


def _check_density(value: dict) -> dict:
    return _tagged(value, DENSITIES, "density")


def _check_reference(value: dict) -> dict:
    return _tagged(value, REFERENCES, "reference")


def _check_potential(value: dict) -> dict:
    return _tagged(value, POTENTIALS, "potential")


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
    n: Int = Field(ge=1, le=MAX_POINTS)

    @field_validator("start", "stop")
    @classmethod
    def _bounded(cls, v):
        for c in (v if isinstance(v, list) else [v]):
            if abs(c) > MAX_COORDINATE:
                raise ValueError(f"|coordinate| {abs(c):g} is above the bound {MAX_COORDINATE:g}")
        if isinstance(v, list) and not 1 <= len(v) <= MAX_INPUT_DIM:
            raise ValueError(f"a point has 1..{MAX_INPUT_DIM} coordinates, got {len(v)}")
        return v


class Points(Strict):
    """Where to evaluate correlators: exactly one of ``line`` or ``list``."""

    line: Line | None = None
    list: builtins.list[builtins.list[Union[StrictFloat, StrictInt]]] | None = Field(default=None, min_length=1,
                                                                                    max_length=MAX_POINTS)

    @field_validator("list")
    @classmethod
    def _rectangular(cls, v):
        if v is None:
            return v
        for i, p in enumerate(v):
            if not 1 <= len(p) <= MAX_INPUT_DIM:
                raise LocatedError(f"a point has 1..{MAX_INPUT_DIM} coordinates, got {len(p)}", (i,))
            if len(p) != len(v[0]):
                raise LocatedError(f"point {i} has {len(p)} coordinates, point 0 has {len(v[0])}: every point "
                                   f"needs the same number (d)", (i,))
            big = max(abs(c) for c in p)
            if big > MAX_COORDINATE:
                raise LocatedError(f"|coordinate| {big:g} is above the bound {MAX_COORDINATE:g}", (i,))
        return v

    @model_validator(mode="after")
    def _one(self) -> "Points":
        if (self.line is None) == (self.list is None):
            raise ValueError("give exactly one of 'line' or 'list'")
        return self


class Correlators(Strict):
    orders: list[Annotated[int, Field(ge=1, le=6), _NO_BOOL]] = Field(default_factory=lambda: [2, 4], min_length=1)
    connected: bool = True


#: the axiom checks a spec may name in ``study.checks`` (``nnft.checks.CHECKS``)
CHECK_NAMES = ("translation", "rotation", "reflection", "permutation", "z2", "cluster", "cluster_point",
               "reflection_positivity")
EXPECT_WORDS = ("pass", "fail", "inconclusive", "run")


class ExpectedCheck(Strict):
    """The verdict a spec declares for one check (``run``: run it, declare nothing). ``nnft check``
    exits 1 when a check FAILs without ``expect: fail``, or when a declared verdict does not occur."""

    expect: Literal["pass", "fail", "inconclusive", "run"] = "run"
    reason: Annotated[str, Field(min_length=1, max_length=500), AfterValidator(_printable)] | None = None


def _printable(text: str) -> str:
    """A reason is printed beside a verdict: refuse terminal control characters in it."""
    bad = [c for c in text if (ord(c) < 32 and c not in "\t") or 127 <= ord(c) < 160]
    if bad:
        raise LocatedError(f"control character {bad[0]!r} in text that nnft prints", allowed="printable text")
    return text


def _expected_checks(value: object) -> object:
    """``study.checks``: a list of names, or a mapping name -> verdict word | {expect, reason} | null."""
    if value is None:
        return None
    allowed = ", ".join(CHECK_NAMES)

    def name_ok(name, loc):
        if not isinstance(name, str) or name not in CHECK_NAMES:
            hint = suggest(name, CHECK_NAMES) if isinstance(name, str) else None
            raise LocatedError(f"unknown check {name!r}", loc, allowed=allowed,
                               hint=f"did you mean {hint!r}?" if hint else None)

    if isinstance(value, (list, tuple)):
        for i, name in enumerate(value):
            name_ok(name, (i,))
        return {name: {"expect": "run"} for name in value}
    if not isinstance(value, dict):
        raise LocatedError(f"expected a list of check names or a mapping, got {_kind_of(value)}",
                           allowed="[z2, cluster] or {reflection_positivity: {expect: fail, reason: '...'}}")
    out = {}
    for name, spec in value.items():
        name_ok(name, (name,))
        if spec is None:
            spec = {"expect": "run"}
        elif isinstance(spec, str):
            if spec.lower() not in EXPECT_WORDS:
                raise LocatedError(f"unknown verdict {spec!r}", (name,), allowed=", ".join(EXPECT_WORDS) +
                                   ", or {expect: <verdict>, reason: '...'}")
            spec = {"expect": spec.lower()}
        elif isinstance(spec, dict) and isinstance(spec.get("expect"), str):
            spec = {**spec, "expect": spec["expect"].lower()}
        out[name] = spec
    return out


_CHECK_ENUM = {"type": "string", "enum": list(CHECK_NAMES)}
_CHECKS_SCHEMA = {
    "description": "checks `nnft check` runs, and the verdicts the spec declares as known physics",
    "anyOf": [
        {"type": "array", "items": _CHECK_ENUM},
        {"type": "object", "propertyNames": _CHECK_ENUM, "additionalProperties": {"anyOf": [
            {"type": "null"},
            {"type": "string", "enum": list(EXPECT_WORDS)},
            {"type": "object", "additionalProperties": False,
             "properties": {"expect": {"type": "string", "enum": list(EXPECT_WORDS)},
                            "reason": {"type": "string", "minLength": 1, "maxLength": 500}}}]}},
    ],
}


class Study(Strict):
    """What to compute (the CLI's ``nnft run`` defaults; every entry can be overridden)."""

    samples: Count = Field(default=100_000, ge=10, le=MAX_SAMPLES)
    seed: Int = Field(default=0, ge=0, le=MAX_SEED)
    chunk: Int = Field(default=4096, ge=1, le=MAX_CHUNK)
    dtype: Literal["float32", "float64"] = "float32"
    points: Points | None = None
    correlators: Correlators = Field(default_factory=Correlators)
    widths: list[Annotated[int, Field(ge=1, le=MAX_DIM), _NO_BOOL]] | None = None
    #: axiom checks ``nnft check`` runs by default (see ``nnft.checks.CHECKS``), and the verdicts the
    #: spec declares as known physics: a list of names, or a mapping name -> ``pass | fail |
    #: inconclusive | run`` or ``{expect: ..., reason: "..."}`` (normalised to the mapping form)
    checks: Annotated[dict[str, ExpectedCheck], BeforeValidator(_expected_checks),
                      WithJsonSchema(_CHECKS_SCHEMA)] | None = None


class Domain(Strict):
    """Where an insertion's integral ∫dᵈx V(φ(x)) is taken: a box [lo, hi] per input dimension, with
    a midpoint lattice of ``lattice`` points per dimension (weights = cell volume)."""

    box: builtins.list[Annotated[builtins.list[Union[StrictFloat, StrictInt]], Field(min_length=2, max_length=2)]] = \
        Field(min_length=1, max_length=4)
    lattice: Annotated[int, Field(ge=1, le=4096), _NO_BOOL]

    @field_validator("box")
    @classmethod
    def _ordered(cls, v):
        for i, (lo, hi) in enumerate(v):
            if not lo < hi:
                raise LocatedError(f"box edge [{lo}, {hi}] must have lo < hi", (i,))
        return v


class Insertion(Strict):
    """An operator insertion e^{−∫dᵈx V(φ(x))} deforming P(θ) into P̃(θ) ∝ P(θ)e^{−∫V(φ_θ)} (TASI §5.2,
    eq. 135-137 with the sign erratum of docs/physics.md §10). The domain is part of the theory: ∫φ⁴ over
    all of ℝᵈ diverges for plane-wave neurons (docs/physics.md §7)."""

    potential: Annotated[Tagged, AfterValidator(_check_potential)]
    domain: Domain
    allow_unbounded: bool = False


class MLP(Strict):
    """A fully-connected net in compact form (Les Houches lectures, Hanin's indexing):
    z⁽¹⁾ = W⁽¹⁾x + b⁽¹⁾, z⁽ˡ⁺¹⁾ = W⁽ˡ⁺¹⁾σ(z⁽ˡ⁾) + b⁽ˡ⁺¹⁾, φ = z⁽ᴸ⁺¹⁾, W⁽ˡ⁾ ~ N(0, weight_var),
    b⁽ˡ⁾ ~ N(0, bias_var). Expanded by the compiler into the same graph as hand-written layers
    (``nnft.spec.mlp.expand``).

    Attributes:
      depth: L, the number of hidden layers (an integer ≥ 1 or a size name).
      width: hidden widths: one (integer or size name) for every layer, or a list of L.
      activation: a function of the grammar (relu, tanh, erf, gelu, sigmoid, cos, sin, exp, ...),
        ``linear`` (deep linear net), or an expression in ``z`` (e.g. ``z * sigmoid(z)``).
      weight_var: variance of each weight; may use ``fan_in`` (e.g. ``C_W / fan_in``).
      bias_var: variance of each bias (0: no biases).
      residual: γ, a constant: skip connections z⁽ˡ⁾ = W⁽ˡ⁾σ(z⁽ˡ⁻¹⁾) + b⁽ˡ⁾ + γ z⁽ˡ⁻¹⁾ for l = 2..L
        (Les Houches lectures eq. 25; NNGP K⁽ˡ⁾ = C_b + C_W F(K⁽ˡ⁻¹⁾) + γ² K⁽ˡ⁻¹⁾, eq. 26). Needs
        equal hidden widths. Omitted: no skip connections.
    """

    depth: Union[Annotated[int, _NO_BOOL], Ident]
    width: Union[Annotated[int, _NO_BOOL], Ident, builtins.list[Union[Annotated[int, _NO_BOOL], Ident]]]
    activation: StrictStr = Field(min_length=1, max_length=200)
    weight_var: ExprField
    bias_var: ExprField = 0
    residual: ExprField | None = None


class Theory(Strict):
    """A neural-network field theory (φ_θ, P(θ)) as declared in a spec file: either ``params`` and
    ``field``, or an ``mlp`` in compact form."""

    nnft: Annotated[Literal[1], BeforeValidator(_no_bool)] = Field(description="spec format version")
    name: str = Field(min_length=1, max_length=80)
    description: str = Field(default="", max_length=4000)
    dims: dict[Ident, Annotated[int, Field(ge=1, le=MAX_DIM), _NO_BOOL]]
    constants: dict[Ident, ExprField] = Field(default_factory=dict)
    params: dict[Ident, Param] = Field(default_factory=dict)
    #: named intermediate expressions (e.g. preactivations ``z1: W1 @ x + b1``), usable in the field,
    #: in density arguments and in later definitions; each is evaluated once
    define: dict[Ident, ExprField] = Field(default_factory=dict, max_length=10_000)
    field: ExprField | None = None
    mlp: MLP | None = None
    insertions: builtins.list[Insertion] = Field(default_factory=list, max_length=8)
    reference: Annotated[Tagged, AfterValidator(_check_reference)] | None = None
    study: Study = Field(default_factory=Study)
    #: file the theory was loaded from (set by the loader; "<dict>" otherwise)
    source: SkipJsonSchema[str] = Field(default="<dict>", exclude=True)
    #: field path -> the parent file it was inherited from, for parents the user did not name (set by
    #: the loader; their values are never printed in errors)
    _inherited: dict = PrivateAttr(default_factory=dict)

    @field_validator("dims")
    @classmethod
    def _has_d(cls, v: dict[str, int]) -> dict[str, int]:
        if "d" not in v:
            raise ValueError("dims must declare the input dimension 'd' (e.g. dims: {d: 1, N: 100})")
        if v["d"] > MAX_INPUT_DIM:
            raise LocatedError(f"the input dimension d = {v['d']} is above its bound {MAX_INPUT_DIM}", ("d",),
                               allowed=f"1 ≤ d ≤ {MAX_INPUT_DIM}")
        return v

    @model_validator(mode="after")
    def _architecture(self) -> "Theory":
        if self.mlp is not None:
            if self.params or self.field is not None:
                raise LocatedError("give either 'mlp' or 'params' and 'field', not both", ("mlp",))
        elif not self.params:
            raise LocatedError("required field 'params' is missing (or give an 'mlp')", ("params",))
        elif self.field is None:
            raise LocatedError("required field 'field' is missing (or give an 'mlp')", ("field",))
        return self

    @model_validator(mode="after")
    def _mlp_names(self) -> "Theory":
        """Names in ``mlp.weight_var`` / ``bias_var`` / ``residual`` must be sizes, constants, pi, e (and
        ``fan_in`` in weight_var): a typo is refused here, with the field, not later in a traceback."""
        if self.mlp is None:
            return self
        from nnft.spec.expr import CONSTANTS, names
        known = set(self.dims) | set(self.constants) | set(CONSTANTS)
        for fname in ("weight_var", "bias_var", "residual"):
            src = getattr(self.mlp, fname)
            if src is None:
                continue
            allowed = known | ({"fan_in"} if fname == "weight_var" else set())
            unknown = sorted(names(parse(src)) - allowed)
            if unknown:
                guess = suggest(unknown[0], allowed)
                raise LocatedError(f"{fname} refers to {unknown[0]!r}, which is not a size or constant",
                                   ("mlp", fname),
                                   allowed="numbers, sizes (dims), constants, pi, e"
                                           + (", fan_in" if fname == "weight_var" else ""),
                                   hint=f"did you mean {guess!r}?" if guess else None)
        return self

    @model_validator(mode="after")
    def _distinct_names(self) -> "Theory":
        seen: dict[str, str] = {}
        for section in ("dims", "constants", "params", "define"):
            for name in getattr(self, section):
                if name in RESERVED:
                    raise LocatedError(f"{name!r} is a reserved name (a function, 'x', 'pi' or 'e')", (section, name),
                                       hint=f"rename it, e.g. {name}_")
                if name in seen:
                    raise LocatedError(f"name {name!r} is declared in both {seen[name]} and {section}", (section, name),
                                       hint="names of sizes, constants, parameters and definitions must be unique; "
                                            "rename one")
                seen[name] = section
        return self

    def __eq__(self, other: object) -> bool:
        """Theories are equal when their content is: ``source`` (where it was loaded from) is
        provenance, so the same theory written as YAML, TOML or JSON compares equal."""
        if not isinstance(other, Theory):
            return NotImplemented
        return self.model_dump() == other.model_dump()

    __hash__ = None  # type: ignore[assignment]  # holds dicts; not hashable

    def with_dims(self, **sizes: int) -> "Theory":
        """A copy with some named sizes overridden (e.g. ``theory.with_dims(N=64)``), re-validated.

        Raises:
          SpecError: a size the spec does not declare, or a value the spec refuses (naming ``dims.<name>``).
        """
        unknown = [k for k in sizes if k not in self.dims]
        if unknown:
            raise SpecError(f"unknown size(s) {unknown}", file=self.source, field="dims",
                            allowed=", ".join(self.dims), hint=None)
        data = self.model_dump(mode="python")
        data["dims"] = {**self.dims, **sizes}
        try:
            theory = Theory.model_validate(data)
        except ValidationError as err:
            raise to_spec_error(err, self.source, Theory) from None
        return theory.model_copy(update={"source": self.source})
