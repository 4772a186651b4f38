"""Spec names and paths -> files: an existing path, a shipped spec by name (``cos_net``), or the
parent an ``extends:`` names, confined to the extending spec's own directory (no absolute paths, no
``..`` escape, no symlink leading out of it: the path is resolved and its containment checked).
"""

from __future__ import annotations

from pathlib import Path

from nnft.errors import SpecError, did_you_mean, suggest
from nnft.spec.read import SUFFIXES

#: longest spec path or 'extends' name (longer names are refused before touching the file system)
MAX_NAME_CHARS = 255
SHIPPED = Path(__file__).resolve().parent.parent / "specs"


def shipped_specs() -> dict[str, Path]:
    """Names of the specs shipped with nnft (``cos_net``, ``gauss_net``, ...) and their files.

    Returns:
      A dict name -> :class:`pathlib.Path`, sorted by file name; empty when the package ships none.

    Raises:
      Nothing: a missing spec directory gives an empty dict.

    Source: not from a paper: a file listing.
    """
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
                     hint=did_you_mean(stem, guess))


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
