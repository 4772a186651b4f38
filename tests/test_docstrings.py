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
#: that work lands (nnft/reference.py, nnft/analytic)
EXEMPT = {"exact", "scalar_net_design"}

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


#: second-level modules whose public helpers (their ``__all__`` functions) follow the same rules:
#: Args (one entry per parameter; ``a, b:`` lines name several), Returns and Raises
SECOND_LEVEL = ("nnft.action.quartic", "nnft.action.running", "nnft.analytic.criticality", "nnft.checks",
                "nnft.estimators.operators", "nnft.function_kernels", "nnft.perturbation.compare",
                "nnft.perturbation.couplings", "nnft.sweep", "nnft.bayes.likelihood", "nnft.estimators.mcmc")


def _helpers():
    for module in SECOND_LEVEL:
        mod = importlib.import_module(module)
        for name in getattr(mod, "__all__", ()):
            obj = getattr(mod, name, None)
            if inspect.isfunction(obj) and obj.__module__ == module and name not in EXEMPT:
                yield f"{module}.{name}", obj


def _documented(block: str) -> set[str]:
    names = set()
    for m in re.finditer(r"^\s*([\w*][\w*, ]*?)( \([^)]*\))?:", block, re.M):
        names |= {n.strip().lstrip("*") for n in m.group(1).split(",")}
    return names


@pytest.mark.parametrize("name,fn", list(_helpers()))
def test_second_level_helper_docstring(name, fn):
    doc = inspect.getdoc(fn) or ""
    sections = set(SECTION.findall(doc))
    params = [p for p in inspect.signature(fn).parameters if p not in ("self", "cls")]
    missing = [s for s in ("Returns", "Raises") if s not in sections]
    if params:
        if "Args" not in sections:
            missing.append("Args")
        else:
            missing += [f"Args entry for {p!r}" for p in params if p not in _documented(_args_block(doc))]
    assert not missing, f"{name}: docstring lacks {', '.join(missing)}"


def test_second_level_rule_catches_a_gap():
    def bad(p, q):
        """Doc.

        Args:
          p: one.

        Returns:
          nothing.
        """
    doc = inspect.getdoc(bad)
    assert "Raises" not in set(SECTION.findall(doc)) and "q" not in _documented(_args_block(doc))
    assert {"p", "q"} <= _documented("  p, q: the slopes.\n")
