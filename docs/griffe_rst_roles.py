"""Griffe extension for the API reference: Sphinx-style roles in docstrings rendered as code.

nnft's docstrings are Google style, with Sphinx cross-reference roles here and there
(``:func:`nnft.study.run```, ``:class:`~nnft.errors.SpecError```). mkdocstrings renders Markdown, so a
role would show up verbatim; this extension turns it into inline code (``~`` keeps the last
component, as Sphinx does), and a paragraph ending in ``::`` (an RST literal-block marker) into ``:``.
Loaded by mkdocs.yml (``extensions:`` of the python handler); the docstrings themselves are unchanged.
"""

from __future__ import annotations

import re

import griffe

ROLE = re.compile(r":(?:py:)?(?:func|class|mod|meth|attr|data|exc|obj|const):`(~?)([^`]+)`")
LITERAL = re.compile(r"(?m)(\S)::$")


def _code(m: re.Match) -> str:
    target = m.group(2)
    return f"`{target.rsplit('.', 1)[-1] if m.group(1) else target}`"


class RstRoles(griffe.Extension):
    def on_instance(self, *, node, obj, agent, **kwargs) -> None:
        if obj.docstring is not None:
            text = ROLE.sub(_code, obj.docstring.value)
            obj.docstring.value = LITERAL.sub(r"\1:", text)
