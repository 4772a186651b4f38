"""``power_spectrum``: G̃(p) with standard errors, beside the declared reference's spectrum.

Routes (``nnft.estimators.spectrum``): ``"neurons"`` for plane-wave neuron sums (window average, exact in N),
``"lattice"`` for any net (periodogram on the midpoint lattice of a box). The theory column is the
expectation of the same estimator: the closed-form spectrum (``nnft.analytic.spectrum``) averaged over the
window, or the exact lattice expectation from the reference's G_c (Fejér window and aliasing included), with
the continuum G̃(p) beside it. Convention and sources: docs/spectrum.md.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from nnft.analytic.spectrum import box_average, continuum, formula, jumps, lattice_expectation
from nnft.errors import EstimatorError, InputError, NnftError
from nnft.estimators.neuron import width_moments
from nnft.estimators.spectrum import (MAX_WINDOW, PowerSpectrum, _checked_momenta, lattice_spectrum, neuron_spectrum,
                                      plane_wave)
from nnft.graph.compile import Model
from nnft.graph.symmetry import static_symmetries

#: largest lattice (points) whose exact expectation is computed from the full G_c matrix (no translation invariance)
MAX_MATRIX_POINTS = 256


def _mu2(model: Model) -> float:
    ns = model.structure.neuron_sum
    W = model.theory.dims[ns.width]
    return W * float(width_moments(model, [W], 2)[0][0, 2])


def _reference(model: Model):
    from nnft.reference import check_reference, neuron_reference
    if model.structure.neuron_sum is None:
        raise EstimatorError("not a neuron sum: no declared per-neuron reference")
    nr = neuron_reference(model)
    check_reference(model)
    return nr


def _continuum(model: Model, momenta) -> tuple[np.ndarray | None, str]:
    try:
        nr = _reference(model)
        return continuum(nr, _mu2(model), momenta), formula(nr.name)
    except NnftError as err:
        return None, str(err)


def _lattice_theory(model: Model, res: PowerSpectrum) -> tuple[np.ndarray | None, str]:
    from nnft.reference import exact
    from nnft.insertions import lattice as midpoint_lattice
    info = res.lattice
    n, d, a = info["n"], model.d, np.asarray(info["spacing"])
    try:
        if "translation" in static_symmetries(model.graph).proven:
            def g2(r):
                tuples = [np.stack([np.zeros(d), x]) for x in r]
                return exact(model, tuples).connected[0]
            return lattice_expectation(g2, d, n, a, info["modes"]), "exact lattice expectation (Fejér window, aliasing)"
        pts, _ = midpoint_lattice(info["box"], n)
        if len(pts) > MAX_MATRIX_POINTS:
            return None, (f"no theory: not translation invariant by construction and {len(pts)} lattice points "
                          f"(the full G_c matrix is computed up to {MAX_MATRIX_POINTS})")

        def gmat(x):
            iu = np.triu_indices(len(x))
            vals = exact(model, [np.stack([x[i], x[j]]) for i, j in zip(*iu)]).connected[0]
            G = np.zeros((len(x), len(x)))
            G[iu] = vals
            return G + np.triu(G, 1).T
        return (lattice_expectation(gmat, d, n, a, info["modes"], translation_invariant=False, points=pts),
                "exact lattice expectation (Fejér window, aliasing)")
    except NnftError as err:
        return None, f"no theory: {err}"


def power_spectrum(model: Model, momenta=None, *, route: str = "auto", window: float | None = None,
                   neurons: int = 1_000_000, box=None, lattice: int | None = None, modes=None,
                   samples: int = 20_000, key=0, chunk: int = 4096, blocks: int = 64,
                   dtype: str = "float32") -> PowerSpectrum:
    """The power spectrum G̃(p) = ∫dᵈr e^{−ip·r} G_c(r) with standard errors and, where the spec declares a
    reference, the theory of the same estimator beside it (docs/spectrum.md).

    Args:
      model: a compiled theory (insertions: lattice route only, reweighted; no theory column).
      momenta: (M, d) momenta, units 1/|x| (neuron route).
      route: ``"neurons"`` (plane-wave neuron sums: Cos-net, Scalar-net, F-nets; G̃ averaged over the window
        [p − h, p + h]ᵈ from drawn neurons, relative error independent of N), ``"lattice"`` (any net:
        periodogram on the midpoint lattice of ``box`` with ``lattice`` points per axis), or ``"auto"``
        (lattice when ``box`` is given, else neurons).
      window: h of the neuron route (default: 0.02 × the largest |p|, at least 0.05).
      neurons: neurons drawn (neuron route).
      box: the lattice route's box [[lo, hi], ...] (d rows), in the units of x.
      lattice: the lattice route's points per axis n.
      modes: the lattice route's integer modes (K, d) (default k = (j, 0, …), j = 0 … ⌊n/2⌋;
        p_k = 2πk/(na)).
      samples: networks (lattice route).
      key: seed of the draws (integer or JAX key).
      chunk: networks (or neuron rows) per compiled step; memory only.
      blocks: jackknife blocks.
      dtype: "float32" or "float64" sampling precision.

    Returns:
      :class:`~nnft.estimators.spectrum.PowerSpectrum`; ``theory`` is the estimator's expectation (window
      average of the closed form, or the exact lattice expectation from G_c), ``continuum`` the closed-form
      G̃ at the momenta, ``theory_label`` what they are or why there are none.

    Raises:
      EstimatorError: the neuron route on a theory with insertions or on a net that is not a plane-wave neuron
        sum, or a frequency law with atoms (no spectral density); E φ² infinite.
      InputError: bad momenta, window, box or lattice.

    Sources: TASI arXiv:2408.00082 eq. 65-74 (F-nets, Scalar-net), docs/spectrum.md.
    """
    if route == "auto":
        route = "lattice" if box is not None else "neurons"
    if route == "lattice" and momenta is not None:
        raise InputError("momenta are for the neuron route; the lattice route measures p_k = 2πk/(na) at the "
                         "integer modes k (modes=...): give momenta or box/lattice, not both")
    if route == "neurons":
        if model.insertions:
            raise EstimatorError(f"{model.theory.source}: the theory has insertions: e^{{−∫V(φ)}} couples the neurons, so "
                                 "the neuron route does not apply; use the lattice route (box=..., lattice=...)")
        if momenta is None:
            raise InputError("the neuron route needs momenta (M, d)")
        p = _checked_momenta(momenta, model.d)
        if window is None:
            window = min(MAX_WINDOW, max(0.05, 0.02 * float(np.max(np.abs(p)))))
        plane_wave(model)
        res = neuron_spectrum(model, p, window=window, neurons=neurons, key=key, chunk=chunk, blocks=blocks,
                              dtype=dtype)
        cont, label = _continuum(model, res.momenta)
        theory = None
        if cont is not None:
            nr = _reference(model)
            mu2 = _mu2(model)
            theory = box_average(lambda q: continuum(nr, mu2, q), res.momenta, res.window, breaks=jumps(nr))
            label = f"window average of {label}"
        return replace(res, theory=theory, continuum=cont, theory_label=label)
    if route == "lattice":
        if box is None or lattice is None:
            raise InputError("the lattice route needs box=[[lo, hi], ...] and lattice=n (points per axis)")
        res = lattice_spectrum(model, box, lattice, modes=modes, samples=samples, key=key, chunk=chunk,
                               blocks=blocks, dtype=dtype)
        theory, label = _lattice_theory(model, res)
        cont, clabel = _continuum(model, res.momenta)
        if cont is not None:
            label = f"{label}; continuum {clabel}"
        return replace(res, theory=theory, continuum=cont, theory_label=label)
    raise InputError(f"route must be 'neurons', 'lattice' or 'auto', got {route!r}")
