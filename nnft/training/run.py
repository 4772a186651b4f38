"""``nnft.train``: train an ensemble of networks of a compiled model as its spec's ``train:`` block
says, and return the time-dependent statistics with standard errors beside the infinite-width theory
(docs/training.md).

A training can be checkpointed (``checkpoint=FILE``, ``nnft train --checkpoint FILE``, or the checkpoint of
``nnft.runtime.settings``): the block sums of the networks trained so far are one section of an
``nnft.checkpoint`` file, saved at chunk boundaries every ``NNFT_CHECKPOINT_SECONDS`` and at the end,
and a resumed run continues at the next chunk, bitwise as a run never interrupted.

In a ``jax.distributed`` run (``nnft.runtime.init_distributed``) process p of P trains the networks of the
whole jackknife blocks it owns (``nnft.runtime.block_owners``, the split of sampling), and the block sums
are gathered as sampling gathers them (``nnft.sample.iid``), so every process returns bitwise the
single-process result; each process checkpoints its own blocks (``FILE.<p>-of-<P>``)."""

from __future__ import annotations

import hashlib
import json
import os
import time

import numpy as np

from nnft import runtime
from nnft.errors import CheckpointError, SamplingError, SpecError
from nnft.graph.compile import Model
from nnft.stats import BlockSums

#: jackknife blocks (fewer when the ensemble is small: at least 2 networks per block)
N_BLOCKS = 64
#: array elements a chunk's training step may hold (parameters × NTK points × networks)
CHUNK_ELEMENTS = 1 << 24
#: float64 accumulator elements (blocks × recorded steps × features per step) a run may hold (512 MB)
MAX_ACCUMULATOR = 1 << 26


def _block(model: Model, overrides: dict):
    """The model's ``train:`` block with keyword overrides (fields of the block), re-validated."""
    from pydantic import ValidationError

    from nnft.spec.train import Train
    from nnft.spec.validation import to_spec_error
    theory = model.theory
    if theory.train is None and not overrides:
        raise SpecError("the spec has no train: block", file=theory.source, field="train",
                        hint="add train: {inputs: {list: [[0.5]]}, targets: [1.0], steps: 100}")
    data = theory.train.model_dump() if theory.train is not None else {}
    data.update(overrides)
    try:
        return Train.model_validate(data)
    except ValidationError as err:
        raise to_spec_error(err, theory.source, Train).with_location(prefix=("train",)) from None


