"""One invocation of ``nnft``: its state (theories loaded, checkpoint path, process index), the
options the commands share, and the run settings of the sampling commands. Nothing heavy is imported
here: spec loading, the graph and JAX load when a command runs."""

from __future__ import annotations

import contextlib
import math

import sys

import click

from nnft.errors import SpecError
from nnft.inputs import as_points, parse_points


def parse_sets(pairs: tuple[str, ...]) -> tuple[dict[str, str], tuple[str, list[str]] | None]:
    """``--set NAME=VALUE`` options -> ({name: value text}, the sweep or None).

    NAME is a size, a constant or a dotted spec path (``study.samples``); VALUE is read by the spec
    loader (``nnft.spec.load.parse_value``: numbers in the spec's notation, words, lists and mappings
    such as ``[0.1, 0.2]`` or ``[[0.1], [0.2]]``; nothing evaluated); a list or mapping is read here once
    already, so that a malformed one is refused before anything loads (a bad number is refused by the
    loader, naming the spec file it overrides). A comma list ``NAME=v1,v2,...`` (not starting
    with ``[`` or ``{``) is a sweep, returned as ``(NAME, [v1, v2, ...])`` (at most one per command).
    click.BadParameter on anything else (one line, exit 2).
    """
    from nnft.errors import SpecError
    from nnft.spec.load import MAX_OVERRIDE_CHARS, MAX_VALUE_CHARS, parse_value, split_values
    out: dict[str, str] = {}
    sweep = None
    for p in pairs:
        name, sep, value = p.partition("=")
        name = name.strip()
        if not sep or not name:
            raise click.BadParameter(f"expected NAME=VALUE (a size, a constant or a path such as study.samples), "
                                     f"got {p[:80]!r}", param_hint="--set")
        most = MAX_VALUE_CHARS if value.lstrip()[:1] in ("[", "{") else 10 * MAX_OVERRIDE_CHARS
        if len(name) > MAX_OVERRIDE_CHARS or len(value) > most:
            raise click.BadParameter(f"{name[:40]!r}: name or value too long (a name has at most {MAX_OVERRIDE_CHARS} "
                                     f"characters, a value {most}); write longer values in the spec file",
                                     param_hint="--set")
        if not value.strip():
            raise click.BadParameter(f"{name[:40]} has no value (write {name[:40]}=VALUE)", param_hint="--set")
        if name in out or (sweep and sweep[0] == name):
            raise click.BadParameter(f"{name[:40]} is set twice", param_hint="--set")
        try:
            items = split_values(value, name)
            for v in items or [value]:
                if v.lstrip()[:1] in ("[", "{"):      # a list's grammar: refused here, before anything loads
                    parse_value(v, name)
        except SpecError as err:
            raise click.BadParameter(_value_error(name, err), param_hint="--set") from None
        if items is None:
            out[name] = value
        elif sweep is not None:
            raise click.BadParameter(f"one sweep at a time: both {sweep[0][:40]} and {name[:40]} are comma lists "
                                     "(run one sweep per command)", param_hint="--set")
        else:
            sweep = (name, items)
    return out, sweep


def _value_error(name: str, err) -> str:
    """A SpecError about a ``--set`` value as the text of one line: the name, what is wrong, what was
    given, what is allowed and the fix."""
    parts = [f"{name[:40]}: {err.message}"]
    if err.got is not None:
        got = repr(err.got)
        parts.append(f"got {got if len(got) <= 80 else got[:77] + '...'}")
    parts += [f"allowed: {err.allowed}"] if err.allowed else []
    parts += [f"fix: {err.hint}"] if err.hint else []
    return "; ".join(parts)


#: the help of ``--set``, the same on every command (:func:`set_option`)
SET_HELP = ("override a size, a constant or a dotted spec path (repeatable), e.g. --set N=64 --set C_W=0.9 "
            "--set study.seed=3; a list or mapping is one value: --set 'train.targets=[0.1, 0.2]'")


def set_option(f=None, *, sweeps: bool = False):
    """``--set NAME=VALUE`` (repeatable, into the ``sets`` argument; read by :func:`parse_sets`), the
    same option on every command that loads a spec. ``@set_option`` or, on a command that runs a comma
    list as a sweep, ``@set_option(sweeps=True)``."""
    def option(g):
        text = SET_HELP + ("; a comma list NAME=v1,v2,... sweeps one name" if sweeps else "")
        return click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help=text)(g)
    return option if f is None else option(f)


