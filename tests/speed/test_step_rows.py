"""The per-row feature check of the streaming step is skipped where it cannot find anything: float32
field values (|φ| < 2¹²⁸), products of ≤ 7 of them (< 2⁸⁹⁶, finite in float64), weights 0 or 1 (no
insertions). The step's outputs, including the count and first index of bad networks, are bitwise those
of the step with the check."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nnft
from nnft.estimators import npoint
from nnft.sample import step as step_mod


def _outputs(model, plan, chunk, max_safe, monkeypatch):
    monkeypatch.setattr(step_mod, "MAX_SAFE_DEGREE", max_safe)
    pts = jnp.asarray(plan.points, jnp.float32)
    values = lambda th: model.fields(th, pts)[:, None, :]           # noqa: E731
    st = step_mod.chunk_step(model, values, plan.products, chunk, "float32", keep=True)
    with jax.enable_x64(True):
        out = jax.jit(st)(jax.random.key(3), jnp.int64(100), jnp.int64(chunk - 5))
        return [np.asarray(a) for a in out]


@pytest.mark.parametrize("scale", ["1.0", "2e38"])
def test_step_without_the_row_check_is_bitwise_the_same(scale, monkeypatch):
    d = nnft.load("cos_net", N=8).model_dump()
    d["field"] = f"{scale} * sum_N(W1 * cos(W0 @ x + b0))"     # 2e38: some float32 fields overflow to inf
    model = nnft.compile(nnft.from_dict(d))
    tuples = [np.array([[0.0, 0.0]] * 4), np.array([[0.0, 0.0], [0.3, 0.1], [0.3, 0.1], [0.5, 0.2]])]
    plan = npoint.plan_for(tuples, 2)
    fast = _outputs(model, plan, 64, 7, monkeypatch)
    checked = _outputs(model, plan, 64, 0, monkeypatch)
    for a, b in zip(fast, checked):
        np.testing.assert_array_equal(np.atleast_1d(a).view(np.uint8), np.atleast_1d(b).view(np.uint8))
    n_bad, first_bad = int(fast[3]), int(fast[4])
    if scale == "1.0":
        assert n_bad == 0 and first_bad == 100 + 64 - 5
    else:                                  # the comparison can see bad networks: they are reported alike
        assert 0 < n_bad < 64 - 5 and 100 <= first_bad < 100 + 64 - 5


@pytest.mark.parametrize("widen", [False, True])
def test_float64_values_of_a_float32_run_keep_the_row_check(widen, monkeypatch):
    """The skip rests on the VALUES being float32 (|φ| < 2¹²⁸), not on the run's dtype: a values function
    that widens to float64 (|φ| up to 10³⁰⁸) before the step can overflow a product of 4 in float64. Such
    networks must be reported bad, as with the check (not summed into an infinite block sum). The twin: the
    skip keyed on the run's dtype alone (what the step did) reports no bad network."""
    model = nnft.compile(nnft.load("cos_net", N=8))
    plan = npoint.plan_for([np.array([[0.0, 0.0]] * 4)], 2)
    pts = jnp.asarray(plan.points, jnp.float32)

    def values(th):                                   # finite float64 values, |φ| ~ 10¹⁰⁰: φ⁴ overflows
        return (model.fields(th, pts).astype(jnp.float64) * 1e100)[:, None, :]

    if widen:                     # the twin: the step's dtype test passes float64 values (the old condition)
        class Widened:
            float32 = jnp.float64

            def __getattr__(self, name):
                return getattr(jnp, name)
        monkeypatch.setattr(step_mod, "jnp", Widened())
    st = step_mod.chunk_step(model, values, plan.products, 16, "float32")
    with jax.enable_x64(True):
        sums, _, _, n_bad, first_bad, _ = jax.jit(st)(jax.random.key(3), jnp.int64(0), jnp.int64(16))
    if widen:
        assert int(n_bad) == 0 and not np.all(np.isfinite(np.asarray(sums)))     # silently infinite
    else:
        assert int(n_bad) == 16 and int(first_bad) == 0
