"""The :class:`Density` base class: arguments, sampling, log-density, moments and the declared facts.

A :class:`Density` is a frozen description (name, event rank, one-line doc; its argument names,
constraints and defaults are read from :data:`nnft.spec.signatures.DENSITIES`, their one home) plus:

* :meth:`Density.check` validates *constant* arguments (plain floats / numpy arrays) and raises
  :class:`DensityArgError` naming the argument, the value and the violated constraint;
* :meth:`Density.sample` draws an array of a given shape; arguments may be JAX arrays that
  broadcast (numpy rules, right-aligned) against the batch shape ``shape[:len(shape)-event_dims]``,
  so e.g. a Cauchy scale can vary per neuron. It is jittable, vmappable and a pure function of the
  key (new-style ``jax.random.key`` keys and legacy ``uint32[2]`` keys both work);
* :meth:`Density.sample_networks` draws the blocks of many networks at once, network ``i``'s block a
  function of ``(key, i)`` only (counter-based threefry bits for the densities that are elementwise
  transforms of a uniform number, a per-network key otherwise), so a network's parameters do not
  depend on how a run is cut into chunks;
* :meth:`Density.log_prob` is the log density, elementwise for ``event_dims == 0`` and reduced over
  the last axis for ``event_dims == 1`` (the last two for ``event_dims == 2``); ``-inf`` outside the support;
* :meth:`Density.moment` is the exact raw moment ``E[X^k]`` of a scalar density (floats in,
  float out), raising :class:`DensityArgError` when the moment is infinite or undefined.

**Facts.** What other modules need to know about a law is declared here, never recovered from the
density's name elsewhere:

* :meth:`Density.tail` — which moments exist (:class:`~nnft.densities.facts.Tail`), for ``nnft.graph.moments``;
* :meth:`Density.support` — where the density is positive (:class:`~nnft.densities.facts.Support`: interval, half-line,
  ball) and :attr:`Density.flat` — constant on it (a uniform phase, for ``nnft.graph.symmetry``);
* :attr:`Density.affine_args` — the arguments a draw depends on only affinely (θ = a + b·Y, Y free of
  them), so random values of those arguments make a location-scale mixture (``nnft.graph.moments``);
* :meth:`Density.centre` — the point the density is symmetric about (``nnft.graph.symmetry``);
* :meth:`Density.isotropic` — invariance under rotations (``nnft.graph.symmetry``);
* :meth:`Density.gaussian` — mean and std when the law is normal (kernel maps, the NTK estimator);
* :meth:`Density.noise_map` — θ = T(ε) pushing N(0, 1) noise to the law (``nnft.sample.mcmc``).

Arguments are never validated inside ``sample``/``log_prob``/``noise_map`` (they may be traced);
call ``check`` on constant arguments first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from nnft.densities.constraints import CONSTRAINTS, fmt_value
from nnft.densities.draws import network_draws, sample_jit, typed_key
from nnft.densities.facts import Gaussian, Support, Tail
from nnft.errors import DensityArgError, NnftError, suggest
from nnft.spec.signatures import DENSITIES as SIGNATURES
from nnft.spec.signatures import Signature


@dataclass(frozen=True, eq=False)
class Density:
    """A named family of densities. Subclasses implement ``_sample``, ``_log_prob``, ``_moment``,
    ``_noise_map`` and declare their facts (see the module docstring).

    Fields:
      name: registry key, e.g. ``"normal"``; also the key of its signature in
        :data:`nnft.spec.signatures.DENSITIES`, from which :attr:`args` and :attr:`defaults` are read.
      event_dims: 0 for elementwise densities; 1 when the last axis of the shape is one vector draw; 2
        when the last two axes are one matrix draw (``haar_orthogonal``).
      doc: one line, with the formula of the pdf.

    Raises:
      NnftError: ``name`` has no signature, a constraint is unknown, ``event_dims`` is not 0 or 1, or
        ``affine_args`` names an argument the density does not have.
    """

    name: str
    event_dims: int
    doc: str

    #: draws are elementwise transforms of one uniform number each (:meth:`_from_uniform`)
    elementwise = False
    #: the density is constant on its support (a uniform law)
    flat = False
    #: the law is a finite set of atoms (``nnft.densities.discrete``): ``log_prob`` is the log of the
    #: probability mass, and there is no differentiable noise map (no NUTS/HMC)
    discrete = False
    #: arguments a draw depends on only affinely: θ = a + b·Y with a, b linear in these arguments and
    #: Y's law free of every argument (loc / scale / low / high / radius; not a shape like student_t's
    #: df, nor an inverse scale like exponential's rate)
    affine_args: ClassVar[frozenset[str]] = frozenset()

    def __post_init__(self):
        sig = SIGNATURES.get(self.name)
        if sig is None or any(c not in CONSTRAINTS for c in sig.args.values()) or self.event_dims not in (0, 1, 2) \
                or not self.affine_args <= set(sig.args):
            raise NnftError(f"malformed density definition {self.name!r}: no signature in "
                            "nnft.spec.signatures.DENSITIES, an unknown constraint, event_dims not 0, 1 or 2, "
                            "or affine_args not among its arguments")

    # ------------------------------------------------------------------ arguments
    @property
    def signature(self) -> Signature:
        """The argument signature, :data:`nnft.spec.signatures.DENSITIES` ``[name]``."""
        return SIGNATURES[self.name]

    @property
    def args(self) -> Mapping[str, str]:
        """Argument name -> constraint name (a key of :data:`CONSTRAINTS`), in canonical order."""
        return self.signature.args

    @property
    def defaults(self) -> Mapping[str, float]:
        """Default values of the optional arguments."""
        return self.signature.defaults

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the arguments without a default."""
        return self.signature.required

    def _allowed(self) -> str:
        return str(self.signature)

    def _names_ok(self, args: Mapping[str, Any]) -> None:
        """Unknown or missing argument names -> DensityArgError listing the allowed names."""
        for a in args:
            if a not in self.args:
                hint = suggest(a, self.args)
                raise DensityArgError(
                    f"{self.name}: unknown argument {a!r}; allowed arguments: {self._allowed()}"
                    + (f" (did you mean {hint!r}?)" if hint else ""),
                    density=self.name, arg=a)
        missing = [a for a in self.required if a not in args]
        if missing:
            raise DensityArgError(
                f"{self.name}: missing required argument(s) {', '.join(map(repr, missing))}; "
                f"allowed arguments: {self._allowed()}", density=self.name, arg=missing[0])

    def with_defaults(self, args: Mapping[str, Any]) -> dict[str, Any]:
        """``args`` completed with the defaults, in canonical order.

        Raises DensityArgError for an unknown or a missing required argument name."""
        self._names_ok(args)
        return {a: (args[a] if a in args else self.defaults[a]) for a in self.args}

    def _floats(self, args: Mapping[str, Any]) -> dict[str, float]:
        return {a: float(v) for a, v in self.with_defaults(args).items()}

    def check(self, args: Mapping[str, Any]) -> None:
        """Validate constant arguments (floats or numpy arrays, checked elementwise).

        Raises DensityArgError (a ValueError) for unknown / missing names, NaN or inf, a violated
        constraint ("std must be positive (> 0), got -1.0") or a violated relation between
        arguments (uniform: low < high).
        """
        full = self.with_defaults(args)
        for a, constraint in self.args.items():
            try:
                x = np.asarray(full[a], dtype=np.float64)
            except (TypeError, ValueError):
                raise DensityArgError(f"{self.name}: {a} must be a number, got {full[a]!r}",
                                      density=self.name, arg=a, value=full[a],
                                      constraint=CONSTRAINTS[constraint][1]) from None
            pred, desc = CONSTRAINTS[constraint]
            bad = ~(np.isfinite(x) & pred(x))
            if np.any(bad):
                v = x[bad][0] if x.ndim else x
                raise DensityArgError(f"{self.name}: {a} must be {desc}, got {fmt_value(v)}",
                                      density=self.name, arg=a, value=float(v), constraint=desc)
        self._check_relations({a: np.asarray(v, dtype=np.float64) for a, v in full.items()})

    def _check_relations(self, args: dict[str, np.ndarray]) -> None:
        """Relations between (already individually valid) arguments; override where needed."""

    # ------------------------------------------------------------------ JAX side
    def sample(self, key: jax.Array, shape: tuple[int, ...], args: Mapping[str, Any],
               dtype: Any = jnp.float32) -> jax.Array:
        """Draw an array of ``shape``; ``args`` broadcast against ``shape[:len(shape)-event_dims]``.

        Raises DensityArgError when ``shape`` has fewer than ``event_dims`` axes or an argument does
        not broadcast to the batch shape."""
        shape = tuple(int(s) for s in shape)
        if len(shape) < self.event_dims:
            raise DensityArgError(f"{self.name}: shape {shape} has fewer than event_dims="
                                  f"{self.event_dims} axes", density=self.name)
        batch = shape[:len(shape) - self.event_dims]
        full = self.with_defaults(args)
        for k, v in full.items():
            try:
                if np.broadcast_shapes(np.shape(v), batch) != batch:
                    raise ValueError
            except ValueError:
                raise DensityArgError(f"{self.name}: argument {k} of shape {np.shape(v)} does not "
                                      f"broadcast to the batch shape {batch} (sample shape {shape})",
                                      density=self.name, arg=k) from None
        # one compiled computation per (density, shape, dtype, arg shapes); inlined under jit/vmap
        return sample_jit(self, typed_key(key), full, shape, jnp.dtype(dtype))

    def sample_networks(self, key: jax.Array, first: jax.Array, n: int, shape: tuple[int, ...],
                        args: Mapping[str, Any], dtype: Any = jnp.float32) -> jax.Array:
        """The blocks of ``shape`` of networks ``first .. first+n−1``, stacked: (n,) + shape. ``args``
        broadcast against (n,) + the batch shape (per-network arguments allowed).

        Network ``i``'s block is a function of ``(key, i)`` only, bit for bit, whatever ``first`` and ``n``:

        * elementwise densities (normal, uniform, cauchy, laplace, exponential): element ``e`` (row-major
          index in the block) is the density's inverse-CDF transform of a uniform number in [0, 1) made of
          the top 23 (float32) / 52 (float64) bits of ``threefry2x32(key, (i mod 2³², c))``: float32 uses
          both output words of counter ``c`` for elements ``2c`` and ``2c+1``, float64 the two words of
          ``c = e`` as one 64-bit integer (network indices are taken mod 2³²);
        * the others (student_t, uniform_ball): ``sample(fold_in(key, i), shape, args_i, dtype)``.
        """
        shape = tuple(int(s) for s in shape)
        n = int(n)
        batch = shape[:len(shape) - self.event_dims]
        full = self.with_defaults(args)
        dtype = jnp.dtype(dtype)
        a = {k: jnp.broadcast_to(jnp.asarray(v, dtype), (n,) + batch) for k, v in full.items()}
        key = typed_key(key)
        idx = jnp.asarray(first) + jnp.arange(n, dtype=jnp.asarray(first).dtype)
        if not self.elementwise:
            return jax.vmap(lambda i, ai: self.sample(jax.random.fold_in(key, i), shape, ai, dtype))(idx, a)
        size = math.prod(shape)
        flat = {k: v.reshape(n, size) for k, v in a.items()}          # elementwise: batch shape = shape
        return network_draws(self, key, idx, size, dtype, flat).reshape((n,) + shape)

    def log_prob(self, value: jax.Array, args: Mapping[str, Any]) -> jax.Array:
        """Log density of ``value`` (elementwise; event densities reduce over the last axis).

        Shapes: the value's batch shape ``value.shape[:ndim-event_dims]`` and the arguments broadcast
        (numpy rules) to the result's shape. Raises DensityArgError when they do not, or when
        ``value`` has fewer than ``event_dims`` axes."""
        value = jnp.asarray(value)
        if not jnp.issubdtype(value.dtype, jnp.floating):
            value = value.astype(jnp.result_type(float))
        if value.ndim < self.event_dims:
            raise DensityArgError(f"{self.name}: value of shape {value.shape} has fewer than "
                                  f"event_dims={self.event_dims} axes", density=self.name)
        full = self.with_defaults(args)
        a = {k: jnp.asarray(v, dtype=value.dtype) for k, v in full.items()}
        # explicit (numpy-rule) broadcasting of value's batch shape and the args, so that the
        # result is right under jax_numpy_rank_promotion="raise" too
        nb = value.ndim - self.event_dims
        try:
            batch = jnp.broadcast_shapes(value.shape[:nb], *(v.shape for v in a.values()))
        except ValueError:
            raise DensityArgError(f"{self.name}: arguments of shapes "
                                  f"{ {k: v.shape for k, v in a.items()} } do not broadcast against "
                                  f"the value's batch shape {value.shape[:nb]}",
                                  density=self.name) from None
        value = jnp.broadcast_to(value, batch + value.shape[nb:])
        a = {k: jnp.broadcast_to(v, batch) for k, v in a.items()}
        return self._log_prob(value, a)

    def moment(self, k: int, args: Mapping[str, float]) -> float:
        """Exact raw moment ``E[X^k]`` for constant scalar args.

        Raises DensityArgError for a vector density, an order that is not an integer >= 0, invalid
        arguments, or a moment that does not exist or overflows float64."""
        if self.event_dims:
            raise DensityArgError(f"{self.name}: moment() is only defined for scalar densities "
                                  f"(event_dims=0), this one has event_dims={self.event_dims}",
                                  density=self.name)
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
            raise DensityArgError(f"{self.name}: moment order must be an integer >= 0, got {k!r}",
                                  density=self.name)
        self.check(args)
        if k == 0:
            return 1.0
        full = self._floats(args)
        try:
            value = float(self._moment(int(k), full))
        except OverflowError:
            value = math.inf
        if not math.isfinite(value):
            raise DensityArgError(f"{self.name}: moment {k} at {full} is not representable in float64 (it "
                                  "overflows); rescale the parameters (e.g. a smaller loc or scale)",
                                  density=self.name)
        return value

    def noise_map(self, eps: jax.Array, args: Mapping[str, jax.Array]) -> jax.Array:
        """θ = T(ε): maps standard normal noise ε ~ N(0, I) to draws of this density, exactly.

        Scalar densities: T(ε) = F⁻¹(Φ(ε)) elementwise (F the CDF; increasing and differentiable, so
        NUTS can run on ε; written with Φ(−|ε|) where the tails need it). Vector densities map each
        vector along the last axis. ``eps``: any shape with at least ``event_dims`` axes; ``args``:
        (traced) arrays broadcasting against ``eps`` (batch shape plus size-1 event axes), defaults
        filled in if missing. Returns an array of ``eps``'s shape. Raises DensityArgError for
        unknown or missing argument names."""
        return self._noise_map(jnp.asarray(eps), self.with_defaults(args))

    # ------------------------------------------------------------------ facts (constant arguments)
    def tail(self, args: Mapping[str, float]) -> Tail:
        """Which moments exist, for constant args: a :class:`Tail` (E|X|ᵖ < ∞ exactly for p < ``alpha``).

        Student-t: alpha = df; Cauchy: 1 (no mean, no variance); every other density here: inf."""
        return self._tail(self._floats(args))

    def support(self, args: Mapping[str, float]) -> Support:
        """Where the density is positive, for constant scalar args: a :class:`Support`."""
        return self._support(self._floats(args))

    def centre(self, args: Mapping[str, float]) -> float | None:
        """The point c the density is symmetric about, p(c + x) = p(c − x) for every x, or None.

        For a vector density, c is a point on the diagonal (c, ..., c) (the ball: c = 0, p(−w) = p(w))."""
        return self._centre(self._floats(args))

    def isotropic(self, args: Mapping[str, float]) -> bool:
        """Whether draws along an axis have a law invariant under its rotations O(n).

        ``event_dims == 1``: one draw along the event axis (the ball); ``event_dims == 0``: n i.i.d.
        draws along any axis, which by Maxwell's theorem is the centred normal only."""
        return self._isotropic(self._floats(args))

    def gaussian(self, args: Mapping[str, float]) -> Gaussian | None:
        """``Gaussian(mean, std)`` when the law is N(mean, std²) for these constant args, else None."""
        return self._gaussian(self._floats(args))

    # ------------------------------------------------------------------ to implement
    def _tail(self, a: dict[str, float]) -> Tail:
        return Tail(math.inf, bounded=False, light=True)

    def _support(self, a: dict[str, float]) -> Support:
        return Support()

    def _centre(self, a: dict[str, float]) -> float | None:
        return None

    def _isotropic(self, a: dict[str, float]) -> bool:
        return False

    def _gaussian(self, a: dict[str, float]) -> Gaussian | None:
        return None

    def _no_moment(self, k: int, why: str) -> DensityArgError:
        return DensityArgError(f"moment {k} of {self.name} does not exist ({why})", density=self.name)

    def _from_uniform(self, u, a):  # pragma: no cover - abstract (elementwise densities)
        raise NotImplementedError

    def _sample(self, key, shape, a, dtype):  # pragma: no cover - abstract
        raise NotImplementedError

    def _log_prob(self, x, a):  # pragma: no cover - abstract
        raise NotImplementedError

    def _moment(self, k: int, a: dict[str, float]) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def _noise_map(self, eps, a):  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<Density {self._allowed()}: {self.doc}>"
