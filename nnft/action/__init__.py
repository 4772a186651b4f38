"""Actions and couplings read off correlators: the Gaussian (NNGP) action on a lattice of points, the
leading quartic vertex from the amputated connected 4-point function, and the 2008.08601 running
coupling λ(Λ). docs/couplings.md has the formulas and their sources.

(Not to be confused with ``nnft.perturbation.couplings``: the couplings g_k a spec *declares* in its
insertions. The couplings here are *measured*: the action an ensemble of networks has.)
"""

from __future__ import annotations

__all__ = ["GaussianAction", "QuarticCoupling", "RunningCoupling", "gaussian_action", "quartic_coupling",
           "running_coupling"]


def __getattr__(name: str):
    if name in ("GaussianAction", "gaussian_action"):
        from nnft.action import gaussian as m
    elif name in ("QuarticCoupling", "quartic_coupling"):
        from nnft.action import quartic as m
    elif name in ("RunningCoupling", "running_coupling"):
        from nnft.action import running as m
    else:
        raise AttributeError(f"module 'nnft.action' has no attribute {name!r}")
    return getattr(m, name)
