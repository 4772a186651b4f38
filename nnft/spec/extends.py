"""``extends:``: a spec inheriting another's blocks, and the provenance of inherited values.

A chain is at most :data:`MAX_EXTENDS` deep, with cycles reported. Values read from a parent the user
did not name (a spec file that is not shipped) are never echoed: an error about them names the field
and the parent file, not the value (shipped parents are public).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from nnft.errors import SpecError
from nnft.spec.read import read_mapping
from nnft.spec.resolve import resolve_parent

if TYPE_CHECKING:
    from nnft.spec.models import Theory

MAX_EXTENDS = 8
#: tagged one-key mappings: an override replaces them instead of merging into them
_REPLACE_KEYS = {"density", "reference", "points", "line", "list"}


def merge(base: dict, override: dict) -> dict:
    """Deep-merge ``override`` into ``base`` (``extends:``); tagged one-key mappings are replaced."""
    out = dict(base)
    for k, v in override.items():
        if k in out and isinstance(out[k], dict) and isinstance(v, dict) and k not in _REPLACE_KEYS:
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


def expand(data: dict, source: str, chain: tuple[str, ...], private: list | None = None) -> dict:
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
        base = expand(read_mapping(path), str(path), chain + (key,), private)
    else:
        try:
            raw = read_mapping(path)
            base = expand(raw, str(path), chain + (key,), private)
        except SpecError as err:
            # the parent's content is not shown (the user did not name that file on the command line)
            raise SpecError(f"the parent spec {parent!r} ({path}) cannot be used: {_kind_of_problem(err)} "
                            f"(its content is not shown; run 'nnft validate {path}' to see the error there)",
                            file=source, field="extends") from None
        if private is not None:
            private.append((path, raw))
    child = {k: v for k, v in data.items() if k != "extends"}
    return merge({k: v for k, v in base.items() if k != "extends"}, child)


#: read_mapping's messages that describe the file without quoting it
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


def present(node: Any, loc: tuple) -> bool:
    """Whether the path ``loc`` exists in the mapping/list ``node``."""
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return False
    return True


def leaves(node: Any, prefix: tuple = ()):
    """The paths (tuples of keys and indices) of every leaf value of a mapping/list ``node``; an empty
    mapping or list is a leaf."""
    if isinstance(node, dict) and node:
        for k, v in node.items():
            yield from leaves(v, prefix + (k,))
    elif isinstance(node, list) and node:
        for i, v in enumerate(node):
            yield from leaves(v, prefix + (i,))
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


def private_source(own: dict, private: list):
    """loc -> the private parent file a value at ``loc`` came from, or None (the user's own value,
    a shipped parent's, or nobody's)."""
    def where(loc: tuple) -> Path | None:
        for n in range(len(loc), 0, -1):       # the deepest prefix someone set decides
            if present(own, loc[:n]):
                return None
            for path, raw in reversed(private):
                if present(raw, loc[:n]):
                    return path
        return None
    return where
