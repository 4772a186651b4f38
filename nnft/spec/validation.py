"""Pydantic validation errors as :class:`~nnft.errors.SpecError`: the file, the field (as the user
wrote it, without pydantic's internal markers), what was given, what is allowed and a hint.

Generic over the validated model (``nnft.spec.models.Theory`` in practice), so that both the loader
(``nnft.spec.load``) and the models themselves (``Theory.with_dims``) report errors the same way
without importing each other.
"""

from __future__ import annotations

from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from nnft.errors import LocatedError, SpecError, format_path, lookalike_note, suggest


def _model_at(root: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The pydantic model class at a location path inside ``root`` (for 'allowed fields')."""
    tp: Any = root
    for part in loc:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if isinstance(part, str) and part in tp.model_fields:
                tp = tp.model_fields[part].annotation
                continue
            return None
        origin = get_origin(tp)
        if origin is dict:
            tp = get_args(tp)[1]
        elif origin is list:
            tp = get_args(tp)[0]
        else:
            return None
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _unwrap(tp: Any) -> Any:
    for _ in range(6):
        args = get_args(tp)
        origin = get_origin(tp)
        if origin is not None and str(origin).endswith("Annotated"):
            tp = args[0]
        elif args and any(a is type(None) for a in args):
            rest = [a for a in args if a is not type(None)]
            tp = rest[0] if len(rest) == 1 else tp
            if len(rest) != 1:
                break
        else:
            break
    return tp


_TYPE_ERRORS = ("string_type", "int_type", "float_type", "bool_type", "int_from_float", "float_parsing", "int_parsing")


def _user_loc(error: dict) -> tuple:
    """Where in the user's data an error is: the cleaned location, the key of an unknown field, and
    the location a validator reported below it."""
    loc = _clean_loc(error)
    if error["type"] == "extra_forbidden" and (not loc or loc[-1] != error["loc"][-1]):
        loc = loc + (error["loc"][-1],)
    return loc + _cause_loc(error)


def _cause_loc(error: dict) -> tuple:
    cause = (error.get("ctx") or {}).get("error")
    return tuple(cause.loc) if isinstance(cause, LocatedError) else ()


def _clean_loc(error: dict) -> tuple:
    """Pydantic's location of one error without its internal markers: validator and container
    tags (``function-after[...]``, ``list[...]``, ``[key]``: never spec names, which cannot contain
    ``[`` or ``-``) and, for a type error inside a union, the trailing branch name (``str``, ``int``).
    A spec name such as ``strength`` or ``interaction`` is kept."""
    parts = [p for p in error["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))]
    kind = error["type"]
    if parts and parts[-1] in ("str", "int", "float", "bool") and (kind.endswith(("_type", "_parsing"))
                                                                    or kind == "int_from_float"):
        parts.pop()
    return tuple(parts)


#: what an axis is, for a number (or another non-name) where a shape names its axes
AXIS_ALLOWED = "axes are names declared under dims: (e.g. shape: [N] with dims: {N: 64})"


def _is_axis_error(e: dict) -> bool:
    """A type error at ``...shape[i]``: a number (or list) where an axis name is expected."""
    loc = _clean_loc(e)
    return e["type"] in _TYPE_ERRORS and len(loc) >= 2 and loc[-2] == "shape" and isinstance(loc[-1], int)


def _axis_msg(e: dict) -> str:
    return f"an axis must be a name, got {str(e.get('input'))[:40]!r}; {AXIS_ALLOWED}"


def to_spec_error(err: ValidationError, source: str, root: type[BaseModel], inherited=None) -> SpecError:
    """The first (most specific) error of a validation of ``root`` (the spec's top model, ``Theory``)
    as a :class:`~nnft.errors.SpecError` naming ``source``, the field, what was given, what is
    allowed and a hint; the others are summarised in its message.

    Args:
      err: pydantic's error.
      source: the file the data came from.
      root: the model class that was validated (its fields, plus ``extends``, are the allowed
        top-level names).
      inherited: ``loc -> path | None``: the private parent file a value came from (its errors are
        reported without their content), or None.
    """
    errors = err.errors(include_url=False)
    if inherited is not None:
        hidden = [(e, inherited(_user_loc(e))) for e in errors]
        public = [e for e, p in hidden if p is None]
        if public:
            errors = public        # report the user's own errors; the others' text is never shown
        else:
            e, path = hidden[0]
            return SpecError(f"invalid entry inherited from {path} (not shown: values from files not named on the "
                             f"command line are never printed; run 'nnft validate {path}' to see it)",
                             file=source, field=_user_loc(e))
    # prefer the most specific error: unknown fields first (a misspelt required field is both
    # 'unknown' and 'missing'), union-branch type noise last, deeper locations first
    errors.sort(key=lambda e: (e["type"] != "extra_forbidden", e["type"] in _TYPE_ERRORS, -len(e["loc"])))
    first = errors[0]
    loc = _clean_loc(first)
    msg = first["msg"].removeprefix("Value error, ")
    allowed = hint = None
    got = first.get("input")
    cause = (first.get("ctx") or {}).get("error")
    if isinstance(cause, LocatedError):
        loc = loc + cause.loc
        msg, allowed, hint = str(cause), cause.allowed, cause.hint
        if cause.loc:
            got = None
    elif "[key]" in first["loc"]:
        msg = f"invalid name {got!r}: {msg}"
        allowed = "names that start with a letter and use letters, digits and _ (ASCII only, at most 64 characters)"
        hint = lookalike_note(str(got)) if isinstance(got, str) else None
    if _is_axis_error(first):
        got = first.get("input")
        msg, allowed = f"an axis must be a name, not {type(got).__name__} {str(got)[:40]}", AXIS_ALLOWED
        hint = (f"declare the size under dims: (dims: {{N: {got}}}) and write its name in the shape"
                if isinstance(got, int) else None)
    if first["type"] == "extra_forbidden":
        key = first["loc"][-1]     # the user's key, whatever characters it has (never an internal marker)
        if not loc or loc[-1] != key:
            loc = loc + (key,)
        parent = _model_at(root, loc[:-1])
        names = sorted(parent.model_fields) if parent else []
        names = [n for n in names if n != "source"]
        if parent is root:
            names.append("extends")
        msg = f"unknown field {loc[-1]!r}"
        allowed = ", ".join(names) or None
        guess = suggest(str(loc[-1]), names)
        hint = f"did you mean {guess!r}?" if guess else None
    elif first["type"] == "missing":
        msg = f"required field {loc[-1] if loc else first['loc'][-1]!r} is missing"
        got = None
        if loc == ("nnft",):
            allowed, hint = "nnft: 1", "start the file with the format version 'nnft: 1'"
    elif loc == ("nnft",):
        msg = "unsupported spec format version"
        allowed = "nnft: 1"
    if "; did you mean" in msg:
        msg, _, guess = msg.partition("; did you mean")
        hint = "did you mean" + guess
    if "; allowed: " in msg:
        msg, _, allowed = msg.partition("; allowed: ")
    here = _clean_loc(first)
    # the other errors, without the other branches of the same union (type errors at or above here)
    rest = [e for e in errors[1:] if _clean_loc(e) != here
            and not (e["type"] in _TYPE_ERRORS + ("list_type",) and here[:len(_clean_loc(e))] == _clean_loc(e))]
    if rest:
        more = "; ".join(format_path(_clean_loc(e)) + ": " + (_axis_msg(e) if _is_axis_error(e) else
                                                                 e["msg"].removeprefix("Value error, "))
                         for e in rest[:3])
        msg += f"  [{len(rest)} more: {more}]"
    if isinstance(got, (dict, list)) and len(repr(got)) > 200:
        got = None
    return SpecError(msg, file=source, field=loc, got=got, allowed=allowed, hint=hint)
