"""Loading spec files (YAML, TOML, JSON) safely into :class:`~nnft.spec.models.Theory`.

The steps, one module each:
- :mod:`nnft.spec.resolve`: a name or path -> a file (shipped specs by name; ``extends:`` confined to
  the extending spec's directory);
- :mod:`nnft.spec.read`: a file or text -> a plain mapping, safely (size bound, safe YAML without
  anchors, aliases or object tags, no NaN/inf, bounded nesting);
- :mod:`nnft.spec.extends`: the ``extends:`` chain merged in, values from parents the user did not
  name never echoed;
- here: overrides (named sizes, constants, dotted paths such as ``study.samples``; see
  :func:`apply_overrides`), and validation into a ``Theory``; every validation error becomes a
  :class:`~nnft.errors.SpecError` naming the file and field.

The public names of spec loading are importable from here (``nnft.spec.load.shipped_specs`` etc.).
"""

from __future__ import annotations

import math
import types
import typing
from pathlib import Path

from pydantic import BaseModel, ValidationError

from nnft.errors import InputError, SpecError, did_you_mean, format_path, suggest
from nnft.spec.extends import (_REPLACE_KEYS, MAX_EXTENDS, expand, inherited_from, leaves, merge,  # noqa: F401
                               present, private_source, redact_inherited)
from nnft.spec.models import Theory
from nnft.spec.read import (MAX_FILE_BYTES, MAX_NESTING, MAX_VALUE_CHARS, SUFFIXES, parse_flow,  # noqa: F401
                            parse_text, parse_word, read_mapping)
from nnft.spec.resolve import MAX_NAME_CHARS, SHIPPED, resolve, resolve_parent, shipped_specs  # noqa: F401
from nnft.spec.study import Points
from nnft.spec.train import Train
from nnft.spec.validation import to_spec_error


#: top-level blocks whose keys are names the spec declares: a dotted override may set only a declared
#: name there (``constants.C_W``), never add one (a typo would otherwise add an unused entry)
_NAMED_BLOCKS = ("dims", "constants", "params", "define")
#: longest override name or value text accepted (a list or mapping: ``nnft.spec.read.MAX_VALUE_CHARS``)
MAX_OVERRIDE_CHARS = 200
#: keys of one block that exclude each other: an override of one drops the spec's other (the override
#: replaces what the spec says, as editing the file would), unless the same call overrides both
_EXCLUSIVE = ((Train, {"target": "targets", "targets": "target"}), (Points, {"line": "list", "list": "line"}))


def parse_value(text: str, name: str = "value") -> object:
    """The value an override's text names, read in the spec's own notation (nothing is evaluated):
    an integer (``64``), a float (``0.9``, ``1e5``), ``true``/``false``, a list or mapping written on
    one line (``[0.1, 0.2]``, ``[[0.1], [0.2]]``, ``{list: [[0.1]]}``, read by
    :func:`nnft.spec.read.parse_flow`), or else the text itself.

    Raises:
      SpecError: empty text, text with a newline, a value too long, a non-finite number, or a
        malformed list/mapping (naming ``name``, the column, what is allowed and the fix).
    """
    if not isinstance(text, str):
        return text
    t = text.strip()
    if not t:
        raise SpecError("empty value", field=name, allowed="a number, e.g. 0.9")
    if t[0] in "[{":
        return parse_flow(t, name)
    if len(t) > MAX_OVERRIDE_CHARS or "\n" in t or "\r" in t:
        raise SpecError(f"a value is one line of at most {MAX_OVERRIDE_CHARS} characters", field=name)
    return parse_word(t, name)


def split_values(text: str, name: str = "value") -> list[str] | None:
    """The items of a comma list (``0.9,1.0,1.1``: a sweep), or None when ``text`` is one value (text
    starting with ``[`` or ``{`` is one list or mapping, :func:`parse_value`, whatever commas it holds).

    Raises:
      SpecError: an empty item (``0.9,,1.0`` or a trailing comma).
    """
    t = text.strip()
    if "," not in t or t[:1] in "[{":
        return None
    items = [v.strip() for v in t.split(",")]
    if any(not v for v in items):
        raise SpecError(f"empty item in the list {t[:60]!r}", field=name,
                        allowed="comma-separated values, e.g. 0.9,1.0,1.1")
    return items


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _names_hint(data: dict) -> str:
    dims = data.get("dims") if isinstance(data.get("dims"), dict) else {}
    consts = data.get("constants") if isinstance(data.get("constants"), dict) else {}
    return (f"sizes: {', '.join(dims) or '(none)'}; constants: {', '.join(consts) or '(none)'}; "
            "or a dotted path such as study.samples")


