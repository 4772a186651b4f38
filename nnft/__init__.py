"""nnft: neural-network field theory.

Declare a theory (φ_θ, P(θ)) in a spec file and get correlators with error bars next to theory::

    import nnft
    model = nnft.compile(nnft.load("cos_net", N=64))
    pts = [[[0.0, 0.0], [0.5, 0.0]]]                    # one 2-point tuple in d = 2
    mc = nnft.measure(model, pts, samples=100_000, key=0)
    th = nnft.exact(model, pts)
    print(mc.full, mc.full.z(th.full[0]))

Public API re-exported here; everything else is internal. The functions that take counts, seeds,
points or point tuples are re-exported through ``nnft.inputs.checked``: their arguments are checked
(types, shapes that can be read two ways, documented bounds) before any work starts, and a bad one is
an :class:`InputError` naming it.

The names are loaded on first use (``import nnft`` itself imports neither JAX nor SciPy, so the
command line starts fast); the first use also turns on the persistent compilation cache
(``nnft.runtime.enable_compile_cache``).
"""

from __future__ import annotations

import importlib as _importlib
import sys as _sys

#: public name -> (module, attribute)
_PUBLIC: dict[str, tuple[str, str]] = {
    "CheckResult": ("nnft.checks", "CheckResult"),
    "check": ("nnft.checks", "check"),
    "EstimatorError": ("nnft.errors", "EstimatorError"),
    "GraphError": ("nnft.errors", "GraphError"),
    "InputError": ("nnft.errors", "InputError"),
    "NnftError": ("nnft.errors", "NnftError"),
    "ReweightingWarning": ("nnft.errors", "ReweightingWarning"),
    "SamplingError": ("nnft.errors", "SamplingError"),
    "SpecError": ("nnft.errors", "SpecError"),
    "WidthCorrelators": ("nnft.estimators.neuron", "WidthCorrelators"),
    "neuron_measure": ("nnft.estimators.neuron", "neuron_measure"),
    "Correlators": ("nnft.estimators.npoint", "Correlators"),
    "Ensemble": ("nnft.estimators.npoint", "Ensemble"),
    "ensemble": ("nnft.estimators.npoint", "ensemble"),
    "connected": ("nnft.estimators.npoint", "connected"),
    "correlator": ("nnft.estimators.npoint", "correlator"),
    "measure": ("nnft.estimators.npoint", "measure"),
    "two_point": ("nnft.estimators.npoint", "two_point"),
    "local_correlator": ("nnft.estimators.local", "local_correlator"),
    "NeuronSum": ("nnft.graph.analyse", "NeuronSum"),
    "Structure": ("nnft.graph.analyse", "Structure"),
    "empirical_ntk": ("nnft.estimators.ntk", "empirical_ntk"),
    "ntk_ensemble": ("nnft.estimators.ntk", "ntk_ensemble"),
    "ntk_predict": ("nnft.estimators.ntk", "ntk_predict"),
    "Model": ("nnft.graph.compile", "Model"),
    "KernelError": ("nnft.graph.kernels", "KernelError"),
    "Kernels": ("nnft.graph.kernels", "Kernels"),
    "kernels": ("nnft.kernels_reference", "kernels_or_reference"),
    "kernel_fn": ("nnft.graph.kernels", "kernel_fn"),
    "compile": ("nnft.graph.compile", "compile"),
    "Exact": ("nnft.reference", "Exact"),
    "exact": ("nnft.reference", "exact"),
    "mcmc_ensemble": ("nnft.estimators.mcmc", "mcmc_ensemble"),
    "compare": ("nnft.perturbation.compare", "compare"),
    "from_dict": ("nnft.spec.load", "from_dict"),
    "load": ("nnft.spec.load", "load"),
    "shipped_specs": ("nnft.spec.load", "shipped_specs"),
    "Theory": ("nnft.spec.models", "Theory"),
    "Estimate": ("nnft.stats", "Estimate"),
    "zscore": ("nnft.stats", "zscore"),
    "Report": ("nnft.study_report", "Report"),
    "run": ("nnft.study", "run"),
    "Sweep": ("nnft.sweep", "Sweep"),
    "run_sweep": ("nnft.sweep", "run_sweep"),
    "load_result": ("nnft.results", "load_result"),
    "gaussian_action": ("nnft.action.gaussian", "gaussian_action"),
    "quartic_coupling": ("nnft.action.quartic", "quartic_coupling"),
    "running_coupling": ("nnft.action.running", "running_coupling"),
    "extrapolate": ("nnft.extrapolation", "extrapolate"),
    "PowerSpectrum": ("nnft.estimators.spectrum", "PowerSpectrum"),
    "power_spectrum": ("nnft.spectrum", "power_spectrum"),
    "scalar_net_design": ("nnft.analytic.scalar_design", "scalar_net_design"),
    "train": ("nnft.training.run", "train"),
    "Training": ("nnft.training.result", "Training"),
    "posterior": ("nnft.bayes.finite", "posterior"),
    "nngp_posterior": ("nnft.bayes.gp", "nngp_posterior"),
    "condition": ("nnft.bayes.likelihood", "condition"),
}

# -- checked re-exports (nnft.inputs): arguments are validated before any work starts
_CHECKED: dict[str, dict] = {
    "measure": {"tuples": "tuples"},
    "correlator": {"tuples": "tuples"},
    "connected": {"tuples": "tuples"},
    "ensemble": {"tuples": "tuples"},
    "two_point": {"points": "points"},
    "neuron_measure": {"tuples": "tuples"},
    "exact": {"tuples": "tuples"},
    "run": {"points": "points", "orders": "orders"},
    "run_sweep": {"points": "points", "orders": "orders"},
    "check": {},
    "compare": {"tuples": "tuples", "points": "points"},
    "kernels": {"points": "points", "max_points": "kernel"},
    "ntk_ensemble": {"points": "points", "max_points": "kernel"},
    "mcmc_ensemble": {"tuples": "tuples"},
    "local_correlator": {"tuples": "tuples"},
    "gaussian_action": {"points": "points"},
    "quartic_coupling": {"points": "points"},
    "running_coupling": {"points": "inputs"},
    "power_spectrum": {},
    "posterior": {"points": "x_test"},
}

#: subpackages reachable as attributes after ``import nnft`` (imported on first use), e.g. ``nnft.results.save``
_SUBPACKAGES = ("results",)

__all__ = sorted(_PUBLIC)
__version__ = "0.1.0"


def __getattr__(name: str):
    """Load a public name on first use (PEP 562)."""
    if name in _SUBPACKAGES:
        return _importlib.import_module(f"nnft.{name}")   # the import binds it in globals()
    if name not in _PUBLIC:
        raise AttributeError(f"module 'nnft' has no attribute {name!r}")
    module, attr = _PUBLIC[name]
    obj = getattr(_importlib.import_module(module), attr)
    if "jax" in _sys.modules:                          # before anything is compiled
        from nnft.runtime import enable_compile_cache
        enable_compile_cache()
    if name in _CHECKED:
        from nnft.inputs import MAX_KERNEL_POINTS, checked
        opts = dict(_CHECKED[name])
        if opts.pop("max_points", None):
            opts["max_points"] = MAX_KERNEL_POINTS
        obj = checked(obj, **opts)
    globals()[name] = obj
    return obj


def __dir__() -> list[str]:
    return sorted(set(__all__) | set(_SUBPACKAGES) | {"__version__"})
