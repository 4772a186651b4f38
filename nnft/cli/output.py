"""What the ``nnft`` command prints: every stream filtered of terminal control characters (spec text
is untrusted), errors and warnings as one line each."""

from __future__ import annotations

import contextlib
import io
import sys

import click

from nnft.errors import printable

#: longest error line printed (a message is cut there, never split over lines)
MAX_ERROR_CHARS = 2000


class Printable(io.TextIOBase):
    """A text stream that forwards to ``inner`` with terminal control characters replaced."""

    def __init__(self, inner):
        self._inner = inner

    def write(self, text):
        """Write ``text`` with control characters replaced (TypeError on bytes: click's binary probe)."""
        if not isinstance(text, str):
            raise TypeError("text stream")   # click probes binary-ness with write(b"")
        return self._inner.write(printable(text))

    def flush(self):
        """Flush the stream behind the filter."""
        self._inner.flush()

    def isatty(self):
        """Whether the stream behind the filter is a terminal."""
        return bool(getattr(self._inner, "isatty", lambda: False)())

    @property
    def raw_stream(self):
        """The stream behind the filter (for nnft's own progress bars, which contain no spec text)."""
        return self._inner

    def writable(self):
        """Always True (a text stream for output)."""
        return True

    @property
    def encoding(self):
        """The encoding of the stream behind the filter (utf-8 if it has none)."""
        return getattr(self._inner, "encoding", None) or "utf-8"

    @property
    def errors(self):
        """The encoding error handler of the stream behind the filter (strict if it has none)."""
        return getattr(self._inner, "errors", None) or "strict"


@contextlib.contextmanager
def printable_streams():
    """``sys.stdout`` and ``sys.stderr`` replaced by :class:`Printable` filters while the block runs."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = Printable(out), Printable(err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err


def one_line(err: BaseException) -> str:
    """An error as one printable line: ``error: file: field: message; got: ...; allowed: ...``."""
    if isinstance(err, click.ClickException):
        text = err.format_message()
    else:
        text = str(err) or type(err).__name__
    parts = [p.strip() for p in printable(text).splitlines() if p.strip()]
    line = "error: " + "; ".join(parts)
    return line if len(line) <= MAX_ERROR_CHARS else line[:MAX_ERROR_CHARS - 3] + "..."


def one_line_warning(message, category, filename, lineno, file=None, line=None):
    """``warnings.showwarning`` on the command line: one line, 'warning: Category: message', no source excerpt."""
    parts = [p.strip() for p in printable(str(message)).splitlines() if p.strip()]
    click.echo(f"warning: {category.__name__}: " + "; ".join(parts), err=True)