def override_path(data: dict, name: str, source: str = "<dict>") -> tuple[str, ...]:
    """Where in the (``extends:``-expanded) spec mapping ``data`` the override ``name`` goes.

    A plain name is a size (``dims``) or a constant (``constants``), whichever declares it; a dotted
    name is a path (``study.samples``, ``constants.C_W``, ``mlp.activation``). Under ``dims``,
    ``constants``, ``params`` and ``define`` the name must be declared already.

    Raises:
      SpecError: an unknown name ("did you mean", the sizes and constants listed), a name both a size
        and a constant, or a malformed path.
    """
    if not isinstance(name, str) or not name or len(name) > MAX_OVERRIDE_CHARS:
        raise SpecError("an override names a size, a constant or a dotted path", file=source, field="<override>",
                        got=str(name)[:60], allowed=_names_hint(data))
    dims = data.get("dims") if isinstance(data.get("dims"), dict) else {}
    consts = data.get("constants") if isinstance(data.get("constants"), dict) else {}
    if "." not in name:
        if name in dims and name in consts:
            raise SpecError(f"{name!r} is both a size and a constant", file=source, field=name,
                            hint=f"write dims.{name} or constants.{name}")
        if name in dims:
            return ("dims", name)
        if name in consts:
            return ("constants", name)
        if name in _top_fields():
            raise SpecError(f"{name!r} is not overridable: --set overrides a size, a constant or a value inside a "
                            f"block (a dotted path such as study.samples), and {name!r} is a whole top-level field "
                            "of the spec (it defines the theory itself)", file=source, field=name,
                            allowed=_names_hint(data),
                            hint=f"edit {name} in the spec file, or write a spec that extends it (extends:)")
        guess = suggest(name, [*dims, *consts]) or suggest(name, _top_fields())
        raise SpecError(f"cannot override {name!r}: the spec declares no size or constant of that name",
                        file=source, field=name, allowed=_names_hint(data), hint=did_you_mean(name, guess))
    parts = tuple(name.split("."))
    if any(not p for p in parts):
        raise SpecError(f"malformed dotted path {name!r}", file=source, field=name,
                        allowed="names separated by single dots, e.g. study.samples")
    top = _top_fields()
    if parts[0] not in top:
        guess = suggest(parts[0], top)
        raise SpecError(f"cannot override {name!r}: {parts[0]!r} is not a block of a spec", file=source,
                        field=name, allowed=", ".join(top), hint=did_you_mean(parts[0], guess))
    if parts[0] in _NAMED_BLOCKS:
        block = data.get(parts[0]) if isinstance(data.get(parts[0]), dict) else {}
        if parts[1] not in block:
            guess = suggest(parts[1], block)
            raise SpecError(f"cannot override {name!r}: the spec declares no {parts[1]!r} under {parts[0]}",
                            file=source, field=name, allowed=", ".join(block) or "(none declared)",
                            hint=did_you_mean(parts[1], guess and f"{parts[0]}.{guess}"))
    return parts


def _top_fields() -> list[str]:
    return [n for n in Theory.model_fields if n not in ("source", "nnft")]


def _set(node: object, path: tuple[str, ...], value: object, full: str, source: str) -> object:
    """A copy of ``node`` with ``value`` at ``path`` (mappings copied on the way; missing mappings made)."""
    if not path:
        return value
    key, rest = path[0], path[1:]
    if isinstance(node, list):
        if not (key.isdigit() and int(key) < len(node)):
            raise SpecError(f"cannot override {full!r}: {key!r} is not an index of that list", file=source,
                            field=full, allowed=f"0 to {len(node) - 1}" if node else "(the list is empty)")
        out = list(node)
        out[int(key)] = _set(node[int(key)], rest, value, full, source)
        return out
    if node is None:
        node = {}
    if not isinstance(node, dict):
        raise SpecError(f"cannot override {full!r}: the spec's value there is not a mapping", file=source, field=full)
    return {**node, key: _set(node.get(key), rest, value, full, source)}


def _flatten(data: dict, overrides: dict) -> dict:
    """``{"study": {"samples": 10, "seed": 3}}`` -> ``{"study.samples": 10, "study.seed": 3}`` for a
    mapping given to a block of the spec (not to a declared size or constant); tagged one-key
    mappings (``points: {line: ...}``, a density) stay whole."""
    declared = {*(data.get("dims") or {}), *(data.get("constants") or {})} if isinstance(data, dict) else set()
    out: dict = {}

    def walk(prefix: str, value: object) -> None:
        last = prefix.rsplit(".", 1)[-1]
        if isinstance(value, dict) and value and last not in _REPLACE_KEYS:
            for k, v in value.items():
                walk(f"{prefix}.{k}", v)
        else:
            out[prefix] = value

    for name, value in overrides.items():
        if isinstance(value, dict) and isinstance(name, str) and name not in declared and name in _top_fields():
            walk(name, value)
        else:
            out[name] = value
    return out