def has_sweep(sets: tuple[str, ...]) -> bool:
    """Whether the ``--set`` options hold a comma list (a sweep)."""
    return parse_sets(sets)[1] is not None


def points_option(text: str | None, d: int, name: str = "--points"):
    """``--points`` text -> an array (P, d), checked against the spec's d (None: the spec's default)."""
    if text is None:
        return None
    return as_points(parse_points(text, name), d, name)


#: theories loaded by this invocation (an error about a value one of them inherited from a parent the
#: user did not name is printed without the value)
LOADED: list = []


def load_theory(spec: str, sets: tuple[str, ...]):
    """The theory SPEC names (a file or a shipped spec) with the ``--set`` overrides (sizes, constants,
    dotted paths); remembered for :func:`redacted`. A sweep (comma list) is refused: only ``nnft run``
    (:func:`run_sweep`) and ``nnft train`` run one."""
    from nnft.spec.load import load
    over, sweep = parse_sets(sets)
    if sweep is not None:
        raise click.BadParameter(f"{sweep[0][:40]}={','.join(sweep[1])[:60]} is a sweep (a comma list); only "
                                 "'nnft run' and 'nnft train' run sweeps: give one value here", param_hint="--set")
    try:
        theory = load(spec, **over)
    except SpecError as err:             # a value set on the command line: say so (the file does not hold it)
        name = next((n for n in over if err.field in (n, f"dims.{n}", f"constants.{n}")
                     or (err.field or "").startswith((f"{n}.", f"{n}["))), None)
        if name is None:
            raise
        where = f"set by --set {name}={over[name][:40]}"
        raise type(err)(err.message, file=err.file, field=err.field, got=err.got, allowed=err.allowed,
                        hint=f"{err.hint}; {where}" if err.hint else where) from None
    LOADED.append(theory)
    return theory


def run_sweep(spec: str, sets: tuple[str, ...], *, samples, seed, chunk, dtype, points, orders, neurons, devices,
              checkpoint, resume, quiet):
    """``nnft run`` with a sweep in ``--set``: one study per value (same seed), printed as one table
    with the swept value as its first column; returns the :class:`nnft.sweep.Sweep`.

    Every value is validated before anything runs. With ``--checkpoint FILE`` the whole sweep is one
    file: its streams are sections numbered in the order they run (value by value), each with its
    fingerprint (theory with the value, key, sizes); ``--resume`` reads the finished values back
    without sampling them and continues the interrupted one, bitwise as a sweep never interrupted. A
    file of another sweep (another spec, seed or value at the same position) is refused in one line.
    """
    from nnft.inputs import parse_orders
    from nnft.spec.load import resolve
    from nnft.sweep import Sweep, at_value, swept_value, theories
    from nnft.study import run as run_study
    require_checkpoint(checkpoint, resume)
    over, (name, values) = parse_sets(sets)
    for path, opt, given in (("study.samples", "--samples", samples), ("study.seed", "--seed", seed)):
        if name == path and given is not None:
            raise click.BadParameter(f"{path} is swept ({','.join(values)[:60]}) and {opt} {given} would override "
                                     f"every value: give one of them", param_hint=opt)
    order_list = parse_orders(orders) if orders is not None else None
    ths = theories(resolve(spec), name, values, over)
    LOADED.extend(ths)
    pts = [points_option(points, t.dims["d"]) for t in ths]
    reports = []
    with execution(devices, checkpoint, resume, quiet):
        for t, p in zip(ths, pts):
            check_spec_reference(t)
            with at_value(name, t):
                reports.append(run_study(t, samples=samples, seed=seed, chunk=chunk, dtype=dtype, points=p,
                                         orders=order_list, neurons=neurons))
    sw = Sweep(name=name, values=[swept_value(t, name) for t in ths], reports=reports)
    result(sw.table())
    return sw


def redacted(err: BaseException) -> BaseException:
    """``err``, or a copy that does not quote a value inherited from a parent file the user did not name."""
    from nnft.spec.load import redact_inherited
    for theory in LOADED:
        red = redact_inherited(theory, err)
        if red is not err:
            return red
    return err


def check_spec_reference(theory) -> None:
    """Refuse a declared reference that contradicts the spec before any sampling (cached by content,
    so the estimators' own check reuses the verdict)."""
    if theory.reference:
        from nnft.graph.compile import compile
        from nnft.reference import check_reference
        check_reference(compile(theory))


