"""MCMC convergence :class:`~nnft.sample.diagnostics.Diagnostics` as an ``xarray.Dataset`` and back.

Layout (O observables, C chains)::

    coords   observable (O) · chain (C)
    rhat, ess, tau                       (observable)  rank-normalised split-R̂, bulk ESS, autocorrelation time
    divergences, acceptance, step_size   (chain)       NUTS divergences, mean acceptance, adapted step size
    attrs    block_length, draws_per_chain, trace_stride, chains, converged (0/1), blocks_ok (0/1), messages
"""

from __future__ import annotations

import numpy as np

from nnft.results.files import pack, unpack
from nnft.results.provenance import provenance

KIND = "Diagnostics"


def to_dataset(diag, *, theory=None, seed=None, samples=None, blocks=None, **known):
    """Diagnostics as a Dataset (layout in the module docstring), with the provenance given."""
    import xarray as xr
    ds = xr.Dataset(
        {"rhat": ("observable", np.asarray(diag.rhat, dtype=np.float64)),
         "ess": ("observable", np.asarray(diag.ess, dtype=np.float64)),
         "tau": ("observable", np.asarray(diag.tau, dtype=np.float64)),
         "divergences": ("chain", np.asarray(diag.divergences)),
         "acceptance": ("chain", np.asarray(diag.acceptance, dtype=np.float64)),
         "step_size": ("chain", np.asarray(diag.step_size, dtype=np.float64))},
        coords={"observable": np.array(list(diag.names), dtype=object),
                "chain": np.arange(len(np.atleast_1d(diag.acceptance)))})
    ds.attrs.update(nnft_result=KIND, **provenance(theory, seed=seed, samples=samples, blocks=blocks, **known))
    ds.attrs.update(block_length=float(diag.block_length), draws_per_chain=int(diag.draws_per_chain),
                    trace_stride=int(diag.trace_stride), chains=int(diag.chains), converged=int(bool(diag.converged)),
                    blocks_ok=int(bool(diag.blocks_ok)), messages=pack(tuple(diag.messages)))
    return ds


def from_dataset(ds):
    """The Diagnostics a Dataset of :func:`to_dataset` holds."""
    from nnft.sample.diagnostics import Diagnostics
    a = ds.attrs
    return Diagnostics(names=tuple(str(n) for n in ds["observable"].values), rhat=ds["rhat"].values,
                       ess=ds["ess"].values, tau=ds["tau"].values, divergences=ds["divergences"].values,
                       acceptance=ds["acceptance"].values, step_size=ds["step_size"].values,
                       block_length=float(a["block_length"]), draws_per_chain=int(a["draws_per_chain"]),
                       trace_stride=int(a["trace_stride"]), chains=int(a["chains"]),
                       converged=bool(int(a["converged"])), blocks_ok=bool(int(a["blocks_ok"])),
                       messages=tuple(unpack(a["messages"])))
