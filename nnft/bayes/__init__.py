"""Bayesian inference with random networks: the NNGP posterior (exact GP algebra on the kernel map) and
finite-width posteriors P(θ | D) sampled as a likelihood insertion (docs/posterior.md).

``nngp_posterior`` (``nnft.bayes.gp``), ``condition`` (``nnft.bayes.likelihood``) and
``posterior`` (``nnft.bayes.finite``) are the entry points.
"""

from nnft.bayes.finite import Posterior, posterior
from nnft.bayes.gp import GPPosterior, nngp_posterior
from nnft.bayes.likelihood import ConditionedModel, condition

__all__ = ["ConditionedModel", "GPPosterior", "Posterior", "condition", "nngp_posterior", "posterior"]
