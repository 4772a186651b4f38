"""Spec text and files -> plain mappings, safely (the first step of loading a spec).

Spec files are untrusted input:
- files larger than :data:`MAX_FILE_BYTES` are refused before parsing;
- YAML is read with the safe loader after a walk of its event stream that refuses tags constructing
  objects, anchors and aliases (no alias bombs), merge keys, non-scalar and duplicate keys;
- JSON duplicate keys, NaN/inf anywhere, and nesting deeper than :data:`MAX_NESTING` are refused;
- every refusal is a :class:`~nnft.errors.SpecError` naming the file and, where there is one, the field.

One value given on the command line (``--set NAME=VALUE``) is read here too, by our own grammar
(:func:`parse_word`, :func:`parse_flow`): numbers in the spec's notation, ``true``/``false``, words, and
lists and mappings of them (``[0.1, 0.2]``, ``[[0.1], [0.2]]``, ``{list: [[0.1]]}``), bounded in length,
depth and items; nothing is evaluated.
"""

from __future__ import annotations

import json
import math
import re
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
#: a number in the spec's own notation (no eval): an integer, or a decimal/scientific float
INT_RE = re.compile(r"[+-]?[0-9]{1,18}")
FLOAT_RE = re.compile(r"[+-]?([0-9]+\.?[0-9]*([eE][+-]?[0-9]{1,3})?|\.[0-9]+([eE][+-]?[0-9]{1,3})?)")
#: bounds of one command-line value written as a list or mapping: characters, nesting levels, items
MAX_VALUE_CHARS = 65_536
MAX_VALUE_DEPTH = 8
MAX_VALUE_ITEMS = 16_384
#: what a command-line value may be (the ``allowed`` of its errors)
VALUE_ALLOWED = ("a number (0.9, 1e5), true/false, a word, or a list or mapping of them: [0.1, 0.2], "
                 "[[0.1], [0.2]], {list: [[0.1]]}")


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


def parse_word(word: str, name: str = "value") -> int | float | bool | str:
    """One word of a command-line value: an integer (``64``), a float (``0.9``, ``1e5``), ``true`` /
    ``false``, or else the text itself (a name or an expression, read where it is used).

    Raises:
      SpecError: a number that overflows to ±inf (``1e999``).
    """
    if INT_RE.fullmatch(word):
        return int(word)
    if FLOAT_RE.fullmatch(word):
        v = float(word)
        if not math.isfinite(v):
            raise SpecError("non-finite number", field=name, got=word, allowed="finite numbers")
        return v
    if word in ("true", "false"):
        return word == "true"
    return word


def parse_flow(text: str, name: str = "value") -> list | dict:
    """A list or mapping written on one line, read by our own grammar (nothing is evaluated)::

        value   := list | mapping | word | 'text' | "text"
        list    := '[' [value (',' value)*] ']'
        mapping := '{' [key ':' value (',' key ':' value)*] '}'

    A word is any text without ``, [ ] { } :`` or quotes, stripped and read by :func:`parse_word`
    (``[N, d]`` is two names, ``[0.1, 1e-3]`` two numbers); quoted text stays text. At most
    :data:`MAX_VALUE_CHARS` characters, :data:`MAX_VALUE_DEPTH` nested levels and
    :data:`MAX_VALUE_ITEMS` items.

    Args:
      text: the value, starting with ``[`` or ``{``.
      name: what the value is given to (named in errors), e.g. ``train.targets``.

    Returns:
      The list or mapping (plain Python data; the spec's models validate it where it is used).

    Raises:
      SpecError: naming ``name``, the column, what is allowed and the fix (an unclosed bracket, an
        empty item, text after the value, a missing ':', a duplicate key, a bound exceeded).

    Source: not from a paper: the command-line value grammar (docs/spec-language.md).
    """
    t = text.strip()
    if len(t) > MAX_VALUE_CHARS:
        raise SpecError(f"a list or mapping value has {len(t)} characters (at most {MAX_VALUE_CHARS})", field=name,
                        allowed=VALUE_ALLOWED, hint="write a value this long in the spec file")
    if "\n" in t or "\r" in t:
        raise SpecError("a value is one line", field=name, allowed=VALUE_ALLOWED,
                        hint="write the list on one line (or in the spec file)")
    if not t or t[0] not in "[{":
        raise SpecError("a list starts with '[' and a mapping with '{'", field=name, got=t[:80], allowed=VALUE_ALLOWED)
    reader = _Flow(t, name)
    value = reader.value(0)
    reader.skip()
    if reader.pos < len(t):
        rest = t[reader.pos:]
        hint = ("one --set gives one value; a comma list of lists is not a sweep (a sweep NAME=v1,v2 takes "
                "numbers or words): run one command per list" if rest.lstrip().startswith(",") else
                "remove the text after the closing bracket, or quote a word that holds brackets")
        reader.fail(f"text after the end of the {'list' if t[0] == '[' else 'mapping'}: {rest[:30]!r}", reader.pos,
                    hint)
    return value


