"""Loading spec files (YAML, TOML, JSON) safely into :class:`~nnft.spec.models.Theory`.

Spec files are untrusted input:
- YAML is read with the safe loader; tags that construct objects are refused, and anchors and
  aliases are refused outright (no alias bombs);
- files larger than :data:`MAX_FILE_BYTES` are refused before parsing;
- ``extends:`` names a shipped spec or a spec file under the extending spec's own directory: no
  absolute paths, no ``..`` escape, no symlink leading out of it (the path is resolved and its
  containment checked), at most :data:`MAX_EXTENDS` deep, with cycles reported;
- values read from a parent the user did not name on the command line are never echoed: an error
  about them names the field and the parent file, not the value (shipped parents are public);
- every validation error becomes a :class:`~nnft.errors.SpecError` naming the file and field.
"""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from nnft.errors import SpecError, format_path, suggest
from nnft.spec.models import Theory
from nnft.spec.validation import to_spec_error

MAX_FILE_BYTES = 1_000_000
MAX_EXTENDS = 8
#: longest spec path or 'extends' name (longer names are refused before touching the file system)
MAX_NAME_CHARS = 255
#: deepest nesting of mappings/lists a spec file may have (real specs need about 6)
MAX_NESTING = 32
#: libyaml when available (fast on adversarial input); both loaders construct plain data only
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SUFFIXES = {".yaml": "yaml", ".yml": "yaml", ".toml": "toml", ".json": "json"}
SHIPPED = Path(__file__).resolve().parent.parent / "specs"
#: tagged one-key mappings: an override replaces them instead of merging into them
_REPLACE_KEYS = {"density", "reference", "points", "line", "list"}


def shipped_specs() -> dict[str, Path]:
    """Names of the specs shipped with nnft (``cos_net``, ``gauss_net``, ...) and their files."""
    if not SHIPPED.is_dir():
        return {}
    return {p.stem: p for p in sorted(SHIPPED.iterdir()) if p.suffix in SUFFIXES}


def _check_name(name: str | Path, source: str, field: str) -> str:
    text = str(name)
    if len(text) > MAX_NAME_CHARS:
        raise SpecError(f"a spec name or path has at most {MAX_NAME_CHARS} characters, got {len(text)}",
                        file=source, field=field)
    if not text or "\x00" in text:
        raise SpecError("a spec name or path must be non-empty text without NUL characters", file=source, field=field)
    return text


def _no_such(name: str, shipped: dict[str, Path], file: str, field: str = "<file>") -> SpecError:
    p = Path(name)
    stem = p.stem if p.suffix in SUFFIXES else p.name
    guess = suggest(stem, shipped)
    return SpecError("no such spec file or shipped spec", file=file, field=field,
                     allowed="a path to a .yaml/.yml/.toml/.json file, or a shipped spec: " + ", ".join(shipped),
                     hint=f"did you mean {guess!r}?" if guess else None)


def _shipped_name(name: str, shipped: dict[str, Path]) -> Path | None:
    p = Path(name)
    stem = p.stem if p.suffix in SUFFIXES else p.name
    if stem in shipped and (name == stem or name == shipped[stem].name):
        return shipped[stem]
    return None


def resolve(name: str | Path, relative_to: Path | None = None) -> Path:
    """A spec file path named on the command line or in Python: an existing path, or the name of a
    shipped spec (``cos_net``). (``extends:`` is resolved, confined, by :func:`resolve_parent`.)"""
    text = _check_name(name, str(name)[:MAX_NAME_CHARS], "<file>")
    p = Path(text)
    try:
        if relative_to is not None and not p.is_absolute():
            cand = relative_to / p
            if cand.exists():
                return cand
        if p.exists():
            return p
    except OSError as err:
        raise SpecError(f"cannot access the spec file: {err.strerror or err}", file=text, field="<file>") from None
    shipped = shipped_specs()
    hit = _shipped_name(text, shipped)
    if hit is not None:
        return hit
    raise _no_such(text, shipped, text)


