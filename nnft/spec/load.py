"""Loading spec files (YAML, TOML, JSON) safely into :class:`~nnft.spec.models.Theory`.

Spec files are untrusted input:
- YAML is read with the safe loader; tags that construct objects are refused, and anchors and
  aliases are refused outright (no alias bombs);
- files larger than :data:`MAX_FILE_BYTES` are refused before parsing;
- ``extends:`` reads only the file it names (a shipped spec name or a spec-file path), at most
  :data:`MAX_EXTENDS` deep, with cycles reported;
- every validation error becomes a :class:`~nnft.errors.SpecError` naming the file and field.
"""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from nnft.errors import SpecError, suggest
from nnft.spec.models import Theory

MAX_FILE_BYTES = 1_000_000
MAX_EXTENDS = 8
SUFFIXES = {".yaml": "yaml", ".yml": "yaml", ".toml": "toml", ".json": "json"}
SHIPPED = Path(__file__).resolve().parent.parent / "specs"
#: tagged one-key mappings: an override replaces them instead of merging into them
_REPLACE_KEYS = {"density", "reference", "points", "line", "list"}


def shipped_specs() -> dict[str, Path]:
    """Names of the specs shipped with nnft (``cos_net``, ``gauss_net``, ...) and their files."""
    if not SHIPPED.is_dir():
        return {}
    return {p.stem: p for p in sorted(SHIPPED.iterdir()) if p.suffix in SUFFIXES}


def resolve(name: str | Path, relative_to: Path | None = None) -> Path:
    """A spec file path: an existing path, or the name of a shipped spec (``cos_net``)."""
    p = Path(name)
    if relative_to is not None and not p.is_absolute():
        cand = relative_to / p
        if cand.exists():
            return cand
    if p.exists():
        return p
    shipped = shipped_specs()
    stem = p.stem if p.suffix in SUFFIXES else p.name
    if stem in shipped and (str(name) == stem or p.name == shipped[stem].name):
        return shipped[stem]
    guess = suggest(stem, shipped)
    raise SpecError("no such spec file or shipped spec", file=str(name), field="<file>",
                    allowed="a path to a .yaml/.yml/.toml/.json file, or a shipped spec: " + ", ".join(shipped),
                    hint=f"did you mean {guess!r}?" if guess else None)


def _read(path: Path) -> dict:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise SpecError(f"unsupported spec file extension {path.suffix!r}", file=str(path), field="<file>",
                        allowed=", ".join(SUFFIXES))
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SpecError(f"spec file is {size} bytes (at most {MAX_FILE_BYTES})", file=str(path), field="<file>")
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise SpecError(f"cannot read spec file: {err.strerror or err}", file=str(path), field="<file>") from None
    except UnicodeDecodeError:
        raise SpecError("spec file is not UTF-8 text", file=str(path), field="<file>") from None
    return parse_text(text, SUFFIXES[suffix], source=str(path))


def parse_text(text: str, fmt: str, source: str = "<string>") -> dict:
    """Parse spec text (``fmt`` in yaml/toml/json) into a plain mapping, safely."""
    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        raise SpecError(f"spec text is larger than {MAX_FILE_BYTES} bytes", file=source, field="<file>")
    try:
        if fmt == "yaml":
            for event in yaml.parse(text, Loader=yaml.SafeLoader):
                if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                    raise SpecError("YAML anchors and aliases (&name / *name) are not allowed in spec files",
                                    file=source, field=_yaml_where(event), hint="write the values out in full")
            data = yaml.safe_load(text)
        elif fmt == "toml":
            data = tomllib.loads(text)
        elif fmt == "json":
            data = json.loads(text)
        else:
            raise SpecError(f"unknown format {fmt!r}", file=source, field="<file>", allowed="yaml, toml, json")
    except SpecError:
        raise
    except yaml.YAMLError as err:
        raise SpecError(f"not valid YAML: {_one_line(err)}", file=source, field="<file>",
                        hint="spec files use plain YAML: mappings, lists, numbers and strings (no !tags)") from None
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, RecursionError, ValueError) as err:
        raise SpecError(f"not valid {fmt.upper()}: {_one_line(err)}", file=source, field="<file>") from None
    if not isinstance(data, dict):
        raise SpecError("a spec file must be a mapping at the top level", file=source, field="<top level>",
                        got=type(data).__name__)
    _check_numbers(data, source, ())
    return data


def _yaml_where(event: Any) -> str:
    mark = getattr(event, "start_mark", None)
    return f"<line {mark.line + 1}>" if mark is not None else "<file>"


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split())[:300]


