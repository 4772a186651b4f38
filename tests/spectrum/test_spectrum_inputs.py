"""Odd input to ``nnft.power_spectrum`` / ``nnft spectrum``: refused with an InputError (CLI: one line, exit 2),
never a traceback, a silently truncated value, or a relabelled momentum; and a heavy-tailed (Cauchy) frequency
law, which has a spectral density, is not mistaken for one with atoms."""

import math

import numpy as np
import pytest
from click.testing import CliRunner

import nnft
from helpers import Z_MAX
from nnft.cli import main
from nnft.errors import InputError
from nnft.spectrum import power_spectrum


@pytest.fixture(scope="module")
def scalar():
    return nnft.compile(nnft.load("scalar_net", N=4))


@pytest.mark.parametrize("kw", [
    dict(momenta=[[np.nan]]), dict(momenta=[[1.0, 2.0]]), dict(momenta=[]), dict(momenta=[["a"]]),
    dict(momenta=[[1.0]], window=1e300), dict(momenta=[[1.0]], neurons=0), dict(momenta=[[1.0]], neurons=10.5),
    dict(box=[[-1, 1]], lattice=4.5), dict(box=[[-1, 1]], lattice=1), dict(box=[[-1, 1]], lattice=10 ** 6),
    dict(box=[-1, 1], lattice=4), dict(box=[[-np.inf, 1]], lattice=4), dict(box=[[1, 1]], lattice=4),
    dict(box=[[-1, 1], [-1, 1]], lattice=4), dict(box=[[-1, 1]], lattice=4, samples=1),
    dict(box=[[-1, 1]], lattice=4, modes=[[0.5]]), dict(box=[[-1, 1]], lattice=4, modes=[[3]]),
    dict(box=[[-1, 1]], lattice=4, modes="foo"), dict(box=[[-1, 1]], lattice=4, modes=[]),
    dict(momenta=[[1.0]], box=[[-1, 1]], lattice=4),
])
def test_bad_input_is_an_input_error(scalar, kw):
    with pytest.raises(InputError):
        power_spectrum(scalar, **({"samples": 100, **kw} if "box" in kw else kw))


def test_one_dimensional_momenta_and_huge_momentum(scalar):
    res = power_spectrum(scalar, [0.5, 1e30], neurons=2000, key=0)        # d = 1: a flat list is M momenta
    assert res.momenta.shape == (2, 1) and res.window <= 1e6
    assert res.spectrum.mean[1] == 0 and res.theory[1] == 0               # beyond the cutoff: G̃ = 0, flagged
    assert any("no drawn frequency" in n for n in res.notes)


def test_cli_momenta_with_a_box_is_refused():
    r = CliRunner().invoke(main, ["spectrum", "scalar_net", "--box", "-1,1", "--lattice", "4", "--momenta", "1"])
    assert r.exit_code == 2 and len(r.output.strip().splitlines()) == 1 and "Traceback" not in r.output, r.output


def test_cauchy_frequencies_are_a_density_not_atoms():
    """cauchy_scalar_1d: w ~ Cauchy(0, m) (no variance) gives G̃(p) = m μ2A²/(p² + m²) = 1/(p² + m²) for the spec's
    σ_w1² = 1/m; the atom check used to round w to 1e-6 of the (divergent) rms and refused it."""
    m = 1.0
    model = nnft.compile(nnft.load("cauchy_scalar_1d"))
    p, h = np.array([0.0, 1.0, 3.0]), 0.1
    res = power_spectrum(model, p, window=h, neurons=40_000, key=2)

    def avg(m2):
        return np.array([(math.atan((q + h) / math.sqrt(m2)) - math.atan((q - h) / math.sqrt(m2))) / math.sqrt(m2) * m / (2 * h)
                         for q in p])
    assert np.all(np.abs(res.spectrum.z(avg(m * m))) < Z_MAX)
    assert np.max(np.abs(res.spectrum.z(avg(1.44 * m * m)))) > Z_MAX


def test_too_few_frequencies_in_a_window_are_noted(scalar):
    res = power_spectrum(scalar, [[1.0]], window=0.01, neurons=2000, key=0)      # ~8 expected in [0.99, 1.01] ∪ −
    assert any("drawn frequencies in the window" in n and "unreliable" in n for n in res.notes), res.notes


def test_identically_vanishing_mode_is_exactly_zero():
    """deep_linear is odd in x: on a symmetric box F_0 = Σ_j φ(x_j) = 0 for every network, so G̃(p = 0) = 0 exactly
    (before: ~1e-15 ± 1e-16 of float rounding, and a z of 10¹³ against a theory of ~0)."""
    model = nnft.compile(nnft.load("deep_linear"))
    res = power_spectrum(model, box=[[-2.0, 2.0], [-2.0, 2.0]], lattice=4, samples=200, key=0)
    assert res.spectrum.mean[0] == 0 and res.spectrum.stderr[0] == 0 and np.all(res.spectrum.stderr[1:] > 0)
    assert any("vanishes identically" in n for n in res.notes)
    assert "—" in res.table().splitlines()[4]                   # no z for an exact zero


def test_window_average_across_the_cutoff_is_exact_in_d1():
    """A window straddling the Scalar-net cutoff: nnft's theory column against the antiderivative
    arctan(q/m)/m written here (was 0.3 % low with 48 Gauss–Legendre nodes across the jump: a bias of ~0.5σ at
    the default 10⁶ neurons)."""
    from nnft.analytic import NEURONS
    from nnft.analytic.spectrum import box_average, continuum, jumps
    nr = NEURONS["scalar_net"](1, mass=1.0, cutoff=5.0, amplitude=1.0)
    mu2 = 2 * 5.0 / math.pi                                   # (2π)μ2A²/(2·2Λ) = 1
    for p, h in ((4.95, 0.1), (4.0, 2.0), (-4.9, 0.2)):
        exact = (math.atan(min(p + h, 5.0)) - math.atan(max(p - h, -5.0))) / (2 * h)
        got = box_average(lambda q: continuum(nr, mu2, q), [[p]], h, breaks=jumps(nr))[0]
        assert got == pytest.approx(exact, rel=1e-10)
