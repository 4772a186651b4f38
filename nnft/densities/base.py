"""Parameter densities P(theta): argument constraints as data, sampling and log-densities as JAX.

A :class:`Density` is a frozen description (name, argument constraints, defaults, event rank,
one-line doc) plus four methods:

* :meth:`Density.check` validates *constant* arguments (plain floats / numpy arrays) and raises
  :class:`DensityArgError` naming the argument, the value and the violated constraint;
* :meth:`Density.sample` draws an array of a given shape; arguments may be JAX arrays that
  broadcast (numpy rules, right-aligned) against the batch shape ``shape[:len(shape)-event_dims]``,
  so e.g. a Cauchy scale can vary per neuron. It is jittable, vmappable and a pure function of the
  key (new-style ``jax.random.key`` keys and legacy ``uint32[2]`` keys both work);
* :meth:`Density.sample_networks` draws the blocks of many networks at once, network ``i``'s block a
  function of ``(key, i)`` only (counter-based threefry bits for the densities that are elementwise
  transforms of a uniform number, a per-network key otherwise), so a network's parameters do not depend on
  how a run is cut into chunks;
* :meth:`Density.log_prob` is the log density, elementwise for ``event_dims == 0`` and reduced over
  the last axis for ``event_dims == 1``; ``-inf`` outside the support;
* :meth:`Density.moment` is the exact raw moment ``E[X^k]`` of a scalar density (floats in,
  float out), raising :class:`DensityArgError` when the moment is infinite or undefined;
* :meth:`Density.tail` declares which moments exist (:class:`Tail`: E|X|ᵖ < ∞ iff p < alpha, and
  whether the support is bounded / exponential moments exist), the data the graph's moment
  analysis (``nnft.graph.moments``) propagates to the field.

Arguments are never validated inside ``sample``/``log_prob`` (they may be traced); call
``check`` on constant arguments first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from types import MappingProxyType
from typing import Any, Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend.random import threefry_2x32

from nnft.errors import NnftError, UnknownNameError, suggest
from nnft.errors import DensityArgError  # noqa: F401 - defined in nnft.errors, importable here too

#: Constraint name -> (predicate on a float64 numpy array, human-readable description).
#: Every constraint also requires finiteness (NaN / inf are always rejected).
CONSTRAINTS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], str]] = {
    "real": (lambda x: np.ones(np.shape(x), dtype=bool), "real (finite)"),
    "positive": (lambda x: x > 0, "positive (> 0)"),
    "nonnegative": (lambda x: x >= 0, "nonnegative (>= 0)"),
}


def _fmt(value: np.ndarray) -> str:
    """A value for an error message: scalars as floats, arrays by their first offending entry."""
    return repr(float(value)) if np.ndim(value) == 0 else repr(value.tolist())


@dataclass(frozen=True, eq=False)
class Density:
    """A named family of densities. Subclasses implement ``_sample``, ``_log_prob``, ``_moment``.

    Fields:
      name: registry key, e.g. ``"normal"``.
      args: argument name -> constraint name (a key of :data:`CONSTRAINTS`), in canonical order.
      defaults: default values of the optional arguments.
      event_dims: 0 for elementwise densities; 1 when the last axis of the shape is one vector draw.
      doc: one line, with the formula of the pdf.
    """

    name: str
    args: Mapping[str, str]
    defaults: Mapping[str, float]
    event_dims: int
    doc: str

    def __post_init__(self):
        unknown = {c for c in self.args.values() if c not in CONSTRAINTS}
        if unknown or not set(self.defaults) <= set(self.args) or self.event_dims not in (0, 1):
            raise ValueError(f"malformed density definition {self.name!r}")
        object.__setattr__(self, "args", MappingProxyType(dict(self.args)))  # read-only data
        object.__setattr__(self, "defaults", MappingProxyType(dict(self.defaults)))

    # ------------------------------------------------------------------ arguments
    @property
    def required(self) -> tuple[str, ...]:
        """Names of the arguments without a default."""
        return tuple(a for a in self.args if a not in self.defaults)

    def _allowed(self) -> str:
        parts = [a if a not in self.defaults else f"{a}={self.defaults[a]:g}" for a in self.args]
        return f"{self.name}({', '.join(parts)})"

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
        """``args`` completed with the defaults, in canonical order (names are checked)."""
        self._names_ok(args)
        return {a: (args[a] if a in args else self.defaults[a]) for a in self.args}

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
                raise DensityArgError(f"{self.name}: {a} must be {desc}, got {_fmt(v)}",
                                      density=self.name, arg=a, value=float(v), constraint=desc)
        self._check_relations({a: np.asarray(v, dtype=np.float64) for a, v in full.items()})

    def _check_relations(self, args: dict[str, np.ndarray]) -> None:
        """Relations between (already individually valid) arguments; override where needed."""

    # ------------------------------------------------------------------ JAX side
    def sample(self, key: jax.Array, shape: tuple[int, ...], args: Mapping[str, Any],
               dtype: Any = jnp.float32) -> jax.Array:
        """Draw an array of ``shape``; ``args`` broadcast against ``shape[:len(shape)-event_dims]``."""
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
        key = jnp.asarray(key)
        if not jnp.issubdtype(key.dtype, jax.dtypes.prng_key):  # legacy uint32[2] key
            key = jax.random.wrap_key_data(key)
        # one compiled computation per (density, shape, dtype, arg shapes); inlined under jit/vmap
        return _sample_jit(self, key, full, shape, jnp.dtype(dtype))

    #: draws are elementwise transforms of one uniform number each (:meth:`_from_uniform`)
    elementwise = False

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
        key = jnp.asarray(key)
        if not jnp.issubdtype(key.dtype, jax.dtypes.prng_key):  # legacy uint32[2] key
            key = jax.random.wrap_key_data(key)
        idx = jnp.asarray(first) + jnp.arange(n, dtype=jnp.asarray(first).dtype)
        if not self.elementwise:
            return jax.vmap(lambda i, ai: self.sample(jax.random.fold_in(key, i), shape, ai, dtype))(idx, a)
        u = _uniform_blocks(key, idx, math.prod(shape), dtype).reshape((n,) + shape)
        return self._from_uniform(u, a)

    def _from_uniform(self, u, a):  # pragma: no cover - abstract (elementwise densities)
        raise NotImplementedError

    def log_prob(self, value: jax.Array, args: Mapping[str, Any]) -> jax.Array:
        """Log density of ``value`` (elementwise; event densities reduce over the last axis)."""
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
        """Exact raw moment ``E[X^k]`` for constant scalar args; DensityArgError if it does not exist."""
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
        full = {a: float(v) for a, v in self.with_defaults(args).items()}
        try:
            value = float(self._moment(int(k), full))
        except OverflowError:
            value = math.inf
        if not math.isfinite(value):
            raise DensityArgError(f"{self.name}: moment {k} at {full} is not representable in float64 (it "
                                  "overflows); rescale the parameters (e.g. a smaller loc or scale)",
                                  density=self.name)
        return value

    def tail(self, args: Mapping[str, float]) -> "Tail":
        """Which moments exist, for constant args: a :class:`Tail` (E|X|ᵖ < ∞ exactly for p < ``alpha``).

        Student-t: alpha = df; Cauchy: 1 (no mean, no variance); every other density here: inf.
        """
        return self._tail({a: float(v) for a, v in self.with_defaults(args).items()})

    def _tail(self, a: dict[str, float]) -> "Tail":
        return Tail(math.inf, bounded=False, light=True)

    def _no_moment(self, k: int, why: str) -> DensityArgError:
        return DensityArgError(f"moment {k} of {self.name} does not exist ({why})", density=self.name)

    # to implement
    def _sample(self, key, shape, a, dtype):  # pragma: no cover - abstract
        raise NotImplementedError

    def _log_prob(self, x, a):  # pragma: no cover - abstract
        raise NotImplementedError

    def _moment(self, k: int, a: dict[str, float]) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<Density {self._allowed()}: {self.doc}>"


@dataclass(frozen=True)
class Tail:
    """The moments a density has.

    Fields:
      alpha: E|X|ᵖ < ∞ exactly for 0 ≤ p < alpha (inf: every moment exists).
      bounded: the support is bounded.
      light: E e^{t|X|} < ∞ for every t (sub-Gaussian or bounded), so exp(X) has every moment.
    """

    alpha: float
    bounded: bool
    light: bool

    def has_moment(self, k: float) -> bool:
        """Whether E|X|^k is finite."""
        return k < self.alpha


@partial(jax.jit, static_argnums=(0, 3, 4))
def _sample_jit(density: Density, key, args: dict[str, Any], shape: tuple[int, ...], dtype):
    batch = shape[:len(shape) - density.event_dims]
    expand = (...,) + (None,) * density.event_dims
    a = {k: jnp.broadcast_to(jnp.asarray(v, dtype=dtype), batch)[expand] for k, v in args.items()}
    return density._sample(key, shape, a, dtype)


def _uniform_blocks(key: jax.Array, idx: jax.Array, size: int, dtype) -> jax.Array:
    """(len(idx), size) uniform numbers in [0, 1): row i from threefry2x32(key, (idx[i] mod 2³², counter))
    (see :meth:`Density.sample_networks`)."""
    kd = jax.random.key_data(key).astype(jnp.uint32)
    n = idx.shape[0]
    cols = (size + 1) // 2 if dtype == jnp.float32 else size
    rows = jnp.broadcast_to(idx.astype(jnp.uint32)[:, None], (n, cols))
    ctr = jax.lax.broadcasted_iota(jnp.uint32, (n, cols), 1)
    out = threefry_2x32(kd, jnp.concatenate([rows.ravel(), ctr.ravel()]))
    w0, w1 = out[:n * cols].reshape(n, cols), out[n * cols:].reshape(n, cols)
    if dtype == jnp.float32:
        bits = jnp.stack([w0, w1], axis=-1).reshape(n, 2 * cols)[:, :size]
        one = jax.lax.bitcast_convert_type((bits >> 9) | jnp.uint32(0x3F800000), jnp.float32)
        return one - jnp.float32(1.0)
    bits = (w0.astype(jnp.uint64) << 32) | w1.astype(jnp.uint64)
    one = jax.lax.bitcast_convert_type((bits >> 12) | jnp.uint64(0x3FF0000000000000), jnp.float64)
    return one - 1.0


def _open_interval(u, low, dtype):
    """u in [0, 1) -> [low, 1) as jax.random.uniform(minval=low, maxval=1) does."""
    low = jnp.asarray(low, dtype)
    return jnp.maximum(low, u * (jnp.asarray(1.0, dtype) - low) + low)


def _shifted_moment(k: int, loc: float, scale: float, std_moment: Callable[[int], float]) -> float:
    """E[(loc + scale*Y)^k] = sum_j C(k,j) loc^(k-j) scale^j E[Y^j]."""
    return math.fsum(math.comb(k, j) * loc ** (k - j) * scale ** j * std_moment(j)
                     for j in range(k + 1) if j == k or loc != 0)


def _double_factorial(n: int) -> int:
    return math.prod(range(n, 0, -2)) if n > 0 else 1


_LOG_2PI = math.log(2 * math.pi)


class Normal(Density):
    elementwise = True

    def _sample(self, key, shape, a, dtype):
        return a["mean"] + a["std"] * jax.random.normal(key, shape, dtype)

    def _from_uniform(self, u, a):      # as jax.random.normal: √2 erf⁻¹ of a uniform on (−1, 1)
        v = _open_interval(u, np.nextafter(-1.0, 0.0, dtype=u.dtype), u.dtype)
        return a["mean"] + a["std"] * (np.sqrt(2).astype(u.dtype) * jax.lax.erf_inv(v))

    def _log_prob(self, x, a):
        z = (x - a["mean"]) / a["std"]
        return -0.5 * z * z - jnp.log(a["std"]) - 0.5 * _LOG_2PI

    def _moment(self, k, a):
        return _shifted_moment(k, a["mean"], a["std"],
                               lambda j: 0.0 if j % 2 else float(_double_factorial(j - 1)))


class Uniform(Density):
    def _tail(self, a):
        return Tail(math.inf, bounded=True, light=True)

    def _check_relations(self, args):
        low, high = np.broadcast_arrays(args["low"], args["high"])
        bad = ~(low < high)
        if np.any(bad):
            lo, hi = (low[bad][0], high[bad][0]) if low.ndim else (low, high)
            raise DensityArgError(f"{self.name}: low must be < high, got low={float(lo)!r}, "
                                  f"high={float(hi)!r}", density=self.name, arg="high",
                                  value=float(hi), constraint="low < high")

    elementwise = True

    def _sample(self, key, shape, a, dtype):
        u = jax.random.uniform(key, shape, dtype)
        return a["low"] + (a["high"] - a["low"]) * u

    def _from_uniform(self, u, a):
        return a["low"] + (a["high"] - a["low"]) * u

    def _log_prob(self, x, a):
        inside = (x >= a["low"]) & (x <= a["high"])
        return jnp.where(inside, -jnp.log(a["high"] - a["low"]), -jnp.inf)

    def _moment(self, k, a):
        lo, hi = a["low"], a["high"]
        # (hi^(k+1) - lo^(k+1)) / ((k+1)(hi-lo)) written without cancellation
        return math.fsum(hi ** j * lo ** (k - j) for j in range(k + 1)) / (k + 1)


class UniformBall(Density):
    def _tail(self, a):
        return Tail(math.inf, bounded=True, light=True)

    def _sample(self, key, shape, a, dtype):
        d = shape[-1]
        if d == 1:  # the 1-ball is the interval [-radius, radius]
            return a["radius"] * jax.random.uniform(key, shape, dtype, minval=-1.0, maxval=1.0)
        kdir, krad = jax.random.split(key)
        g = jax.random.normal(kdir, shape, dtype)
        norm = jnp.linalg.norm(g, axis=-1, keepdims=True)
        direction = g / jnp.where(norm > 0, norm, 1.0)  # g == 0 has probability ~0; avoid NaN
        u = jax.random.uniform(krad, shape[:-1] + (1,), dtype)
        return a["radius"] * u ** (1.0 / d) * direction

    def _log_prob(self, x, a):
        d = x.shape[-1]
        r = a["radius"]
        log_vol = 0.5 * d * math.log(math.pi) - math.lgamma(0.5 * d + 1) + d * jnp.log(r)
        inside = jnp.sum(x * x, axis=-1) <= r * r
        return jnp.where(inside, -log_vol, -jnp.inf)


class Cauchy(Density):
    def _tail(self, a):
        return Tail(1.0, bounded=False, light=False)

    elementwise = True

    def _sample(self, key, shape, a, dtype):
        return a["loc"] + a["scale"] * jax.random.cauchy(key, shape, dtype)

    def _from_uniform(self, u, a):      # as jax.random.cauchy: tan(π(u − ½)), u in [tiny, 1)
        v = _open_interval(u, np.finfo(u.dtype).tiny, u.dtype)
        return a["loc"] + a["scale"] * jnp.tan(np.asarray(np.pi, u.dtype) * (v - np.asarray(0.5, u.dtype)))

    def _log_prob(self, x, a):
        z = (x - a["loc"]) / a["scale"]
        return -jnp.log1p(z * z) - jnp.log(a["scale"]) - math.log(math.pi)

    def _moment(self, k, a):
        if k == 0:
            return 1.0
        raise self._no_moment(k, "cauchy has no finite moments of order >= 1")


class StudentT(Density):
    def _tail(self, a):
        return Tail(float(a["df"]), bounded=False, light=False)

    def _sample(self, key, shape, a, dtype):
        return a["loc"] + a["scale"] * jax.random.t(key, a["df"], shape, dtype)

    def _log_prob(self, x, a):
        df = a["df"]
        z = (x - a["loc"]) / a["scale"]
        return (jax.scipy.special.gammaln(0.5 * (df + 1)) - jax.scipy.special.gammaln(0.5 * df)
                - 0.5 * jnp.log(df * jnp.pi) - jnp.log(a["scale"])
                - 0.5 * (df + 1) * jnp.log1p(z * z / df))

    def _moment(self, k, a):
        df = a["df"]
        if k >= df:
            raise self._no_moment(k, f"student_t moments exist only for k < df, got k={k}, df={df:g}")

        def std_moment(j: int) -> float:  # E[T^j] for T ~ t(df), j < df
            if j % 2:
                return 0.0
            if j == 0:
                return 1.0
            return math.exp(0.5 * j * math.log(df) + math.lgamma(0.5 * (j + 1))
                            + math.lgamma(0.5 * (df - j)) - math.lgamma(0.5 * df)) / math.sqrt(math.pi)

        return _shifted_moment(k, a["loc"], a["scale"], std_moment)


class Laplace(Density):
    def _tail(self, a):      # E e^{t|X|} < ∞ only for t < 1/scale
        return Tail(math.inf, bounded=False, light=False)

    elementwise = True

    def _sample(self, key, shape, a, dtype):
        return a["loc"] + a["scale"] * jax.random.laplace(key, shape, dtype)

    def _from_uniform(self, u, a):      # as jax.random.laplace: sign(v) log1p(−|v|), v uniform on (−1, 1)
        v = _open_interval(u, np.nextafter(-1.0, 0.0, dtype=u.dtype), u.dtype)
        return a["loc"] + a["scale"] * (jnp.sign(v) * jnp.log1p(-jnp.abs(v)))

    def _log_prob(self, x, a):
        return -jnp.abs(x - a["loc"]) / a["scale"] - jnp.log(2 * a["scale"])

    def _moment(self, k, a):
        return _shifted_moment(k, a["loc"], a["scale"],
                               lambda j: 0.0 if j % 2 else float(math.factorial(j)))


class Exponential(Density):
    def _tail(self, a):      # E e^{tX} < ∞ only for t < rate
        return Tail(math.inf, bounded=False, light=False)

    elementwise = True

    def _sample(self, key, shape, a, dtype):
        return a["loc"] + jax.random.exponential(key, shape, dtype) / a["rate"]

    def _from_uniform(self, u, a):      # as jax.random.exponential: −log1p(−u)
        return a["loc"] - jnp.log1p(-u) / a["rate"]

    def _log_prob(self, x, a):
        y = x - a["loc"]
        return jnp.where(y >= 0, jnp.log(a["rate"]) - a["rate"] * y, -jnp.inf)

    def _moment(self, k, a):
        return _shifted_moment(k, a["loc"], 1.0 / a["rate"], lambda j: float(math.factorial(j)))


def _build() -> dict[str, Density]:
    ds = [
        Normal("normal", {"std": "positive", "mean": "real"}, {"mean": 0.0}, 0,
               "p(x) = exp(-(x-mean)^2 / (2 std^2)) / (std sqrt(2 pi))"),
        Uniform("uniform", {"low": "real", "high": "real"}, {}, 0,
                "p(x) = 1 / (high - low) for low <= x <= high, else 0"),
        UniformBall("uniform_ball", {"radius": "positive"}, {}, 1,
                    "p(w) = Gamma(d/2 + 1) / (pi^(d/2) radius^d) for |w| <= radius, else 0 "
                    "(d = size of the last axis)"),
        Cauchy("cauchy", {"scale": "positive", "loc": "real"}, {"loc": 0.0}, 0,
               "p(x) = 1 / (pi scale (1 + ((x-loc)/scale)^2))"),
        StudentT("student_t", {"df": "positive", "scale": "positive", "loc": "real"},
                 {"scale": 1.0, "loc": 0.0}, 0,
                 "p(x) = Gamma((df+1)/2) / (Gamma(df/2) sqrt(df pi) scale) "
                 "(1 + z^2/df)^(-(df+1)/2), z = (x-loc)/scale"),
        Laplace("laplace", {"scale": "positive", "loc": "real"}, {"loc": 0.0}, 0,
                "p(x) = exp(-|x-loc| / scale) / (2 scale)"),
        Exponential("exponential", {"rate": "positive", "loc": "real"}, {"loc": 0.0}, 0,
                    "p(x) = rate exp(-rate (x-loc)) for x >= loc, else 0"),
    ]
    return {d.name: d for d in ds}


DENSITIES: dict[str, Density] = _build()


def get_density(name: str) -> Density:
    """The registered density ``name``; KeyError (with a suggestion) if unknown."""
    try:
        return DENSITIES[name]
    except KeyError:
        hint = suggest(name, DENSITIES)
        raise UnknownNameError(f"unknown density {name!r}; known densities: {', '.join(DENSITIES)}"
                       + (f" (did you mean {hint!r}?)" if hint else "")) from None
