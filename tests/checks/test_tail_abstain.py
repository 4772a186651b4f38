"""``nnft check --samples 100``: the Pareto-k̂ tail diagnostic abstains ("too few samples to judge tails")
when k̂ would rest on fewer than ``MIN_JUDGED_TAIL`` = 50 exceedances (n < 267 samples), instead of warning
on light-tailed fields; the graph's undecided-moment warnings and every other warning pass through."""

import warnings

import pytest

import nnft
from nnft.checks import MIN_JUDGED_TAIL, _run_judging_tails, min_judged_samples
from nnft.errors import ReweightingWarning, TailWarning
from nnft.tails import tail_size

KHAT = ("G: 3 of 20 entries have a heavy tail of per-sample contributions, Pareto k̂ up to 0.91 > 0.7: "
        "the mean may be finite but ...")
UNDECIDED = "the finiteness of E|φ|⁴ could not be decided from the graph"


def _fake():
    warnings.warn(KHAT, TailWarning)
    warnings.warn(UNDECIDED, TailWarning)
    warnings.warn("weights degenerate", ReweightingWarning)
    return "result"


def test_the_threshold_in_samples():
    n = min_judged_samples()
    assert n == 267 and tail_size(n) == MIN_JUDGED_TAIL and tail_size(n - 1) == MIN_JUDGED_TAIL - 1


@pytest.mark.parametrize("n, held", [(100, True), (266, True), (267, False), (300, False)])
def test_only_the_khat_flag_is_held_back_below_the_threshold(n, held):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out, was_held = _run_judging_tails(_fake, n)
    texts = [str(w.message) for w in caught]
    assert out == "result" and was_held is held
    assert (KHAT in texts) is not held                        # the twin: at n ≥ 267 the flag is shown
    assert UNDECIDED in texts and "weights degenerate" in texts


def test_check_at_100_samples_abstains_on_a_light_tailed_field():
    model = nnft.compile(nnft.load("cos_net", N=4))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nnft.check(model, ["translation", "z2"], samples=100, seed=3)
    texts = [str(w.message) for w in caught if issubclass(w.category, TailWarning)]
    assert not any("Pareto k̂ up to" in t for t in texts), texts
    said = [t for t in texts if t.startswith("too few samples to judge tails")]
    assert len(said) == 1 and all("20 largest of 100 samples" in t and "267" in t for t in said)
