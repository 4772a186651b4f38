"""The public API is what nnft/__init__.py re-exports; pin it so changes are deliberate."""

import nnft

PUBLIC = {
    "CheckResult", "Correlators", "Ensemble", "Estimate", "EstimatorError", "Exact", "GraphError", "Model", "NeuronSum", "NnftError",
    "Report", "SamplingError", "SpecError", "Structure", "Theory", "WidthCorrelators", "check", "compile", "connected",
    "correlator", "ensemble", "exact", "from_dict", "load", "measure", "neuron_measure", "run", "shipped_specs",
    "two_point", "zscore", "KernelError", "Kernels", "ReweightingWarning", "mcmc_ensemble", "kernels", "kernel_fn", "empirical_ntk", "ntk_ensemble", "ntk_predict",
    "compare", "InputError", "Sweep", "run_sweep", "load_result",
    "local_correlator",
    "gaussian_action", "quartic_coupling", "running_coupling", "extrapolate",
    "power_spectrum", "PowerSpectrum", "scalar_net_design",
    "train", "Training",
    "posterior", "nngp_posterior", "condition",
}


def test_public_names():
    names = {n for n in dir(nnft) if not n.startswith("_")}
    modules = {"analytic", "checks", "cli", "insertions", "densities", "errors", "estimators", "graph", "perturbation", "reference", "sample", "inputs",
               "spec", "stats", "study", "sweep", "results",
               "training", "bayes"}
    assert names - modules == PUBLIC


def test_two_point_matrix_is_symmetric_and_matches_theory():
    import numpy as np
    m = nnft.compile(nnft.load("cos_net", N=4))
    pts = np.array([[0.0, 0.0], [0.4, 0.0], [0.0, 0.9]])
    est = nnft.two_point(m, pts, samples=20_000, key=0)
    assert est.shape == (3, 3)
    np.testing.assert_array_equal(est.mean, est.mean.T)
    exact = np.exp(-np.sum((pts[:, None] - pts[None]) ** 2, -1) / 4) / 2
    assert np.all(np.abs(est.z(exact)) < 5)
