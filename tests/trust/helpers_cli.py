"""Shared helpers of the trust tests: run the CLI in-process and split stdout from stderr."""

from __future__ import annotations

from click.testing import CliRunner

from nnft.cli import main


def runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)     # click < 8.2
    except TypeError:
        return CliRunner()                     # click ≥ 8.2 keeps stderr apart


def invoke(*args: str):
    """(exit code, stdout, stderr, exception) of ``nnft ARGS``."""
    r = runner().invoke(main, list(args), catch_exceptions=True)
    exc = r.exception if not isinstance(r.exception, SystemExit) else None
    return r.exit_code, r.stdout, r.stderr, exc


def assert_one_line_error(args, *fragments: str):
    code, out, err, exc = invoke(*args)
    assert exc is None, f"nnft {' '.join(args)} raised {exc!r}"
    assert code == 2, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one error line, got:\n{err}"
    assert lines[0].startswith("error: ")
    assert "Traceback" not in err + out
    for f in fragments:
        assert f in lines[0], f"{f!r} not in {lines[0]!r}"
    return lines[0]
