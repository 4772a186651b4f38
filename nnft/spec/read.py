"""Spec text and files -> plain mappings, safely (the first step of loading a spec).

Spec files are untrusted input:
- files larger than :data:`MAX_FILE_BYTES` are refused before parsing;
- YAML is read with the safe loader after a walk of its event stream that refuses tags constructing
  objects, anchors and aliases (no alias bombs), merge keys, non-scalar and duplicate keys;
- JSON duplicate keys, NaN/inf anywhere, and nesting deeper than :data:`MAX_NESTING` are refused;
- every refusal is a :class:`~nnft.errors.SpecError` naming the file and, where there is one, the field.
"""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path
from typing import Any

import yaml

from nnft.errors import SpecError

MAX_FILE_BYTES = 1_000_000
#: deepest nesting of mappings/lists a spec file may have (real specs need about 6)
MAX_NESTING = 32
#: libyaml when available (fast on adversarial input); both loaders construct plain data only
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SUFFIXES = {".yaml": "yaml", ".yml": "yaml", ".toml": "toml", ".json": "json"}


def read_mapping(path: Path) -> dict:
    """The plain mapping in the spec file ``path`` (YAML, TOML or JSON by its suffix), read safely.

    Raises:
      SpecError: an unsupported suffix, not a regular file, larger than :data:`MAX_FILE_BYTES`, not
        UTF-8, not valid in its format, or refused content (see the module docstring).
    """
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise SpecError(f"unsupported spec file extension {path.suffix!r}", file=str(path), field="<file>",
                        allowed=", ".join(SUFFIXES))
    try:
        if not path.is_file():
            raise SpecError("not a regular file", file=str(path), field="<file>",
                            allowed="a path to a .yaml/.yml/.toml/.json file")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SpecError(f"spec file is {size} bytes (at most {MAX_FILE_BYTES})", file=str(path), field="<file>")
        with path.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)   # never more, whatever stat said
        if len(raw) > MAX_FILE_BYTES:
            raise SpecError(f"spec file is larger than {MAX_FILE_BYTES} bytes", file=str(path), field="<file>")
        text = raw.decode("utf-8")
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
            _scan_yaml(text, source)
            data = yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader
        elif fmt == "toml":
            data = tomllib.loads(text)
        elif fmt == "json":
            data = json.loads(text, object_pairs_hook=_json_object)
        else:
            raise SpecError(f"unknown format {fmt!r}", file=source, field="<file>", allowed="yaml, toml, json")
    except SpecError:
        raise
    except yaml.YAMLError as err:
        where = _one_line(err).replace(' in "<unicode string>",', " at")
        if "nesting" in where or "depth" in where:
            # newer PyYAML/libyaml refuse deep nesting themselves, ahead of the event walk: same refusal, our words
            mark = getattr(err, "problem_mark", None)
            at = f" (at line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
            raise SpecError(f"mappings and lists nested deeper than {MAX_NESTING} levels{at}", file=source,
                            field="<file>", hint=f"a spec needs at most {MAX_NESTING} levels") from None
        raise SpecError(f"not valid YAML: {where}", file=source, field="<file>") from None
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, RecursionError, ValueError) as err:
        raise SpecError(f"not valid {fmt.upper()}: {_one_line(err)}", file=source, field="<file>") from None
    if data is None:
        raise SpecError("the spec file is empty; a spec file must be a mapping at the top level", file=source,
                        field="<top level>", hint="start with 'nnft: 1'")
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a single value ({type(data).__name__})"
        raise SpecError(f"a spec file must be a mapping at the top level, not {kind}", file=source,
                        field="<top level>", hint="write 'key: value' lines, starting with 'nnft: 1'")
    _check_numbers(data, source, ())
    return data


def _yaml_where(event: Any) -> str:
    mark = getattr(event, "start_mark", None)
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "?"


