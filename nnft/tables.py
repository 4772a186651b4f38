"""Text tables that fit a terminal: widths, wrapping, estimate notation and coloured verdicts.

Every table nnft prints (``nnft run``, ``check``, ``sweep``-style ``--set a=1,2``, ``perturb``) is built
by :func:`render` from a header and rows of cells. The table is as wide as its cells when that fits
the target width (:func:`terminal_width`); otherwise

1. a row's *label* (its point tuple, e.g. ``1,0,0;0.6,0.8,0``) moves to a line of its own above the
   row's numbers, broken only between points (``;``), never inside a point;
2. if the numbers are still too wide, the columns are split into stacked blocks, each repeating the
   key columns (e.g. the order n) and the labels, so every block can be read alone.

No line is then wider than the target, except a single unbreakable token (one point or one cell) that
is itself wider.

The same tables as HTML (Jupyter's ``_repr_html_``): :func:`html` runs a result's text-table function
with :func:`render` recording its header and rows instead of laying them out, and returns the prose
lines as ``<pre>`` blocks and every recorded table as a ``<table>``. A result type defines its table
once (header and cells) and gets both media; :class:`TextTable` gives a class whose ``table()`` builds
the text its ``__str__`` and ``_repr_html_``. The renderer lives here, in the bottom layer, so result
types of any layer use it without importing upward. No third-party table library is used: ``rich`` would handle widths and colour but
costs ~40 ms of import and a dependency for what ~150 lines do here, and its tables wrap *inside*
cells (a tuple cut mid-way), which these tables must never do.

Settings, each read in one place:

``COLUMNS``         the target width (``shutil.get_terminal_size``); when stdout is not a terminal and
                    ``COLUMNS`` is unset the width is :data:`PIPE_WIDTH` (files and pipes keep long rows)
``NNFT_NOTATION``   ``pm`` (default: ``0.4989 ± 0.0015``; alias ``plain``) or ``paren`` (``0.4989(15)``,
                    :func:`nnft.stats.format_paren`) for every estimate in the tables; the CLI's
                    ``--notation`` overrides it (:func:`use_notation`)
``NO_COLOR``        set and non-empty: never colour (https://no-color.org); verdicts are otherwise
                    coloured only when stdout is a terminal, or always with ``NNFT_COLOR=always``
                    (``NNFT_COLOR=never`` turns colour off too)
"""

from __future__ import annotations

import contextvars
import html as _html
import os
import shutil
import sys
import unicodedata
from typing import Callable, Sequence

from nnft.stats import format_paren, format_value

#: the width when stdout is not a terminal and COLUMNS is unset (a file or a pipe: long rows kept)
PIPE_WIDTH = 200
#: ANSI colours of the verdicts a check prints
VERDICT_COLOURS = {"PASS": "32", "FAIL": "31", "INCONCLUSIVE": "33"}
NOTATIONS = ("pm", "paren")
#: other names of a notation (the CLI's ``--notation plain`` is ``pm``)
NOTATION_ALIASES = {"plain": "pm"}
#: the tables :func:`render` records while :func:`html` runs (None: not recording)
_RECORDING: contextvars.ContextVar = contextvars.ContextVar("nnft_tables_recording", default=None)
#: a recorded table's place in the text: this prefix, its index, then :data:`_MARK_END`
_MARK, _MARK_END = "\x00nnft-table:", "\x00"
#: the width while recording (the text around the tables is not wrapped for HTML)
_RECORD_WIDTH = 10_000
#: explicit notation (the CLI's ``--notation``), overriding ``NNFT_NOTATION``; None: read the environment
_NOTATION: contextvars.ContextVar = contextvars.ContextVar("nnft_tables_notation", default=None)


def terminal_width(stream=None) -> int:
    """The width tables are fitted to: ``COLUMNS`` if set, the terminal's width when ``stream``
    (default stdout) is a terminal, else :data:`PIPE_WIDTH`. At least 20."""
    if _RECORDING.get() is not None:
        return _RECORD_WIDTH
    stream = sys.stdout if stream is None else stream
    env = os.environ.get("COLUMNS", "")
    if env.isdigit() and int(env) > 0:
        return max(20, int(env))
    try:
        if stream.isatty():
            return max(20, shutil.get_terminal_size((PIPE_WIDTH, 24)).columns)
    except (AttributeError, ValueError, OSError):
        pass
    return PIPE_WIDTH


