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
from dataclasses import replace

import numpy as np

from nnft import runtime
from nnft.errors import CheckpointError, EstimatorError, SamplingError, SpecError
from nnft.graph.compile import Model
from nnft.stats import BlockSums, Estimate

#: jackknife blocks (fewer when the ensemble is small: at least 2 networks per block)
N_BLOCKS = 64
#: array elements a chunk's training step may hold (parameters × NTK points × networks)
CHUNK_ELEMENTS = 1 << 24
#: float64 accumulator elements (blocks × recorded steps × features per step) a run may hold (512 MB)
MAX_ACCUMULATOR = 1 << 26
#: largest tail buffer (tail columns × kept values) for the k̂ diagnostic; beyond it fewer values are kept
TAIL_ELEMENTS = 1 << 22
#: a variance below (RESOLUTION · ε · rms f)² is flagged as below the dtype's resolution (ε its machine
#: epsilon, rms f the largest root-mean-square output over the recorded steps and test points): a
#: trained network's value carries rounding errors of many ulps of the size of the terms it sums (over
#: the width, every gradient step), so a spread of a few such ulps is rounding, not the ensemble's (also
#: where E f_t(x)² itself is tiny, e.g. a point where every network has learned f ≈ 0). A loss whose
#: standard error is below RESOLUTION · ε · loss gets a note: its last digits are rounding.
RESOLUTION = 64


