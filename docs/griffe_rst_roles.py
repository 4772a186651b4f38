"""Griffe extension for the API reference: docstring idioms of nnft rendered as mkdocstrings expects.

nnft's docstrings are Google style, with two habits mkdocstrings does not read as intended; this
extension rewrites the docstring text as it is loaded (the source files are unchanged):

- Sphinx cross-reference roles (``:func:`nnft.study.run```, ``:class:`~nnft.errors.SpecError```)
  become inline code (``~`` keeps the last component, as Sphinx does), and a paragraph ending in
  ``::`` (an RST literal-block marker) ends in ``:``;
- an ``Args:`` entry documenting several parameters at once (``samples, key: …`` or
  ``rel_tol / tolerance: …``) becomes one entry per parameter with the same text, so each name is
  still checked against the signature (a name the function does not have fails ``--strict``).

Loaded by mkdocs.yml (``extensions:`` of the python handler).
"""

from __future__ import annotations

import re

import griffe

ROLE = re.compile(r":(?:py:)?(?:func|class|mod|meth|attr|data|exc|obj|const):`(~?)([^`]+)`")
LITERAL = re.compile(r"(?m)(\S)::$")
SECTION = re.compile(r"^(\s*)(Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments|Other Parameters):\s*$")
MULTI = re.compile(r"^(\s+)(\*{0,2}\w+(?:\s*(?:,|/)\s*\*{0,2}\w+)+):(\s.*)?$")


def _code(m: re.Match) -> str:
    target = m.group(2)
    return f"`{target.rsplit('.', 1)[-1] if m.group(1) else target}`"


def split_multi_args(text: str) -> str:
    """One ``Args:`` entry per parameter (see the module docstring)."""
    lines = text.splitlines()
    out: list[str] = []
    i, in_args, head = 0, False, -1
    while i < len(lines):
        line = lines[i]
        m = SECTION.match(line)
        if m:
            in_args, head = True, len(m.group(1))
            out.append(line)
            i += 1
            continue
        if in_args and line.strip() and len(line) - len(line.lstrip()) <= head:
            in_args = False                                   # dedent: the section ended
        mm = MULTI.match(line) if in_args else None
        if mm:
            indent, names, desc = mm.group(1), mm.group(2), (mm.group(3) or "")
            j = i + 1                                         # the entry's continuation lines
            while j < len(lines) and lines[j].strip() and len(lines[j]) - len(lines[j].lstrip()) > len(indent):
                j += 1
            for name in re.split(r"\s*(?:,|/)\s*", names):
                out.append(f"{indent}{name}:{desc}")
                out.extend(lines[i + 1:j])
            i = j
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


class RstRoles(griffe.Extension):
    def on_instance(self, *, node, obj, agent, **kwargs) -> None:
        if obj.docstring is not None:
            text = ROLE.sub(_code, obj.docstring.value)
            text = LITERAL.sub(r"\1:", text)
            obj.docstring.value = split_multi_args(text)