def _unwrap(tp: object) -> object:
    """``X`` of ``Annotated[X, ...]``, ``X | None`` and ``Optional[X]`` (anything else as it is)."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _model_at(path: tuple[str, ...]) -> object:
    """The type of the spec's models at ``path`` (``("train", "inputs")`` -> Points), None where the
    models do not say (an unknown key, a union of several models)."""
    tp: object = Theory
    for key in path:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(key)
            if field is None:
                return None
            tp = field.annotation
        elif typing.get_origin(tp) is dict:
            tp = typing.get_args(tp)[1]
        else:
            return None
    return _unwrap(tp)


def _without(node: object, path: tuple[str, ...], key: str) -> object:
    """A copy of ``node`` without ``key`` in the mapping at ``path`` (``node`` itself if it has none)."""
    if not path:
        return {k: v for k, v in node.items() if k != key} if isinstance(node, dict) and key in node else node
    if isinstance(node, dict) and path[0] in node:
        return {**node, path[0]: _without(node[path[0]], path[1:], key)}
    return node


def _get(node: object, path: tuple[str, ...]) -> object:
    for key in path:
        node = node[int(key)] if isinstance(node, list) else node[key]
    return node


def apply_overrides(data: dict, overrides: dict, source: str = "<dict>") -> dict:
    """``data`` (an ``extends:``-expanded spec mapping) with ``overrides`` applied: name or dotted path
    -> value (see :func:`override_path`). A value given as text (the command line) is read by
    :func:`parse_value`. Sizes must be integers (an integral float such as 4.0 is read as 4) and constants numbers; every other value is checked
    by the spec's own models when the result is validated.

    A mapping given to a block (``{"study": {"seed": 3}}``) is the dotted paths below it. A list given
    where the spec takes a points block (``study.points``, ``train.inputs``, ``train.test``) is that
    block's ``list``. A value of one of two keys that exclude each other replaces the spec's other
    (``train.targets`` drops ``train.target``, a points block's ``list`` drops its ``line``; both given:
    the models refuse them).

    Example: ``apply_overrides(data, {"N": 64, "C_W": 0.9, "study.samples": "1e5"})``.

    Raises:
      SpecError: an unknown name, a size that is not an integer, a constant that is not a number.
    """
    flat = _flatten(data, overrides)
    given = {tuple(n.split(".")) for n in flat}
    for name, raw in flat.items():
        path = override_path(data, name, source)
        try:
            value = parse_value(raw, name) if isinstance(raw, str) else raw
        except SpecError as err:
            raise err.with_location(file=source) from None   # located in the spec it overrides
        if isinstance(value, list) and _model_at(path) is Points:
            value = {"list": value}              # a bare point list where the spec takes a points block
        parent = _model_at(path[:-1]) if len(path) > 1 else None
        other = next((keys.get(path[-1]) for model, keys in _EXCLUSIVE if parent is model), None)
        if other is not None and (*path[:-1], other) not in given:
            data = _without(data, path[:-1], other)      # train.targets replaces the spec's train.target
        if path[0] == "dims" and len(path) == 2 and isinstance(value, float) and value.is_integer():
            value = int(value)                   # 4.0 is the size 4, as "4" and "4e0" are
        if path[0] == "dims" and len(path) == 2 and not (isinstance(value, int) and not isinstance(value, bool)):
            raise SpecError(f"size {path[1]} must be an integer", file=source, field=name,
                            got=raw,
                            allowed="an integer ≥ 1, e.g. 64")
        if path[0] == "constants" and len(path) == 2 and not _is_number(value):
            many = isinstance(value, (list, tuple))
            raise SpecError(f"constant {path[1]} must be a number", file=source, field=name,
                            got=raw,
                            allowed="a finite number, e.g. 0.9",
                            hint="to run several values, use a sweep (nnft.run_sweep, or --set NAME=v1,v2 on nnft run)"
                            if many else None)
        data = _set(data, path, value, name, source)
    return data


def from_dict(data: dict, source: str = "<dict>", dims: dict[str, int] | None = None,
              overrides: dict | None = None) -> Theory:
    """Validate a spec mapping (after ``extends:`` expansion) into a :class:`Theory`.

    Args:
      data: the spec mapping.
      source: the file it came from (for messages).
      dims: named sizes to override (e.g. ``{"N": 64}``).
      overrides: sizes, constants or dotted paths to override (e.g. ``{"C_W": 0.9, "study.seed": 3}``;
        see :func:`apply_overrides`).

    Returns:
      The validated :class:`~nnft.spec.models.Theory` (``source`` set to ``source``).

    Raises:
      SpecError: naming the file, the field, what was given and what is allowed.

    Source: not from a paper: the spec grammar (docs/spec.md).
    """
    own = dict(data)
    private: list = []
    data = expand(own, source, (str(Path(source).resolve()),) if source not in ("<dict>", "<string>") else (), private)
    over = {**(dims or {}), **(overrides or {})}
    if over:
        if dims and not isinstance(data.get("dims"), dict):
            raise SpecError("cannot override sizes: the spec has no 'dims' mapping", file=source, field="dims")
        data = apply_overrides(data, over, source)
        for name in _flatten(data, over):      # the user's own values now: never redacted as inherited
            path = override_path(data, name, source)
            own = _set(own, path, _get(data, path), name, source)
    if "source" in data:  # set by the loader, never by the spec
        names = sorted(n for n in Theory.model_fields if n != "source") + ["extends"]
        raise SpecError("unknown field 'source'", file=source, field="source", allowed=", ".join(names),
                        hint="'source' is where nnft loaded the spec from; it cannot be set in the spec")
    try:
        theory = Theory.model_validate(data)
    except ValidationError as err:
        raise to_spec_error(err, source, Theory, private_source(own, private)) from None
    theory = theory.model_copy(update={"source": source})
    theory._inherited = {format_path(loc): str(path) for path, raw in private for loc in leaves(raw)
                         if loc and loc[0] != "extends" and not present(own, loc)}
    return theory


def load(path: str | Path, **overrides) -> Theory:
    """Load a spec file (or a shipped spec by name) into a validated :class:`Theory`.

    Keyword arguments override the spec: a size (``N=64``, an integer), a constant (``C_W=0.9``, a
    number) or a dotted path, given as ``**{"study.samples": 1000}`` or as a mapping for a block
    (``study={"samples": 1000, "seed": 3}``), each validated by the spec's own models. Values may be given as text in the spec's notation
    (``"1e5"``); nothing is evaluated.

    Example::

        theory = nnft.load("specs/cos_net.yaml", N=64)
        theory = nnft.load("tanh_mlp", C_W=0.9, **{"study.samples": 1000})

    Args:
      path: a spec file (``.yaml``/``.yml``/``.json``) or the name of a shipped spec
        (:func:`nnft.shipped_specs`).
      **overrides: sizes, constants, dotted paths or block mappings, as above.

    Returns:
      The validated :class:`~nnft.spec.models.Theory` (``source`` is the resolved file).

    Raises:
      SpecError: naming the file, the field, what was given and what is allowed (an unknown name
        gets "did you mean" and the spec's sizes and constants); also a missing or unreadable file.

    Source: not from a paper: the spec grammar (docs/spec.md).
    """
    p = resolve(path)
    return from_dict(read_mapping(p), source=str(p), overrides=overrides or None)


def spec_mapping(spec) -> tuple[dict, str]:
    """The spec mapping and its source name for a spec file, a shipped spec name, a mapping, a
    :class:`Theory` or a compiled model (its theory): what :func:`nnft.run` and :func:`nnft.run_sweep`
    accept.

    Args:
      spec: a spec file path, a shipped spec name, a mapping, a Theory or a compiled Model.

    Returns:
      (mapping, source): the spec as a dict (a Theory's set fields) and where it came from
      (``"<dict>"`` for a mapping).

    Raises:
      InputError: anything else.
      SpecError: a file or name that cannot be read.

    Source: not from a paper: spec handling.
    """
    spec = _theory_of(spec)
    if isinstance(spec, Theory):
        return spec.model_dump(mode="json", exclude_unset=True), spec.source
    if isinstance(spec, dict):
        return dict(spec), "<dict>"
    if isinstance(spec, (str, Path)):
        p = resolve(spec)
        return read_mapping(p), str(p)
    raise InputError(f"a spec is a spec file, a shipped spec name, a mapping, a Theory or a compiled model, not "
                     f"{type(spec).__name__}")


def as_theory(spec) -> Theory:
    """A validated :class:`Theory` from anything :func:`spec_mapping` accepts (a Theory as it is).

    Args:
      spec: a spec file path, a shipped spec name, a mapping, a Theory or a compiled Model.

    Returns:
      The :class:`Theory` (a compiled Model's own theory).

    Raises:
      InputError: ``spec`` is none of those.
      SpecError: a file or name that cannot be read, or a mapping that does not validate.

    Source: not from a paper: spec handling.
    """
    spec = _theory_of(spec)
    if isinstance(spec, Theory):
        return spec
    data, source = spec_mapping(spec)
    return from_dict(data, source=source)


def _theory_of(spec):
    """A compiled model's theory (duck-typed: the graph layer is above this one), else ``spec``."""
    theory = getattr(spec, "theory", None)
    return theory if isinstance(theory, Theory) and not isinstance(spec, Theory) else spec