def _check_numbers(node: Any, source: str, path: tuple) -> None:
    """Refuse NaN/inf anywhere in the document at load time."""
    if isinstance(node, float) and not math.isfinite(node):
        raise SpecError("non-finite number", file=source, field=path, got=node, allowed="finite numbers")
    if isinstance(node, dict):
        for k, v in node.items():
            if not isinstance(k, str):
                raise SpecError("mapping keys must be strings", file=source, field=path, got=k)
            _check_numbers(v, source, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _check_numbers(v, source, path + (i,))


def merge(base: dict, override: dict) -> dict:
    """Deep-merge ``override`` into ``base`` (``extends:``); tagged one-key mappings are replaced."""
    out = dict(base)
    for k, v in override.items():
        if k in out and isinstance(out[k], dict) and isinstance(v, dict) and k not in _REPLACE_KEYS:
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


def _expand(data: dict, source: str, chain: tuple[str, ...]) -> dict:
    parent = data.get("extends")
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise SpecError("'extends' names one spec file or shipped spec", file=source, field="extends", got=parent)
    if len(chain) > MAX_EXTENDS:
        raise SpecError(f"'extends' chain deeper than {MAX_EXTENDS}", file=source, field="extends")
    here = Path(source).parent if source not in ("<dict>", "<string>") else None
    path = resolve(parent, relative_to=here)
    key = str(path.resolve())
    if key in chain:
        raise SpecError("'extends' forms a cycle: " + " -> ".join(chain + (key,)), file=source, field="extends")
    base = _expand(_read(path), str(path), chain + (key,))
    child = {k: v for k, v in data.items() if k != "extends"}
    return merge({k: v for k, v in base.items() if k != "extends"}, child)


def from_dict(data: dict, source: str = "<dict>", dims: dict[str, int] | None = None) -> Theory:
    """Validate a spec mapping (after ``extends:`` expansion) into a :class:`Theory`.

    Args:
      data: the spec mapping.
      source: the file it came from (for messages).
      dims: named sizes to override (e.g. ``{"N": 64}``).
    """
    data = _expand(dict(data), source, (str(Path(source).resolve()),) if source not in ("<dict>", "<string>") else ())
    if dims:
        if not isinstance(data.get("dims"), dict):
            raise SpecError("cannot override sizes: the spec has no 'dims' mapping", file=source, field="dims")
        unknown = [k for k in dims if k not in data["dims"]]
        if unknown:
            raise SpecError(f"cannot override unknown size(s) {unknown}", file=source, field="dims",
                            allowed=", ".join(data["dims"]))
        data = {**data, "dims": {**data["dims"], **dims}}
    data.pop("source", None)
    try:
        theory = Theory.model_validate(data)
    except ValidationError as err:
        raise _to_spec_error(err, source) from None
    return theory.model_copy(update={"source": source})


def load(path: str | Path, **dims: int) -> Theory:
    """Load a spec file (or a shipped spec by name) into a validated :class:`Theory`.

    Example::

        theory = nnft.load("specs/cos_net.yaml", N=64)

    Raises:
      SpecError: naming the file, the field, what was given and what is allowed.
    """
    p = resolve(path)
    return from_dict(_read(p), source=str(p), dims=dims or None)


# --- pydantic errors -> SpecError ---------------------------------------------------------------
def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The pydantic model class at a location path inside Theory (for 'allowed fields')."""
    tp: Any = Theory
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


def _to_spec_error(err: ValidationError, source: str) -> SpecError:
    errors = err.errors(include_url=False)
    # prefer the most specific error: drop union-branch noise (type errors from the other branches)
    errors.sort(key=lambda e: (e["type"] in ("string_type", "int_type", "float_type", "bool_type"), -len(e["loc"])))
    first = errors[0]
    loc = tuple(p for p in first["loc"] if not (isinstance(p, str) and p.startswith(("function-", "str", "int", "float",
                                                                                       "list[", "dict[", "union["))))
    msg = first["msg"].removeprefix("Value error, ")
    allowed = hint = None
    got = first.get("input")
    if first["type"] == "extra_forbidden":
        parent = _model_at(loc[:-1])
        names = sorted(parent.model_fields) if parent else []
        names = [n for n in names if n != "source"]
        if parent is Theory:
            names.append("extends")
        msg = f"unknown field {loc[-1]!r}"
        allowed = ", ".join(names) or None
        guess = suggest(str(loc[-1]), names)
        hint = f"did you mean {guess!r}?" if guess else None
    elif first["type"] == "missing":
        msg = f"required field {loc[-1]!r} is missing"
        got = None
    elif first["type"] == "literal_error" and loc == ("nnft",):
        msg = "unsupported spec format version"
        allowed = "nnft: 1"
    if "; did you mean" in msg:
        msg, _, guess = msg.partition("; did you mean")
        hint = "did you mean" + guess
    if "; allowed: " in msg:
        msg, _, allowed = msg.partition("; allowed: ")
    if len(errors) > 1:
        more = "; ".join(".".join(map(str, e["loc"])) + ": " + e["msg"].removeprefix("Value error, ") for e in errors[1:4])
        msg += f"  [{len(errors) - 1} more: {more}]"
    if isinstance(got, (dict, list)) and len(repr(got)) > 200:
        got = None
    return SpecError(msg, file=source, field=loc, got=got, allowed=allowed, hint=hint)
