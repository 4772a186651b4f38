"""Test configuration: strict JAX rank promotion (named-axis alignment must be explicit); compiled steps
are cached in a temporary directory, never in the user's cache (``nnft.runtime``, NNFT_COMPILE_CACHE).

Under pytest-xdist (``make test`` runs ``-n``) each worker gets its own cache directory: tests that
count compilations (tests/mcmc/test_compile_once.py) then see only what their own worker compiled
earlier, as in a serial run, never a program another worker happened to write a moment before."""

import os
import tempfile

_WORKER = os.environ.get("PYTEST_XDIST_WORKER")          # "gw0", "gw1", ... (unset: no xdist)


def _per_worker(path: str) -> str:
    return os.path.join(path, _WORKER) if _WORKER else path


if _WORKER:        # xdist workers get COLUMNS=80, LINES=24: tables would wrap unlike a serial run's pipe
    os.environ.pop("COLUMNS", None)
    os.environ.pop("LINES", None)
os.environ.setdefault("NNFT_COMPILE_CACHE", os.path.join(tempfile.gettempdir(), "nnft-test-jax-cache"))
if _WORKER and os.environ["NNFT_COMPILE_CACHE"].strip().lower() not in ("0", "off", "false", "no", "1", "on",
                                                                         "true", "yes", ""):
    os.environ["NNFT_COMPILE_CACHE"] = _per_worker(os.environ["NNFT_COMPILE_CACHE"])

import jax  # noqa: E402

jax.config.update("jax_numpy_rank_promotion", "raise")
if _WORKER and jax.config.jax_compilation_cache_dir:     # a cache dir configured for JAX itself
    jax.config.update("jax_compilation_cache_dir", _per_worker(jax.config.jax_compilation_cache_dir))
