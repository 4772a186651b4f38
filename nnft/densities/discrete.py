"""Discrete laws (``event_dims == 0``, ``discrete = True``): the Rademacher law ±scale and a finite
discrete law of up to four atoms v₁…v₄ with probabilities p₁…p₄.

Draws are the inverse CDF of one uniform number (counter-based, like the elementwise continuous
laws): atom i where p₁ + … + p_{i−1} ≤ u < p₁ + … + pᵢ. ``log_prob`` is the log of the probability
mass (density with respect to counting measure): log pᵢ at an atom, −inf elsewhere. Moments are
exact, E Xᵏ = Σᵢ pᵢ vᵢᵏ (Rademacher: scaleᵏ for even k, 0 for odd k). A discrete law has no
differentiable noise map θ = T(ε), so NUTS/HMC cannot sample it (:meth:`_noise_map` refuses); i.i.d.
and reweighted sampling, the neuron-sum analysis and the exact-in-N references (TASI
arXiv:2408.00082 eq. 39, 50-51: cumulants of a sum of i.i.d. neurons add; a ±1 readout v has
E v² = 1, E v⁴ = 1) apply as for any law.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from nnft.densities.base import Density
from nnft.densities.facts import Support, Tail
from nnft.errors import DensityArgError

#: the probabilities of a discrete law must sum to 1 within this tolerance
PROB_TOL = 1e-9


class _Atoms(Density):
    """A law on finitely many atoms: shared sampling, log-mass, moments and facts."""

    elementwise = True
    discrete = True

    def _atoms(self, a) -> tuple[list, list]:    # pragma: no cover - abstract
        raise NotImplementedError

    def _from_uniform(self, u, a):
        vals, probs = self._atoms(a)
        out = jnp.broadcast_to(jnp.asarray(vals[-1], u.dtype), jnp.broadcast_shapes(u.shape, *(
            jnp.shape(v) for v in vals)))
        cum = 0.0
        # atom i where cum_{i-1} ≤ u < cum_i, scanning from the last atom back
        cums = []
        for p in probs:
            cum = cum + p
            cums.append(cum)
        for v, c in reversed(list(zip(vals[:-1], cums[:-1]))):
            out = jnp.where(u < c, jnp.asarray(v, u.dtype), out)
        return out

    def _sample(self, key, shape, a, dtype):
        return self._from_uniform(jax.random.uniform(key, shape, dtype), a)

    def _log_prob(self, x, a):
        vals, probs = self._atoms(a)
        mass = jnp.zeros(x.shape, x.dtype)
        for v, p in zip(vals, probs):
            mass = mass + jnp.where(x == v, p, 0.0)
        return jnp.where(mass > 0, jnp.log(jnp.where(mass > 0, mass, 1.0)), -jnp.inf)

    def _moment(self, k, a):
        vals, probs = self._atoms(a)
        return math.fsum(p * v ** k for v, p in zip(vals, probs) if p > 0)

    def _noise_map(self, eps, a):
        raise DensityArgError(f"{self.name}: a discrete law has no differentiable noise map θ = T(ε), so "
                              "NUTS/HMC cannot sample it; use i.i.d. or reweighted sampling", density=self.name)

    def _tail(self, a):
        return Tail(math.inf, bounded=True, light=True)

    def _support(self, a):
        vals, probs = self._atoms(a)
        live = [v for v, p in zip(vals, probs) if p > 0]
        return Support(min(live), max(live))

    def _centre(self, a):
        vals, probs = self._atoms(a)
        mass: dict[float, float] = {}
        for v, p in zip(vals, probs):
            if p > 0:
                mass[v] = mass.get(v, 0.0) + p
        c = math.fsum(v * p for v, p in mass.items())
        for v, p in mass.items():
            q = mass.get(2 * c - v)
            if q is None:                           # rounding: look for the mirror atom within a few ulps
                q = next((mass[w] for w in mass if math.isclose(w, 2 * c - v, rel_tol=1e-12, abs_tol=1e-300)), None)
            if q is None or not math.isclose(p, q, rel_tol=1e-12, abs_tol=0.0):
                return None
        return c

    def atoms(self, args) -> tuple[np.ndarray, np.ndarray]:
        """(values, probabilities) of the atoms with positive probability, for constant args."""
        vals, probs = self._atoms(self._floats(args))
        keep = [i for i, p in enumerate(probs) if p > 0]
        return np.array([vals[i] for i in keep], float), np.array([probs[i] for i in keep], float)


class Rademacher(_Atoms):
    """±scale with probability ½ each: bounded, symmetric about 0, E X² = scale², E X⁴ = scale⁴."""

    affine_args = frozenset({"scale"})

    def _atoms(self, a):
        return [-a["scale"], a["scale"]], [0.5, 0.5]

    def _from_uniform(self, u, a):
        s = jnp.asarray(a["scale"], u.dtype)
        return jnp.where(u < 0.5, -s, s)

    def _log_prob(self, x, a):
        return jnp.where(jnp.abs(x) == a["scale"], -math.log(2.0), -jnp.inf)

    def _moment(self, k, a):
        return 0.0 if k % 2 else a["scale"] ** k

    def _centre(self, a):
        return 0.0


class Discrete(_Atoms):
    """P(X = vᵢ) = pᵢ, i = 1..4 (atoms with pᵢ = 0 are absent; equal values add their probabilities);
    the probabilities must sum to 1 (within :data:`PROB_TOL`)."""

    def _atoms(self, a):
        return [a[f"v{i}"] for i in range(1, 5)], [a[f"p{i}"] for i in range(1, 5)]

    def _check_relations(self, args):
        total = sum(np.asarray(args[f"p{i}"], dtype=np.float64) for i in range(1, 5))
        bad = ~(np.abs(total - 1.0) <= PROB_TOL)
        if np.any(bad):
            t = float(total[bad][0]) if np.ndim(total) else float(total)
            dflt = ", ".join(f"p{i} = {self.defaults[f'p{i}']:g}" for i in range(1, 5))
            raise DensityArgError(f"{self.name}: the probabilities p1 + p2 + p3 + p4 must sum to 1, got {t!r} "
                                  f"(a p left out takes its default: {dflt}; give every p you use, and 0 for "
                                  "unused atoms)", density=self.name, arg="p1", value=t,
                                  constraint="p1 + p2 + p3 + p4 = 1")
