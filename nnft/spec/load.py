"""Loading spec files (YAML, TOML, JSON) safely into :class:`~nnft.spec.models.Theory`.

The steps, one module each:
- :mod:`nnft.spec.resolve`: a name or path -> a file (shipped specs by name; ``extends:`` confined to
  the extending spec's directory);
- :mod:`nnft.spec.read`: a file or text -> a plain mapping, safely (size bound, safe YAML without
  anchors, aliases or object tags, no NaN/inf, bounded nesting);
- :mod:`nnft.spec.extends`: the ``extends:`` chain merged in, values from parents the user did not
  name never echoed;
- here: overrides of named sizes, and validation into a ``Theory``; every validation error becomes a
  :class:`~nnft.errors.SpecError` naming the file and field.

The public names of spec loading are importable from here (``nnft.spec.load.shipped_specs`` etc.).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from nnft.errors import SpecError, format_path
from nnft.spec.extends import (MAX_EXTENDS, expand, inherited_from, leaves, merge, present,  # noqa: F401
                               private_source, redact_inherited)
from nnft.spec.models import Theory
from nnft.spec.read import MAX_FILE_BYTES, MAX_NESTING, SUFFIXES, parse_text, read_mapping  # noqa: F401
from nnft.spec.resolve import MAX_NAME_CHARS, SHIPPED, resolve, resolve_parent, shipped_specs  # noqa: F401
from nnft.spec.validation import to_spec_error


def from_dict(data: dict, source: str = "<dict>", dims: dict[str, int] | None = None) -> Theory:
    """Validate a spec mapping (after ``extends:`` expansion) into a :class:`Theory`.

    Args:
      data: the spec mapping.
      source: the file it came from (for messages).
      dims: named sizes to override (e.g. ``{"N": 64}``).
    """
    own = dict(data)
    private: list = []
    data = expand(own, source, (str(Path(source).resolve()),) if source not in ("<dict>", "<string>") else (), private)
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
        raise to_spec_error(err, source, Theory, private_source(own, private)) from None
    theory = theory.model_copy(update={"source": source})
    theory._inherited = {format_path(loc): str(path) for path, raw in private for loc in leaves(raw)
                         if loc and loc[0] != "extends" and not present(own, loc)}
    return theory


def load(path: str | Path, **dims: int) -> Theory:
    """Load a spec file (or a shipped spec by name) into a validated :class:`Theory`.

    Example::

        theory = nnft.load("specs/cos_net.yaml", N=64)

    Raises:
      SpecError: naming the file, the field, what was given and what is allowed.
    """
    p = resolve(path)
    return from_dict(read_mapping(p), source=str(p), dims=dims or None)
