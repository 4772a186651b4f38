"""Test configuration: strict JAX rank promotion (named-axis alignment must be explicit); compiled steps
are cached in a temporary directory, never in the user's cache (``nnft.runtime``, NNFT_COMPILE_CACHE)."""

import os
import tempfile

os.environ.setdefault("NNFT_COMPILE_CACHE", os.path.join(tempfile.gettempdir(), "nnft-test-jax-cache"))

import jax  # noqa: E402

jax.config.update("jax_numpy_rank_promotion", "raise")
