"""mkdocs hooks: the site's home page is README.md and CONTRIBUTING.md is a page, without copies.

The repository's markdown is written to read well where it lives (README.md links ``docs/x.md``,
docs/architecture.md links ``../CONTRIBUTING.md``). For the site built from docs/:

- README.md becomes ``index.md`` and CONTRIBUTING.md becomes ``contributing.md`` (generated pages);
- a link from any page is resolved against the page's place in the repository; a link to README.md,
  CONTRIBUTING.md or a file under docs/ is rewritten to that page, and a link to any other file of
  the repository (``../specs``, ``examples/...``) becomes its path in code style, since the site
  does not contain it.

Links to missing files are left alone, so ``mkdocs build --strict`` still fails on them.
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

    return LINK.sub(fix, markdown)
