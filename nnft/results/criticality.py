"""The criticality analysis of an MLP spec (:class:`~nnft.analytic.criticality.Criticality`, ``nnft
criticality``) as an ``xarray.Dataset`` and back.

Layout: every field as a 0-d variable (``chi_parallel``, ``chi_perp``, ``xi_q``, ``xi_c``, ``phase``,
``c_star``, ``chi_c``, ``note``, ``growth_depth``; the fixed point as ``fixed_K``, ``fixed_kind``, ``fixed_converged``,
``fixed_message``, ``fixed_C_W``, ``fixed_C_b``); attrs ``activation``, ``C_W``, ``C_b``, ``gamma`` (the
residual weight), and ``fields`` (packed JSON text of the whole result, what loading reads). An
analytic result (Schoenholz et al. arXiv:1611.01232; Poole et al. arXiv:1606.05340): the sampling
provenance is not applicable.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from nnft.results.files import pack, unpack
from nnft.results.provenance import provenance

KIND = "Criticality"


def to_dataset(c, *, activation: str = "", C_W=None, C_b=None, gamma=0.0, theory=None, **known):
    """A Criticality as a Dataset (layout in the module docstring)."""
    import xarray as xr
    fields = dataclasses.asdict(c)
    flat = {k: v for k, v in fields.items() if k != "fixed"}
    flat.update({f"fixed_{k}": v for k, v in fields["fixed"].items()})
    data = {k: ((), np.array(v, dtype=object if isinstance(v, str) else None)) for k, v in flat.items()}
    ds = xr.Dataset(data)
    ds.attrs.update(nnft_result=KIND, **provenance(theory, analytic=True, **known))
    ds.attrs.update(activation=str(activation), C_W=float(c.fixed.C_W if C_W is None else C_W),
                    C_b=float(c.fixed.C_b if C_b is None else C_b), gamma=float(gamma), fields=pack(fields))
    return ds


def from_dataset(ds):
    """The Criticality a Dataset of :func:`to_dataset` holds."""
    from nnft.analytic.criticality import Criticality
    from nnft.analytic.fixed_points import FixedPoint
    fields = unpack(ds.attrs["fields"])
    fields["fixed"] = FixedPoint(**fields["fixed"])
    if "growth_depth" not in fields and fields["xi_q"] < 0:    # a file written when ξ_q kept −1/ln χ∥ at χ∥ > 1
        fields["xi_q"], fields["growth_depth"] = float("nan"), -fields["xi_q"]
    return Criticality(**fields)
