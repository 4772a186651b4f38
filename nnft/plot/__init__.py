"""Figures of nnft results (matplotlib, the optional extra: ``pip install 'nnft[plot]'``).

    import nnft.plot
    fig = nnft.plot.plot(report)                       # any result, or its Dataset
    nnft.plot.plot(nnft.load_result("run.nc"), "run.png")

Every function draws from the result's ``xarray.Dataset`` (:func:`nnft.results.to_dataset`), so a
saved file plots exactly like the live result, and returns the matplotlib Figure. Error bars are one
standard error; theory is a black line (or crosses) through the reference values the result carries.

* :func:`two_point` — G⁽²⁾(x, y) against |x − y| with theory (Report, Correlators);
* :func:`report` — a Report: G⁽²⁾ against |x − y| plus G_c⁽ⁿ⁾ row by row for higher orders;
* :func:`width_sweep` — a neuron-level WidthCorrelators against N with 1/N and 1/N² guides;
* :func:`sweep` — a ``--set NAME=v1,v2,...`` Sweep against the swept value;
* :func:`lambda_sweep` — a perturbative Comparison against λ with first-order lines;
* :func:`check_evidence` — check verdicts, cluster decay profiles, reflection-positivity spectra;
* :func:`phase_diagram` — χ⊥ on the (C_W, C_b) plane with the critical line (Criticality);
* :func:`kernel` — the NNGP and NTK Gram matrices (Kernels);
* :func:`training` — a trained ensemble against t: E f_t, Var f_t over the linearised GP, loss, ΔΘ (Training).

matplotlib is imported on first use; without it every function raises :class:`~nnft.errors.InputError`
with one line naming ``pip install 'nnft[plot]'``.
"""

from __future__ import annotations

from nnft.errors import InputError
from nnft.plot.base import FORMATS, check_path, dataset, pyplot
from nnft.plot.checks import check_evidence
from nnft.plot.correlators import report, sweep, two_point, width_sweep
from nnft.plot.criticality import phase_diagram
from nnft.plot.kernels import kernel
from nnft.plot.perturbation import lambda_sweep
from nnft.plot.spectrum import spectrum
from nnft.plot.training import training

__all__ = ["FORMATS", "check_evidence", "check_path", "kernel", "lambda_sweep", "phase_diagram", "plot",
           "pyplot", "report", "spectrum", "sweep", "training", "two_point", "width_sweep"]

#: Dataset kind -> the figure drawn by :func:`plot`
BY_KIND = {
    "Report": report,
    "Correlators": two_point,
    "WidthCorrelators": width_sweep,
    "Sweep": sweep,
    "Comparison": lambda_sweep,
    "CheckResults": check_evidence,
    "Criticality": phase_diagram,
    "Kernels": kernel,
    "PowerSpectrum": spectrum,
    "Training": training,
}


def plot(result, path=None, **options):
    """The standard figure of any nnft result (or its Dataset, or a saved file's ``nnft.load_result``).

    Args:
      result: a Report, Sweep, Correlators (order 2, with tuples), WidthCorrelators, Comparison, list
        of CheckResult, Criticality, Kernels, PowerSpectrum or Training, or the Dataset of one.
      path: write the figure there (.png, .pdf or .svg, chosen by the extension).
      options: passed to the figure function of that kind (see :data:`BY_KIND`).

    Returns:
      the matplotlib Figure.

    Raises:
      InputError: a result kind with no figure, a bad path, or matplotlib missing.

    Source: not from a paper: figures.
    """
    if path is not None:
        check_path(path)
    pyplot()
    items = [result] if type(result).__name__ == "CheckResult" else result
    if isinstance(items, (list, tuple)) and items and all(type(r).__name__ == "CheckResult" for r in items):
        return check_evidence(items, path=path, **options)          # drawn from the objects themselves
    ds, kind = dataset(result)
    if kind not in BY_KIND:
        raise InputError(f"no figure for a {kind}; figures exist for {', '.join(BY_KIND)}")
    return BY_KIND[kind](ds, path=path, **options)
