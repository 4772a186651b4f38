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
"""

from nnft.checks import CheckResult as CheckResult
from nnft.checks import check as check
from nnft.errors import EstimatorError as EstimatorError
from nnft.errors import GraphError as GraphError
from nnft.errors import InputError as InputError
from nnft.errors import NnftError as NnftError
from nnft.errors import ReweightingWarning as ReweightingWarning
from nnft.errors import SamplingError as SamplingError
from nnft.errors import SpecError as SpecError
from nnft.estimators.neuron import WidthCorrelators as WidthCorrelators
from nnft.estimators.neuron import neuron_measure as neuron_measure
from nnft.estimators.npoint import Correlators as Correlators
from nnft.estimators.npoint import Ensemble as Ensemble
from nnft.estimators.npoint import ensemble as ensemble
from nnft.estimators.npoint import connected as connected
from nnft.estimators.npoint import correlator as correlator
from nnft.estimators.npoint import measure as measure
from nnft.estimators.npoint import two_point as two_point
from nnft.graph.analyse import NeuronSum as NeuronSum
from nnft.graph.analyse import Structure as Structure
from nnft.estimators.ntk import empirical_ntk as empirical_ntk
from nnft.estimators.ntk import ntk_ensemble as ntk_ensemble
from nnft.estimators.ntk import ntk_predict as ntk_predict
from nnft.graph.compile import Model as Model
from nnft.graph.kernels import KernelError as KernelError
from nnft.graph.kernels import Kernels as Kernels
from nnft.graph.kernels import kernels as kernels
from nnft.graph.compile import compile as compile
from nnft.reference import Exact as Exact
from nnft.reference import exact as exact
from nnft.sample.mcmc import mcmc_ensemble as mcmc_ensemble
from nnft.perturbation import compare as compare
from nnft.spec.load import from_dict as from_dict
from nnft.spec.load import load as load
from nnft.spec.load import shipped_specs as shipped_specs
from nnft.spec.models import Theory as Theory
from nnft.stats import Estimate as Estimate
from nnft.stats import zscore as zscore
from nnft.study import Report as Report
from nnft.study import run as run

# -- checked re-exports (nnft.inputs): arguments are validated before any work starts
from nnft.inputs import MAX_KERNEL_POINTS as _MAX_KERNEL_POINTS  # noqa: E402
from nnft.inputs import checked as _checked  # noqa: E402

measure = _checked(measure, tuples="tuples")
correlator = _checked(correlator, tuples="tuples")
connected = _checked(connected, tuples="tuples")
ensemble = _checked(ensemble, tuples="tuples")
two_point = _checked(two_point, points="points")
neuron_measure = _checked(neuron_measure, tuples="tuples")
exact = _checked(exact, tuples="tuples")
run = _checked(run, points="points", orders="orders")
check = _checked(check)
compare = _checked(compare, tuples="tuples", points="points")
kernels = _checked(kernels, points="points", max_points=_MAX_KERNEL_POINTS)
ntk_ensemble = _checked(ntk_ensemble, points="points", max_points=_MAX_KERNEL_POINTS)
mcmc_ensemble = _checked(mcmc_ensemble, tuples="tuples")
del _checked, _MAX_KERNEL_POINTS

__version__ = "0.1.0"
