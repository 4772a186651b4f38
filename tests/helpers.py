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


class JaxEvents:
    """What JAX reports through ``jax.monitoring``, counted by function name: ``compiles`` (XLA
    backend compilations, e.g. "jit(chunk_fn)"; a hit in the persistent cache is not one) and ``traces``
    (jaxpr traces, e.g. "per_device"; a persistent-cache hit still traces). Counts, never times."""

    def __init__(self):
        import collections
        self.compiles: collections.Counter = collections.Counter()
        self.traces: collections.Counter = collections.Counter()

    def clear(self) -> None:
        self.compiles.clear()
        self.traces.clear()

    def on_event(self, event, secs, fun_name=None, **_):
        if event == "/jax/core/compile/backend_compile_duration":
            self.compiles[fun_name] += 1
        elif event == "/jax/core/compile/jaxpr_trace_duration":
            self.traces[fun_name] += 1


_EVENTS: JaxEvents | None = None


def jax_events() -> JaxEvents:
    """The one process-wide :class:`JaxEvents` counter (its listener is registered once)."""
    global _EVENTS
    if _EVENTS is None:
        import jax
        _EVENTS = JaxEvents()
        jax.monitoring.register_event_duration_secs_listener(_EVENTS.on_event)
    return _EVENTS