def notation() -> str:
    """The estimate notation of the tables: the one :func:`use_notation` set (the CLI's ``--notation``),
    else ``NNFT_NOTATION`` (``pm`` or ``paren``), default ``pm``.

    Raises:
      InputError: another value of ``NNFT_NOTATION`` (a ValueError; one line on the command line)."""
    chosen = _NOTATION.get()
    if chosen is not None:
        return chosen
    got = os.environ.get("NNFT_NOTATION", "pm").strip().lower() or "pm"
    got = NOTATION_ALIASES.get(got, got)
    if got not in NOTATIONS:
        from nnft.errors import InputError
        raise InputError(f"NNFT_NOTATION must be one of {', '.join(NOTATIONS + tuple(NOTATION_ALIASES))}, got {got!r}")
    return got


def use_notation(style: str | None):
    """Set the estimate notation for what follows in this context (``pm`` or its alias ``plain``,
    ``paren``; None: back to ``NNFT_NOTATION``), overriding the environment; returns a token for
    :func:`reset_notation`.

    Raises:
      InputError: another value."""
    style = NOTATION_ALIASES.get(style, style) if style is not None else None
    if style is not None and style not in NOTATIONS:
        from nnft.errors import InputError
        raise InputError(f"--notation must be one of {', '.join(NOTATIONS)}, got {str(style)[:40]!r}")
    return _NOTATION.set(style)


def reset_notation(token) -> None:
    """Undo a :func:`use_notation`."""
    _NOTATION.reset(token)


def estimate(mean: float, err: float, style: str | None = None) -> str:
    """An estimate as a table cell: ``0.4989 ± 0.0015`` (``pm``) or ``0.4989(15)`` (``paren``);
    ``style`` None reads :func:`notation`."""
    style = notation() if style is None else style
    return format_paren(mean, err) if style == "paren" else format_value(mean, err)


def colour_enabled(stream=None) -> bool:
    """Whether to colour: never with ``NO_COLOR`` set (non-empty) or ``NNFT_COLOR=never``; always
    with ``NNFT_COLOR=always``; otherwise when ``stream`` (default stdout) is a terminal."""
    if os.environ.get("NO_COLOR") or _RECORDING.get() is not None:
        return False
    force = os.environ.get("NNFT_COLOR", "").strip().lower()
    if force in ("always", "never"):
        return force == "always"
    stream = sys.stdout if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def verdict(text: str, colour: bool | None = None) -> str:
    """A verdict word (PASS, FAIL, INCONCLUSIVE) coloured green/red/yellow when ``colour`` (None:
    :func:`colour_enabled`); other text unchanged."""
    code = VERDICT_COLOURS.get(text.strip())
    if code is None or not (colour_enabled() if colour is None else colour):
        return text
    return f"\x1b[{code}m{text}\x1b[0m"


def display_width(text: str) -> int:
    """Terminal cells of ``text``: combining marks (the hat of k̂) take none, wide characters two, ANSI
    colour codes none."""
    w, i = 0, 0
    while i < len(text):
        ch = text[i]
        if ch == "\x1b":                                   # an ANSI escape: up to its final letter
            j = i + 1
            while j < len(text) and not text[j].isalpha():
                j += 1
            i = j + 1
            continue
        if not unicodedata.combining(ch):
            w += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        i += 1
    return w


def _pad(text: str, width: int, align: str) -> str:
    gap = max(0, width - display_width(text))
    return text + " " * gap if align == "<" else " " * gap + text


def wrap_tokens(tokens: Sequence[str], width: int, sep: str = ";", indent: str = "") -> list[str]:
    """Tokens joined by ``sep`` into lines of at most ``width`` cells, broken only between tokens
    (``sep`` ends a broken line); a token wider than the line gets a line of its own."""
    lines, cur = [], ""
    for i, tok in enumerate(tokens):
        piece = tok + (sep if i < len(tokens) - 1 else "")
        if cur and display_width(indent + cur + piece.rstrip()) > width:
            lines.append(indent + cur.rstrip())
            cur = ""
        cur += piece
    if cur or not lines:
        lines.append(indent + cur.rstrip())
    return lines


