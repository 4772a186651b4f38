"""Where and how a run executes: the persistent compilation cache, local devices, processes
(``jax.distributed``), progress on stderr, and the run settings the command line hands to every stream.

None of this changes a number: network ``i`` is drawn from ``fold_in(key, i)`` and its block is
``i·K // n`` whatever the device or process that computes it (``nnft.sample.iid``). See
``docs/scaling.md`` for multi-GPU nodes and Slurm.

Environment variables:

* ``NNFT_COMPILE_CACHE``: ``0`` / ``off`` disables the persistent compilation cache; a path puts it
  there; unset: ``$XDG_CACHE_HOME/nnft/jax`` (else ``~/.cache/nnft/jax``).
* ``NNFT_COORDINATOR`` (``host:port``), ``NNFT_NUM_PROCESSES``, ``NNFT_PROCESS_ID``: read by
  :func:`init_distributed` (and so by the command line) when it is not given them.
* ``NNFT_DISTRIBUTED_TIMEOUT``: seconds the processes of a multi-process run wait for each other to
  join (default :data:`JOIN_TIMEOUT`); past it the process prints one line and exits with status 2.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import signal
import sys
import threading
from dataclasses import dataclass, replace

from nnft.errors import InputError

#: compiled programs taking at least this long to compile are written to the persistent cache (s)
CACHE_MIN_COMPILE_SECONDS = 0.1
#: ... and at least this large (bytes; 0: any size)
CACHE_MIN_ENTRY_BYTES = 0
#: progress bars appear only after the run has taken this long (s)
PROGRESS_DELAY = 2.0
#: seconds the processes of a run wait for each other in :func:`init_distributed` (NNFT_DISTRIBUTED_TIMEOUT)
JOIN_TIMEOUT = 120.0
#: JAX's own deadline is this much later, so nnft's one-line exit comes before JAX's abort
_JAX_DEADLINE_MARGIN = 30

_CACHE_STATE: dict = {}
_CACHE_LOCK = threading.Lock()


# ----------------------------------------------------------------------------- compilation cache

def compile_cache_dir() -> str | None:
    """The persistent compilation cache directory nnft uses (None: disabled by ``NNFT_COMPILE_CACHE``)."""
    env = os.environ.get("NNFT_COMPILE_CACHE", "").strip()
    if env.lower() in ("0", "off", "false", "no"):
        return None
    if env and env.lower() not in ("1", "on", "true", "yes"):
        return os.path.abspath(os.path.expanduser(env))
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "nnft", "jax")


def enable_compile_cache() -> str | None:
    """Turn on JAX's persistent compilation cache (once per process), so a step compiled by an earlier
    run of the same model and plan is loaded instead of compiled again.

    Leaves a cache directory the user configured for JAX (``jax_compilation_cache_dir``) alone. Never
    fails: an unwritable directory just leaves the cache off.

    Returns:
      The cache directory in use, or None when the cache is off.
    """
    with _CACHE_LOCK:
        if "dir" in _CACHE_STATE:
            return _CACHE_STATE["dir"]
        import jax
        current = jax.config.jax_compilation_cache_dir
        if current:
            _CACHE_STATE["dir"] = current
            return current
        path = compile_cache_dir()
        if path is not None:
            try:
                os.makedirs(path, exist_ok=True)
                if not os.access(path, os.W_OK | os.X_OK):
                    path = None
            except OSError:
                path = None
        if path is not None:
            try:
                jax.config.update("jax_compilation_cache_dir", path)
                jax.config.update("jax_persistent_cache_min_compile_time_secs", CACHE_MIN_COMPILE_SECONDS)
                jax.config.update("jax_persistent_cache_min_entry_size_bytes", CACHE_MIN_ENTRY_BYTES)
            except Exception:          # an option this jax does not know: run without the cache  # noqa: BLE001
                path = None
        _CACHE_STATE["dir"] = path
        return path


# ----------------------------------------------------------------------------- devices and processes

def local_devices(devices: int | None):
    """The first ``devices`` local JAX devices (None: all of them).

    Raises:
      InputError: ``devices`` is not an integer in [1, jax.local_device_count()].
    """
    import jax
    from nnft.inputs import as_count
    avail = jax.local_devices()
    if devices is None:
        return avail
    hint = ("" if avail[0].platform != "cpu" else
            "; on a CPU, XLA_FLAGS=--xla_force_host_platform_device_count=N set before starting makes N devices")
    n = as_count(devices, "devices", lo=1, hi=1 << 16)
    if n > len(avail):
        raise InputError(f"devices = {n}, but this process sees {len(avail)} {avail[0].platform} device(s){hint}")
    return avail[:n]


def process_index() -> int:
    """This process's index among the processes of a ``jax.distributed`` run (0 without one)."""
    import jax
    return jax.process_index()


