"""mkdocs hooks: the site's home page is README.md and CONTRIBUTING.md is a page, without copies.

The repository's markdown is written to read well where it lives (README.md links ``docs/x.md``,
docs/architecture.md links ``../CONTRIBUTING.md``). For the site built from docs/:

- README.md becomes ``index.md`` and CONTRIBUTING.md becomes ``contributing.md`` (generated pages);
- ``api/more.md`` is generated with an API entry for each public ``nnft`` name that no page of docs/api
  renders (so a new public name is documented, and checked by the strict build, at once);
- a link from any page is resolved against the page's place in the repository; a link to README.md,
  CONTRIBUTING.md or a file under docs/ is rewritten to that page, and a link to any other file of
  the repository (``../specs``, ``examples/...``) becomes its path in code style, since the site
  does not contain it.

Links to missing files are left alone, so ``mkdocs build --strict`` still fails on them. Brackets
followed by a parenthesis with a space inside, as in E[ψ](1, …, 1), are mathematics, not links: the
parenthesis is escaped. Code (fenced, indented, spans) is never touched.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parent.parent
#: repository markdown shown as site pages: repo path -> page path
PAGES = {"README.md": "index.md", "CONTRIBUTING.md": "contributing.md"}
LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s#]+)(#[^)\s]*)?\)")


def on_files(files, config):
    for src, dest in PAGES.items():
        files.append(File.generated(config, dest, abs_src_path=str(ROOT / src)))
    files.append(File.generated(config, EXTRA_API, content=_more_page()))
    return files


def _repo_path(page_src: str) -> str:
    """The repository path of a page (pages generated from the root keep their root path)."""
    for src, dest in PAGES.items():
        if page_src == dest:
            return src
    return "docs/" + page_src


def on_page_markdown(markdown, page, config, files):
    here = posixpath.dirname(_repo_path(page.file.src_uri))

    def fix(m):
        text, target, anchor = m.group(1), m.group(2), m.group(3) or ""
        if "://" in target or target.startswith(("mailto:", "/")):
            return m.group(0)
        repo = posixpath.normpath(posixpath.join(here, target))
        if repo in PAGES:
            page_dest = PAGES[repo]
        elif repo.startswith("docs/"):
            page_dest = repo[len("docs/"):]
        elif (ROOT / repo).exists():
            return f"{text} (`{repo}`)" if text.strip("`") != repo else f"`{repo}`"
        else:
            return m.group(0)                       # missing: leave it for --strict to report
        page_dir = posixpath.dirname(page.file.src_uri)
        return f"[{text}]({posixpath.relpath(page_dest, page_dir or '.')}{anchor})"

    return _outside_code(markdown, lambda line: LINK.sub(fix, line), lambda text: MATH_LINK.sub(r"[\1]\\(\2)", text))


#: ``[…](…)`` whose target has a space: mathematics such as E[ψ](1, …, 1), not a link (a link target
#: never contains a bare space); the parenthesis is escaped so that Markdown keeps it as text
MATH_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\n\"]*\s[^)\n\"]*)\)")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")


def _outside_code(markdown: str, per_line, fn) -> str:
    """Apply ``per_line`` to each line outside fenced blocks and indented (≥ 4 spaces) lines, then
    ``fn`` to its text outside code spans."""
    out, fenced = [], None
    for line in markdown.split("\n"):
        stripped = line.lstrip()
        if fenced is not None:
            out.append(line)
            if stripped.startswith(fenced):
                fenced = None
            continue
        if stripped.startswith(("```", "~~~")):
            fenced = stripped[:3]
            out.append(line)
            continue
        if line.startswith(("    ", "\t")):
            out.append(line)
            continue
        line = per_line(line)
        parts, last = [], 0
        for m in CODE_SPAN.finditer(line):
            parts += [fn(line[last:m.start()]), m.group(0)]
            last = m.end()
        parts.append(fn(line[last:]))
        out.append("".join(parts))
    return "\n".join(out)


# -- every public name has an API entry: the ones no docs/api page renders go on a generated page -------

EXTRA_API = "api/more.md"


def _public_names() -> dict[str, tuple[str, str]]:
    """nnft's public names -> (module, attribute), read from nnft/__init__.py's ``_PUBLIC`` (no import)."""
    import ast
    tree = ast.parse((ROOT / "nnft" / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        target = node.target if isinstance(node, ast.AnnAssign) else (node.targets[0] if isinstance(node, ast.Assign) else None)
        if isinstance(target, ast.Name) and target.id == "_PUBLIC":
            return ast.literal_eval(node.value)
    return {}


def _rendered() -> tuple[set[str], dict[str, list[str] | None]]:
    """What the hand-written docs/api pages render: whole objects, and modules with their member lists
    (None: every public member)."""
    objects, modules = set(), {}
    for page in (ROOT / "docs" / "api").glob("*.md"):
        blocks = re.split(r"(?m)^::: ", page.read_text(encoding="utf-8"))[1:]
        for block in blocks:
            target = block.split(None, 1)[0]
            members = re.search(r"(?m)^\s+members:\s*(.*)$", block)
            objects.add(target)
            if members is None:
                modules[target] = None
            elif members.group(1).strip().startswith("["):
                modules[target] = [m.strip() for m in members.group(1).strip()[1:-1].split(",") if m.strip()]
    return objects, modules


def missing_public_names() -> list[str]:
    """``module.attr`` of the public names that no hand-written API page renders."""
    objects, modules = _rendered()
    out = []
    for mod, attr in _public_names().values():
        full = f"{mod}.{attr}"
        if full in objects or (mod in modules and (modules[mod] is None or attr in modules[mod])):
            continue
        out.append(full)
    return sorted(set(out))


def _more_page() -> str:
    names = missing_public_names()
    text = ["# Other public names", ""]
    if not names:
        text.append("Every public name of `nnft` is on one of the API pages above.")
    else:
        text.append("Public names of `nnft` that no API page lists yet (generated; move them to a page of docs/api/).")
        for full in names:
            text += ["", f"::: {full}"]
    return "\n".join(text) + "\n"
