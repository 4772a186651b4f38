"""Checking what a user hands nnft: counts, seeds, points and point tuples, with stated bounds.

Every public entry point (the Python API re-exported by ``nnft/__init__.py`` and the ``nnft``
command line) passes its arguments through these helpers before any work starts, so that

* an argument that can be read two ways is refused with a hint, never silently reinterpreted
  (a 2-D array given as "tuples" is either one tuple of points or several 1-point tuples);
* a count that is not an integer, or one above its bound, is an :class:`~nnft.errors.InputError`
  naming the argument, what was given and what is allowed — not a TypeError from deep inside;
* every size that drives memory or time has a bound, checked before work starts (the bounds are
  the module constants below and are listed in ``docs/spec-language.md``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

from nnft.errors import InputError

#: networks per Monte Carlo run (also the spec's ``study.samples`` bound)
MAX_SAMPLES = 1_000_000_000
#: single-neuron samples of a neuron-level estimate
MAX_NEURONS = 1_000_000_000
#: networks per jitted chunk (also ``study.chunk``)
MAX_CHUNK = 1_000_000
#: integer seeds are 0 ≤ seed ≤ MAX_SEED (also ``study.seed``)
MAX_SEED = 2**31 - 1
#: distinct points of one run (also ``study.points``)
MAX_POINTS = 256
#: point tuples of one estimator call
MAX_TUPLES = 10_000
#: correlator orders 1..MAX_ORDER (the n-point planner's limit)
MAX_ORDER = 8
#: |coordinate| of a point (beyond this float32 products and the quadratures lose all accuracy)
MAX_COORDINATE = 1e12
#: values of a swept coupling in one ``nnft perturb``
MAX_LAMBDAS = 64


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, float):
        return "a float"
    return type(value).__name__


def as_count(value: object, name: str, *, lo: int = 1, hi: int = MAX_SAMPLES) -> int:
    """An integer count in [lo, hi]. Integral floats (``1e4``) are accepted as the integer they
    name; booleans, strings, fractional or non-finite numbers are refused."""
    if isinstance(value, bool) or isinstance(value, (str, bytes)):
        raise InputError(f"{name} must be an integer in [{lo}, {hi}], got {_kind(value)} {value!r}")
    if isinstance(value, numbers.Integral):
        n = int(value)
    elif isinstance(value, numbers.Real):
        v = float(value)
        if not math.isfinite(v) or v != math.floor(v):
            raise InputError(f"{name} must be an integer in [{lo}, {hi}], got {value!r}")
        if abs(v) > 2.0 ** 63:
            raise InputError(f"{name} = {value!r} is above its bound {hi}")
        n = int(v)
    else:
        raise InputError(f"{name} must be an integer in [{lo}, {hi}], got {_kind(value)}")
    if not lo <= n <= hi:
        raise InputError(f"{name} = {n} is outside [{lo}, {hi}]"
                         + (f" (the bound keeps a run finite; split larger runs)" if n > hi else ""))
    return n


def as_seed(value: object, name: str = "key"):
    """An integer seed in [0, MAX_SEED], or a JAX PRNG key (passed through)."""
    if isinstance(value, (numbers.Integral, float, str, bytes)) or value is None:
        return as_count(value, name, lo=0, hi=MAX_SEED)
    return value


def _float_array(value: object, name: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (ValueError, TypeError, OverflowError):
        raise InputError(f"{name} must be numbers in nested lists or an array of one shape "
                         f"(ragged lists or non-numbers were given)") from None
    if arr.dtype == object:  # pragma: no cover - asarray(dtype=float64) never yields object
        raise InputError(f"{name} must be numbers")
    return arr


def _finite(arr: np.ndarray, name: str) -> None:
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name}: coordinates must be finite numbers (got NaN or inf)")
    big = float(np.max(np.abs(arr), initial=0.0))
    if big > MAX_COORDINATE:
        raise InputError(f"{name}: |coordinate| = {big:g} is above the bound {MAX_COORDINATE:g}")


def as_points(points: object, d: int, name: str = "points", *, max_points: int = MAX_POINTS) -> np.ndarray:
    """Points as an array (P, d), 1 ≤ P ≤ max_points, finite and bounded. A 1-D array is accepted
    only when it cannot be read two ways: for d = 1 it is P points, otherwise it must have d entries
    (one point)."""
    if isinstance(points, (str, bytes)):
        raise InputError(f"{name} must be an array (P, d) of numbers, got a string")
    arr = _float_array(points, name)
    if arr.ndim == 1 and d == 1:
        arr = arr[:, None]
    elif arr.ndim == 1 and arr.size == d:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != d:
        raise InputError(f"{name} must have shape (P, d) with d = {d} (the spec's input dimension), "
                         f"got shape {arr.shape}")
    if not 1 <= arr.shape[0] <= max_points:
        raise InputError(f"{name}: {arr.shape[0]} points given; allowed 1..{max_points}")
    _finite(arr, name)
    return arr


def as_tuples(tuples: object, d: int, name: str = "tuples", *, max_order: int = MAX_ORDER,
              max_tuples: int = MAX_TUPLES) -> list[np.ndarray]:
    """Point tuples as a list of arrays (n_i, d), 1 ≤ n_i ≤ max_order.

    Accepted: a list (or tuple) whose items are each an (n, d) array-like, or one 3-D array
    (T, n, d). Refused, because it can be read two ways: a 2-D array or a list of points (is it one
    tuple of n points, or n 1-point tuples?) — pass ``[pts]`` for one tuple, ``[[p] for p in pts]``
    for 1-point tuples.
    """
    hint = (f"pass a list of tuples each of shape (n, d) with d = {d}: e.g. [[x1, x2]] for one "
            f"2-point tuple, [[x1], [x2]] for two 1-point tuples")
    if isinstance(tuples, (str, bytes)) or tuples is None:
        raise InputError(f"{name} must be a list of point tuples; got {_kind(tuples)}. Hint: {hint}")
    if isinstance(tuples, np.ndarray) or hasattr(tuples, "__array__") and not isinstance(tuples, Sequence):
        arr = _float_array(tuples, name)
        if arr.ndim != 3:
            raise InputError(f"{name}: an array of shape {arr.shape} is ambiguous or malformed as point tuples; "
                             f"an array must be 3-D (T, n, d). Hint: {hint}")
        items: list = list(arr)
    elif isinstance(tuples, Sequence):
        items = list(tuples)
    else:
        raise InputError(f"{name} must be a list of point tuples; got {_kind(tuples)}. Hint: {hint}")
    if not 1 <= len(items) <= max_tuples:
        raise InputError(f"{name}: {len(items)} tuples given; allowed 1..{max_tuples}")
    out = []
    for i, t in enumerate(items):
        if isinstance(t, (str, bytes)):
            raise InputError(f"{name}[{i}] is a string; each tuple is an (n, d) array of numbers. Hint: {hint}")
        a = _float_array(t, f"{name}[{i}]")
        if a.ndim != 2:
            raise InputError(f"{name}[{i}] has shape {a.shape}: a tuple must be 2-D (n, d) — a single point or a "
                             f"flat list can be read two ways. Hint: {hint}")
        if a.shape[1] != d:
            raise InputError(f"{name}[{i}] has points with {a.shape[1]} coordinates; the spec's input dimension "
                             f"is d = {d}")
        if not 1 <= a.shape[0] <= max_order:
            raise InputError(f"{name}[{i}] has {a.shape[0]} points; correlator orders 1..{max_order} are supported")
        _finite(a, f"{name}[{i}]")
        out.append(a)
    return out


# ----------------------------------------------------------------------------- command-line text

def parse_points(text: str, name: str = "--points") -> list[list[float]]:
    """``"x1,x2;y1,y2"`` -> a rectangular list of points (the dimension is checked later)."""
    if len(text) > 100_000:
        raise InputError(f"{name}: text of {len(text)} characters is too long")
    rows = [p for p in text.split(";") if p.strip()]
    if not rows:
        raise InputError(f"{name}: no points given; write points as 'x1,x2;y1,y2;...'")
    if len(rows) > MAX_POINTS:
        raise InputError(f"{name}: {len(rows)} points given; allowed 1..{MAX_POINTS}")
    out = []
    for i, r in enumerate(rows):
        try:
            out.append([float(c) for c in r.split(",")])
        except ValueError:
            raise InputError(f"{name}: point {i + 1} ({r.strip()[:40]!r}) is not numbers separated by commas; "
                             f"write points as 'x1,x2;y1,y2;...'") from None
    if len({len(p) for p in out}) != 1:
        raise InputError(f"{name}: points have different numbers of coordinates "
                         f"({', '.join(str(len(p)) for p in out[:6])}); every point needs d coordinates")
    return out


def parse_numbers(text: str, name: str, *, max_count: int = MAX_LAMBDAS) -> list[float]:
    """``"0.01,0.1,1"`` -> finite floats (at least one, at most ``max_count``)."""
    parts = [v for v in text.split(",") if v.strip()]
    if not parts:
        raise InputError(f"{name}: give at least one number, e.g. 0.01,0.1,1")
    if len(parts) > max_count:
        raise InputError(f"{name}: {len(parts)} values given; allowed 1..{max_count}")
    out = []
    for v in parts:
        try:
            f = float(v)
        except ValueError:
            raise InputError(f"{name}: {v.strip()[:40]!r} is not a number") from None
        if not math.isfinite(f):
            raise InputError(f"{name}: {v.strip()[:40]!r} is not a finite number")
        out.append(f)
    return out


def parse_orders(text: str, name: str = "--orders", *, max_order: int = MAX_ORDER) -> list[int]:
    """``"2,4"`` -> distinct orders in 1..max_order."""
    parts = [v for v in text.split(",") if v.strip()]
    if not parts:
        raise InputError(f"{name}: give at least one order, e.g. 2,4")
    out = []
    for v in parts:
        v = v.strip()
        if not (v.isascii() and v.isdigit()) or len(v) > 3:
            raise InputError(f"{name}: {v[:40]!r} is not an order; orders are integers 1..{max_order}, e.g. 2,4")
        n = int(v)
        if not 1 <= n <= max_order:
            raise InputError(f"{name}: order {n} is outside 1..{max_order}")
        if n not in out:
            out.append(n)
    return out


# ----------------------------------------------------------------------------- the public API boundary

#: bounds of the count-like keyword arguments of the public functions: name -> (lo, hi)
COUNTS: dict[str, tuple[int, int]] = {
    "samples": (2, MAX_SAMPLES),
    "neurons": (0, MAX_NEURONS),
    "chunk": (1, MAX_CHUNK),
    "blocks": (2, 4096),
    "devices": (1, 1 << 16),
}


def _input_dim(obj: object) -> int | None:
    """The input dimension d of a compiled model or a theory (None if unknown)."""
    d = getattr(obj, "d", None)
    if isinstance(d, int):
        return d
    dims = getattr(obj, "dims", None)
    if isinstance(dims, dict) and isinstance(dims.get("d"), int):
        return dims["d"]
    return None


#: points of a kernel or NTK evaluation (P × P matrices, no sampling per pair)
MAX_KERNEL_POINTS = 4096


def checked(fn, *, tuples: str | None = None, points: str | None = None, orders: str | None = None,
            max_points: int = MAX_POINTS):
    """``fn`` with its user-facing arguments checked first (see the module docstring): the argument
    named ``tuples`` by :func:`as_tuples`, ``points`` by :func:`as_points`, ``orders`` as orders
    1..MAX_ORDER, the counts of :data:`COUNTS`, ``key``/``seed`` by :func:`as_seed` and ``widths``
    as sizes. ``None`` passes through (it means "the spec's default")."""
    import functools
    import inspect

    sig = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            bound = sig.bind(*args, **kwargs)
        except TypeError as err:
            raise InputError(f"{fn.__name__}(): {err}") from None
        a = bound.arguments
        extra = next((p.name for p in sig.parameters.values() if p.kind is p.VAR_KEYWORD), None)
        kw = a.get(extra, {}) if extra else {}
        first = next(iter(a.values()), None)
        d = _input_dim(first)

        def fix(name: str, conv) -> None:
            for where in (a, kw):
                if name in where and where[name] is not None:
                    where[name] = conv(where[name], name)

        for name, (lo, hi) in COUNTS.items():
            fix(name, lambda v, n, lo=lo, hi=hi: as_count(v, n, lo=lo, hi=hi))
        fix("key", as_seed)
        fix("seed", as_seed)
        fix("widths", lambda v, n: [as_count(w, f"{n}[{i}]", lo=1, hi=10_000_000)
                                    for i, w in enumerate(v if isinstance(v, (list, tuple, np.ndarray)) else [v])])
        if d is not None:
            if tuples:
                fix(tuples, lambda v, n: as_tuples(v, d, n))
            if points:
                fix(points, lambda v, n: as_points(v, d, n, max_points=max_points))
        if orders:
            fix(orders, lambda v, n: [as_count(o, f"{n}[{i}]", lo=1, hi=MAX_ORDER)
                                      for i, o in enumerate(v if isinstance(v, (list, tuple, np.ndarray)) else [v])])
        return fn(*bound.args, **bound.kwargs)

    return wrapper
