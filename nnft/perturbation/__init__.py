"""Perturbation theory beside reweighted Monte Carlo for theories with local insertions (docs/perturbation.md).

Modules, one job each (imports point down: ``compare`` → ``comparison``, ``couplings`` → ``first_order``
→ ``nnft.analytic.perturbative``, ``nnft.reference``; the reweighting itself is ``nnft.sample.reweight``):

* ``compare``: the workflow, reweighted MC shifts beside first order over a λ sweep (``nnft.compare``,
  ``nnft perturb``);
* ``comparison``: its result, :class:`~nnft.perturbation.comparison.Comparison` (table and plot);
* ``couplings``: the g_k of a theory's insertions and the first-order shifts per unit coupling;
* ``first_order``: the exact finite-N first order of a compiled model from its reference.

Nothing is imported here, so ``import nnft.perturbation`` stays light.
"""