class _Flow:
    """The reader of :func:`parse_flow` (recursive descent, at most :data:`MAX_VALUE_DEPTH` deep)."""

    STOP = frozenset(",[]{}:\"'")

    def __init__(self, text: str, name: str):
        self.text, self.name, self.pos, self.items = text, name, 0, 0

    def fail(self, message: str, at: int, hint: str | None = None):
        t = self.text
        raise SpecError(f"{message} (column {at + 1})", field=self.name, got=t if len(t) <= 80 else t[:77] + "...",
                        allowed=VALUE_ALLOWED, hint=hint)

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self.pos += 1

    def unclosed(self, start: int):
        close = "]" if self.text[start] == "[" else "}"
        self.fail(f"the {'list' if close == ']' else 'mapping'} opened at column {start + 1} is not closed",
                  len(self.text), f"end it with '{close}', e.g. " + ("[0.1, 0.2]" if close == "]" else "{list: [[0.1]]}"))

    def value(self, depth: int):
        self.skip()
        c = self.text[self.pos]                       # callers check there is one
        self.items += 1
        if self.items > MAX_VALUE_ITEMS:
            self.fail(f"more than {MAX_VALUE_ITEMS} items", self.pos, "write a value this long in the spec file")
        if c in "[{":
            if depth >= MAX_VALUE_DEPTH:
                self.fail(f"lists and mappings nested deeper than {MAX_VALUE_DEPTH} levels", self.pos,
                          "write a value this deep in the spec file")
            return self.sequence(depth + 1) if c == "[" else self.mapping(depth + 1)
        if c in "\"'":
            return self.quoted()
        if c in ",]}:":
            self.fail(f"unexpected {c!r}", self.pos, "remove it, or quote a word that holds it")
        at = self.pos
        word = self.word()
        try:
            return parse_word(word, self.name)
        except SpecError as err:
            self.fail(f"{err.message} {word[:30]!r}", at, "a float is at most about 1.8e308: write a finite number")

    def word(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in self.STOP:
            self.pos += 1
        return self.text[start:self.pos].strip()

    def quoted(self) -> str:
        q, start = self.text[self.pos], self.pos
        end = self.text.find(q, start + 1)
        if end < 0:
            self.fail(f"the quote {q} opened at column {start + 1} is not closed", len(self.text), f"end it with {q}")
        self.pos = end + 1
        return self.text[start + 1:end]

    def item_start(self, start: int, close: str, what: str) -> None:
        """Before an item: the text goes on, and does not start with a separator."""
        self.skip()
        if self.pos >= len(self.text):
            self.unclosed(start)
        if self.text[self.pos] in "," + close:
            self.fail(f"empty item in the {what}", self.pos, "remove the extra comma")

    def after_item(self, start: int, close: str, what: str) -> bool:
        """After an item: True at the closing bracket (consumed), False after a comma (consumed)."""
        self.skip()
        if self.pos >= len(self.text):
            self.unclosed(start)
        c = self.text[self.pos]
        self.pos += 1
        if c == close:
            return True
        if c != ",":
            self.fail(f"expected ',' or '{close}' after an item of the {what}, got {c!r}", self.pos - 1,
                      "separate items with commas; quote a word that holds brackets, colons or commas")
        return False

    def sequence(self, depth: int) -> list:
        start, out = self.pos, []
        self.pos += 1
        self.skip()
        if self.text.startswith("]", self.pos):
            self.pos += 1
            return out
        while True:
            self.item_start(start, "]", "list")
            out.append(self.value(depth))
            if self.after_item(start, "]", "list"):
                return out

    def mapping(self, depth: int) -> dict:
        start, out = self.pos, {}
        self.pos += 1
        self.skip()
        if self.text.startswith("}", self.pos):
            self.pos += 1
            return out
        while True:
            self.item_start(start, "}", "mapping")
            at = self.pos
            key = self.quoted() if self.text[at] in "\"'" else self.word()
            if not key:
                self.fail("a mapping key is empty", at, "write {key: value}")
            self.skip()
            if not self.text.startswith(":", self.pos):
                self.fail(f"expected ':' after the key {key[:30]!r}", self.pos, "write {key: value}")
            self.pos += 1
            if key in out:
                self.fail(f"duplicate key {key[:30]!r}", at, "each key may appear once in a mapping")
            self.item_start(start, "}", "mapping")
            out[key] = self.value(depth)
            if self.after_item(start, "}", "mapping"):
                return out