def resolve_parent(parent: str, source: str) -> tuple[Path, bool]:
    """The file an ``extends:`` in ``source`` names, and whether it is a shipped spec.

    Allowed: a shipped spec name (``cos_net``), or a relative path to a spec file under the directory
    of ``source`` (subdirectories too). Refused: absolute paths, paths that resolve (following
    symlinks) outside that directory, and any path when ``source`` is not a file (a dict or string).
    """
    text = _check_name(parent, source, "extends")
    shipped = shipped_specs()
    here = Path(source).parent if source not in ("<dict>", "<string>") else None
    p = Path(text)
    if here is not None and not p.is_absolute():
        try:
            root = here.resolve(strict=True)
            cand = root / p
            real = cand.resolve(strict=True) if cand.exists() else None
        except (OSError, RuntimeError) as err:
            raise SpecError(f"'extends' names {text!r}: cannot access it ({getattr(err, 'strerror', None) or err})",
                            file=source, field="extends") from None
        if real is not None:
            if not real.is_relative_to(root):
                raise SpecError(f"'extends' names {text!r}, which resolves outside the spec's own directory",
                                file=source, field="extends",
                                allowed=f"a shipped spec ({', '.join(shipped)}) or a spec file under {root}",
                                hint="copy the parent next to the spec (symlinks and '..' may not leave the directory)")
            if real.suffix.lower() not in SUFFIXES:
                raise SpecError(f"'extends' names {text!r}, which is not a spec file", file=source, field="extends",
                                allowed=", ".join(SUFFIXES))
            return real, real.parent == SHIPPED.resolve()
    hit = _shipped_name(text, shipped)
    if hit is not None:
        return hit, True
    if p.is_absolute() and p.suffix.lower() in SUFFIXES:
        try:
            real = p.resolve(strict=True)
        except (OSError, RuntimeError):
            real = None
        if real is not None and real.parent == SHIPPED.resolve() and real.stem in shipped:
            return real, True          # an absolute path to a shipped spec: public, read-only
    if p.is_absolute() or (here is None and ("/" in text or "\\" in text or p.suffix in SUFFIXES)):
        raise SpecError(f"'extends' names {text!r}: "
                        + ("absolute paths are not allowed" if p.is_absolute()
                           else "a spec given as a dict or string may extend only shipped specs"),
                        file=source, field="extends",
                        allowed=f"a shipped spec ({', '.join(shipped)}) or a relative path under the spec's directory")
    err = _no_such(text, shipped, source, "extends")
    raise SpecError(f"'extends' names {text!r}: {err.message}", file=source, field="extends",
                    allowed=err.allowed, hint=err.hint)


def _read(path: Path) -> dict:
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


def merge(base: dict, override: dict) -> dict:
    """Deep-merge ``override`` into ``base`` (``extends:``); tagged one-key mappings are replaced."""
    out = dict(base)
    for k, v in override.items():
        if k in out and isinstance(out[k], dict) and isinstance(v, dict) and k not in _REPLACE_KEYS:
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


def _expand(data: dict, source: str, chain: tuple[str, ...], private: list | None = None) -> dict:
    """``data`` with its ``extends:`` chain merged in. The data of every parent that is not shipped is
    appended to ``private`` (values the user did not pass on the command line: never echoed)."""
    if "extends" not in data:
        return data
    parent = data["extends"]
    if not isinstance(parent, str):
        raise SpecError("'extends' names one spec file or shipped spec", file=source, field="extends",
                        got=parent if isinstance(parent, (int, float)) else None,
                        allowed="a shipped spec name or a relative path under the spec's directory")
    if len(chain) > MAX_EXTENDS:
        raise SpecError(f"'extends' chain deeper than {MAX_EXTENDS}", file=source, field="extends")
    path, shipped = resolve_parent(parent, source)
    key = str(path.resolve())
    if key in chain:
        raise SpecError("'extends' forms a cycle: " + " -> ".join(chain + (key,)), file=source, field="extends")
    if shipped:
        base = _expand(_read(path), str(path), chain + (key,), private)
    else:
        try:
            raw = _read(path)
            base = _expand(raw, str(path), chain + (key,), private)
        except SpecError as err:
            # the parent's content is not shown (the user did not name that file on the command line)
            raise SpecError(f"the parent spec {parent!r} ({path}) cannot be used: {_kind_of_problem(err)} "
                            f"(its content is not shown; run 'nnft validate {path}' to see the error there)",
                            file=source, field="extends") from None
        if private is not None:
            private.append((path, raw))
    child = {k: v for k, v in data.items() if k != "extends"}
    return merge({k: v for k, v in base.items() if k != "extends"}, child)


#: _read's messages that describe the file without quoting it
_CONTENT_FREE = ("not a regular file", "unsupported spec file extension", "spec file is", "cannot read spec file",
                 "the spec file is empty", "a spec file must be a mapping")


