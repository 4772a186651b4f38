"""i.i.d. ensembles of networks, streamed in jitted, vmapped chunks.

Network ``i`` is drawn with ``fold_in(key, i)``; its features go to block ``i·K // n``. Chunks never
cross a block boundary (:func:`work_list`), so each chunk adds one (F,) sum to one block; chunks have a
fixed shape that splits the blocks evenly (:func:`step_chunk`; one compilation per shape) and padded
rows are masked out. Non-finite field values,
features, weights or block sums raise :class:`~nnft.errors.SamplingError`; they are never masked or
averaged. The step also returns the per-network tail columns of every chunk, whose largest values the
host keeps (``nnft.tails.RunningTop``: a threshold test per value, exact top-M), for the Pareto-k̂ tail
diagnostic of ``nnft.tails``.

Work items run one per local device per dispatch and whole blocks per process (``jax.distributed``);
long runs show progress and can be checkpointed and resumed (``nnft.checkpoint``). None of this changes
a bit of the result at a given chunk size (docs/scaling.md).
"""

from __future__ import annotations

import collections
import hashlib
import os
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import jax
import numpy as np

from nnft import runtime
from nnft import checkpoint as checkpoints
from nnft.errors import CheckpointError, ReweightingWarning, SamplingError, printable
from nnft.graph.compile import Model
from nnft.sample.step import DTYPES, chunk_step, row_elements, tail_one_sided, tail_width
from nnft.stats import BlockSums
from nnft.sample.reweight import ess_floor
from nnft.tails import MIN_TAIL, RunningTop, tail_size

#: array elements (all networks of one chunk) a jitted step may hold; bounds memory per step
CHUNK_ELEMENTS = 1 << 24
#: below this effective sample size (absolute, or as a fraction of n) reweighted estimates are flagged
#: largest tail buffer (features × kept values) for the k̂ diagnostic; beyond it fewer values are kept
TAIL_ELEMENTS = 1 << 22


#: most steps computed at once on CPU devices (one thread each; each in flight holds one step's memory)
MAX_THREADS = 4


