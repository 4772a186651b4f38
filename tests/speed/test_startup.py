"""Start-up: ``nnft --help`` and ``import nnft`` import neither JAX nor SciPy (the public names load on
first use); the persistent compilation cache is on by default, can be moved or turned off by
``NNFT_COMPILE_CACHE``, and never fails on a directory it cannot write."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from . import _runs

HEAVY = ("jax", "jaxlib", "scipy", "blackjax", "networkx", "pydantic")


def _python(tmp_path, code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], env=_runs.env(tmp_path, **env), cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)


def test_help_imports_no_jax(tmp_path):
    code = """
import json, sys
sys.argv = ["nnft", "--help"]
import nnft.cli
try:
    nnft.cli.main()
except SystemExit as e:
    code = e.code
print(json.dumps({"code": code, "heavy": sorted({m.split('.')[0] for m in sys.modules} & set(%r))}))
""" % (HEAVY,)
    res = _python(tmp_path, code)
    assert res.returncode == 0, res.stderr[-2000:]
    got = json.loads(res.stdout.strip().splitlines()[-1])
    assert got == {"code": 0, "heavy": []}
    assert "Usage:" in res.stdout and "run" in res.stdout


def test_subcommand_help_imports_no_jax(tmp_path):
    code = """
import json, sys
sys.argv = ["nnft", "run", "--help"]
import nnft.cli
try:
    nnft.cli.main()
except SystemExit:
    pass
print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & set(%r))))
""" % (HEAVY,)
    res = _python(tmp_path, code)
    assert "--checkpoint" in res.stdout and "--devices" in res.stdout and "--quiet" in res.stdout
    assert json.loads(res.stdout.strip().splitlines()[-1]) == []


def test_import_nnft_is_light_and_the_api_loads_on_use(tmp_path):
    code = """
import json, sys
import nnft
before = sorted({m.split('.')[0] for m in sys.modules} & set(%r))
m = nnft.compile(nnft.load("cos_net", N=2))
print(json.dumps({"before": before, "jax": "jax" in sys.modules, "model": type(m).__name__,
                  "checked": nnft.measure.__wrapped__.__module__, "dir": "measure" in dir(nnft)}))
""" % (HEAVY,)
    res = _python(tmp_path, code)
    assert res.returncode == 0, res.stderr[-2000:]
    got = json.loads(res.stdout.strip().splitlines()[-1])
    assert got == {"before": [], "jax": True, "model": "Model", "checked": "nnft.estimators.npoint", "dir": True}


def test_unknown_attribute_is_an_attribute_error():
    import nnft
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        nnft.nope  # noqa: B018


def test_public_calls_check_their_arguments():
    import nnft
    with pytest.raises(nnft.InputError, match="samples"):
        nnft.measure(nnft.compile(nnft.load("cos_net", N=2)), [[[0.0, 0.0]]], samples=1.5)


CACHE = """
import json, os
import nnft
from nnft import runtime
path = runtime.enable_compile_cache()
m = nnft.compile(nnft.load("cos_net", N=4))
nnft.measure(m, [[[0.0, 0.0], [0.5, 0.0]]], samples=2000, key=0)
files = sorted(os.listdir(path)) if path else []
print(json.dumps({"path": path, "steps": sum("per_device" in f for f in files)}))
"""


def test_the_compilation_cache_is_written_where_nnft_compile_cache_says(tmp_path):
    where = tmp_path / "my-cache"
    res = _python(tmp_path, CACHE, NNFT_COMPILE_CACHE=str(where))
    assert res.returncode == 0, res.stderr[-2000:]
    got = json.loads(res.stdout.strip().splitlines()[-1])
    assert got["path"] == str(where) and got["steps"] >= 1


def test_the_default_cache_is_under_xdg_cache_home(tmp_path):
    env = _runs.env(tmp_path, XDG_CACHE_HOME=str(tmp_path / "xdg"))
    env.pop("NNFT_COMPILE_CACHE")
    res = subprocess.run([sys.executable, "-c", CACHE], env=env, cwd=tmp_path, capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    got = json.loads(res.stdout.strip().splitlines()[-1])
    assert got["path"] == str(tmp_path / "xdg" / "nnft" / "jax") and got["steps"] >= 1


@pytest.mark.parametrize("value", ["0", "off"])
def test_the_cache_can_be_turned_off(tmp_path, value):
    res = _python(tmp_path, CACHE, NNFT_COMPILE_CACHE=value)
    assert res.returncode == 0, res.stderr[-2000:]
    assert json.loads(res.stdout.strip().splitlines()[-1]) == {"path": None, "steps": 0}


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes read-only directories")
def test_an_unwritable_cache_directory_does_not_fail_the_run(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        res = _python(tmp_path, CACHE, NNFT_COMPILE_CACHE=str(ro / "sub"))
    finally:
        ro.chmod(0o700)
    assert res.returncode == 0, res.stderr[-2000:]
    assert json.loads(res.stdout.strip().splitlines()[-1]) == {"path": None, "steps": 0}


def test_a_cache_path_that_is_a_file_does_not_fail_the_run(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = _python(tmp_path, CACHE, NNFT_COMPILE_CACHE=str(blocker / "sub"))
    assert res.returncode == 0, res.stderr[-2000:]
    assert json.loads(res.stdout.strip().splitlines()[-1]) == {"path": None, "steps": 0}
