"""Checkpoints of i.i.d. streams: block sums and tail buffers saved while a long run goes on, so it can
be continued after a crash or Ctrl-C with a result bitwise equal to an uninterrupted run.

A checkpoint file is an ``.npz`` archive (read with ``allow_pickle=False``: no code is ever loaded)
holding one *section* per stream of the run (a study runs several, in a fixed order). A section has
the run's *fingerprint* (JSON: what the stream computes and with which key, sizes and precision — not
the devices), the block sums Σw·f (K, F), Σw (K,), Σw² (K,), the networks done, the index of the next
work item, and the tail buffers of the k̂ diagnostic. Writes are atomic (a temporary file in the same
directory, then ``os.replace``): a kill at any moment leaves the previous checkpoint or the new one.
In a multi-process run each process keeps its own file, ``FILE.<process>-of-<count>``.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
import tempfile
import warnings
import zipfile
import zlib

import numpy as np

from nnft.errors import CheckpointError, CheckpointWarning

FORMAT = "nnft-checkpoint/1"
def _interval() -> float:
    try:
        v = float(os.environ.get("NNFT_CHECKPOINT_SECONDS", "5"))
    except ValueError:
        return 5.0
    return v if v >= 0 else 5.0


#: seconds between checkpoint writes of a running stream (``$NNFT_CHECKPOINT_SECONDS``, default 5)
INTERVAL = _interval()
_ARRAYS = ("sums", "weights", "weights2", "top_pos", "top_neg")


#: a checkpoint file of one process of a multi-process run: ``FILE.<p>-of-<P>``
_PROCESS_FILE = re.compile(r"\.(\d+)-of-(\d+)$")


def _refuse_other_process_count(base: str, n_proc: int, own: str) -> None:
    """Before a resume whose own file ``own`` is missing: refuse when a run of another number of processes
    left its files at ``base`` (``base`` itself, or ``base.<p>-of-<P>``): resuming would silently start
    afresh, since that run split its blocks otherwise.

    Raises:
      CheckpointError: one line naming the process count the files were written with and what to do.
    """
    counts = set()
    if n_proc > 1 and os.path.isfile(base):
        counts.add(1)
    for other in glob.glob(glob.escape(base) + ".*-of-*"):
        m = _PROCESS_FILE.fullmatch(other[len(base):])
        if m is not None and int(m.group(2)) != n_proc:
            counts.add(int(m.group(2)))
    if counts:
        q = min(counts)
        how = "one process" if q == 1 else f"{q} processes (--num-processes {q})"
        raise CheckpointError(f"checkpoint {base} was written by a run of {q} process{'es' if q > 1 else ''}, "
                              f"this one has {n_proc}: resume it with {how}, or start afresh without --resume "
                              "and another checkpoint file")


class Checkpoint:
    """One checkpoint file, shared by the streams of one run (each takes the next section).

    Args:
      path: the file.
      resume: continue the sections found in ``path`` (a missing file starts afresh, with a
        :class:`~nnft.errors.CheckpointWarning`).

    Raises:
      CheckpointError: ``path`` is not a usable file name (empty, a directory, its folder missing or not
        writable), ``path`` exists and ``resume`` is False (it is never overwritten silently), it
        is not an nnft checkpoint, or ``resume`` is True and only a run of another number of processes
        left its files at ``path`` (its blocks are split otherwise). All before any sampling.
    """

    def __init__(self, path: str | os.PathLike, *, resume: bool = False):
        import jax       # this process of a jax.distributed run (not nnft.runtime: runtime.settings builds checkpoints)
        if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
            raise CheckpointError(f"checkpoint must be a file name, got {str(path)[:60]!r}")
        if not isinstance(resume, bool):
            raise CheckpointError(f"resume must be True or False, got {str(resume)[:40]!r}")
        base = os.fspath(path)
        n = jax.process_count()
        self.path = base if n == 1 else f"{base}.{jax.process_index()}-of-{n}"
        folder = os.path.dirname(os.path.realpath(self.path))
        if os.path.isdir(self.path):
            raise CheckpointError(f"checkpoint {self.path} is a directory; give a file name inside it")
        if not os.path.isdir(folder):
            raise CheckpointError(f"checkpoint {self.path}: the folder {folder} does not exist")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise CheckpointError(f"checkpoint {self.path}: the folder {folder} is not writable")
        self.resume = resume
        self.sections: dict[int, dict] = {}
        self._opened = 0
        if os.path.exists(self.path):
            if not self.resume:
                raise CheckpointError(f"checkpoint {self.path} already exists: continue it with --resume "
                                      "(resume=True) if nnft wrote it, or remove it / choose another file")
            self.sections = _read(self.path)
        elif self.resume:
            _refuse_other_process_count(base, n, self.path)
            warnings.warn(f"no checkpoint at {self.path} to resume: starting afresh (with several processes "
                          "each resumes its own FILE.<process>-of-<count>)", CheckpointWarning, stacklevel=3)

    def open_section(self) -> int:
        """The section number of the next stream of this run."""
        i = self._opened
        self._opened += 1
        return i

    def restore(self, section: int, fingerprint: dict) -> dict | None:
        """The saved state of ``section`` (None if there is none).

        Raises:
          CheckpointError: the section was written by another kind of stream (a sampling checkpoint
            resumed by a training, or the other way round: said in those words), or by a run with
            another fingerprint; the one-line message names every field that differs.
        """
        got = self.sections.get(section)
        if got is None:
            return None
        old = got["fingerprint"]
        mine, theirs = _kind(fingerprint), _kind(old)
        if mine != theirs:
            raise CheckpointError(f"checkpoint {self.path} is a {theirs} checkpoint, not a {mine} one (it was written "
                                  f"by {_COMMANDS.get(theirs, theirs)}; resume it there, or give this run another checkpoint file)")
        diff = [k for k in sorted(set(old) | set(fingerprint)) if old.get(k) != fingerprint.get(k)]
        if diff:
            parts = [f"{k} is {_short(fingerprint.get(k))} here but {_short(old.get(k))} in the file" for k in diff]
            raise CheckpointError(f"checkpoint {self.path} (stream {section}) is of a different run: "
                                  + "; ".join(parts) + " (run with the original settings, or start afresh "
                                  "without --resume and another checkpoint file)")
        return got

    def check_shapes(self, section: int, state: dict, shapes: dict) -> None:
        """Raise :class:`CheckpointError` unless the arrays of ``state`` have ``shapes`` (name -> shape)."""
        for name, shape in shapes.items():
            got = state.get(name)
            if got is not None and tuple(np.shape(got)) != tuple(shape):
                raise CheckpointError(f"checkpoint {self.path} (stream {section}) is damaged: {name} has shape "
                                      f"{tuple(np.shape(got))}, the run needs {tuple(shape)}")

    def save(self, section: int, fingerprint: dict, state: dict) -> None:
        """Record ``state`` (arrays of :data:`_ARRAYS` or None, ``n``, ``next``) as ``section`` and
        write the whole file atomically."""
        self.sections[section] = {**state, "fingerprint": dict(fingerprint)}
        _write(self.path, self.sections)


#: the kind of stream a fingerprint is of (its ``stream`` entry; sampling streams have none) -> its commands
_COMMANDS = {"sampling": "a sampling command such as nnft run", "training": "nnft train"}


def _kind(fingerprint: dict) -> str:
    kind = fingerprint.get("stream", "sampling")
    return kind if kind in _COMMANDS else str(kind)


def _short(v) -> str:
    s = "absent" if v is None else repr(v)
    return s if len(s) <= 60 else s[:57] + "..."


def _write(path: str, sections: dict[int, dict]) -> None:
    arrays: dict[str, np.ndarray] = {"format": np.array(FORMAT)}
    for i, sec in sections.items():
        arrays[f"s{i}.fingerprint"] = np.array(json.dumps(sec["fingerprint"], sort_keys=True))
        arrays[f"s{i}.n"] = np.array(int(sec["n"]), dtype=np.int64)
        arrays[f"s{i}.next"] = np.array(int(sec["next"]), dtype=np.int64)
        for name in _ARRAYS:
            if sec.get(name) is not None:
                arrays[f"s{i}.{name}"] = np.asarray(sec[name])
    path = os.path.realpath(path)                        # a symbolic link is written through
    folder = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".nnft-ck-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _read(path: str) -> dict[int, dict]:
    try:
        z = np.load(path, allow_pickle=False)
        if not isinstance(z, np.lib.npyio.NpzFile):
            raise CheckpointError(f"{path} is not an nnft checkpoint (a single array, not an archive)")
        with z:
            data = {k: z[k] for k in z.files}
    except CheckpointError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error, KeyError, TypeError) as err:
        raise CheckpointError(f"{path} is a damaged or foreign file, not a readable nnft checkpoint "
                              f"({type(err).__name__})") from None
    if "format" not in data or str(data["format"]) != FORMAT:
        raise CheckpointError(f"{path} is not an nnft checkpoint of format {FORMAT}")
    sections: dict[int, dict] = {}

    def damaged(why: str) -> CheckpointError:
        return CheckpointError(f"{path} is a damaged nnft checkpoint ({why})")

    for k, v in data.items():
        if k == "format":
            continue
        sec, _, name = k.partition(".")
        if not (sec[:1] == "s" and sec[1:].isdigit()) or name not in ("fingerprint", "n", "next", *_ARRAYS):
            raise damaged(f"unknown entry {k[:60]!r}")
        s = sections.setdefault(int(sec[1:]), {a: None for a in _ARRAYS})
        try:
            if name == "fingerprint":
                s["fingerprint"] = json.loads(str(v))
                if not isinstance(s["fingerprint"], dict):
                    raise damaged(f"{k} is not a record")
            elif name in ("n", "next"):
                s[name] = int(v)
            else:
                if v.dtype.kind != "f":
                    raise damaged(f"{k} holds {v.dtype} values, not floating-point sums")
                s[name] = v
        except (ValueError, TypeError) as err:
            raise damaged(f"{k}: {err}") from None
    if any(not {"fingerprint", "n", "next", "sums", "weights"} <= {a for a, v in s.items() if v is not None}
           for s in sections.values()):
        raise damaged("a section lacks its fingerprint, sums or position")
    return sections


# ----------------------------------------------------------------------------- MCMC streams (nnft.sample.mcmc)

#: arrays a section of an MCMC stream holds beyond the block sums (all float64): ``chain`` (C, W) the
#: chains' BlackJAX states, adapted step sizes and inverse mass matrices, flattened per chain;
#: ``trace`` (n, C, O) the diagnostic traces so far; ``tallies`` (C, 2) divergences and summed
#: acceptance rates (``nnft.sample.mcmc``). An i.i.d. section leaves them out.
CHAIN_ARRAYS = ("chain", "trace", "tallies")
_ARRAYS = _ARRAYS + tuple(a for a in CHAIN_ARRAYS if a not in _ARRAYS)