def _kind_of_problem(err: SpecError) -> str:
    """What went wrong in a parent, in words that carry none of its content."""
    f = err.field or ""
    if f == "<file>" and err.message.startswith(_CONTENT_FREE):
        return err.message         # about the file, not its content
    if f == "<file>":
        return "it is not a readable, valid spec file"
    if f == "extends" and "forms a cycle" in err.message:
        return err.message         # file names only
    if f == "extends":
        return "its own 'extends' is refused"
    return "it has an invalid value"


def _present(node: Any, loc: tuple) -> bool:
    """Whether the path ``loc`` exists in the mapping/list ``node``."""
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return False
    return True


def from_dict(data: dict, source: str = "<dict>", dims: dict[str, int] | None = None) -> Theory:
    """Validate a spec mapping (after ``extends:`` expansion) into a :class:`Theory`.

    Args:
      data: the spec mapping.
      source: the file it came from (for messages).
      dims: named sizes to override (e.g. ``{"N": 64}``).
    """
    own = dict(data)
    private: list = []
    data = _expand(own, source, (str(Path(source).resolve()),) if source not in ("<dict>", "<string>") else (), private)
    if dims:
        if not isinstance(data.get("dims"), dict):
            raise SpecError("cannot override sizes: the spec has no 'dims' mapping", file=source, field="dims")
        unknown = [k for k in dims if k not in data["dims"]]
        if unknown:
            raise SpecError(f"cannot override unknown size(s) {unknown}", file=source, field="dims",
                            allowed=", ".join(data["dims"]))
        data = {**data, "dims": {**data["dims"], **dims}}
    if "source" in data:  # set by the loader, never by the spec
        names = sorted(n for n in Theory.model_fields if n != "source") + ["extends"]
        raise SpecError("unknown field 'source'", file=source, field="source", allowed=", ".join(names),
                        hint="'source' is where nnft loaded the spec from; it cannot be set in the spec")
    try:
        theory = Theory.model_validate(data)
    except ValidationError as err:
        raise to_spec_error(err, source, Theory, _inherited(own, private)) from None
    theory = theory.model_copy(update={"source": source})
    theory._inherited = {format_path(loc): str(path) for path, raw in private for loc in _leaves(raw)
                         if loc and loc[0] != "extends" and not _present(own, loc)}
    return theory


def _leaves(node: Any, prefix: tuple = ()):
    if isinstance(node, dict) and node:
        for k, v in node.items():
            yield from _leaves(v, prefix + (k,))
    elif isinstance(node, list) and node:
        for i, v in enumerate(node):
            yield from _leaves(v, prefix + (i,))
    else:
        yield prefix


def inherited_from(theory: Theory, field: str | None) -> str | None:
    """The private parent file an error at ``field`` of ``theory`` is about, or None."""
    inh = getattr(theory, "_inherited", None) or {}
    if not field or not inh:
        return None
    for path, parent in inh.items():
        if field == path or field.startswith((path + ".", path + "[")) or path.startswith((field + ".", field + "[")):
            return parent
    return None


def redact_inherited(theory: Theory, err: BaseException) -> BaseException:
    """``err`` itself, or, when it is a SpecError about a value the spec inherited from a private parent
    file (one the user did not name), a SpecError at the same field that does not quote the value."""
    if isinstance(err, SpecError):
        parent = inherited_from(theory, err.field)
        if parent:
            return SpecError(f"invalid entry inherited from {parent} (not shown: values from files not named by "
                             f"the user are never printed; run 'nnft validate {parent}' to see it)",
                             file=err.file, field=err.field)
    return err


def _inherited(own: dict, private: list):
    """loc -> the private parent file a value at ``loc`` came from, or None (the user's own value,
    a shipped parent's, or nobody's)."""
    def where(loc: tuple) -> Path | None:
        for n in range(len(loc), 0, -1):       # the deepest prefix someone set decides
            if _present(own, loc[:n]):
                return None
            for path, raw in reversed(private):
                if _present(raw, loc[:n]):
                    return path
        return None
    return where


def load(path: str | Path, **dims: int) -> Theory:
    """Load a spec file (or a shipped spec by name) into a validated :class:`Theory`.

    Example::

        theory = nnft.load("specs/cos_net.yaml", N=64)

    Raises:
      SpecError: naming the file, the field, what was given and what is allowed.
    """
    p = resolve(path)
    return from_dict(_read(p), source=str(p), dims=dims or None)