def train(model: Model, *, dynamics: str | None = None, devices: int | None = None,
          checkpoint: str | os.PathLike | None = None, resume: bool = False, **overrides):
    """Train ``train.networks`` networks θ⁽ⁱ⁾ ~ P(θ) of ``model`` by the spec's ``train:`` block and
    measure them at the recorded steps (docs/training.md).

    Network i starts from network i of ``nnft.measure(model, ..., key=seed)`` (same dtype); the
    ensemble is trained vmapped in chunks of fixed shape; every number is the same for any chunk size.
    Chunk j runs on local device j mod D (D = ``devices``), every device the same compiled program, so
    the numbers are also the same for any number of devices (tested bitwise for 1, 2 and 4). In a
    ``jax.distributed`` run process p of P trains only the networks of its whole jackknife blocks
    (``nnft.runtime.block_owners``) and the block sums are gathered: every process returns bitwise the
    single-process result, and a divergence in any process is raised, the same, by all of them.

    Args:
      model: a compiled model whose spec has a ``train:`` block (or give the block's fields here).
      dynamics: the theory's time evolution, "gd" (default: the exact discrete map of the linearised
        model) or "flow" (gradient flow at t = η k).
      devices: local devices to train on (default: those of ``nnft.runtime.settings``, else all); does
        not change the numbers.
      checkpoint: a file to save the training's state to (at chunk boundaries, every
        ``NNFT_CHECKPOINT_SECONDS``, default 5, and at the end; ``nnft.checkpoint``); default: the checkpoint
        of ``nnft.runtime.settings`` (one section of it), else none.
      resume: continue from ``checkpoint``: bitwise the result of a run never interrupted, on any number
        of devices (and the same number of processes: each resumes its own ``FILE.<p>-of-<P>``).
      overrides: fields of the ``train:`` block (``lr=0.5``, ``steps=200``, ``networks=1024``, ``seed=1``,
        ``parameterisation="standard"``, ...).

    Returns:
      :class:`nnft.training.result.Training`: E f_t, Cov f_t, κ₄ at the test points, E Θ̂_t, E ΔΘ̂_t,
      √E‖ΔΘ̂_t‖², the loss and ‖f − f_lin‖, each an Estimate over (T, ...), and the linearised GP
      theory (Lee et al. arXiv:1902.06720 eq. 14-16) where it applies.

    Raises:
      SpecError: no ``train:`` block, a bad one (naming the field), or a theory with insertions (training
        starts from P(θ); train the free theory).
      SamplingError: a network's training produced a non-finite value (divergence: the message gives
        η_crit where the theory has it).
      InputError: ``devices`` is not in [1, local devices].
      CheckpointError: ``resume`` without a checkpoint; the checkpoint exists and ``resume`` is False; it
        is of another run (the fields that differ are named) or damaged; it was written by another number
        of processes. All before any training.
      KeyboardInterrupt: Ctrl-C; with a checkpoint, it is written first (at the end of the chunk being read).
    """
    from collections import deque

    import jax

    from nnft.sample.iid import as_key, blocks_of
    from nnft.training.dynamics import Layout, chunk_step, coordinates
    from nnft.training.result import Training
    from nnft.training.setup import resolve
    from nnft.training.theory import theory_for

    if dynamics not in (None, "gd", "flow"):
        from nnft.errors import InputError
        raise InputError(f"dynamics must be 'gd' or 'flow', got {str(dynamics)[:40]!r}")
    run = runtime.current()
    devs = runtime.local_devices(devices if devices is not None else run.devices)
    if checkpoint is None and resume:
        if run.checkpoint is None:
            raise CheckpointError("resume=True needs checkpoint=FILE (the file the training was saved to; "
                                  "on the command line --resume needs --checkpoint FILE)")
        if not run.checkpoint.resume:
            raise CheckpointError("resume=True, but the checkpoint of nnft.runtime.settings was opened without "
                                  "resume: pass resume=True to nnft.runtime.settings instead")
    if model.insertions:                 # the ensemble starts from P(θ): an insertion's e^{−∫V} would be ignored
        raise SpecError("training starts from networks drawn from the parameter densities P(θ); this theory's "
                        "insertions (e^{−∫V(φ)}) would be ignored, and the ensemble and its theory would be the "
                        "free theory's", file=model.theory.source, field="train",
                        hint="train the free theory (drop 'insertions:', or model.free() in Python)")
    block = _block(model, overrides)
    setup = resolve(model.theory.model_copy(update={"train": block}))
    coords = coordinates(model, block.parameterisation)
    if not coords:
        raise SpecError("nothing to train: no parameter has a Gaussian density of constant std > 0",
                        file=model.theory.source, field="params",
                        hint="trainable parameters are those with density normal(std = a constant expression)")
    n = block.networks
    K = max(2, min(N_BLOCKS, n // 2))
    P, M = len(setup.test), len(setup.X)
    layout = Layout(P=P, Q=M + P)
    T = len(setup.record)
    if K * T * layout.size > MAX_ACCUMULATOR:
        raise SpecError(f"{T} recorded steps × {layout.size} statistics each (NTK on {M + P} points) × {K} jackknife "
                        f"blocks is above the bound of {MAX_ACCUMULATOR} accumulated values", file=model.theory.source,
                        field="train.record", allowed=f"T·(P² + 4P + 3Q² + 3) ≤ {MAX_ACCUMULATOR // K} (P test points, Q = M + P)",
                        hint="record fewer steps, or use fewer training or test points")
    th, note = theory_for(model, setup, dynamics)
    per_net = max(1, model.param_elements) * (M + P + 4) + (M + P) * model.point_elements + T * layout.size
    chunk = max(1, min(block.chunk, n, CHUNK_ELEMENTS // per_net))
    chunk = 1 << (chunk.bit_length() - 1) if chunk < block.chunk else chunk   # a power of two: few compiled shapes
    acc = BlockSums(K, T * layout.size)
    key = as_key(block.seed)
    dtype = {"float32": np.float32, "float64": np.float64}[block.dtype]
    block_of = (np.arange(n, dtype=np.int64) * K) // n                  # network i -> block i·K // n
    # this process trains the networks [lo, hi) of its whole blocks (all of them in a single process)
    n_proc, proc = runtime.process_count(), runtime.process_index()
    owner = runtime.block_owners(K, n_proc)
    mine = np.nonzero(owner == proc)[0]
    bounds = blocks_of(n, K)
    lo, hi = (bounds[mine[0]][0], bounds[mine[-1]][1]) if len(mine) else (0, 0)
    from nnft import checkpoint as checkpoints
    ck = checkpoints.Checkpoint(checkpoint, resume=resume) if checkpoint is not None else run.checkpoint
    section = ck.open_section() if ck is not None else None
    fingerprint = _fingerprint(model, block, setup, dynamics, K) if ck is not None else None
    done = lo                                                            # networks lo … done−1 are in acc
    if ck is not None:
        done = _restore(ck, section, fingerprint, acc, n, chunk, lo, hi)

    def snapshot() -> dict:
        return {"sums": acc.sums, "weights": acc.weights, "n": acc.n, "next": done}

    failure = None
    bar_ctx = runtime.progress_bar(hi - done, run.progress, f"{model.theory.name[:28]}: training")
    with jax.enable_x64(True), bar_ctx as bar, runtime.deferred_interrupt(ck is not None) as interrupt:
        step = chunk_step(model, setup, coords, chunk, dtype)
        keys = [jax.device_put(key, d) for d in devs]        # a committed key runs chunk j's step on device j mod D
        # the chunks of a single-process run (starts 0, chunk, 2·chunk, …) that hold networks of [done, hi): a
        # chunk across two processes' blocks is trained by both, each keeping its own networks; a resumed run
        # continues at a chunk boundary (chunk is fingerprinted)
        starts = deque(range(done - done % chunk, hi, chunk) if done < hi else ())
        pending: deque = deque()
        last_save = time.monotonic()
        while starts or pending:
            # one chunk in flight per device, and at least one ahead of the chunk being read: the devices
            # work at once and the host's sums overlap them
            while starts and len(pending) < max(2, len(devs)):
                start = starts.popleft()
                pending.append((start, step(keys[(start // chunk) % len(devs)], start)))
            start, out = pending.popleft()
            count = min(chunk, n - start)
            feats = np.asarray(out)[:count]
            finite = np.all(np.isfinite(feats), axis=1)
            if not finite.all():              # the whole chunk is checked, so every process reports it alike
                first = start + int(np.nonzero(~finite)[0][0])
                failure = (0, first, start, count, int((~finite).sum()), first)
                break
            a, b = max(start, lo), min(start + count, hi)         # this process's networks of the chunk
            blocks = block_of[a:b]
            np.add.at(acc.sums, blocks, feats[a - start:b - start])
            np.add.at(acc.weights, blocks, 1.0)
            acc.n += b - a
            done = b
            if bar is not None:
                bar.update(b - a)
            # a safe point: every network before ``done`` is in the sums, none after it
            if ck is not None and (interrupt.requested or time.monotonic() - last_save >= checkpoints.INTERVAL):
                ck.save(section, fingerprint, snapshot())
                last_save = time.monotonic()
            interrupt.check()
        if ck is not None and failure is None:
            ck.save(section, fingerprint, snapshot())
            interrupt.check()                        # a Ctrl-C during the last chunk: saved, then raised
    if n_proc > 1:           # every process's blocks, or the first failure in network order, on every process
        from nnft.sample.iid import _combine
        failure, _ = _combine(acc, [None, None], failure, owner, 0, 0)
    if failure is not None:
        _, first, _, _, n_bad, _ = failure
        hint = (f"; lr = {setup.lr:g} vs η_crit = {th.eta_crit:.4g} ({th.regime})" if th is not None else "")
        raise SamplingError(f"training diverged: network {first} (and {n_bad - 1} more in its chunk) gave a "
                            f"non-finite output, loss or NTK{hint}; lower train.lr or steps")
    parts = layout.parts

    def part(m, name):
        s, shape = parts[name]
        return m.reshape(T, -1)[:, s].reshape((T,) + shape)

    nn = n / max(n - 1, 1)

    def cov(m):
        f = part(m, "f")
        return nn * (part(m, "ff") - f[:, :, None] * f[:, None, :])

    def kappa4(m):
        m1, m2, m3, m4 = part(m, "f"), np.diagonal(part(m, "ff"), axis1=1, axis2=2), part(m, "f3"), part(m, "f4")
        return m4 - 4 * m3 * m1 - 3 * m2 ** 2 + 12 * m2 * m1 ** 2 - 6 * m1 ** 4

    jk = acc.jackknife
    result = Training(
        name=model.theory.name, steps=setup.record.copy(), times=setup.times, X=setup.X, Y=setup.Y, test=setup.test,
        mean=jk(lambda m: part(m, "f"), what="E f_t"),
        cov=jk(cov, what="Cov f_t"),
        kappa4=jk(kappa4, what="κ4_t"),
        ntk=jk(lambda m: part(m, "ntk"), what="E Θ_t"),
        dntk=jk(lambda m: part(m, "dntk"), what="E ΔΘ_t"),
        dntk_rms=jk(lambda m: np.sqrt(np.maximum(part(m, "dntk_fro2"), 0.0)), what="|ΔΘ_t|"),
        loss=jk(lambda m: part(m, "loss"), what="loss"),
        lin_dist=(jk(lambda m: np.sqrt(np.maximum(part(m, "lin2"), 0.0)), what="|f - f_lin|")
                  if block.linearised else None),
        theory=th, theory_note=note,
        settings={"optimizer": block.optimizer, "lr": setup.lr, "momentum": setup.momentum,
                  "weight_decay": setup.weight_decay, "temperature": setup.temperature,
                  "parameterisation": block.parameterisation,
                  "abcd": block.abcd.model_dump(mode="json") if block.abcd is not None else None,
                  "loss": block.loss, "loss_factor": setup.loss_factor, "networks": n, "seed": block.seed,
                  "dtype": block.dtype, "blocks": K, "chunk": chunk, "dims": dict(model.theory.dims)})
    return result



def _fingerprint(model: Model, block, setup, dynamics: str | None, n_blocks: int) -> dict:
    """What a checkpoint of a training must agree on to be continued: the theory without its ``train:``
    block (content hash), every field of the resolved block (``train.lr``, ``train.seed``,
    ``train.networks``, ``train.dtype``, ``train.chunk``, ...; long values by a hash), the learning rate
    it resolves to, the dynamics of the theory beside it and the number of jackknife blocks K; in a
    multi-process run this process's index and the process count (its blocks), as sampling's; not the
    devices, which do not change the numbers."""
    def digest(b: bytes) -> str:
        return hashlib.sha256(b).hexdigest()[:16]

    free = model.theory.model_copy(update={"train": None})
    out = {"stream": "training",
           "theory": f"{model.theory.name} #{digest(free.model_dump_json().encode())}",
           "dynamics": dynamics or "gd", "blocks": int(n_blocks), "lr": repr(float(setup.lr))}
    for name, value in block.model_dump(mode="json").items():
        if isinstance(value, (int, str)) and not isinstance(value, bool):
            out[f"train.{name}"] = value
            continue
        text = json.dumps(value, sort_keys=True, separators=(",", ":"))
        out[f"train.{name}"] = text if len(text) <= 48 else f"{text[:24]}… #{digest(text.encode())}"
    if runtime.process_count() > 1:
        out["processes"] = f"{runtime.process_index()} of {runtime.process_count()}"
    return out



def _restore(ck, section: int, fingerprint: dict, acc: BlockSums, n: int, chunk: int, lo: int, hi: int) -> int:
    """Load the saved block sums of ``section`` into ``acc`` (this process trains networks [lo, hi)); the
    next network to train (``lo`` if the file has no such section).

    Raises:
      CheckpointError: the section is of another run (naming the fields that differ), or its arrays or
        position do not fit this run (a damaged file).
    """
    state = ck.restore(section, fingerprint)
    if state is None:
        return lo
    ck.check_shapes(section, state, {"sums": acc.sums.shape, "weights": acc.weights.shape})
    done = state["next"]
    fits = lo <= done <= hi and state["n"] == done - lo and (done % chunk == 0 or done == hi)
    K = len(acc.weights)                       # a network count per block as the networks lo … done−1 give
    counts = np.bincount((np.arange(lo, done, dtype=np.int64) * K) // n, minlength=K) if fits else None
    extra = state["weights2"] is not None or state["top_pos"] is not None      # a sampling stream's arrays
    if not fits or extra or not np.array_equal(state["weights"], counts):
        raise CheckpointError(f"checkpoint {ck.path} (stream {section}) is damaged: its position {done} "
                              f"({state['n']} networks) does not fit this training of {n} networks in chunks "
                              f"of {chunk}")
    acc.sums[...] = state["sums"]
    acc.weights[...] = state["weights"]
    acc.n = done - lo
    return done