def moment_checks(model: Model) -> tuple[tuple[str, ...], str | None]:
    """Refuse, before any training, a run whose statistics do not exist at initialisation; the notes for
    the table, and why κ4_t is not computed (or None).

    E f_t needs E|f_0| < ∞, Var f_t and the loss need E f_0² < ∞ (their error bars E f_0⁴), κ4_t needs
    E f_0⁴ < ∞ (``nnft.graph.moments.field_moment_check`` on φ = f_0). Only the initial ensemble is analysed:
    for t > 0 the linearised network's f_t(Z) = f_0(Z) − A_t (f_0(X) − Y) is affine in f_0, so it keeps
    f_0's tail unless it cancels; the nonlinear network's is judged from the data (k̂, docs/training.md).

    Raises:
      EstimatorError: E f_0² is infinite (one line, naming the parameter and its density).
    """
    from nnft.graph.moments import field_moment_check
    notes = field_moment_check(model, 2, "training: E f_t needs E|f|, Var f_t and the loss E f² (at t = 0 f is φ); the "
                               "moment")
    try:
        notes += tuple(f"κ4_t: {n}" for n in field_moment_check(model, 4, "κ4_t"))
        no_k4 = None
    except EstimatorError:
        m = model.moments["phi"]
        from nnft.graph.moments import describe
        no_k4 = (f"κ4_t is not computed: it needs E f⁴, infinite at t = 0 ({describe(model.graph, m.hi_why)} "
                 f"has moments only of order < {m.hi:g})")
    return notes, no_k4


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
      theory (Lee et al. arXiv:1902.06720 eq. 14-16) where it applies. ``mean``, ``cov`` and ``loss`` carry the
      Pareto k̂ of their per-network contributions (``Estimate.khat``; PSIS arXiv:1507.02646 §3), the moments
      are summed in float64 about the theory's μ_t (``var_floor``: the dtype's resolution), and ``notes``
      say which error bars need a moment that is infinite or undecided (κ4_t is NaN when E f⁴ = ∞).

    Raises:
      SpecError: no ``train:`` block, a bad one (naming the field), or a theory with insertions (training
        starts from P(θ); train the free theory).
      EstimatorError: E f_0² is infinite (the graph's moment analysis, ``nnft.graph.moments``: Var f_t and the
        loss do not exist at t = 0), before any training; one line naming the parameter and its density.
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
    moment_notes, no_kappa4 = moment_checks(model)       # a statistic that does not exist: refused here
    setup = resolve(model.theory.model_copy(update={"train": block}))
    coords = coordinates(model, block.parameterisation)
    if not coords:
        raise SpecError("nothing to train: no parameter has a Gaussian density of constant std > 0",
                        file=model.theory.source, field="params",
                        hint="trainable parameters are those with density normal(std = a constant expression)")
    _check_scales(model, coords, block.dtype)
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
    F, parts = layout.size, layout.parts
    # the moments of f are summed about a shift known before training and the same for every chunk, device
    # and process: the linearised theory's μ_t(x) (else 0); products in float64 of the recorded values
    shift = np.asarray(th.mean, np.float64) if th is not None else np.zeros((T, P))
    from nnft.tails import MIN_TAIL, RunningTop, tail_size
    width = 3 * T * P + T                                # tail columns: f, −f, (f − shift)², loss
    keep = min(tail_size(n) + 1, TAIL_ELEMENTS // width)
    keep = keep if keep >= MIN_TAIL + 1 else 0
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
    fingerprint = _fingerprint(model, block, setup, dynamics, K, keep) if ck is not None else None
    done = lo                                                            # networks lo … done−1 are in acc
    saved_top = None
    if ck is not None:
        done, saved_top = _restore(ck, section, fingerprint, acc, n, chunk, lo, hi, (width, keep))
    running = RunningTop(width, keep, saved_top) if keep else None

    def kept():
        return None if running is None or not running.seen else running.result()

    def snapshot() -> dict:
        return {"sums": acc.sums, "weights": acc.weights, "n": acc.n, "next": done, "top_pos": kept()}

    def centre(feats: np.ndarray) -> np.ndarray:
        """The chunk's features with (f − c)(f' − c'), (f − c)³, (f − c)⁴ formed in float64 from the recorded
        f (exact in float64) about the shift c, in place; the tail columns (count, width)."""
        v = feats.reshape(len(feats), T, F)
        d = v[:, :, parts["f"][0]] - shift
        d2 = d * d
        v[:, :, parts["ff"][0]] = (d[:, :, :, None] * d[:, :, None, :]).reshape(len(feats), T, P * P)
        v[:, :, parts["f3"][0]] = d2 * d
        v[:, :, parts["f4"][0]] = d2 * d2
        f = v[:, :, parts["f"][0]].reshape(len(feats), T * P)
        return np.concatenate([f, -f, d2.reshape(len(feats), T * P), v[:, :, parts["loss"][0]].reshape(len(feats), T)],
                              axis=1)

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
            feats = np.array(np.asarray(out)[:count], dtype=np.float64)     # a copy: ff, f3, f4 are formed in it
            finite = np.all(np.isfinite(feats), axis=1)
            if not finite.all():              # the whole chunk is checked, so every process reports it alike
                first = start + int(np.nonzero(~finite)[0][0])
                failure = (0, first, start, count, int((~finite).sum()), first)
                break
            a, b = max(start, lo), min(start + count, hi)         # this process's networks of the chunk
            blocks = block_of[a:b]
            tails = centre(feats)
            if running is not None and b > a:
                running.add(tails[a - start:b - start])
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
    top = kept()
    if n_proc > 1:           # every process's blocks and tails, or the first failure in network order, on every process
        from nnft.sample.iid import combine_processes
        failure, (top, _) = combine_processes(acc, [top, None], failure, owner, keep, width)
    if failure is not None:
        _, first, _, _, n_bad, _ = failure
        hint = (f"; lr = {setup.lr:g} vs η_crit = {th.eta_crit:.4g} ({th.regime})" if th is not None else "")
        raise SamplingError(f"training diverged: network {first} (and {n_bad - 1} more in its chunk) gave a "
                            f"non-finite output, loss or NTK{hint}; lower train.lr or steps")
    def part(m, name):
        s, shape = parts[name]
        return m.reshape(T, -1)[:, s].reshape((T,) + shape)

    nn = n / max(n - 1, 1)

    def cov(m):                                           # E[(f − c)(f' − c')] − E[f − c] E[f' − c']
        d = part(m, "f") - shift
        return nn * (part(m, "ff") - d[:, :, None] * d[:, None, :])

    def kappa4(m):                                        # central moments: the same about any shift
        m1, m2, m3, m4 = (part(m, "f") - shift, np.diagonal(part(m, "ff"), axis1=1, axis2=2), part(m, "f3"),
                          part(m, "f4"))
        return m4 - 4 * m3 * m1 - 3 * m2 ** 2 + 12 * m2 * m1 ** 2 - 6 * m1 ** 4

    jk = acc.jackknife
    kh = {}
    if top is not None:                                   # Pareto k̂ of each statistic's per-network contributions
        from nnft.tails import khat_one_sided
        col = khat_one_sided(np.sort(top, axis=1) + 0.0)
        TP = T * P
        kv = col[2 * TP:3 * TP].reshape(T, P)
        kh = {"mean": np.fmax(col[:TP], col[TP:2 * TP]).reshape(T, P), "var": kv,
              "cov": np.fmax(kv[:, :, None], kv[:, None, :]), "loss": col[3 * TP:]}

    def tailed(est, name):
        return replace(est, khat=kh[name]) if name in kh else est

    mean = tailed(jk(lambda m: part(m, "f"), what="E f_t"), "mean")
    covariance = tailed(jk(cov, what="Cov f_t"), "cov")
    if no_kappa4 is None:
        k4 = jk(kappa4, what="κ4_t")
    else:                                                 # E f⁴ = ∞: no number
        k4 = Estimate(np.full((T, P), np.nan), np.full((T, P), np.nan), acc.n, notes=(no_kappa4,))
    i = np.arange(P)
    var_mean = covariance.mean[:, i, i]
    eps = float(np.finfo(dtype).eps)
    scale = float(np.max(var_mean + mean.mean ** 2, initial=0.0))   # the largest E f_t(x)² of the run
    floor = np.full(var_mean.shape, (RESOLUTION * eps) ** 2 * scale)   # (64 ε rms f)²
    loss = tailed(jk(lambda m: part(m, "loss"), what="loss"), "loss")
    fine = np.nonzero(loss.stderr < RESOLUTION * eps * np.abs(loss.mean))[0]
    if len(fine):
        steps = ", ".join(str(int(setup.record[k])) for k in fine[:8]) + (", ..." if len(fine) > 8 else "")
        moment_notes = (*moment_notes, f"loss at step {steps}: its standard error is below {block.dtype}'s "
                        f"resolution ({RESOLUTION} ε · loss), so its last digits (and a z against the theory) are "
                        "rounding" + ("; use train.dtype=float64" if block.dtype == "float32" else ""))
    result = Training(
        name=model.theory.name, steps=setup.record.copy(), times=setup.times, X=setup.X, Y=setup.Y, test=setup.test,
        mean=mean,
        cov=covariance,
        kappa4=k4,
        ntk=jk(lambda m: part(m, "ntk"), what="E Θ_t"),
        dntk=jk(lambda m: part(m, "dntk"), what="E ΔΘ_t"),
        dntk_rms=jk(lambda m: np.sqrt(np.maximum(part(m, "dntk_fro2"), 0.0)), what="|ΔΘ_t|"),
        loss=loss,
        lin_dist=(jk(lambda m: np.sqrt(np.maximum(part(m, "lin2"), 0.0)), what="|f - f_lin|")
                  if block.linearised else None),
        theory=th, theory_note=note, notes=tuple(moment_notes) + ((no_kappa4,) if no_kappa4 else ()),
        var_floor=floor,
        settings={"optimizer": block.optimizer, "lr": setup.lr, "momentum": setup.momentum,
                  "weight_decay": setup.weight_decay, "temperature": setup.temperature,
                  "parameterisation": block.parameterisation,
                  "abcd": block.abcd.model_dump(mode="json") if block.abcd is not None else None,
                  "loss": block.loss, "loss_factor": setup.loss_factor, "networks": n, "seed": block.seed,
                  "dtype": block.dtype, "blocks": K, "chunk": chunk, "dims": dict(model.theory.dims)})
    return result



def _check_scales(model: Model, coords: dict, dtype: str) -> None:
    """Refuse a trained parameter whose scale (θ = c·w, and the abcd rate and initial factors) the run's
    dtype cannot hold: it would overflow to inf or underflow to 0 in the gradient step, and the training
    would "diverge" for a reason that is not the learning rate.

    Raises:
      SpecError: naming the parameter, its scale and the dtype's range.
    """
    info = np.finfo(np.dtype(dtype))
    tiny, huge = float(info.tiny), float(info.max)          # Python floats: no cast of v to the dtype
    for name, co in coords.items():
        for v in ((co,) if isinstance(co, (int, float)) else (co.c, co.r, co.rho)):
            v = float(v)
            if not (np.isfinite(v) and (v == 0 or tiny <= abs(v) <= huge)):
                raise SpecError(f"parameter {name}'s scale {v:.3g} is outside what {dtype} holds "
                                f"([{tiny:.3g}, {huge:.3g}]): the training would overflow or underflow",
                                file=model.theory.source, field=("params", name, "density"),
                                hint="use sizes and constants of a physical range, or train.dtype=float64")


def _fingerprint(model: Model, block, setup, dynamics: str | None, n_blocks: int, keep: int = 0) -> dict:
    """What a checkpoint of a training must agree on to be continued: the theory without its ``train:``
    block (content hash) and its sizes by name (``dims.N``), every field of the resolved block
    (``train.lr``, ``train.seed``, ``train.networks``, ``train.dtype``, ``train.chunk``, ...; long values by
    a hash; ``train.record`` as the resolved recorded steps), the learning rate
    it resolves to, the dynamics of the theory beside it and the number of jackknife blocks K; in a
    multi-process run this process's index and the process count (its blocks), as sampling's; not the
    devices, which do not change the numbers."""
    def digest(b: bytes) -> str:
        return hashlib.sha256(b).hexdigest()[:16]

    free = model.theory.model_copy(update={"train": None})
    out = {"stream": "training",
           "theory": f"{model.theory.name} #{digest(free.model_dump_json().encode())}",
           "dynamics": dynamics or "gd", "blocks": int(n_blocks), "lr": repr(float(setup.lr)),
           "tail": int(keep)}
    def shown(value):
        if isinstance(value, (int, str)) and not isinstance(value, bool):
            return value
        text = json.dumps(value, sort_keys=True, separators=(",", ":"))
        return text if len(text) <= 48 else f"{text[:24]}… #{digest(text.encode())}"

    for name, value in block.model_dump(mode="json").items():
        out[f"train.{name}"] = shown(value)
    out["train.record"] = shown([int(k) for k in setup.record])        # the resolved steps, not the spec's null
    out.update({f"dims.{k}": int(v) for k, v in model.theory.dims.items()})     # a changed size is named
    if runtime.process_count() > 1:
        out["processes"] = f"{runtime.process_index()} of {runtime.process_count()}"
    return out



def _restore(ck, section: int, fingerprint: dict, acc: BlockSums, n: int, chunk: int, lo: int, hi: int,
             tail: tuple[int, int]) -> tuple[int, np.ndarray | None]:
    """Load the saved block sums of ``section`` into ``acc`` (this process trains networks [lo, hi)); the
    next network to train (``lo`` if the file has no such section) and the saved tail buffer (columns, ≤ keep)
    of the k̂ diagnostic, or None.

    Raises:
      CheckpointError: the section is of another run (naming the fields that differ), or its arrays or
        position do not fit this run (a damaged file).
    """
    state = ck.restore(section, fingerprint)
    if state is None:
        return lo, None
    ck.check_shapes(section, state, {"sums": acc.sums.shape, "weights": acc.weights.shape})
    done = state["next"]
    fits = lo <= done <= hi and state["n"] == done - lo and (done % chunk == 0 or done == hi)
    K = len(acc.weights)                       # a network count per block as the networks lo … done−1 give
    counts = np.bincount((np.arange(lo, done, dtype=np.int64) * K) // n, minlength=K) if fits else None
    top = state["top_pos"]
    extra = state["weights2"] is not None or state["top_neg"] is not None       # a sampling stream's arrays
    bad_top = top is not None and (top.ndim != 2 or top.shape[0] != tail[0] or top.shape[1] > tail[1])
    if not fits or extra or bad_top or not np.array_equal(state["weights"], counts):
        raise CheckpointError(f"checkpoint {ck.path} (stream {section}) is damaged: its position {done} "
                              f"({state['n']} networks) does not fit this training of {n} networks in chunks "
                              f"of {chunk}")
    acc.sums[...] = state["sums"]
    acc.weights[...] = state["weights"]
    acc.n = done - lo
    return done, top