def process_count() -> int:
    """Number of processes of the run (1 unless :func:`init_distributed` joined several)."""
    import jax
    return jax.process_count()


def block_owners(n_blocks: int, n_processes: int):
    """The process that computes each jackknife block of a multi-process run: process p of P takes the
    whole blocks [p·K//P, (p+1)·K//P) (K = ``n_blocks``), as ``nnft.sample.iid.stream`` splits them.

    Returns:
      int64 array of shape (K,): the owner of block b (all 0 for one process).
    """
    import numpy as np
    return np.array([p for p in range(n_processes) for _ in range(p * n_blocks // n_processes,
                                                                   (p + 1) * n_blocks // n_processes)], np.int64)


def init_distributed(coordinator: str | None = None, num_processes: int | None = None,
                     process_id: int | None = None, timeout: float | None = None) -> tuple[int, int]:
    """Join a multi-process run with ``jax.distributed.initialize``; call it before any other JAX work.

    Every process then runs the same program; each stream takes a contiguous range of whole jackknife
    blocks and the block sums are combined across processes, so every process returns the same
    numbers, bitwise equal to a single-process run (``nnft.sample.iid.stream``).

    Args:
      coordinator: ``host:port`` of process 0 (default ``$NNFT_COORDINATOR``).
      num_processes: default ``$NNFT_NUM_PROCESSES``.
      process_id: this process, 0..num_processes−1 (default ``$NNFT_PROCESS_ID``).
      With none of the three given or set, JAX detects the cluster itself (a Slurm job step started
      by ``srun``, Open MPI, cloud TPU).
      timeout: seconds to wait for all processes to join (default ``$NNFT_DISTRIBUTED_TIMEOUT``, else
        :data:`JOIN_TIMEOUT`). JAX aborts a process whose peers never come (a C++ fatal error, no
        Python exception), so past the timeout this process writes one line to stderr ("error: ...",
        naming the coordinator and the process) and exits with status 2 (``os._exit``) instead.

    Returns:
      (process_index, process_count).

    Raises:
      InputError: an incomplete or malformed coordinator/count/id or timeout.
    """
    import jax
    from nnft.inputs import as_count
    coordinator, num_processes, process_id = distributed_options(coordinator, num_processes, process_id)
    try:                                   # CPU processes exchange the block sums through gloo
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
    except Exception:  # noqa: BLE001 - a jax without the option uses its default
        pass
    timeout = join_timeout(timeout)
    deadline = {"initialization_timeout": int(timeout) + _JAX_DEADLINE_MARGIN}
    if coordinator is None:
        with _exit_after(timeout, "the processes of the cluster JAX detected did not all join"):
            jax.distributed.initialize(**deadline)
    else:
        host, sep, port = str(coordinator).rpartition(":")
        if not sep or not host or not (port.isascii() and port.isdigit()) or not 1 <= int(port) <= 65535:
            raise InputError(f"coordinator must be host:port with a port in 1..65535, got {str(coordinator)[:80]!r}")
        n = as_count(num_processes, "num_processes", lo=1, hi=65536)
        i = as_count(process_id, "process_id", lo=0, hi=n - 1)
        if n > 1:
            why = (f"process {i} of {n} could not join the run at {str(coordinator)[:80]}: not all {n} processes "
                   "started with the same coordinator, or it is unreachable")
            with _exit_after(timeout, why):
                jax.distributed.initialize(coordinator_address=str(coordinator), num_processes=n, process_id=i,
                                           **deadline)
    return jax.process_index(), jax.process_count()


def join_timeout(timeout: float | None = None) -> float:
    """Seconds :func:`init_distributed` waits: ``timeout``, else ``$NNFT_DISTRIBUTED_TIMEOUT``, else
    :data:`JOIN_TIMEOUT`.

    Raises:
      InputError: not a number in [1, 86400].
    """
    source = "timeout"
    if timeout is None:
        env = os.environ.get("NNFT_DISTRIBUTED_TIMEOUT", "").strip()
        if not env:
            return JOIN_TIMEOUT
        source = "$NNFT_DISTRIBUTED_TIMEOUT"
        try:
            timeout = float(env[:40])
        except ValueError:
            raise InputError(f"{source} must be a number of seconds, got {env[:40]!r}") from None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 1 <= timeout <= 86400:
        raise InputError(f"{source} must be a number of seconds in [1, 86400], got {timeout!r}")
    return float(timeout)


@contextlib.contextmanager
def _exit_after(seconds: float, why: str):
    """Within the block, after ``seconds``: one line on stderr and ``os._exit(2)`` (the block is blocked
    in C++ that would otherwise abort the process with a stack trace)."""
    def give_up():
        try:
            sys.stderr.write(f"error: {why} (waited {seconds:g} s; NNFT_DISTRIBUTED_TIMEOUT sets the wait)\n")
            sys.stderr.flush()
        finally:
            os._exit(2)

    timer = threading.Timer(seconds, give_up)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def distributed_options(coordinator=None, num_processes=None, process_id=None):
    """(coordinator, num_processes, process_id) from the arguments, else ``$NNFT_COORDINATOR``,
    ``$NNFT_NUM_PROCESSES``, ``$NNFT_PROCESS_ID``; all None when none is given.

    Raises:
      InputError: some but not all of the three are given, or a variable is not an integer.
    """
    coordinator = coordinator or os.environ.get("NNFT_COORDINATOR") or None
    if num_processes is None and os.environ.get("NNFT_NUM_PROCESSES"):
        num_processes = _env_int("NNFT_NUM_PROCESSES")
    if process_id is None and os.environ.get("NNFT_PROCESS_ID"):
        process_id = _env_int("NNFT_PROCESS_ID")
    given = [coordinator is not None, num_processes is not None, process_id is not None]
    if any(given) and not all(given):
        raise InputError("a multi-process run needs the coordinator (host:port), the number of processes and this "
                         "process's id together (--coordinator/--num-processes/--process-id or NNFT_COORDINATOR, "
                         "NNFT_NUM_PROCESSES, NNFT_PROCESS_ID)")
    return coordinator, num_processes, process_id


def _env_int(name: str) -> int:
    v = os.environ[name].strip()
    if not (v.isascii() and v.isdigit()) or len(v) > 9:
        raise InputError(f"${name} must be a non-negative integer, got {v[:40]!r}")
    return int(v)


def allgather(arrays: dict):
    """Every process's ``arrays`` (name -> numpy array, same shapes and dtypes in every process), stacked
    on a new leading process axis, via ``jax.experimental.multihost_utils.process_allgather``.
    Float64 arrays travel bit for bit (as their bytes)."""
    import jax
    import numpy as np
    from jax.experimental import multihost_utils
    names = sorted(arrays)
    raw = {k: np.ascontiguousarray(arrays[k]) for k in names}
    as_bytes = {k: v.reshape(-1).view(np.uint8) for k, v in raw.items()}
    with jax.enable_x64(True), _stdout_to_stderr():
        got = multihost_utils.process_allgather(as_bytes)
    # (processes, ...) from the leading axis, not -1: an empty array (e.g. no tail buffers) has no size to infer it
    return {k: np.asarray(got[k]).view(raw[k].dtype).reshape((np.shape(got[k])[0],) + raw[k].shape) for k in names}


_GLOO_QUIET: dict = {}


@contextlib.contextmanager
def _stdout_to_stderr():
    """The first collective of a process: file descriptor 1 points at stderr, so the line gloo writes
    when it connects ("[Gloo] Rank 0 is connected to ...") is not mixed into the results on stdout."""
    if _GLOO_QUIET:
        yield
        return
    _GLOO_QUIET["done"] = True
    try:
        sys.stdout.flush()
        saved = os.dup(1)
        os.dup2(2, 1)
    except (OSError, ValueError, AttributeError):       # no real descriptors (embedded interpreter)
        yield
        return
    try:
        yield
    finally:
        try:
            import ctypes
            ctypes.CDLL(None).fflush(None)              # C's stdout buffer, written while fd 1 is stderr
        except (OSError, AttributeError, TypeError):
            pass
        os.dup2(saved, 1)
        os.close(saved)


# ----------------------------------------------------------------------------- run settings

@dataclass(frozen=True)
class Settings:
    """How streams of this context execute (see :func:`settings`)."""

    devices: int | None = None
    progress: bool | None = None
    #: a :class:`nnft.checkpoint.Checkpoint` shared by the streams of the context, or None
    checkpoint: object = None


_SETTINGS: contextvars.ContextVar[Settings] = contextvars.ContextVar("nnft_settings", default=Settings())


def current() -> Settings:
    """The settings of the innermost :func:`settings` context (defaults outside any)."""
    return _SETTINGS.get()


@contextlib.contextmanager
def settings(*, devices: int | None = None, progress: bool | None = None, checkpoint=None, resume: bool = False):
    """Run the streams inside the block with these settings unless a call passes its own.

    With ``checkpoint`` (a path) every stream of the block is one section of that file, numbered in
    the order the streams run; with ``resume`` the sections already there are continued (a finished
    stream is not sampled again).
    """
    ck = None
    if checkpoint is not None:
        from nnft.checkpoint import Checkpoint
        ck = Checkpoint(checkpoint, resume=resume)
    token = _SETTINGS.set(replace(current(), devices=devices, progress=progress, checkpoint=ck))
    try:
        yield current()
    finally:
        _SETTINGS.reset(token)


# ----------------------------------------------------------------------------- progress and Ctrl-C

def _stderr():
    """The stream progress bars write to: the terminal behind the CLI's control-character filter."""
    err = sys.stderr
    return getattr(err, "raw_stream", err)


def progress_bar(total: int, enabled: bool | None, desc: str):
    """A tqdm bar on stderr over ``total`` networks. ``enabled`` None: on when stderr is a terminal,
    shown once the run has taken :data:`PROGRESS_DELAY` seconds; False: off; True: on from the start."""
    err = _stderr()
    auto = enabled is None
    if auto:
        enabled = bool(getattr(err, "isatty", lambda: False)())
    if not enabled or total <= 0:
        return contextlib.nullcontext(None)
    from tqdm.auto import tqdm
    return tqdm(total=total, desc=desc, unit="net", unit_scale=True, file=err, leave=False, dynamic_ncols=True,
                delay=PROGRESS_DELAY if auto else 0.0, mininterval=0.5)


class Terminated(KeyboardInterrupt):
    """SIGTERM (e.g. a Slurm time limit) treated as Ctrl-C: raised at the next safe point of a stream,
    after its checkpoint is written (the command line then exits with status 143, 128 + SIGTERM)."""


def _interruption(signum: int) -> KeyboardInterrupt:
    return Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


class Interrupt:
    """Ctrl-C or SIGTERM deferred to the next safe point of a stream (so the checkpoint written is
    consistent)."""

    def __init__(self):
        self.requested = False
        self.signum: int | None = None

    def check(self) -> None:
        """Raise KeyboardInterrupt if Ctrl-C was pressed since the block began, :class:`Terminated` (a
        KeyboardInterrupt) on SIGTERM (call at a safe point)."""
        if self.requested:
            raise _interruption(self.signum if self.signum is not None else signal.SIGINT)


def _signals() -> tuple[int, ...]:
    return (signal.SIGINT, signal.SIGTERM) if hasattr(signal, "SIGTERM") else (signal.SIGINT,)


@contextlib.contextmanager
def deferred_interrupt(enabled: bool):
    """Within the block, a first Ctrl-C or SIGTERM only sets :attr:`Interrupt.requested` (the caller
    raises at its next safe point); a second one interrupts at once. Only in the main thread, and only
    if enabled."""
    flag = Interrupt()
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield flag
        return
    previous = {s: signal.getsignal(s) for s in _signals()}

    def handler(signum, frame):
        if flag.requested:
            raise _interruption(signum)
        flag.requested = True
        flag.signum = signum

    try:
        for s in previous:
            signal.signal(s, handler)
    except (ValueError, OSError):    # not the main interpreter / signals unavailable
        yield flag
        return
    try:
        yield flag
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


@contextlib.contextmanager
def terminate_as_interrupt(enabled: bool):
    """Within the block SIGTERM raises :class:`Terminated` (a KeyboardInterrupt) as Ctrl-C raises
    KeyboardInterrupt, so that a run with a checkpoint stops the same way on either (inside a stream,
    :func:`deferred_interrupt` defers both to its next safe point). Main thread only, if enabled."""
    if not enabled or not hasattr(signal, "SIGTERM") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Terminated()

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except (ValueError, OSError):
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
