"""Every public ``nnft.*`` function documents its arguments, what it returns, what it raises and where
its formula comes from (issue 11 item 7; CONTRIBUTING.md): an ``Args:`` entry per parameter (one name
per line, as mkdocstrings reads them), ``Returns:``, ``Raises:``, and an arXiv number or "not from a
paper" for pure utilities."""

from __future__ import annotations

import importlib
import inspect
import re

import pytest

import nnft

#: public functions whose modules other work is rewriting now; their docstrings are checked once
#: that work lands (nnft/training, nnft/bayes, nnft/reference.py, nnft/analytic)
EXEMPT = {"train", "posterior", "nngp_posterior", "condition", "exact", "scalar_net_design"}

SECTION = re.compile(r"^\s*(Args|Returns|Raises):\s*$", re.M)


def _functions():
    for name, (module, attr) in sorted(nnft._PUBLIC.items()):
        obj = getattr(importlib.import_module(module), attr)   # the function itself, not the checked wrapper
        if inspect.isfunction(obj):
            yield name, obj


def _args_block(doc: str) -> str:
    m = re.search(r"^\s*Args:\s*$(.*?)(?=^\s*\w[\w ]*:\s*$|\Z)", doc, re.M | re.S)
    return m.group(1) if m else ""


@pytest.mark.parametrize("name,fn", [(n, f) for n, f in _functions() if n not in EXEMPT])
def test_public_function_docstring(name, fn):
    doc = inspect.getdoc(fn) or ""
    sections = set(SECTION.findall(doc))
    params = [p for p in inspect.signature(fn).parameters if p not in ("self", "cls")]
    missing = [s for s in ("Returns", "Raises") if s not in sections]
    if params:
        if "Args" not in sections:
            missing.append("Args")
        else:
            block = _args_block(doc)
            missing += [f"Args entry for {p!r}" for p in params
                        if not re.search(rf"^\s*\**{re.escape(p)}( \([^)]*\))?:", block, re.M)]
    if not re.search(r"arXiv:|not from a paper", doc):
        missing.append("a source (arXiv number, or 'not from a paper: ...')")
    assert not missing, f"nnft.{name}: docstring lacks {', '.join(missing)}"


def test_a_missing_section_is_caught():
    """The check above must fail on a docstring without Raises or an entry for one argument."""
    def bad(x, y):
        """Doc.

        Args:
          x: one.

        Returns:
          nothing; not from a paper.
        """
    doc = inspect.getdoc(bad)
    assert "Raises" not in set(SECTION.findall(doc))
    assert not re.search(r"^\s*y( \([^)]*\))?:", _args_block(doc), re.M)


def test_exempt_names_are_public():
    assert EXEMPT <= set(nnft._PUBLIC)
