"""The ``study:`` block of a spec: where correlators are evaluated (points), which correlators, the
default run sizes, and the axiom checks with the verdicts the spec declares. No JAX here.
"""

from __future__ import annotations

import builtins
from typing import Annotated, Literal, Union

from pydantic import AfterValidator, BeforeValidator, Field, StrictBool, StrictFloat, StrictInt, field_validator, model_validator
from pydantic.json_schema import WithJsonSchema

from nnft.errors import LocatedError, suggest
from nnft.inputs import MAX_CHUNK, MAX_COORDINATE, MAX_ORDER, MAX_POINTS, MAX_SAMPLES, MAX_SEED
from nnft.spec.fields import MAX_DIM, MAX_INPUT_DIM, NO_BOOL, Count, Int, Strict, count_schema, kind_of


#: one coordinate of a point; the schema states the bound the validators below enforce
Coordinate = Annotated[Union[StrictFloat, StrictInt],
                       WithJsonSchema({"type": "number", "minimum": -MAX_COORDINATE, "maximum": MAX_COORDINATE})]
#: a point in ℝᵈ (1 … MAX_INPUT_DIM coordinates; the validators give the messages, the schema the same bounds)
Point = Annotated[list[Coordinate],
                  WithJsonSchema({"type": "array", "minItems": 1, "maxItems": MAX_INPUT_DIM,
                                  "items": {"type": "number", "minimum": -MAX_COORDINATE, "maximum": MAX_COORDINATE}})]


class Line(Strict):
    """``n`` points evenly spaced on the segment from ``start`` to ``stop`` (vectors in ℝᵈ, or numbers
    meaning the first coordinate with the others 0)."""

    start: Union[Coordinate, Point]
    stop: Union[Coordinate, Point]
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
    list: builtins.list[Point] | None = Field(default=None, min_length=1, max_length=MAX_POINTS)

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
    """Which correlators ``nnft run`` measures: the orders n of G⁽ⁿ⁾ (1..8 =
    ``nnft.inputs.MAX_ORDER``, the bound ``--orders`` and the API have too; default 2 and 4).

    ``connected`` is accepted and validated, but nothing reads it yet: ``nnft run`` always reports the
    connected G_c⁽ⁿ⁾ (the joint cumulants, docs/physics.md §0) beside G⁽ⁿ⁾."""

    orders: list[Annotated[int, Field(ge=1, le=MAX_ORDER), NO_BOOL]] = Field(default_factory=lambda: [2, 4], min_length=1)
    connected: StrictBool = True


#: the axiom checks a spec may name in ``study.checks`` (``nnft.checks.CHECKS``)
CHECK_NAMES = ("translation", "rotation", "reflection", "permutation", "z2", "cluster", "cluster_point",
               "reflection_positivity", "internal_rotation")
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
        raise LocatedError(f"expected a list of check names or a mapping, got {kind_of(value)}",
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

    samples: Annotated[Count, count_schema(10, MAX_SAMPLES, 100_000)] = Field(default=100_000, ge=10, le=MAX_SAMPLES)
    seed: Int = Field(default=0, ge=0, le=MAX_SEED)
    chunk: Int = Field(default=4096, ge=1, le=MAX_CHUNK)
    dtype: Literal["float32", "float64"] = "float32"
    points: Points | None = None
    correlators: Correlators = Field(default_factory=Correlators)
    widths: list[Annotated[int, Field(ge=1, le=MAX_DIM), NO_BOOL]] | None = None
    #: axiom checks ``nnft check`` runs by default (see ``nnft.checks.CHECKS``), and the verdicts the
    #: spec declares as known physics: a list of names, or a mapping name -> ``pass | fail |
    #: inconclusive | run`` or ``{expect: ..., reason: "..."}`` (normalised to the mapping form)
    checks: Annotated[dict[str, ExpectedCheck], BeforeValidator(_expected_checks),
                      WithJsonSchema(_CHECKS_SCHEMA)] | None = None
