"""One invocation of ``nnft``: its state (theories loaded, checkpoint path, process index), the
options the commands share, and the run settings of the sampling commands. Nothing heavy is imported
here: spec loading, the graph and JAX load when a command runs."""

from __future__ import annotations

import contextlib
import math

import click

from nnft.inputs import as_points, parse_points


def sizes(pairs: tuple[str, ...]) -> dict[str, int]:
    """``--set NAME=INT`` options -> ``{name: size}`` (click.BadParameter on anything else)."""
    out = {}
    for p in pairs:
        name, sep, value = p.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"expected NAME=INTEGER, got {p[:80]!r}", param_hint="--set")
        v = value.strip()
        if not (v.isascii() and v.isdigit()) or len(v) > 12:
            raise click.BadParameter(f"{name.strip()[:40]} must be a positive integer (at most 12 digits), "
                                     f"got {value[:40]!r}", param_hint="--set")
        out[name.strip()] = int(v)
    return out


def points_option(text: str | None, d: int, name: str = "--points"):
    """``--points`` text -> an array (P, d), checked against the spec's d (None: the spec's default)."""
    if text is None:
        return None
    return as_points(parse_points(text, name), d, name)


#: theories loaded by this invocation (an error about a value one of them inherited from a parent the
#: user did not name is printed without the value)
LOADED: list = []


def load_theory(spec: str, sets: tuple[str, ...]):
    """The theory SPEC names (a file or a shipped spec) with the ``--set`` sizes; remembered for :func:`redacted`."""
    from nnft.spec.load import load
    theory = load(spec, **sizes(sets))
    LOADED.append(theory)
    return theory


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


@contextlib.contextmanager
def execution(devices, checkpoint, resume, quiet):
    """The run settings every stream of the command uses (``nnft.runtime.settings``)."""
    if resume and checkpoint is None:
        raise click.BadParameter("--resume needs --checkpoint FILE", param_hint="--resume")
    from nnft import runtime
    runtime.enable_compile_cache()
    if devices is not None:
        runtime.local_devices(devices)                   # a count above the local devices: one line, before work
    with runtime.settings(devices=devices, progress=False if quiet else None, checkpoint=checkpoint,
                          resume=resume) as s:
        if s.checkpoint is not None:
            RUN["checkpoint"] = s.checkpoint.path
        yield


def result(text: str) -> None:
    """Print a result (in a multi-process run only process 0 prints; every process has the same numbers)."""
    if RUN.get("process", 0) == 0:
        click.echo(text)
