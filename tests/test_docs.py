"""The documentation: the site builds with no warnings, and nothing cites a file the repository lacks.

- ``mkdocs build --strict`` of mkdocs.yml (docs/ pages plus the API reference from the docstrings by
  mkdocstrings): a broken link, a missing nav page or a docstring whose ``Args:`` name no parameter of
  its function fails the build (needs the ``docs`` extra: ``pip install -e ".[docs]"``).
- No tracked file mentions the project's private notes (design, style and physics notes kept outside
  the repository) or the lecture-note transcriptions: code, specs and docs cite papers by arXiv
  number and equation instead.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# built from pieces so that this file does not match itself
FORBIDDEN = [n + ".md" for n in ("PHYSICS", "DESIGN", "STYLE")] + ["/work/" + "shared", "shared/" + "seeds"]


def _tracked_files() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
        return [ROOT / p for p in out.decode().split("\0") if p]
    except (OSError, subprocess.CalledProcessError):       # not a git checkout: walk the tree
        files = []
        for dirpath, dirnames, filenames in os.walk(ROOT):
            dirnames[:] = [d for d in dirnames if not d.startswith(".") and d not in ("build", "__pycache__")]
            files += [Path(dirpath) / f for f in filenames]
        return files


def test_no_file_cites_files_outside_the_repository():
    pattern = re.compile("|".join(re.escape(n) for n in FORBIDDEN))   # case matters: docs/physics.md is ours
    hits = []
    for path in _tracked_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for i, line in enumerate(text.splitlines(), 1):
            if pattern.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{i}: {line.strip()[:120]}")
    assert not hits, "cite papers (arXiv number + equation) instead of files outside the repository:\n" + "\n".join(hits)


def test_forbidden_pattern_catches_a_citation():
    """The wrong answer the scan above must catch (so the test is not vacuous)."""
    pattern = re.compile("|".join(re.escape(n) for n in FORBIDDEN))
    assert pattern.search("see docs/physics.md §3") is None          # the repository's own page is fine
    assert pattern.search("checked formulas in " + "PHYSICS" + ".md §3")
    assert pattern.search("as " + "DESIGN" + ".md says")


@pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("mkdocstrings") is None,
                    reason="mkdocs/mkdocstrings not installed (pip install -e '.[docs]'); CI installs them")
def test_docs_build_strict(tmp_path):
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                           "-f", str(ROOT / "mkdocs.yml"), "-d", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stdout}\n{done.stderr}"
    # --quiet would hide warnings from the strict count: the build runs without it, and none may be printed
    assert "WARNING" not in done.stderr + done.stdout, done.stderr
    assert (tmp_path / "site" / "index.html").is_file()
    api = (tmp_path / "site" / "api" / "estimators" / "index.html").read_text(encoding="utf-8")
    assert "neuron_measure" in api                       # the reference really came from the docstrings
    import nnft
    html = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "site" / "api").rglob("*.html"))
    anchors = set(re.findall(r'id="(nnft\.[\w.]+)"', html))
    missing = [f"nnft.{name} ({mod}.{attr})" for name, (mod, attr) in sorted(nnft._PUBLIC.items())
               if f"{mod}.{attr}" not in anchors]
    assert not missing, "public names with no API reference entry (add them to a docs/api/*.md page): " + ", ".join(missing)


# -- the tutorial: every block of docs/tutorial.md runs (smaller sample counts) -------------------------

FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)
#: the tutorial's counts are for reading; the test runs the same commands with these
SMALL = [(re.compile(r"--samples \d+"), "--samples 400"), (re.compile(r"--neurons \d+"), "--neurons 4000"),
         (re.compile(r"samples=[\d_]+"), "samples=400"), (re.compile(r"neurons=[\d_]+"), "neurons=4000")]


def blocks(page: str) -> list[tuple[str, str]]:
    """(language, text) of each fenced code block of a docs page, in order."""
    return [(m.group(1), m.group(2)) for m in FENCE.finditer((ROOT / "docs" / page).read_text(encoding="utf-8"))]


def small(text: str) -> str:
    for pattern, repl in SMALL:
        text = pattern.sub(repl, text)
    return text


def run_cli_line(line: str) -> str:
    """Run one ``nnft ...`` shell line in-process (click's runner); fail on a non-zero exit."""
    import shlex

    from click.testing import CliRunner

    from nnft.cli import main
    args = shlex.split(line, comments=True)
    assert args[0] == "nnft", line
    r = CliRunner().invoke(main, args[1:], prog_name="nnft")
    assert r.exit_code == 0, f"{line}\n-> exit {r.exit_code}\n{r.output}"
    return r.output


@pytest.mark.slow
def test_tutorial_runs(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib", reason="the tutorial plots (nnft[plot])")
    monkeypatch.chdir(tmp_path)
    code = blocks("tutorial.md")
    assert [lang for lang, _ in code].count("python") >= 2 and any(lang == "bash" for lang, _ in code)
    for lang, text in code:
        if lang == "yaml":
            name = text.splitlines()[0].lstrip("# ").strip()          # the first line names the file
            (tmp_path / name).write_text(text)
        elif lang == "bash":
            for line in text.splitlines():
                if line.strip():
                    run_cli_line(small(line))
        elif lang == "python":
            exec(compile(small(text), f"tutorial.md:{lang}", "exec"), {"__name__": "__tutorial__"})
    for f in ("run.nc", "sweep.nc", "sweep.png", "sweep_py.nc", "sweep_py.png", "width_sweep.png"):
        assert (tmp_path / f).stat().st_size > 0, f


# -- the CLI transcript: generated by docs/gen_transcript.py, never by hand ---------------------------

def _gen_transcript():
    spec = importlib.util.spec_from_file_location("gen_transcript", ROOT / "docs" / "gen_transcript.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_transcript_page_is_the_generators():
    """The checked-in page shows exactly the script's commands (its numbers are whatever the run gave)."""
    gen = _gen_transcript()
    page = (ROOT / "docs" / "transcript.md").read_text(encoding="utf-8")
    shown = [line[2:] for line in page.splitlines() if line.startswith("$ nnft ")]
    assert shown == gen.commands(), "docs/transcript.md is stale: rerun PYTHONPATH=. python docs/gen_transcript.py"
    text = " ".join(shown)
    for piece in ("--out", "nnft show", "--set N=", "--plot"):
        assert piece in text
    assert (ROOT / "docs" / gen.FIGURE).is_file()


@pytest.mark.slow
def test_transcript_generator_runs(tmp_path):
    pytest.importorskip("matplotlib", reason="the transcript plots (nnft[plot])")
    gen = _gen_transcript()
    text = gen.generate(tmp_path / "transcript.md", samples=400, neurons=4000)
    assert text.count("```console") == len(gen.COMMANDS)
    assert "saved: run.nc" in text and "plot: sweep.png" in text
    assert (tmp_path / gen.FIGURE).stat().st_size > 0


# -- quick start: two commands; the demo writes a result file and a plot ------------------------------

def test_quick_start_is_two_commands_and_demo_saves_and_plots():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quick start", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    assert [ln.split()[0:2] for ln in quick.splitlines() if ln.strip()] == [["make", "demo"], ["make", "test"]]
    make = (ROOT / "Makefile").read_text(encoding="utf-8")
    demo = make.split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    assert "--out" in demo and "--plot" in demo and "nnft show" in demo
    assert ".[test,plot,docs]" in make                    # CI (make test) can build the docs


def test_physics_section_citations_exist():
    """``docs/physics.md §N`` is cited across code, specs and docs; §N lives on one of the physics pages."""
    pages = [ROOT / "docs" / "physics.md", *sorted((ROOT / "docs" / "physics").glob("*.md"))]
    found = [int(m.group(1)) for p in pages for m in re.finditer(r"(?m)^## (\d+)\. ", p.read_text(encoding="utf-8"))]
    assert sorted(found) == list(range(12)), found            # §0-§11, each once across the pages
    sections = set(found)
    cited = set()
    for path in _tracked_files():
        if path.suffix in (".py", ".md", ".yaml"):
            cited |= {int(n) for n in re.findall(r"physics\.md §(\d+)", path.read_text(encoding="utf-8"))}
    assert cited and cited <= sections, sorted(cited - sections)


def _docs_module(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "docs" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("griffe") is None,
                    reason="mkdocs/griffe not installed (pip install -e '.[docs]'); CI installs them")
def test_site_rewrites_keep_code_and_check_every_name():
    roles = _docs_module("griffe_rst_roles")
    doc = "Run.\n\nArgs:\n  x: one.\n  samples, key: networks\n    and seed.\n  a / b: c.\n\nReturns:\n  u, v: kept.\n"
    out = roles.split_multi_args(doc)
    assert "  samples: networks\n    and seed.\n  key: networks\n    and seed.\n  a: c.\n  b: c." in out
    assert "  u, v: kept." in out                                   # only Args: entries are split
    assert roles.ROLE.sub(roles._code, ":func:`nnft.study.run` and :class:`~nnft.errors.SpecError`") == \
        "`nnft.study.run` and `SpecError`"
    hooks = _docs_module("mkdocs_hooks")
    math = lambda t: hooks.MATH_LINK.sub(r"[\1]\\(\2)", t)
    text = "E[ψ](1, …, 1) and [a page](x.md)\n    E[ψ](1, 2) in code\n`E[ψ](1, 2)`"
    assert hooks._outside_code(text, lambda s: s, math) == \
        "E[ψ]\\(1, …, 1) and [a page](x.md)\n    E[ψ](1, 2) in code\n`E[ψ](1, 2)`"
    assert "nnft.study.run" not in hooks.missing_public_names()    # on docs/api/study.md (others go on api/more.md)