class Finite(click.ParamType):
    """A finite float in [lo, hi] (click's FloatRange lets NaN through)."""

    name = "number"

    def __init__(self, lo: float, hi: float, *, lo_open: bool = False):
        self.lo, self.hi, self.lo_open = lo, hi, lo_open

    def convert(self, value, param, ctx):
        """``value`` as a float in range (click's usage error otherwise)."""
        try:
            v = float(value)
        except (TypeError, ValueError):
            self.fail(f"{str(value)[:40]!r} is not a number", param, ctx)
        if not math.isfinite(v) or v < self.lo or v > self.hi or (self.lo_open and v == self.lo):
            self.fail(f"{v!r} is outside {'(' if self.lo_open else '['}{self.lo:g}, {self.hi:g}]", param, ctx)
        return v


#: what this invocation's sampling commands run with (the checkpoint path, the process index)
RUN: dict = {}


def sampling_options(f):
    """--devices, --checkpoint, --resume, --quiet of the commands that sample."""
    f = click.option("--quiet", is_flag=True, help="no progress bar on stderr")(f)
    f = click.option("--resume", is_flag=True, help="continue the run saved in --checkpoint")(f)
    f = click.option("--checkpoint", type=click.Path(dir_okay=False), metavar="FILE",
                     help="save the run's state to FILE every few seconds (continue it with --resume)")(f)
    f = click.option("--devices", type=click.IntRange(1, 1 << 16),
                     help="local devices to sample on (default: all; does not change the numbers)")(f)
    return f


def _set_notation(ctx, param, value):
    if value is not None:
        from nnft.tables import reset_notation, use_notation
        token = use_notation(value)
        ctx.call_on_close(lambda: reset_notation(token))
    return value


def notation_option(f):
    """``--notation {plain,paren}``: how estimates print (``0.4989 ± 0.0015`` or ``0.4989(15)``);
    overrides ``NNFT_NOTATION`` for this command."""
    return click.option("--notation", type=click.Choice(["plain", "paren"]), callback=_set_notation,
                        expose_value=False, is_eager=True,
                        help="estimates as 0.4989 ± 0.0015 (plain) or 0.4989(15) (paren); overrides NNFT_NOTATION")(f)


def require_checkpoint(checkpoint, resume) -> None:
    """Refuse ``--resume`` without ``--checkpoint``, and a ``--out``/``--plot`` of the running command
    that names the checkpoint file (one line, exit 2), before anything is loaded: a checkpoint is never
    overwritten."""
    if resume and checkpoint is None:
        raise click.UsageError("--resume needs --checkpoint FILE (the file the run was saved to)")
    if checkpoint is None:
        return
    ctx = click.get_current_context(silent=True)
    params = ctx.params if ctx is not None else {}
    for opt, key in (("--out", "out"), ("--plot", "plot_path")):
        if params.get(key) is not None and same_file(params[key], checkpoint):
            raise click.UsageError(f"{opt} {params[key]} is the checkpoint file (--checkpoint {checkpoint}): "
                                   f"a checkpoint is never overwritten; give {opt} another file")


def same_file(path, checkpoint) -> bool:
    """Whether ``path`` is the checkpoint ``checkpoint`` or one process's part of it
    (``checkpoint.<p>-of-<P>``), comparing resolved paths (symbolic links and ``..`` followed)."""
    import os
    import re
    a, b = os.path.realpath(os.fspath(path)), os.path.realpath(os.fspath(checkpoint))
    if a == b:
        return True
    return a.startswith(b + ".") and re.fullmatch(r"\.\d+-of-\d+", a[len(b):]) is not None


@contextlib.contextmanager
def execution(devices, checkpoint, resume, quiet):
    """The run settings every stream of the command uses (``nnft.runtime.settings``)."""
    require_checkpoint(checkpoint, resume)
    from nnft import runtime
    runtime.enable_compile_cache()
    if devices is not None:
        runtime.local_devices(devices)                   # a count above the local devices: one line, before work
    with runtime.terminate_as_interrupt(checkpoint is not None), \
            runtime.settings(devices=devices, progress=False if quiet else None, checkpoint=checkpoint,
                             resume=resume) as s:
        if s.checkpoint is not None:
            RUN["checkpoint"] = s.checkpoint.path
        yield


def result(text: str) -> None:
    """Print a result (in a multi-process run only process 0 prints; every process has the same numbers)."""
    if RUN.get("process", 0) == 0:
        from nnft.tables import colour_enabled, printable_coloured
        if colour_enabled():      # only nnft's own verdict colours pass the control-character filter
            click.echo(printable_coloured(text), file=getattr(sys.stdout, "raw_stream", sys.stdout), color=True)
        else:
            click.echo(text)
