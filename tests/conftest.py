"""Test configuration: strict JAX rank promotion (named-axis alignment must be explicit)."""

import jax

jax.config.update("jax_numpy_rank_promotion", "raise")
