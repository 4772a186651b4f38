"""Feature sums by matrix products (nnft.sample.step.Products): Σ_r w_r Π_{i∈S} φ_r(x_i) read off float64
Gram matrices of half-monomials equals the row-by-row gathered products to float64 rounding, for the
plans the speed work targets (P = 64 points: all pairs and (i,i,j,j) quads; the 6-point grid of
arXiv:2008.08601 with every monomial of degree ≤ 6), with importance weights; padding rows (weight 0)
add exactly 0, and a network whose field values are finite but whose products overflow still raises.

Bound: both computations evaluate the same sum s = Σ_r t_r, t_r = w_r Π φ; each computed value obeys
|ŝ − s| ≤ γ_{R+m+1} Σ_r |t_r| (R rows, m factors, γ_k = k u/(1 − k u), u = 2⁻⁵³; Higham, Accuracy and
Stability of Numerical Algorithms, §3–4), so |ŝ_gram − ŝ_gather| ≤ 2 γ_{R+m+1} Σ_r |t_r|.
"""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nnft
from nnft.estimators.npoint import Plan
from nnft.sample.step import Products

U = 2.0 ** -53


def _gamma(k):
    return k * U / (1 - k * U)


def _pairs_and_quads(P=64, hubs=8):
    pts = np.random.default_rng(0).normal(size=(P, 2))
    tuples = [np.stack([pts[i], pts[j]]) for i in range(P) for j in range(i, P)]
    tuples += [np.stack([pts[i], pts[i], pts[j], pts[j]]) for i in range(0, P, P // hubs) for j in range(P)]
    return Plan(tuples, 2)


def _grid_keys(points=6, degree=6):
    return [k for m in range(1, degree + 1) for k in itertools.combinations_with_replacement(range(points), m)]


def _check(products: Products, values: np.ndarray, weights: np.ndarray):
    with jax.enable_x64(True):
        v, w = jnp.asarray(values, jnp.float64), jnp.asarray(weights, jnp.float64)
        gram = np.asarray(jax.jit(products.sums)(v, w))
        rows = np.asarray(products.rows(v))
        gather = np.asarray(w @ rows)
        reference = np.asarray(jax.jit(Products(products.keys, products.n_points, gram=False).sums)(v, w))
    scale = np.abs(weights) @ np.abs(rows)
    m = max(len(k) for k in products.keys)
    bound = 2 * _gamma(len(values) + m + 1) * scale
    assert np.all(np.abs(gram - gather) <= bound)
    assert np.all(np.abs(reference - gather) <= bound)
    return gram, gather, bound


def test_pairs_and_quads_equal_the_gathered_products():
    plan = _pairs_and_quads()
    pr = plan.products
    assert not pr.gather_groups                         # every block is a matrix product at this size
    rng = np.random.default_rng(1)
    vals = rng.normal(size=(2048, len(plan.points)))
    w = rng.uniform(size=2048)
    gram, gather, bound = _check(pr, vals, w)
    # a wrong answer fails: the sums of two different features differ far beyond the bound
    assert np.any(np.abs(gram[1:] - gather[:-1]) > bound[:-1])
    # the columns follow the plan's features: the pair (3, 5) is Σ w φ₃φ₅
    col = plan.key_col[(3, 5)]
    assert abs(gram[col] - np.sum(w * vals[:, 3] * vals[:, 5])) <= bound[col] + 1e-9 * abs(gram[col])


def test_the_2008_08601_grid_is_one_84_by_84_gram():
    """6 points, every monomial of degree 1..6 (923 features): halves are monomials of degree ≤ 3,
    of which there are C(9, 3) = 84 (with the constant)."""
    keys = _grid_keys()
    pr = Products(keys, 6)
    assert len(keys) == 923 and not pr.gather_groups
    halves = {tuple(r) for a, b, *_ in pr.gram_blocks for side in (a, b) for r in side}
    assert len(halves) <= 84
    rng = np.random.default_rng(2)
    vals = rng.normal(size=(4096, 6)) * rng.uniform(0.2, 3.0, size=6)
    _check(pr, vals, rng.uniform(size=4096))


def test_weights_and_order_eight_products():
    """Orders up to 8 with repeated points, importance-like weights spanning many decades."""
    rng = np.random.default_rng(3)
    keys = sorted({tuple(sorted(rng.integers(0, 10, size=m))) for m in range(1, 9) for _ in range(60)})
    pr = Products(keys, 10)
    vals = rng.standard_t(5, size=(1000, 10))
    _check(pr, vals, np.exp(-rng.exponential(5.0, size=1000)))


def test_zero_weight_rows_add_exactly_zero():
    """Padding rows carry weight 0 and finite values: whatever those values, the sums are bitwise equal."""
    pr = _pairs_and_quads(P=16, hubs=4).products
    rng = np.random.default_rng(4)
    vals = rng.normal(size=(256, 16))
    w = rng.uniform(size=256)
    w[200:] = 0.0
    other = vals.copy()
    other[200:] = rng.normal(size=(56, 16)) * 1e3
    with jax.enable_x64(True):
        f = jax.jit(pr.sums)
        a = np.asarray(f(jnp.asarray(vals), jnp.asarray(w)))
        b = np.asarray(f(jnp.asarray(other), jnp.asarray(w)))
    np.testing.assert_array_equal(a, b)


def test_streamed_sums_do_not_depend_on_the_chunk():
    """The same networks through steps of different shapes (padding in the last chunk of each block)
    give the same block sums to float64 rounding."""
    model = nnft.compile(nnft.load("cos_net", N=4))
    pts = [np.array([[0.0, 0.0], [0.5, 0.1], [0.2, -0.3], [0.2, -0.3]])]
    a = nnft.ensemble(model, pts, samples=1000, key=5, chunk=1000, dtype="float64", blocks=8).sums
    b = nnft.ensemble(model, pts, samples=1000, key=5, chunk=48, dtype="float64", blocks=8).sums
    scale = np.abs(a.sums).max()
    np.testing.assert_allclose(a.sums, b.sums, rtol=0, atol=1e-13 * scale)
    np.testing.assert_array_equal(a.weights, b.weights)


def test_finite_values_whose_products_overflow_raise():
    """φ ~ 1e100 is finite in float64; φ⁴ is not: the Gram sum is non-finite and the row check names
    the networks (same message as the gathered features)."""
    d = nnft.load("cos_net", N=16).model_dump()
    d["field"] = "1e100 * sum_N(W1 * cos(W0 @ x + b0))"
    model = nnft.compile(nnft.from_dict(d))
    with pytest.raises(nnft.SamplingError, match="non-finite.*first: network 0"):
        nnft.measure(model, [np.array([[0.0, 0.0], [0.1, 0.0], [0.2, 0.0], [0.3, 0.0]])], samples=200,
                     key=0, dtype="float64")


def test_tail_columns_are_per_point_powers():
    pr = Products([(0,), (0, 1), (0, 0, 2, 2), (2, 2, 2, 2), (1, 2)], 3)
    cols = [set(zip(pr.tail_points[c], pr.tail_orders[c])) for c in pr.tail_columns]
    assert cols == [{(0, 1)}, {(0, 2), (1, 2)}, {(0, 4), (2, 4)}, {(2, 4)}, {(1, 2), (2, 2)}]
    assert pr.n_tails == 6
    v = jnp.asarray([[2.0, -3.0, 0.5]])
    with jax.enable_x64(True):
        t = np.asarray(pr.tails(v, jnp.asarray([0.5])))
    np.testing.assert_allclose(t[0], 0.5 * np.abs(np.asarray(v)[0, pr.tail_points]) ** pr.tail_orders)