#: explicit YAML tags a spec may carry (the plain data types); every other tag is refused
_YAML_TAGS = {None, "!", *(f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq"))}


def _scan_yaml(text: str, source: str) -> None:
    """Walk the YAML event stream (nothing is constructed) and refuse, naming the field path:
    anchors and aliases (no alias bombs), tags other than plain data types (``!!python/...``),
    merge keys (``<<``), non-scalar keys and duplicate keys."""
    stack: list[dict] = []   # {"map": bool, "key": current key, "want_key": bool, "seen": set, "i": index}

    def path() -> tuple:
        return tuple(f["key"] if f["map"] else f["i"] for f in stack)

    def done() -> None:      # a value node ended: advance its container
        if stack:
            top = stack[-1]
            if top["map"]:
                top["want_key"] = True
            else:
                top["i"] += 1

    for event in yaml.parse(text, Loader=_YAML_LOADER):   # lazily: stops at the first problem
        if len(stack) > MAX_NESTING:
            raise SpecError(f"mappings and lists nested deeper than {MAX_NESTING} levels (at {_yaml_where(event)})",
                            file=source, field=path()[:MAX_NESTING])
        if isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            stack.pop()
            done()
            continue
        if not isinstance(event, (yaml.NodeEvent)):
            continue
        is_key = bool(stack) and stack[-1]["map"] and stack[-1]["want_key"]
        where = path()[:-1] if is_key else path()
        at = f" (at {_yaml_where(event)})"
        if isinstance(event, yaml.AliasEvent) or event.anchor:
            raise SpecError("YAML anchors and aliases (&name / *name) are not allowed in spec files" + at,
                            file=source, field=where, hint="write the values out in full")
        tag = getattr(event, "tag", None)
        if tag not in _YAML_TAGS:
            raise SpecError(f"YAML tag {tag!r} is not allowed in spec files" + at, file=source, field=where,
                            allowed="plain YAML: mappings, lists, numbers and strings (no !tags)",
                            hint="nothing in a spec file is ever constructed or executed")
        if is_key:
            if not isinstance(event, yaml.ScalarEvent):
                raise SpecError("mapping keys must be plain names, not lists or mappings" + at, file=source,
                                field=where)
            if event.value == "<<" and not event.style:  # plain style (None, or "" from libyaml)
                raise SpecError("YAML merge keys (<<) are not allowed in spec files" + at, file=source, field=where,
                                hint="write the values out in full (or use 'extends:')")
            top = stack[-1]
            if event.value in top["seen"]:
                raise SpecError(f"duplicate key {event.value!r}" + at, file=source, field=where + (event.value,),
                                hint="each key may appear once in a mapping")
            top["seen"].add(event.value)
            top["key"], top["want_key"] = event.value, False
            continue
        if isinstance(event, yaml.MappingStartEvent):
            stack.append({"map": True, "key": None, "want_key": True, "seen": set(), "i": 0})
        elif isinstance(event, yaml.SequenceStartEvent):
            stack.append({"map": False, "key": None, "want_key": False, "seen": set(), "i": 0})
        else:
            done()


class _Duplicates(dict):
    """A JSON object that had repeated keys (reported with its field path by ``_check_numbers``)."""

    duplicates: list[str]


def _json_object(pairs: list[tuple[str, Any]]) -> dict:
    out: dict = {}
    dups = []
    for k, v in pairs:
        if k in out:
            dups.append(k)
        out[k] = v
    if dups:
        out = _Duplicates(out)
        out.duplicates = dups
    return out


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split())[:300]


def _check_numbers(node: Any, source: str, path: tuple) -> None:
    """Refuse NaN/inf anywhere in the document at load time (and documents nested too deeply)."""
    if len(path) > MAX_NESTING:
        raise SpecError(f"mappings and lists nested deeper than {MAX_NESTING} levels", file=source,
                        field=path[:MAX_NESTING])
    if isinstance(node, float) and not math.isfinite(node):
        raise SpecError("non-finite number", file=source, field=path, got=node, allowed="finite numbers")
    if isinstance(node, dict):
        if isinstance(node, _Duplicates):
            raise SpecError(f"duplicate key {node.duplicates[0]!r}", file=source, field=path + (node.duplicates[0],),
                            hint="each key may appear once in a mapping")
        for k, v in node.items():
            if not isinstance(k, str):
                raise SpecError("mapping keys must be strings", file=source, field=path, got=k)
            _check_numbers(v, source, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _check_numbers(v, source, path + (i,))
