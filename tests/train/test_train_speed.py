"""The training steps' evaluation of φ with contractions as matrix products (``Evaluator.run(dots=True)``,
``nnft.training.dynamics.unchecked_field(..., dots=True)``) is the same function as the written-out one:
equal to float32 rounding on nets with Σ_N W·h readouts, d ≤ 16 contractions and deep ``@`` layers, and so
are its gradients; a wrong evaluation (a dropped bias) fails the same comparison."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nnft
from nnft.training.dynamics import unchecked_field


@pytest.mark.parametrize("name, sizes", [("erf_net", {"N": 64}), ("gauss_net", {"N": 32}),
                                         ("relu_mlp", {"N": 16, "L": 3})])
def test_dots_evaluation_is_the_same_function(name, sizes):
    model = nnft.compile(nnft.load(name, **sizes))
    d = model.theory.dims["d"] if "d" in model.theory.dims else 1
    pts = jnp.asarray(np.random.default_rng(0).normal(size=(5, d)), jnp.float32)
    theta = jax.jit(lambda k: jax.tree.map(lambda a: a[0], model.sample(k, 1, 0, np.float32)))(jax.random.key(1))
    plain, dots = jax.jit(unchecked_field(model, np.float32)), jax.jit(unchecked_field(model, np.float32, dots=True))
    a, b = np.asarray(plain(theta, pts)), np.asarray(dots(theta, pts))
    scale = np.max(np.abs(a)) + 1e-30
    assert np.max(np.abs(a - b)) < 1e-5 * scale, (a, b)

    def loss(f):
        return lambda th: jnp.sum(f(th, pts) ** 2)
    ga, gb = jax.jit(jax.grad(loss(plain)))(theta), jax.jit(jax.grad(loss(dots)))(theta)
    for k in ga:
        s = np.max(np.abs(np.asarray(ga[k]))) + 1e-30
        assert np.max(np.abs(np.asarray(ga[k]) - np.asarray(gb[k]))) < 1e-4 * s, k
    # a wrong function fails the same comparison: the field with one parameter zeroed
    k = max(theta, key=lambda k: np.size(theta[k]))
    wrong = np.asarray(dots({**theta, k: jnp.zeros_like(theta[k])}, pts))
    assert np.max(np.abs(a - wrong)) > 1e-5 * scale
