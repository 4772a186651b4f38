"""Pydantic v2 models of a spec file (no JAX here).

A theory is the pair (φ_θ, P(θ)) (TASI §5, eq. 131): named sizes, named constants, parameters
with a shape in named sizes and a density, and the field equation φ(x) as an expression. The
language reference is ``docs/spec-language.md``; ``nnft schema`` prints the JSON Schema.
"""

from __future__ import annotations

import builtins
from contextvars import ContextVar
from typing import Annotated, Literal, Union

from pydantic import (AfterValidator, BeforeValidator, ConfigDict, Field, PrivateAttr, StrictBool, StrictFloat, StrictInt, StrictStr,
                      ValidationError, field_validator, model_validator)
from pydantic.json_schema import SkipJsonSchema

from nnft.errors import LocatedError, SpecError
from nnft.spec.expr import RESERVED, parse
# the field types and the study: block live beside this module; their names are importable here too
from nnft.spec.fields import (MAX_AXES, MAX_DIM, MAX_INPUT_DIM, NO_BOOL, Count, Density, ExprField,  # noqa: F401
                              Ident, Int, Potential, Reference, Strict, Tagged, check_density, check_potential,
                              check_reference, no_bool)
from nnft.spec.hints import declared_text, undeclared_hint
from nnft.spec.study import (CHECK_NAMES, EXPECT_WORDS, Correlators, ExpectedCheck, Line, Points,  # noqa: F401
                             Study)
from nnft.spec.train import Train
from nnft.spec.validation import to_spec_error


#: names nnft generates and adds after validation (an expanded MLP's preactivations z1 … zL, set by
#: ``nnft.spec.mlp.expand`` while it validates the expansion): declared, for ``Theory._declared_names``
GENERATED_NAMES: ContextVar[frozenset[str]] = ContextVar("GENERATED_NAMES", default=frozenset())


