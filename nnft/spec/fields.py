"""The field types and validators the spec models share: integers that refuse booleans, counts in
scientific notation, expressions of the grammar, identifiers, tagged ``{kind: {arg: expr}}`` mappings
checked against the signature tables, and the strict base model. No JAX here.
"""

from __future__ import annotations

import re
from typing import Annotated, Mapping, Union

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictFloat, StrictInt, StrictStr
from pydantic.json_schema import WithJsonSchema

from nnft.errors import LocatedError, suggest
from nnft.spec.expr import ExprError, parse
from nnft.spec.signatures import (DENSITIES, DENSITY_ALIASES, POTENTIAL_ALIASES, POTENTIALS, REFERENCE_ALIASES,
                                  REFERENCES, Signature)

MAX_DIM = 10_000_000
MAX_AXES = 4
#: the input dimension d (points, W0 [N, d] and d-vectors are allocated from it)
MAX_INPUT_DIM = 4096


def kind_of(value: object) -> str:
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


def no_bool(value: object) -> object:
    """YAML's true/false are Python ints; refuse them where an integer is meant."""
    if isinstance(value, bool) or getattr(getattr(value, "dtype", None), "kind", None) == "b":  # also numpy.bool_
        raise LocatedError(f"expected an integer, got {kind_of(bool(value))}", allowed="an integer, e.g. 1")
    return value


NO_BOOL = BeforeValidator(no_bool)
#: an integer that refuses booleans (``true`` is not a size); inside Annotated put bounds *before*
#: ``NO_BOOL`` (``Annotated[int, Field(ge=1), NO_BOOL]``) so the JSON Schema says minimum/maximum
Int = Annotated[int, NO_BOOL]


#: the counts in scientific notation ``_count`` reads (YAML 1.1 gives ``1e4`` as this string)
COUNT_PATTERN = r"^\s*\d+(\.\d*)?[eE]\+?\d{1,2}\s*$"


def _count(value: object) -> object:
    """A count written in scientific notation is the integer it names: YAML 1.1 reads ``1e4`` as a
    string and JSON as a float; ``1e4``, ``1.5e5`` and ``10000.0`` are 10000, 150000, 10000
    (``2.5`` and ``1e-3`` stay refused)."""
    if isinstance(value, str) and re.fullmatch(COUNT_PATTERN, value):
        value = float(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e18:
        return int(value)
    return value


#: a count (samples): an integer, or a number in scientific notation that is one
Count = Annotated[int, NO_BOOL, BeforeValidator(_count)]


def count_schema(lo: int, hi: int, default: int) -> WithJsonSchema:
    """The JSON Schema of a :data:`Count` field in ``[lo, hi]``: an integer, or a string in scientific
    notation (``"1e5"``, what YAML 1.1 reads ``1e5`` as), so that the schema accepts what the loader does."""
    return WithJsonSchema({"anyOf": [{"type": "integer", "minimum": lo, "maximum": hi},
                                     {"type": "string", "pattern": COUNT_PATTERN}],
                           "default": default, "description": f"an integer in {lo} … {hi:.0e} (1e5 allowed)"})


def _expr_type(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise LocatedError(f"expected a number or an expression string, got {kind_of(value)}",
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


def tagged(value: dict, registry: Mapping[str, Signature], what: str,
           aliases: Mapping[str, str] | None = None) -> dict:
    """Validate a one-key tagged mapping ``{kind: {arg: expr}}`` against a table of signatures
    (``nnft.spec.signatures``); a kind written by one of its ``aliases`` (``gaussian``) is returned
    under its canonical name (``normal``)."""
    aliases = aliases or {}
    kinds = ", ".join(sorted(registry))
    if len(value) != 1:
        raise LocatedError(f"a {what} is a mapping with exactly one key (its kind), got "
                           + (f"keys {sorted(value)}" if value else "an empty mapping"),
                           allowed=f"one of: {kinds}", hint=f"e.g. {what}: {{{'normal' if 'normal' in registry else min(registry)}: {{...}}}}")
    (written, args), = value.items()
    kind = aliases.get(written, written)
    label = repr(kind) if written == kind else f"{written!r} (= {kind!r})"
    if kind not in registry:
        guess = suggest(kind, list(registry) + list(aliases))
        guess = aliases.get(guess, guess)
        raise LocatedError(f"unknown {what} {kind!r}", allowed=kinds,
                           hint=f"did you mean {guess!r}?" if guess else None)
    entry = registry[kind]
    signature = entry.signature_text
    for a in args:
        if a not in entry.args:
            guess = suggest(a, entry.args)
            raise LocatedError(f"{what} {label} has no argument {a!r}", (written, a),
                               allowed=f"{kind}({signature})", hint=f"did you mean {guess!r}?" if guess else None)
    missing = [a for a in entry.args if a not in args and a not in entry.defaults]
    if missing:
        raise LocatedError(f"{what} {label} needs argument(s) {', '.join(missing)}", (written,),
                           allowed=f"{kind}({signature})")
    return {kind: args}


def tagged_schema(registry: Mapping[str, Signature], what: str, aliases: Mapping[str, str] | None = None) -> dict:
    """JSON Schema of a tagged ``{kind: {arg: expr}}`` mapping: exactly one key, one of the kinds
    of ``registry`` (or an alias), each with its own arguments (the required ones required)."""
    aliases = aliases or {}
    expr = {"anyOf": [{"type": "number"}, {"type": "string"}]}

    def kind_schema(sig: Signature, alias_of: str | None = None) -> dict:
        text = f"{what} {sig.name}({sig.signature_text})"
        return {"type": "object", "description": text if alias_of is None else f"alias of {text}",
                "properties": {a: {**expr, "description": f"{a}: {c}"} for a, c in sig.args.items()},
                "required": list(sig.required), "additionalProperties": False}

    props = {k: kind_schema(s) for k, s in registry.items()}
    props.update({a: kind_schema(registry[k], k) for a, k in aliases.items()})
    return {"type": "object", "description": f"a {what}: one of " + ", ".join(registry)
            + "; exactly one key (the kind) with its arguments",
            "properties": props, "propertyNames": {"enum": list(props)},
            "minProperties": 1, "maxProperties": 1, "additionalProperties": False}


def check_density(value: dict) -> dict:
    """A ``density:`` mapping checked against ``DENSITIES``, an alias normalised (raises LocatedError)."""
    return tagged(value, DENSITIES, "density", DENSITY_ALIASES)


def check_reference(value: dict) -> dict:
    """A ``reference:`` mapping checked against ``REFERENCES`` (raises LocatedError)."""
    return tagged(value, REFERENCES, "reference", REFERENCE_ALIASES)


def check_potential(value: dict) -> dict:
    """A ``potential:`` mapping checked against ``POTENTIALS`` (raises LocatedError)."""
    return tagged(value, POTENTIALS, "potential", POTENTIAL_ALIASES)


Tagged = dict[str, dict[str, ExprField]]
#: the tagged fields of the models, with their JSON Schema enumerating the kinds and arguments
Density = Annotated[Tagged, AfterValidator(check_density), WithJsonSchema(tagged_schema(DENSITIES, "density", DENSITY_ALIASES))]
Reference = Annotated[Tagged, AfterValidator(check_reference),
                      WithJsonSchema(tagged_schema(REFERENCES, "reference", REFERENCE_ALIASES))]
Potential = Annotated[Tagged, AfterValidator(check_potential),
                      WithJsonSchema(tagged_schema(POTENTIALS, "potential", POTENTIAL_ALIASES))]


class Strict(BaseModel):
    """Base of all spec models: unknown fields are errors, models are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)