def render(header: Sequence[str], rows: Sequence[Sequence[str]], *, align: Sequence[str] | None = None,
           width: int | None = None, keep: Sequence[int] = (0,), label: int | None = None,
           label_sep: str = ";", gap: str = " ", minwidth: Sequence[int] | None = None,
           label_below: bool = False, after: Sequence[Sequence[str]] | None = None) -> list[str]:
    """The lines of a table fitted to ``width`` (None: :func:`terminal_width`), header underlined.

    Args:
      header: the column titles.
      rows: the cells, one sequence per row, as many as ``header``.
      align: per column ``"<"`` or ``">"`` (default: first column ``>``, others ``>``).
      keep: the key columns repeated in every block when the columns are split.
      label: the column (if any) that leaves the row for a line of its own when the table is too wide,
        broken only at ``label_sep``.
      minwidth: per column, the least width (keeps a wide table's look when it fits).
      label_below: a moved label goes below its row's numbers instead of above.
      after: per row, lines printed under it (in the last block), wrapped as :func:`wrap_text`.
    """
    recording = _RECORDING.get()
    if recording is not None:                      # html(): keep the cells, mark the table's place
        recording.append((list(header), [[str(c) for c in r] for r in rows],
                          list(align) if align is not None else [">"] * len(header),
                          [list(a) for a in after] if after is not None else None))
        return [f"{_MARK}{len(recording) - 1}{_MARK_END}"]
    width = terminal_width() if width is None else width
    align = list(align) if align is not None else [">"] * len(header)
    mins = list(minwidth) if minwidth is not None else [0] * len(header)
    shown = [j for j in range(len(header)) if header[j].strip() or any(str(r[j]).strip() for r in rows)]
    if len(shown) < len(header):                    # columns with nothing to show are left out
        pos = {j: i for i, j in enumerate(shown)}
        label = pos.get(label) if label is not None else None
        keep = [pos[j] for j in keep if j in pos]
        header, align, mins = [header[j] for j in shown], [align[j] for j in shown], [mins[j] for j in shown]
        rows = [[r[j] for j in shown] for r in rows]
    ncol = len(header)
    cells = [[str(c) for c in r] for r in rows]
    widths = [max([display_width(header[j]), mins[j]] + [display_width(r[j]) for r in cells]) for j in range(ncol)]

    def block(cols, with_label_lines: bool, last: bool = True) -> list[str]:
        head = gap.join(_pad(header[j], widths[j], align[j]) for j in cols).rstrip()
        total = sum(widths[j] for j in cols) + len(gap) * (len(cols) - 1)
        out = [head, "-" * min(max(total, display_width(head)), width)]
        for i, r in enumerate(cells):
            moved = wrap_tokens(r[label].split(label_sep), width, label_sep, indent="  ") \
                if with_label_lines and r[label] else []
            out += [] if label_below else moved
            out.append(gap.join(_pad(r[j], widths[j], align[j]) for j in cols).rstrip())
            out += moved if label_below else []
            if last and after is not None:
                out += wrap_text(after[i], width)
        return out

    every = list(range(ncol))
    full = sum(widths) + len(gap) * (ncol - 1)
    if full <= width:
        return block(every, False)
    widths = [max([display_width(header[j])] + [display_width(r[j]) for r in cells]) for j in range(ncol)]
    if sum(widths) + len(gap) * (ncol - 1) <= width:           # fits without the least widths
        return block(every, False)
    rest = [j for j in every if j != label]
    moved = label is not None
    keep = [j for j in keep if j in rest]
    # greedy: pack the other columns into blocks, each starting with the key columns
    blocks, cur = [], list(keep)
    for j in rest:
        if j in keep:
            continue
        trial = cur + [j]
        if len(cur) > len(keep) and sum(widths[k] for k in trial) + len(gap) * (len(trial) - 1) > width:
            blocks.append(cur)
            cur = list(keep) + [j]
        else:
            cur = trial
    blocks.append(cur)
    out: list[str] = []
    for i, cols in enumerate(blocks):
        if i:
            out.append("")
        out += block(cols, moved, i == len(blocks) - 1)
    return out


