"""A width sweep compiles the brute-force step once per width (the parameters' shapes change with N:
inherent) but the neuron-level step once for the whole sweep: ``nnft.study.run`` draws the neurons
from networks of width ``NEURON_WIDTH`` whatever N, when ψ's law does not depend on N (the readout's
moments are exact at each N, arXiv:2408.00082 eq. 50-51). Counted by the traces JAX reports."""

import pytest

import nnft
from helpers import Z_MAX, jax_events
from nnft.sample import iid

pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning"), pytest.mark.slow]

WIDTHS = [2, 5, 9]
RUN = dict(samples=256, points=[[0.0], [0.6]], orders=[2, 4], neurons=60_000)
STEP = "per_device"                       # the jitted per-chunk program of nnft.sample.iid
EVENTS = jax_events()


@pytest.fixture(scope="module")
def sweep():
    iid._SHARED.clear()
    EVENTS.clear()
    sw = nnft.run_sweep("cos_net", "N", WIDTHS, overrides={"d": 1}, **RUN)
    return sw, EVENTS.traces[STEP]


def test_the_neuron_step_is_traced_once_for_all_widths(sweep):
    _, traces = sweep
    assert traces == len(WIDTHS) + 1, traces          # one brute-force step per width, one neuron step


def test_a_separate_run_gets_the_same_neuron_level_numbers(sweep):
    sw, _ = sweep
    alone = nnft.run(nnft.load("cos_net", N=5, d=1), **RUN)
    assert [r.neuron_connected for r in alone.rows] == [r.neuron_connected for r in sw.reports[1].rows]


def test_neuron_level_g4c_matches_the_theory_at_each_width_and_not_at_another(sweep):
    """G_c⁽⁴⁾ ∝ 1/N: each width's estimate agrees with its own exact value by |z| and is refused
    against the exact value of the width 2 (a factor 2.5–4.5 away)."""
    sw, _ = sweep
    rows = [[r for r in rep.rows if r.order == 4 and r.exact_connected is not None] for rep in sw.reports]
    assert all(rows)
    for k, rep_rows in enumerate(rows):
        for j, r in enumerate(rep_rows):
            (m, e), exact = r.neuron_connected, r.exact_connected
            assert abs(m - exact) / e < Z_MAX, (WIDTHS[k], r.points, m, e, exact)
            if k > 0:
                wrong = rows[0][j].exact_connected
                assert abs(m - wrong) / e > Z_MAX, (WIDTHS[k], r.points, m, e, wrong)