def step_threads(devices: list) -> int:
    """Steps the stream computes at once: on CPU devices the cores per device (at most :data:`MAX_THREADS`),
    elsewhere 1.

    XLA:CPU runs a step's loops on the thread that dispatches it (measured here: the HMS grid's steps used
    one core of two, ~100 % CPU), and executions dispatched from different threads run concurrently, so
    the stream dispatches from a pool of this many threads. Each step is the same program on the same
    inputs whichever thread runs it, and results are absorbed in work-list order: no number changes.
    (The first step is compiled on the caller's thread; a thread-local JAX setting entered around the call,
    e.g. ``with jax.default_matmul_precision(...)``, is not seen by the pool's threads, which would trace
    the step again without it: set such options with ``jax.config.update``.)"""
    if not devices or devices[0].platform != "cpu":
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(MAX_THREADS, cores // len(devices)))


class _Ready:
    """A result computed on the caller's thread, read like a future."""

    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value


def as_key(key: int | jax.Array) -> jax.Array:
    """A JAX PRNG key from an integer seed or a key."""
    if isinstance(key, (int, np.integer)):
        return jax.random.key(int(key))
    return key


def step_elements(model: Model, points: int, rows: int, n_features: int, features=None) -> int:
    """Array elements one network occupies in a streaming step (the chunk is sized from this).

    parameters + φ's intermediate values at every point the step evaluates (the estimator's ``points``
    and every insertion lattice, ``Model.point_elements`` each) + per row the field values, the
    features and their weighted contributions, or what the step's ``features`` object really holds
    (``step.row_elements``; 2F for per-row features).
    The host-side tail buffers are per run, bounded by :data:`TAIL_ELEMENTS`.
    """
    lattice = sum(len(ins.points) for ins in model.insertions)
    return (max(1, model.param_elements) + (int(points) + lattice) * model.point_elements
            + int(rows) * (int(points) + row_elements(features, n_features)))


def chunk_size(model: Model, requested: int, n_samples: int, points: int, rows: int = 1, n_features: int = 1,
               features=None) -> int:
    """Networks per jitted step: the requested chunk, capped so that the whole step's memory
    (:func:`step_elements` × chunk) stays within :data:`CHUNK_ELEMENTS`."""
    per_network = step_elements(model, points, rows, n_features, features)
    return max(1, min(int(requested), int(n_samples), CHUNK_ELEMENTS // per_network))


def blocks_of(n_samples: int, n_blocks: int) -> list[tuple[int, int]]:
    """[lo, hi) of each jackknife block: network ``i`` is in block ``i·K // n`` (contiguous, sizes differ by ≤ 1)."""
    return [(-(-b * n_samples // n_blocks), -(-(b + 1) * n_samples // n_blocks)) for b in range(n_blocks)]


def work_list(n_samples: int, n_blocks: int, chunk: int) -> list[tuple[int, int, int]]:
    """The run's chunks in order, as (block, start, count): each block is cut into chunks of ``chunk``
    networks from its first network on (the last one shorter), so no chunk crosses a block boundary and
    a block's sum is the same whatever device or process computes its chunks."""
    out = []
    for b, (lo, hi) in enumerate(blocks_of(n_samples, n_blocks)):
        for s in range(lo, hi, chunk):
            out.append((b, s, min(chunk, hi - s)))
    return out


#: values per octave of the step-shape ladder (:func:`step_chunk`): padding ≤ ~1/LADDER_STEPS of the run
LADDER_STEPS = 4


def step_chunk(requested: int, n_samples: int, n_blocks: int) -> int:
    """The fixed batch shape of the step: each block is split evenly into m = ⌈L / c⌉ chunks (L the
    largest block, c = ``requested`` — already capped for memory — or the next power of two ≥ L when
    smaller), and the chunk ⌈L / m⌉ is rounded up to a ladder of :data:`LADDER_STEPS` values per octave
    (2^e·(1 + j/LADDER_STEPS)), at most c.

    So the padded rows of the last chunk of each block (computed and masked) are at most about
    1/LADDER_STEPS of the run (bench/tail_waste.py: 6 % mean, 23 % worst for 1e5..1e7 networks, against
    19 % and 97 % when every block was cut into chunks of c), and sample counts share a few compiled
    shapes. The numbers depend on the shape only through float rounding (the chunk-size bound of
    tests/test_streaming.py)."""
    largest = -(-n_samples // n_blocks)
    cap = max(1, min(int(requested), 1 << max(0, (largest - 1).bit_length())))
    even = -(-largest // -(-largest // cap))
    if even > LADDER_STEPS:
        unit = (1 << ((even - 1).bit_length() - 1)) // LADDER_STEPS
        even = -(-even // unit) * unit
    return min(cap, even)


def stream(model: Model, key: int | jax.Array, n_samples: int, values: Callable, features: Callable,
           n_features: int, *, chunk: int = 4096, n_blocks: int = 64, dtype: str = "float32",
           cache_key: tuple | None = None, points: int = 1, rows: int = 1, tails: bool = True,
           devices: int | None = None, checkpoint: str | os.PathLike | None = None, resume: bool = False,
           progress: bool | None = None) -> BlockSums:
    """Stream ``n_samples`` networks through ``values`` and ``features`` into :class:`BlockSums`.

    The work items of :func:`work_list` are computed D at a time, one per local device (``shard_map``
    over a one-axis mesh, a plain jit for D = 1; every device runs the same per-chunk program), and added to their blocks in
    work-list order. In a ``jax.distributed`` run (``nnft.runtime.init_distributed``) process p of P
    takes the whole blocks [p·K/P, (p+1)·K/P) and the block sums are gathered, so the result is
    bitwise the same for any number of devices and processes at a given chunk size.

    Args:
      values: θ-batch -> array (chunk, R, P) of field values (R rows per network: 1 for whole
        networks, the width for single neurons).
      features: (rows, P) float64 -> (rows, F) features.
      chunk: networks per jitted step, capped by :func:`chunk_size` (memory O(chunk·step_elements)).
      n_blocks: K, contiguous jackknife blocks; network ``i`` is in block ``i·K // n``.
      dtype: sampling precision; accumulation is always float64. Everything the step computes
        (parameters, points, lattices) is in this precision.
      cache_key: identifies (values, features) across calls; with it the compiled step is kept on
        the model and reused (the key, the start and the count are traced arguments).
      points: field points ``values`` evaluates per network (for the memory estimate).
      rows: R (for the memory estimate and the tail size).
      tails: keep the largest contributions of every feature for the k̂ diagnostic (``nnft.tails``).
      devices: local devices to use (default: those of ``nnft.runtime.settings``, else all).
      checkpoint: a file to save the run's state to every few seconds and at its end (``nnft.checkpoint``);
        default: the checkpoint of ``nnft.runtime.settings``, else none.
      resume: continue from ``checkpoint`` (bitwise the same result as a run never interrupted).
      progress: a progress bar on stderr (None: when stderr is a terminal and the run takes > 2 s).

    Raises:
      SamplingError: a network gave a non-finite field value, feature or weight, or a block sum
        overflowed. Nothing is masked or averaged away.
      InputError: ``devices`` is not in [1, local devices].
      CheckpointError: the checkpoint is of another run (the fields that differ are named), or it
        exists and ``resume`` is False.
      KeyboardInterrupt: Ctrl-C; with a checkpoint, it is written first.
    """
    if n_samples < 2 * n_blocks:
        n_blocks = max(2, n_samples // 2)
    keep = 0
    width = tail_width(features, n_features) if tails else 0
    one_sided = tail_one_sided(features)
    if tails:
        keep = tail_size(n_samples * rows) + 1
        keep = min(keep, TAIL_ELEMENTS // max(1, width))
        if keep < MIN_TAIL + 1:
            keep = 0
    requested = int(chunk)               # the step shape follows from it, the run size and the model
    chunk = step_chunk(chunk_size(model, chunk, n_samples, points, rows, n_features, features), n_samples, n_blocks)
    key = as_key(key)
    run = runtime.current()
    runtime.enable_compile_cache()
    devs = runtime.local_devices(devices if devices is not None else run.devices)
    n_proc, proc = runtime.process_count(), runtime.process_index()
    work = work_list(n_samples, n_blocks, chunk)
    owner = runtime.block_owners(n_blocks, n_proc)
    mine = [g for g, (b, _, _) in enumerate(work) if owner[b] == proc]
    i0, i1 = (mine[0], mine[-1] + 1) if mine else (0, 0)

    ck = checkpoints.Checkpoint(checkpoint, resume=resume) if checkpoint is not None else run.checkpoint
    section = ck.open_section() if ck is not None else None
    fingerprint = (_fingerprint(model, key, cache_key, n_samples=n_samples, n_blocks=n_blocks, chunk=requested,
                                dtype=dtype, keep=keep, n_features=n_features, rows=rows, width=width)
                   if ck is not None else None)
    acc = BlockSums(n_blocks, n_features)
    if model.insertions:
        acc.weights2 = np.zeros(n_blocks)
    starts_top = [None, None]
    done = i0
    state = ck.restore(section, fingerprint) if ck is not None else None
    if state is not None:
        ck.check_shapes(section, state, {"sums": acc.sums.shape, "weights": acc.weights.shape,
                                         "weights2": acc.weights.shape})
        if (state["weights2"] is None) != (acc.weights2 is None) or not 0 <= state["next"] <= i1 - i0:
            raise CheckpointError(f"checkpoint {ck.path} (stream {section}) is damaged: its position "
                                  f"{state['next']} or its weights do not fit this run of {i1 - i0} work items")
        acc.sums[...] = state["sums"]
        acc.weights[...] = state["weights"]
        if acc.weights2 is not None:
            acc.weights2[...] = state["weights2"]
        acc.n = state["n"]
        starts_top = [state["top_pos"], state["top_neg"]]
        for t in starts_top:
            if t is not None and (t.ndim != 2 or len(t) != width or t.shape[1] > keep):
                raise CheckpointError(f"checkpoint {ck.path} (stream {section}) is damaged: its tail buffer has "
                                      f"shape {t.shape}, this run keeps at most ({width}, {keep})")
        done = i0 + state["next"]
    running = ([RunningTop(width, keep, starts_top[0]), None if one_sided else RunningTop(width, keep, starts_top[1])]
               if keep else [None, None])

    def kept() -> list:
        return [None if r is None or not r.seen else r.result() for r in running]

    def snapshot() -> dict:
        return {"sums": acc.sums, "weights": acc.weights, "weights2": acc.weights2, "n": acc.n,
                "next": done - i0, **dict(zip(("top_pos", "top_neg"), kept()))}

    def absorb(batch: list[int], out) -> tuple | None:
        """Add a dispatch's items to their blocks in work-list order; the first failure, if any."""
        sums, w, w2, n_bad, first_bad, contrib = (np.asarray(a) for a in out)
        for j, g in enumerate(batch):
            b, start, count = work[g]
            if n_bad[j]:
                return (0, g, start, count, int(n_bad[j]), int(first_bad[j]))
            with np.errstate(over="ignore", invalid="ignore"):       # checked just below
                acc.add_block(b, sums[j], float(w[j]), count, float(w2[j]) if model.insertions else None)
            if not (np.all(np.isfinite(acc.sums[b])) and np.isfinite(acc.weights[b])):
                return (1, g, start, count, 0, 0)
            if keep:
                c = contrib[j]
                c = c[:count * (len(c) // chunk)]           # (valid rows, T)
                running[0].add(c)
                if not one_sided:                    # a one-sided tail (values ≥ 0) has no lower tail to keep
                    running[1].add(-c)
        return None

    failure = None
    n_dev = len(devs)
    todo = list(range(done, i1))
    batches = [todo[j:j + n_dev] for j in range(0, len(todo), n_dev)]
    desc = printable(f"{model.theory.name}: {cache_key[0] if cache_key else 'sampling'}")[:40]
    bar_ctx = runtime.progress_bar(sum(work[g][2] for g in todo), progress if progress is not None else run.progress,
                                   desc)
    with jax.enable_x64(True), bar_ctx as bar, runtime.deferred_interrupt(ck is not None) as interrupt:
        dispatch = _dispatcher(model, values, features, chunk, dtype, cache_key, keep > 0, devs)
        placed = dispatch.place(key, model.constant_values())
        n_threads = step_threads(devs) if len(batches) > 1 else 1
        pool = ThreadPoolExecutor(n_threads, thread_name_prefix="nnft-step") if n_threads > 1 else None

        def run(batch: list[int]):
            """The dispatch of one batch (one item per device); in a worker thread, also its wait and copy
            to the host, so that ``n_threads`` steps run at once (XLA:CPU runs each on the calling thread)."""
            starts = np.zeros(n_dev, np.int64)
            counts = np.zeros(n_dev, np.int64)     # count 0: padding items, computed and ignored
            for j, g in enumerate(batch):
                starts[j], counts[j] = work[g][1], work[g][2]
            if pool is None:
                return dispatch(placed, starts, counts)
            with jax.enable_x64(True):             # a thread-local setting: the step's int64 arguments
                return tuple(np.asarray(a) for a in dispatch(placed, starts, counts))

        last_save = time.monotonic()
        pending: collections.deque = collections.deque()     # (batch, result) in work-list order

        def settle():
            """Absorb the oldest batch in flight; its failure, if any."""
            nonlocal done, last_save
            batch, out = pending.popleft()
            failed = absorb(batch, out.result())
            if failed is not None:
                return failed
            done = batch[-1] + 1
            if bar is not None:
                bar.update(sum(work[g][2] for g in batch))
            if ck is not None and (interrupt.requested or time.monotonic() - last_save >= checkpoints.INTERVAL):
                ck.save(section, fingerprint, snapshot())
                last_save = time.monotonic()
            interrupt.check()
            return None

        try:
            for k, batch in enumerate(batches):   # n_threads batches dispatched before the oldest is read
                # the first batch on the caller's thread (a step not yet compiled is compiled once)
                pending.append((batch, pool.submit(run, batch) if pool is not None and k else _Ready(run(batch))))
                if len(pending) > n_threads:
                    failure = settle()
                    if failure is not None:
                        break
            while pending and failure is None:
                failure = settle()
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        if ck is not None and failure is None:
            ck.save(section, fingerprint, snapshot())
            interrupt.check()                        # a Ctrl-C during the last items: saved, then raised
    tops = kept()
    if n_proc > 1:
        failure, tops = combine_processes(acc, tops, failure, owner, keep, width)
    if failure is not None:
        raise SamplingError(_failure_message(failure))
    if keep and tops[0] is not None:
        acc.tail = tuple(np.sort(t if t is not None else tops[0][:, :0], axis=1) + 0.0   # canonical order,
                         for t in tops)                                                  # −0.0 -> 0.0
    if model.insertions and acc.ess < ess_floor(n_samples):
        warnings.warn(f"importance weights of the insertion degenerated: effective sample size {acc.ess:.1f} of "
                      f"{n_samples} networks; estimates are not reliable (lower the coupling or the box volume, "
                      "or sample P̃ by MCMC)", ReweightingWarning, stacklevel=3)
    return acc


def _failure_message(failure: tuple) -> str:
    kind, _, start, count, n_bad, first_bad = failure
    if kind == 0:
        return (f"{n_bad} of the networks {start}..{start + count - 1} gave non-finite field "
                f"values, features or weights (first: network {first_bad}); they are never averaged or "
                "masked. Causes: overflow (deep or strongly chaotic networks, huge scales; products of field "
                "values overflow first), heavy-tailed densities (e.g. Cauchy into exp), or the function's "
                "domain (log/sqrt of negatives). Fix: change the spec, or use dtype='float64'.")
    return (f"block sums overflowed at networks {start}..{start + count - 1}: "
            "the features are finite but their sums are not representable; the estimate "
            "does not exist in this precision (use dtype='float64' or rescale the field)")


def combine_processes(acc: BlockSums, tops: list, failure: tuple | None, owner: np.ndarray, keep: int, width: int):
    """Every process's blocks, failures and tails, gathered so that all return the same result: a block's
    sums come from the process that owns it (nothing is added across processes); the failure reported is
    the first in work-list order."""
    pad = [np.full((width, keep), -np.inf) for _ in range(2)]
    for k, t in enumerate(tops):
        if t is not None:
            pad[k][:, :t.shape[1]] = t
    mine = {"sums": acc.sums, "weights": acc.weights,
            "weights2": acc.weights2 if acc.weights2 is not None else np.zeros_like(acc.weights),
            "n": np.array([acc.n], np.int64),
            "fail": np.array(failure if failure is not None else (-1, -1, 0, 0, 0, 0), np.int64),
            "top_pos": pad[0], "top_neg": pad[1]}
    got = runtime.allgather(mine)
    fails = [tuple(int(v) for v in f) for f in got["fail"] if f[0] >= 0]
    if fails:
        return min(fails, key=lambda f: f[1]), tops
    blocks = np.arange(len(owner))
    acc.sums[...] = got["sums"][owner, blocks]
    acc.weights[...] = got["weights"][owner, blocks]
    if acc.weights2 is not None:
        acc.weights2[...] = got["weights2"][owner, blocks]
    acc.n = int(got["n"].sum())
    if not keep:
        return None, tops
    out = []
    for name in ("top_pos", "top_neg"):
        both = np.concatenate(list(got[name]), axis=1)             # (T, processes·keep)
        n_valid = int(np.sum(np.isfinite(both[0]))) if len(both) else 0
        out.append(None if n_valid == 0 else np.sort(both, axis=1)[:, -min(keep, n_valid):])
    return None, out


def _fingerprint(model: Model, key: jax.Array, cache_key: tuple | None, **sizes) -> dict:
    """What a checkpoint must agree on to be continued by this run: the theory (content hash), what is
    measured (the cache key, i.e. the plan's points and features), the key, the sizes and the precision
    (not the devices: they do not change the numbers)."""
    def digest(b: bytes) -> str:
        return hashlib.sha256(b).hexdigest()[:16]

    out = {"theory": f"{model.theory.name} #{digest(model.theory.model_dump_json().encode())}",
           "measured": "unnamed" if cache_key is None else f"{cache_key[0]} #{digest(repr(cache_key).encode())}",
           "key": f"{jax.random.key_impl(key)} #{digest(np.asarray(jax.random.key_data(key)).tobytes())}",
           **{k: (v if isinstance(v, (int, str)) else repr(v)) for k, v in sizes.items()}}
    if runtime.process_count() > 1:
        out["processes"] = f"{runtime.process_index()} of {runtime.process_count()}"
    return out


#: compiled steps shared by models of one structure (``Model.step_key``): a sweep over constants, which
#: are traced arguments of the step (``Model.constant_values``), compiles once; at most this many kept
SHARED_STEPS = 32
_SHARED: dict = {}


def _dispatcher(model: Model, values: Callable, features: Callable, chunk: int, dtype: str,
                cache_key: tuple | None, keep: bool, devices: list) -> Callable:
    """``f(placed, starts (D,), counts (D,))`` -> the step's outputs stacked on a leading device axis: item
    ``j`` is computed by device ``j`` with exactly the per-chunk program of ``nnft.sample.step`` (jit of
    ``shard_map`` over a one-axis mesh of the D devices; ``placed = f.place(key, model.constant_values())``).
    With a ``cache_key`` it is kept on the model, and shared with every model of the same
    ``Model.step_key`` (the same theory up to the values of its constants, which are traced arguments):
    the first model's ``values`` and ``features`` are used, evaluated at the caller's constants."""
    full_key = None if cache_key is None else (cache_key, chunk, dtype, keep, tuple(d.id for d in devices))
    if full_key is not None and full_key in model.jit_cache:
        return model.jit_cache[full_key]
    shared_key = None if full_key is None else (model.step_key, full_key)
    if shared_key is not None and shared_key in _SHARED:
        dispatch = _SHARED[shared_key]
        _remember(model, full_key, dispatch)
        return dispatch
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
    step = chunk_step(model, values, features, chunk, dtype, keep)

    def per_device(key, consts, starts, counts):
        return tuple(a[None] for a in step(key, starts[0], counts[0], consts))

    if len(devices) == 1:        # one device: a plain jit (no mesh, no per-call resharding of the arguments)
        dispatch = _Dispatch(jax.jit(per_device), devices[0], None)
    else:
        mesh = Mesh(np.array(devices), ("items",))
        # check_vma=False: every value inside is per-device (nothing is replicated across items), and the
        # step's lax.conds (exact fallback of fast functions, row checks) need not type their branches
        sharded = jax.jit(jax.shard_map(per_device, mesh=mesh, in_specs=(P(), P(), P("items"), P("items")),
                                        out_specs=P("items"), check_vma=False))
        dispatch = _Dispatch(sharded, NamedSharding(mesh, P()), NamedSharding(mesh, P("items")))

    if full_key is not None:
        _remember(model, full_key, dispatch)
        if len(_SHARED) >= SHARED_STEPS:
            _SHARED.pop(next(iter(_SHARED)))
        _SHARED[shared_key] = dispatch
    return dispatch


def _remember(model: Model, full_key: tuple, dispatch) -> None:
    if len(model.jit_cache) >= 32:
        model.jit_cache.pop(next(iter(model.jit_cache)))
    model.jit_cache[full_key] = dispatch


class _Dispatch:
    """One dispatch of D work items: ``place(key, constants)`` once per run, then ``(placed, starts,
    counts)`` per batch."""

    def __init__(self, sharded: Callable, replicated, split):
        self._sharded, self._replicated, self._split = sharded, replicated, split

    def place(self, key: jax.Array, consts: tuple = ()) -> tuple:
        """The key and the model's constant values (``Model.constant_values``) on every device."""
        return jax.device_put((key, tuple(consts)), self._replicated)

    def __call__(self, placed: tuple, starts: np.ndarray, counts: np.ndarray):
        key, consts = placed
        if self._split is None:                        # one device: host arrays go straight to the jit
            return self._sharded(key, consts, starts, counts)
        return self._sharded(key, consts, jax.device_put(starts, self._split), jax.device_put(counts, self._split))