class Param(Strict):
    """A parameter block: ``{shape: [N, d], density: {normal: {std: sigma / sqrt(d)}}}``.

    ``shape`` lists named sizes (axes); the density's arguments are expressions that may use
    constants, sizes and *other parameters* (broadcast by axis name).
    """

    shape: list[Ident] = Field(default_factory=list, max_length=MAX_AXES)
    density: Density

    @field_validator("shape")
    @classmethod
    def _distinct_axes(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError(f"an axis appears twice in shape {v}; give the axes distinct names (e.g. N1, N2)")
        return v

    @property
    def density_kind(self) -> str:
        """The density's spec name (``normal``, ``uniform``, ...; a key of ``spec.signatures.DENSITIES``)."""
        return next(iter(self.density))

    @property
    def density_args(self) -> dict[str, object]:
        """The density's arguments as written: name -> number or expression string (defaults not filled in)."""
        return self.density[self.density_kind]



class Domain(Strict):
    """Where an insertion's integral ∫dᵈx V(φ(x)) is taken: a box [lo, hi] per input dimension, with
    a midpoint lattice of ``lattice`` points per dimension (weights = cell volume)."""

    box: builtins.list[Annotated[builtins.list[Union[StrictFloat, StrictInt]], Field(min_length=2, max_length=2)]] = \
        Field(min_length=1, max_length=4)
    lattice: Annotated[int, Field(ge=1, le=4096), NO_BOOL]

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

    potential: Potential
    domain: Domain
    allow_unbounded: StrictBool = False


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

    depth: Union[Annotated[int, NO_BOOL], Ident]
    width: Union[Annotated[int, NO_BOOL], Ident, builtins.list[Union[Annotated[int, NO_BOOL], Ident]]]
    activation: StrictStr = Field(min_length=1, max_length=200)
    weight_var: ExprField
    bias_var: ExprField = 0
    residual: ExprField | None = None


def _extends_schema(schema: dict) -> None:
    """List ``extends:`` in the Theory's JSON Schema; a spec with ``extends:`` may leave ``dims`` (and
    ``dims.d``) to its parent (the merged spec is validated in full), one without must give both."""
    schema["properties"]["extends"] = {"type": "string", "description": "a spec file (or shipped spec name) whose "
                                                                       "blocks this one inherits and overrides"}
    schema["required"] = [k for k in schema.get("required", []) if k != "dims"]
    schema["if"] = {"required": ["extends"]}
    schema["else"] = {"required": ["dims"], "properties": {"dims": {"required": ["d"]}}}


class Theory(Strict):
    """A neural-network field theory (φ_θ, P(θ)) as declared in a spec file: either ``params`` and
    ``field``, or an ``mlp`` in compact form."""

    # ``extends:`` is read by the loader before validation (``nnft.spec.extends``); the schema lists it
    model_config = ConfigDict(**Strict.model_config, json_schema_extra=lambda schema: _extends_schema(schema))

    nnft: Annotated[Literal[1], BeforeValidator(no_bool)] = Field(description="spec format version")
    name: str = Field(min_length=1, max_length=80)
    description: str = Field(default="", max_length=4000)
    dims: dict[Ident, Annotated[int, Field(ge=1, le=MAX_DIM), NO_BOOL]] = Field(json_schema_extra={
        "properties": {"d": {"type": "integer", "minimum": 1, "maximum": MAX_INPUT_DIM,
                             "description": "the input dimension"}}})
    constants: dict[Ident, ExprField] = Field(default_factory=dict)
    params: dict[Ident, Param] = Field(default_factory=dict)
    #: named intermediate expressions (e.g. preactivations ``z1: W1 @ x + b1``), usable in the field,
    #: in density arguments and in later definitions; each is evaluated once
    define: dict[Ident, ExprField] = Field(default_factory=dict, max_length=10_000)
    field: ExprField | None = None
    #: the output axis of a vector-valued field φ: ℝᵈ → ℝᴰ (a size in ``dims``): the field keeps this one
    #: free axis, whose index is the component a of φ_a(x) (TASI arXiv:2408.00082 eq. 52-54)
    components: Ident | None = None
    mlp: MLP | None = None
    insertions: builtins.list[Insertion] = Field(default_factory=list, max_length=8)
    reference: Reference | None = None
    study: Study = Field(default_factory=Study)
    #: training of the ensemble (``nnft.spec.train``, docs/training.md)
    train: Train | None = None
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
    def _components(self) -> "Theory":
        """``components: D`` names a declared size other than d, and goes with ``params`` + ``field`` only."""
        c = self.components
        if c is None:
            return self
        if c == "d" or c not in self.dims:
            raise LocatedError(f"components: {c!r} is {'the input dimension' if c == 'd' else 'not a declared size'}",
                               ("components",), allowed="a size declared in dims other than d: "
                               + (", ".join(k for k in self.dims if k != "d") or "(none)"),
                               hint=f"declare the number of components in dims, e.g. dims: {{d: 1, {c if c != 'd' else 'D'}: 3}}")
        if self.mlp is not None or self.insertions:
            raise LocatedError("a vector field (components:) goes with params + field, without mlp or insertions",
                               ("components",), hint="write the layers out, or drop components: for a scalar field")
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
                raise LocatedError(f"{fname} refers to {unknown[0]!r}, which is not a size or constant",
                                   ("mlp", fname),
                                   allowed="numbers, sizes (dims), constants, pi, e"
                                           + (", fan_in" if fname == "weight_var" else ""),
                                   hint=undeclared_hint(self, unknown[0], also=tuple(allowed - known)))
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

    @model_validator(mode="after")
    def _declared_names(self) -> "Theory":
        """Every name in a density argument, a definition, the field or a reference argument is
        declared somewhere (a size, constant, parameter, definition, ``x``, ``pi``, ``e``): a name
        declared nowhere is refused here, with a hint to declare it (``undeclared_hint``). Whether a
        declared name may be used *there* (a parameter in a reference, ...) the graph builder checks."""
        if self.mlp is not None:
            return self
        from nnft.spec.expr import CONSTANTS, names
        declared = (set(self.dims) | set(self.constants) | set(self.params) | set(self.define) | {"x", *CONSTANTS}
                    | GENERATED_NAMES.get())
        where: list[tuple[tuple, object]] = []
        for p, param in self.params.items():
            for arg, src in param.density_args.items():
                where.append((("params", p, "density", param.density_kind, arg), src))
        where += [(("define", k), src) for k, src in self.define.items()]
        where.append((("field",), self.field))
        for kind, args in (self.reference or {}).items():
            where += [(("reference", kind, arg), src) for arg, src in args.items()]
        for loc, src in where:
            ex = parse(src)
            unknown = sorted(names(ex) - declared)
            if unknown:
                name = unknown[0]
                shown = str(src) if len(str(src)) <= 80 else str(src)[:77] + "..."
                raise LocatedError(f"undefined name {name!r}: declared nowhere (used in {shown!r})", loc,
                                   allowed=declared_text(self),
                                   hint=undeclared_hint(self, name, ex))
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

