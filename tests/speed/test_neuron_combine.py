"""The neuron-level fast paths (issue 10): G and G_c assembled by the subset recursions over distinct
features (``neuron.combine_fast``) equal the set-partition sums per tuple and subset (``neuron.combine``)
to float64 rounding, row by row when batched; the neuron values kept in memory (``nnft.materialise.materialised``)
change no bit of the streamed block sums."""

from __future__ import annotations

from itertools import combinations_with_replacement

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import nnft
from nnft.estimators.neuron import combine, combine_fast
from nnft.materialise import materialised
from nnft.estimators.npoint import Plan
from nnft.partitions import all_masks, mask_partitions, mobius

U = np.finfo(np.float64).eps / 2


def _abs_bound(plan: Plan, M, widths, v_mom, b_mom):
    """Σ of |terms| of :func:`combine`'s partition sums (every Möbius weight, moment and cumulant taken
    with its absolute value): the scale of float64 rounding in either algorithm, (W, T) for G and G_c."""
    W = np.asarray(widths, dtype=np.float64)[:, None]
    M, v = np.abs(M), np.abs(v_mom)
    full = np.zeros((len(W), len(plan.ids)))
    conn = np.zeros_like(full)
    bk = np.abs(b_mom) if b_mom is not None else None

    def absum(moment, mask):
        return sum(abs(mobius(len(p))) * np.prod([moment(b) for b in p], axis=0) for p in mask_partitions(mask))

    for n, (tix, cols) in plan.by_order.items():
        k1 = {m: absum(lambda b: v[:, bin(b).count("1")][:, None] * M[cols[b]][None, :], m) for m in all_masks(n)}
        kb = {k: (absum(lambda b: bk[bin(b).count("1")], 2 ** k - 1) if bk is not None else 0.0)
              for k in range(1, n + 1)}
        kap = {m: W * k1[m] + kb[bin(m).count("1")] for m in all_masks(n)}
        conn[:, tix] = kap[2 ** n - 1]
        full[:, tix] = sum(np.prod([kap[b] for b in p], axis=0) for p in mask_partitions(2 ** n - 1))
    return full, conn


def _case(seed: int, offset: bool):
    """A plan with orders 1..6, repeated points and unsorted tuples; per-neuron moments of a skewed
    non-Gaussian neuron (so every cumulant is non-zero); readout moments of N(0, 1/N), offset N(0.3, 0.5²)."""
    rng = np.random.default_rng(seed)
    pts = np.array([[-0.7], [0.1], [0.4], [1.3]])
    tuples = [pts[list(ix)] for n in (2, 4, 6) for ix in combinations_with_replacement(range(4), n)]
    tuples += [pts[[2, 0]], pts[[3, 1, 1, 0, 2]], pts[[1]], pts[[0, 3, 0]], pts[[3, 2, 1, 0, 3, 2]]]
    plan = Plan(tuples, 1)
    psi = np.exp(0.6 * rng.standard_normal((4000, len(plan.points))) + 0.2 * plan.points[:, 0]) - 0.8
    M = np.array([np.mean(np.prod(psi[:, list(k)], axis=1)) for k in plan.key_col])
    widths = (1, 3, 50, 1000)
    dfact = [1.0, 0.0, 1.0, 0.0, 3.0, 0.0, 15.0]
    v_mom = np.array([[dfact[k] * w ** (-k / 2) for k in range(7)] for w in widths])
    b_mom = None
    if offset:
        z = rng.normal(0.3, 0.5, 10 ** 6)
        b_mom = np.array([np.mean(z ** k) for k in range(7)])
    return plan, M, widths, v_mom, b_mom


@pytest.mark.parametrize("offset", [False, True])
def test_recursions_equal_partition_sums_to_float64_rounding(offset):
    plan, M, widths, v_mom, b_mom = _case(3, offset)
    f0, c0 = combine(plan, M, widths, v_mom, b_mom)
    f1, c1 = combine_fast(plan, M, widths, v_mom, b_mom)
    bf, bc = _abs_bound(plan, M, widths, v_mom, b_mom)
    tol = 200 * U                                  # (terms per sum) · u, with room for the recursion's depth
    assert np.all(np.abs(f1 - f0) <= tol * bf) and np.all(np.abs(c1 - c0) <= tol * bc)
    nz = bc > 0                                    # odd orders without an offset: exactly 0 in both
    assert np.array_equal(c1[~nz], c0[~nz]) and np.max(np.abs(c1 - c0)[nz] / bc[nz]) < 1e-13
    # a wrong answer fails the same comparison: one sub-product's moment off by 10⁻⁹ (relative)
    cols = plan.by_order[4][1][0b0101]
    bad = M.copy()
    bad[cols[0]] *= 1 + 1e-9
    fb, cb = combine_fast(plan, bad, widths, v_mom, b_mom)
    assert not (np.all(np.abs(fb - f0) <= tol * bf) and np.all(np.abs(cb - c0) <= tol * bc))


def test_batched_rows_are_the_rows_one_by_one():
    """The jackknife's ``batched`` call: each row of a (k, F) batch gives the same floats as alone."""
    plan, M, widths, v_mom, b_mom = _case(5, True)
    rng = np.random.default_rng(6)
    batch = M[None] * (1 + 1e-3 * rng.standard_normal((5, M.size)))
    fb, cb = combine_fast(plan, batch, widths, v_mom, b_mom)
    assert fb.shape == cb.shape == (5, len(widths), len(plan.ids))
    for r in range(5):
        f, c = combine_fast(plan, batch[r], widths, v_mom, b_mom)
        assert np.array_equal(f, fb[r]) and np.array_equal(c, cb[r])


def _values(model, pts, keep):
    ns = model.structure.neuron_sum

    def values(theta):
        def compute():
            per_point = jax.vmap(model.neurons, in_axes=(None, 0))
            vals = jax.vmap(per_point, in_axes=(0, None))(theta, jnp.asarray(pts, dtype=theta[ns.readout].dtype))
            return jnp.swapaxes(vals, 1, 2)
        return materialised(compute, theta[ns.readout]) if keep else compute()
    return values


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_neuron_values_in_memory_change_no_bit(dtype):
    """The streamed block sums and tail buffers of the order-6 products of an erf net's neurons, with the
    values kept in memory and fused into every consumer, are bitwise equal; another key is not."""
    model = nnft.compile(nnft.load("erf_net", N=40))
    x = np.array([[-1.0], [0.2], [1.0]])
    plan = Plan([x[list(ix)] for n in (2, 4, 6) for ix in combinations_with_replacement(range(3), n)], 1)
    pts = np.asarray(plan.points)
    run = {}
    for keep, key in ((True, 1), (False, 1), (True, 2)):
        acc = plan.stream(model, key, 48, _values(model, pts, keep), chunk=5, n_blocks=8, dtype=dtype,
                          points=len(pts), rows=40, cache_key=("in_memory test", keep))
        run[keep, key] = (acc.sums, acc.tail[0])
    for a, b in zip(run[True, 1], run[False, 1]):
        assert np.array_equal(a, b)
    assert not np.array_equal(run[True, 1][0], run[True, 2][0])