def html(text: Callable[[], str]) -> str:
    """The HTML of a text table: ``text()`` (a result's ``table`` method, or any function that builds
    its tables with :func:`render`) is run with every :func:`render` recorded; its prose lines come
    back escaped in ``<pre>`` blocks, each table as a ``<table>`` (header row, one row per cell row,
    the lines :func:`render` would print under a row as a row spanning the table). Columns with
    nothing in them are left out, as in the text. Estimates follow :func:`notation`; never coloured.

    Returns:
      well-formed HTML (every element closed), one ``<div class="nnft-result">``."""
    recorded: list = []
    token = _RECORDING.set(recorded)
    try:
        out_text = text()
    finally:
        _RECORDING.reset(token)
    parts, prose = ['<div class="nnft-result">'], []

    def flush():
        while prose and not prose[-1].strip():
            prose.pop()
        if prose:
            parts.append("<pre>" + _html.escape("\n".join(prose)) + "</pre>")
        prose.clear()

    for line in str(out_text).split("\n"):
        mark = line.strip()
        if mark.startswith(_MARK) and mark.endswith(_MARK_END) and mark[len(_MARK):-1].isdigit():
            flush()
            parts.append(_html_table(*recorded[int(mark[len(_MARK):-1])]))
        elif prose or line.strip():
            prose.append(line)
    flush()
    parts.append("</div>")
    return "\n".join(parts)


def _html_table(header, rows, align, after) -> str:
    shown = [j for j in range(len(header)) if header[j].strip() or any(r[j].strip() for r in rows)]
    side = {"<": "left", ">": "right"}
    esc = _html.escape
    out = ["<table>", "<tr>" + "".join(f"<th>{esc(header[j].strip())}</th>" for j in shown) + "</tr>"]
    for i, r in enumerate(rows):
        out.append("<tr>" + "".join(f'<td style="text-align:{side.get(align[j], "right")}">{esc(r[j].strip())}</td>'
                                    for j in shown) + "</tr>")
        if after is not None and after[i]:
            out.append(f'<tr><td colspan="{len(shown)}" style="text-align:left"><small>'
                       + "<br/>".join(esc(x.strip()) for x in after[i]) + "</small></td></tr>")
    out.append("</table>")
    return "\n".join(out)


def recording() -> bool:
    """Whether :func:`html` is running (a text function may then give a table where text has prose)."""
    return _RECORDING.get() is not None


class TextTable:
    """Mixin of a result with a ``table(width=None) -> str`` method (built with :func:`render`):
    ``print(result)`` shows the text table, Jupyter the same table as HTML (:func:`html`)."""

    def __str__(self) -> str:
        return self.table()

    def _repr_html_(self) -> str:
        return html(self.table)


def versions() -> dict[str, str]:
    """The installed nnft and JAX versions (package metadata; JAX is not imported)."""
    from importlib import metadata
    out = {}
    for pkg in ("nnft", "jax"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "unknown"
    return out


def wrap_text(lines: Sequence[str], width: int | None = None) -> list[str]:
    """Prose lines (notes, footnotes) wrapped to ``width`` (None: :func:`terminal_width`) at spaces,
    continuation lines indented two more than the line's own indent; words are never broken."""
    import textwrap
    width = terminal_width() if width is None else width
    out = []
    for ln in lines:
        if display_width(ln) <= width:
            out.append(ln)
            continue
        ind = " " * (len(ln) - len(ln.lstrip(" ")))
        out += textwrap.wrap(ln.strip(), width=width, initial_indent=ind, subsequent_indent=ind + "  ",
                             break_long_words=False, break_on_hyphens=False) or [ln]
    return out


def printable_coloured(text: str) -> str:
    """``text`` with terminal control characters replaced (``nnft.errors.printable``: spec text is
    untrusted) except the colour codes of :func:`verdict` around a verdict word, kept as they are."""
    import re
    from nnft.errors import printable
    pattern = re.compile("\x1b\\[(%s)m(%s)\x1b\\[0m" % ("|".join(VERDICT_COLOURS.values()), "|".join(VERDICT_COLOURS)))
    out, pos = [], 0
    for m in pattern.finditer(text):
        out.append(printable(text[pos:m.start()]) + m.group(0))
        pos = m.end()
    out.append(printable(text[pos:]))
    return "".join(out)
