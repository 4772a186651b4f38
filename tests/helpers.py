"""Shared test helpers (importable from every test folder: pytest's ``pythonpath = tests``).

Monte Carlo tests compare with closed forms by z-score at fixed seeds: |z| < Z_MAX. With ~10²
comparisons in the suite and Gaussian z, the chance of a false failure per seed is < 1e-4.
"""

import numpy as np

Z_MAX = 5.0


def tuples_for(d: int, seed: int = 0, scale: float = 0.5):
    """A standard set of point tuples: G2 pairs, coincident and paired G4, and generic G4."""
    rng = np.random.default_rng(seed)
    P = rng.normal(size=(4, d)) * scale
    return [P[[0, 1]], P[[1, 2]], P[[0, 0]], P[[0, 0, 0, 0]], P[[0, 0, 1, 1]], P[[0, 1, 2, 3]], P[[1, 1, 3, 3]]]
