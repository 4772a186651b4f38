"""No module switches on density names: facts about a density live on the density (issue 12).

Walks the AST of every module of ``nnft/`` outside ``nnft/densities/`` (the implementations) and
``nnft/spec/`` (the signatures and spec generation, which write density names) and fails on

* a comparison (``==``, ``!=``, ``in``, ``not in``, ``is``) with a density name string, or with a
  tuple / list / set literal holding one;
* a dict literal keyed by a density name string (a per-density table such as the old ``EVEN_LOC``);
* a ``match`` case on a density name string.

The checker is tested on a snippet with each pattern (it must flag them) and on clean code.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nnft
from nnft.spec.signatures import DENSITIES

ROOT = Path(nnft.__file__).parent
EXEMPT = ("densities", "spec")
NAMES = frozenset(DENSITIES)


def _is_name(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and node.value in NAMES
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(_is_name(e) for e in node.elts)
    return False


def density_name_switches(source: str, filename: str = "<snippet>") -> list[str]:
    """``file:line: what`` for every comparison with, dict keyed by, or match case on a density name."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Compare) and any(_is_name(x) for x in (node.left, *node.comparators)):
            found.append((node.lineno, "comparison with a density name"))
        elif isinstance(node, ast.Dict) and any(k is not None and _is_name(k) for k in node.keys):
            found.append((node.lineno, "dict keyed by a density name"))
        elif isinstance(node, ast.MatchValue) and _is_name(node.value):
            found.append((node.lineno, "match case on a density name"))
    return [f"{filename}:{line}: {what}" for line, what in sorted(found)]


def _modules():
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel.parts[0] not in EXEMPT:
            yield rel, path.read_text(encoding="utf-8")


def test_no_module_switches_on_density_names():
    mods = list(_modules())
    assert len(mods) > 20 and any(str(rel).startswith("graph") for rel, _ in mods)
    found = [hit for rel, src in mods for hit in density_name_switches(src, f"nnft/{rel}")]
    assert not found, "declare the fact on the Density instead:\n" + "\n".join(found)


def test_the_checker_flags_every_pattern():
    bad = '''
if a["density"] != "normal":
    pass
ok = name in ("cauchy", "laplace")
EVEN = {"student_t": "loc"}
match kind:
    case "uniform_ball":
        pass
'''
    hits = density_name_switches(bad)
    assert [h.split(": ", 1)[1] for h in hits] == [
        "comparison with a density name", "comparison with a density name", "dict keyed by a density name",
        "match case on a density name"]
    assert [int(h.split(":")[1]) for h in hits] == [2, 4, 5, 7]


def test_the_checker_passes_clean_code():
    clean = '''
spec = {"density": {"std": 1.0}}
for name, t in (("exponential", 1.0), ("power", 2.0)):
    pass
iso = dens.isotropic(args) and dens.event_dims == 0
if mode == "normalised":
    pass
'''
    assert density_name_switches(clean) == []
