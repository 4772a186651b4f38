"""Training of ensembles (docs/training.md): ``setup`` (the ``train:`` block as numbers), ``dynamics``
(the vmapped, chunked gradient descent and its per-network features), ``theory`` (the infinite-width
linearised GP, η_crit), ``result`` (:class:`~nnft.training.result.Training`), ``run`` (``nnft.train``),
``posterior`` (NNGP Bayesian posterior)."""
