"""The ``nnft`` command line: a thin shell over the Python API.

    nnft validate SPEC [--set N=64]
    nnft run SPEC [--samples 200000] [--seed 0] [--set N=64] [--points "0,0;0.5,0"] [--orders 2,4]
             [--devices N] [--checkpoint FILE [--resume]] [--quiet]
    nnft check SPEC [--only translation,z2,cluster,reflection_positivity] [--samples 50000] [--plot DIR]
    nnft perturb SPEC [--lambdas 0.01,0.1,1] [--samples 100000] [--seed 0] [--points "0;0.5"] [--set N=10]
    nnft schema
    nnft specs
    nnft [--coordinator HOST:PORT --num-processes N --process-id I | --distributed] run ...

The sampling commands (run, check, perturb) take ``--devices N`` (local devices; default all),
``--checkpoint FILE`` / ``--resume`` (save and continue long runs, bitwise the same result) and
``--quiet`` (no progress bar; it is shown only on a terminal anyway). Ctrl-C during a run with a
checkpoint saves it and exits with status 130 after one line saying how to resume.

Every error — in a spec (file, field, what is allowed), in an option, or a size above its bound —
is printed as ONE line on stderr, ``error: ...``, and the command exits with status 2. This is
structural: :func:`main` catches every :class:`~nnft.errors.NnftError` and every click usage error;
anything else that escapes is a bug. All output passes through a filter that replaces terminal
control characters (spec text is untrusted). Nothing heavy is imported before a command runs, so
``nnft --help`` starts without JAX.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import sys
import warnings

import click

from nnft.errors import NnftError, printable
from nnft.inputs import (MAX_CHUNK, MAX_NEURONS, MAX_SAMPLES, MAX_SEED, as_points, parse_numbers, parse_orders,
                         parse_points)

#: longest error line printed (a message is cut there, never split over lines)
MAX_ERROR_CHARS = 2000


def _sizes(pairs: tuple[str, ...]) -> dict[str, int]:
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


def _points(text: str | None, d: int, name: str = "--points"):
    """``--points`` text -> an array (P, d), checked against the spec's d (None: the spec's default)."""
    if text is None:
        return None
    return as_points(parse_points(text, name), d, name)


#: theories loaded by this invocation (an error about a value one of them inherited from a parent the
#: user did not name is printed without the value)
_LOADED: list = []


def _load(spec: str, sets: tuple[str, ...]):
    from nnft.spec.load import load
    theory = load(spec, **_sizes(sets))
    _LOADED.append(theory)
    return theory


def _redacted(err: BaseException) -> BaseException:
    from nnft.spec.load import redact_inherited
    for theory in _LOADED:
        red = redact_inherited(theory, err)
        if red is not err:
            return red
    return err


def _check_reference(theory) -> None:
    """Refuse a declared reference that contradicts the spec before any sampling (cached by content,
    so the estimators' own check reuses the verdict)."""
    if theory.reference:
        from nnft.graph.compile import compile
        from nnft.reference import check_reference
        check_reference(compile(theory))


class _Finite(click.ParamType):
    """A finite float in [lo, hi] (click's FloatRange lets NaN through)."""

    name = "number"

    def __init__(self, lo: float, hi: float, *, lo_open: bool = False):
        self.lo, self.hi, self.lo_open = lo, hi, lo_open

    def convert(self, value, param, ctx):
        try:
            v = float(value)
        except (TypeError, ValueError):
            self.fail(f"{str(value)[:40]!r} is not a number", param, ctx)
        if not math.isfinite(v) or v < self.lo or v > self.hi or (self.lo_open and v == self.lo):
            self.fail(f"{v!r} is outside {'(' if self.lo_open else '['}{self.lo:g}, {self.hi:g}]", param, ctx)
        return v


class _Printable(io.TextIOBase):
    """A text stream that forwards to ``inner`` with terminal control characters replaced."""

    def __init__(self, inner):
        self._inner = inner

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("text stream")   # click probes binary-ness with write(b"")
        return self._inner.write(printable(text))

    def flush(self):
        self._inner.flush()

    def isatty(self):
        return bool(getattr(self._inner, "isatty", lambda: False)())

    @property
    def raw_stream(self):
        """The stream behind the filter (for nnft's own progress bars, which contain no spec text)."""
        return self._inner

    def writable(self):
        return True

    @property
    def encoding(self):
        return getattr(self._inner, "encoding", None) or "utf-8"

    @property
    def errors(self):
        return getattr(self._inner, "errors", None) or "strict"


@contextlib.contextmanager
def _printable_streams():
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Printable(out), _Printable(err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err


def one_line(err: BaseException) -> str:
    """An error as one printable line: ``error: file: field: message; got: ...; allowed: ...``."""
    if isinstance(err, click.ClickException):
        text = err.format_message()
    else:
        text = str(err) or type(err).__name__
    parts = [p.strip() for p in printable(text).splitlines() if p.strip()]
    line = "error: " + "; ".join(parts)
    return line if len(line) <= MAX_ERROR_CHARS else line[:MAX_ERROR_CHARS - 3] + "..."


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings on the command line: one line, 'warning: Category: message', no source excerpt."""
    parts = [p.strip() for p in printable(str(message)).splitlines() if p.strip()]
    click.echo(f"warning: {category.__name__}: " + "; ".join(parts), err=True)


class _Group(click.Group):
    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """Run a command; every nnft error and usage error becomes one line on stderr and exit 2."""
        code = 0
        _LOADED.clear()
        _RUN.clear()
        with _printable_streams(), warnings.catch_warnings():
            warnings.showwarning = _one_line_warning
            try:
                rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
                code = rv if isinstance(rv, int) else 0
            except (NnftError, click.ClickException) as err:
                click.echo(one_line(_redacted(err)), err=True)
                code = 2
            except click.exceptions.Abort:
                click.echo("error: aborted", err=True)
                code = 1
        if standalone_mode:
            sys.exit(code)
        return code

    def invoke(self, ctx):
        """Run the command; Ctrl-C is one line on stderr (saying where the checkpoint is) and status 130."""
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            saved = _RUN.get("checkpoint")
            if saved is not None and os.path.exists(saved):
                click.echo(f"interrupted; checkpoint saved to {saved}, resume with --resume", err=True)
            else:
                click.echo("interrupted", err=True)
            return 130


#: what this invocation's sampling commands run with (the checkpoint path, the process index)
_RUN: dict = {}


@click.group(cls=_Group)
@click.version_option(package_name="nnft")
@click.option("--coordinator", metavar="HOST:PORT", help="multi-process run: address of process 0 "
              "(with --num-processes and --process-id; or NNFT_COORDINATOR etc.)")
@click.option("--num-processes", type=click.IntRange(1, 65536), help="multi-process run: number of processes")
@click.option("--process-id", type=click.IntRange(0, 65535), help="multi-process run: this process, 0..N-1")
@click.option("--distributed", is_flag=True, help="multi-process run with the cluster detected by JAX (e.g. srun)")
def main(coordinator, num_processes, process_id, distributed):
    """nnft: neural-network field theory — declare (φ_θ, P(θ)) in a spec, get correlators with errors."""
    from nnft.runtime import distributed_options
    opts = distributed_options(coordinator, num_processes, process_id)
    if distributed or opts[0] is not None:
        from nnft.runtime import init_distributed
        _RUN["process"] = init_distributed(*opts)[0]


def _sampling_options(f):
    """--devices, --checkpoint, --resume, --quiet of the commands that sample."""
    f = click.option("--quiet", is_flag=True, help="no progress bar on stderr")(f)
    f = click.option("--resume", is_flag=True, help="continue the run saved in --checkpoint")(f)
    f = click.option("--checkpoint", type=click.Path(dir_okay=False), metavar="FILE",
                     help="save the run's state to FILE every few seconds (continue it with --resume)")(f)
    f = click.option("--devices", type=click.IntRange(1, 1 << 16),
                     help="local devices to sample on (default: all; does not change the numbers)")(f)
    return f


@contextlib.contextmanager
def _execution(devices, checkpoint, resume, quiet):
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
            _RUN["checkpoint"] = s.checkpoint.path
        yield


def _result(text: str) -> None:
    """Print a result (in a multi-process run only process 0 prints; every process has the same numbers)."""
    if _RUN.get("process", 0) == 0:
        click.echo(text)


@main.command()
@click.argument("spec")
@click.option("--set", "sets", multiple=True, metavar="NAME=INT", help="override a named size (repeatable)")
def validate(spec, sets):
    """Load, check and analyse SPEC (a file or a shipped spec name) without sampling."""
    from nnft.graph.compile import compile
    from nnft.reference import check_reference
    from nnft.spec.points import study_points
    model = compile(_load(spec, sets))
    theory = model.theory                    # an mlp: is shown expanded into its layers
    st = model.structure
    points = study_points(theory)            # the study's points fit d (else a SpecError naming them)
    rc = check_reference(model) if theory.reference else None
    click.echo(f"ok: {theory.name} ({theory.source})")
    click.echo("  dims: " + ", ".join(f"{k}={v}" for k, v in theory.dims.items()))
    for name, p in theory.params.items():
        args = ", ".join(f"{k}={v}" for k, v in p.density_args.items())
        click.echo(f"  {name} [{', '.join(p.shape)}] ~ {p.density_kind}({args})")
    for name, src in theory.define.items():
        click.echo(f"  {name} := {src}")
    click.echo(f"  field: {theory.field}")
    click.echo("  sampling order: " + " -> ".join(st.order))
    click.echo("  independent blocks: " + "; ".join("{" + ", ".join(sorted(b)) + "}" for b in st.independent))
    ns = st.neuron_sum
    if ns:
        click.echo(f"  neuron sum: over {ns.width}, readout {ns.readout}" + (f", offset {ns.offset}" if ns.offset else "")
                   + f", neuron parameters {', '.join(ns.neuron_params)}"
                   + (" (neuron law depends on the width)" if ns.width_dependent else ""))
    else:
        click.echo("  not a neuron sum: " + "; ".join(st.notes))
    if st.unused:
        click.echo("  unused parameters: " + ", ".join(st.unused))
    click.echo(f"  study points: {len(points)}")
    click.echo(f"  reference: {rc.reference} ({rc.summary})" if rc else "  reference: none")


@main.command()
@click.argument("spec")
@click.option("--samples", type=click.IntRange(10, MAX_SAMPLES),
              help="number of networks (default: the spec's study)")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), help="PRNG seed")
@click.option("--chunk", type=click.IntRange(1, MAX_CHUNK),
              help="networks per jitted chunk (does not change the numbers)")
@click.option("--dtype", type=click.Choice(["float32", "float64"]), help="sampling precision (sums are float64)")
@click.option("--set", "sets", multiple=True, metavar="NAME=INT", help="override a named size, e.g. --set N=64")
@click.option("--points", help="points 'x1,x2;y1,y2;...' (default: the spec's study points)")
@click.option("--orders", help="correlator orders, e.g. 2,4")
@click.option("--neurons", type=click.IntRange(0, MAX_NEURONS), default=1_000_000, show_default=True,
              help="single-neuron samples for the exact-in-N estimate (0: skip)")
@_sampling_options
def run(spec, samples, seed, chunk, dtype, sets, points, orders, neurons, devices, checkpoint, resume, quiet):
    """Measure correlators of SPEC and print them beside theory with z-scores."""
    from nnft.study import run as run_study
    order_list = parse_orders(orders) if orders is not None else None
    theory = _load(spec, sets)
    pts = _points(points, theory.dims["d"])
    with _execution(devices, checkpoint, resume, quiet):
        _check_reference(theory)
        report = run_study(theory, samples=samples, seed=seed, chunk=chunk, dtype=dtype,
                           points=pts, orders=order_list, neurons=neurons)
    _result(report.table())


@main.command()
@click.argument("spec")
@click.option("--only", help=f"comma-separated checks (default: the spec's study.checks, else all)")
@click.option("--samples", type=click.IntRange(100, MAX_SAMPLES // 10),
              help="networks per symmetry check (10x samples for cluster/RP)")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), help="random seed")
@click.option("--alpha", type=_Finite(1e-12, 0.5), default=1e-3, show_default=True,
              help="family-wise false-FAIL level of each check")
@click.option("--set", "sets", multiple=True, metavar="NAME=INT", help="override a named size, e.g. --set N=64")
@click.option("--plot", "plot_dir", type=click.Path(file_okay=False), help="write decay-profile / RP-spectrum plots here")
@click.option("--evidence", type=click.IntRange(0), default=2, show_default=True, help="evidence lines per check")
@_sampling_options
def check(spec, only, samples, seed, alpha, sets, plot_dir, evidence, devices, checkpoint, resume, quiet):
    """Check symmetries, cluster decomposition and reflection positivity of SPEC (PASS/FAIL/INCONCLUSIVE).

    Exit status: 0 when every verdict is as the spec declares (study.checks: {name: {expect: fail,
    reason: ...}}) and nothing else FAILs; 1 on an undeclared FAIL or a declared verdict that did not
    occur; 2 on a usage or spec error.
    """
    from nnft.checks import CHECKS
    from nnft.checks import check as run_checks
    from nnft.checks.result import table
    theory = _load(spec, sets)
    names = [n.strip() for n in only.split(",") if n.strip()] if only is not None else None
    if names is not None and not names:
        raise click.BadParameter(f"names no check; allowed: {', '.join(CHECKS)}", param_hint="--only")
    bad = [n for n in names or [] if n not in CHECKS]
    if bad:
        raise click.BadParameter(f"unknown check(s) {', '.join(bad)}; allowed: {', '.join(CHECKS)}", param_hint="--only")
    with _execution(devices, checkpoint, resume, quiet):
        results = run_checks(theory, names, samples=samples, seed=seed, alpha=alpha)
    _result(table(results, evidence=evidence))
    if plot_dir:
        import os
        from nnft.checks.plots import plot_result
        os.makedirs(plot_dir, exist_ok=True)
        for i, r in enumerate(results):
            if "profile" in r.data or "eigenvalues" in r.data:
                path = os.path.join(plot_dir, f"check_{i}_{r.check.split()[0]}.png")
                plot_result(r, path)
                click.echo(f"plot: {path}")
    from nnft.checks import expectations
    skipped = [n for n in expectations(theory) if n not in {r.name for r in results} and (not names or n in names)]
    if skipped:
        click.echo(f"note: declared but not applicable here, not run: {', '.join(skipped)}")
    wrong = [r for r in results if r.unexpected]
    if wrong:
        click.echo(f"{len(wrong)} of {len(results)} check(s) contradict the spec: " + "; ".join(
            f"{r.name} {r.verdict}" + (f" (expected {r.expected})" if r.expected is not None else
                                       " (no expected verdict declared)") for r in wrong), err=True)
        sys.exit(1)


@main.command()
@click.argument("spec")
@click.option("--lambdas", default="0.01,0.1,1", show_default=True, help="values of the swept coupling, e.g. 0.01,0.1,1")
@click.option("--samples", type=click.IntRange(10, MAX_SAMPLES),
              help="networks, the same at every λ (default: the spec's study)")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), help="PRNG seed")
@click.option("--set", "sets", multiple=True, metavar="NAME=INT", help="override a named size, e.g. --set N=10")
@click.option("--points", help="points 'x1,x2;y1,y2;...': tuples (p0, pj) and (p0,p0,pj,pj) (default: the spec's study points)")
@click.option("--orders", default="2,4", show_default=True, help="correlator orders of the tuples")
@click.option("--coupling", help="the constant to sweep (default: the one the φ⁴ coupling names)")
@click.option("--threshold", type=_Finite(0.0, 1e6, lo_open=True), default=5.0, show_default=True,
              help="flag rows with |z| above this: first order no longer holds")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), help="write a plot of the sweep here")
@_sampling_options
def perturb(spec, lambdas, samples, seed, sets, points, orders, coupling, threshold, plot_path, devices, checkpoint,
            resume, quiet):
    """Reweighted MC shifts of SPEC's correlators beside first-order perturbation theory, swept over λ."""
    from nnft.graph.compile import compile
    from nnft.perturbation.compare import compare
    from nnft.reference import check_reference
    lams = parse_numbers(lambdas, "--lambdas")
    order_list = parse_orders(orders)
    theory = _load(spec, sets)
    pts = _points(points, theory.dims["d"])
    with _execution(devices, checkpoint, resume, quiet):
        model = compile(theory)                        # once: the reference check and compare share it
        if theory.reference:
            check_reference(model)
        table = compare(model, lambdas=lams, samples=samples, key=seed, coupling=coupling, orders=order_list,
                        points=pts, threshold=threshold)
    _result(table.table())
    if plot_path:
        table.plot(plot_path)
        click.echo(f"plot: {plot_path}")


@main.command()
@click.argument("spec")
@click.option("--points", required=True, help="points 'x1,x2;y1,y2;...'")
@click.option("--set", "sets", multiple=True, metavar="NAME=INT", help="override a named size")
@click.option("--layers/--no-layers", default=False, help="also print K and Θ layer by layer")
def kernel(spec, points, sets, layers):
    """Infinite-width NNGP kernel K and NTK Θ of SPEC on POINTS, read off its graph."""
    import numpy as np

    from nnft.graph.compile import compile
    from nnft.graph.kernels import kernels
    model = compile(_load(spec, sets))
    k = kernels(model, _points(points, model.d))
    np.set_printoptions(precision=6, suppress=True, linewidth=120)
    click.echo(f"{model.theory.name}: NNGP K(xᵢ, xⱼ)\n{k.nngp}\nNTK Θ(xᵢ, xⱼ) (NTK parameterisation)\n{k.ntk}")
    if layers:
        for i, (where, K, T) in enumerate(k.layers, start=1):
            click.echo(f"layer {i}: diag K = {np.diag(K)}  diag Θ = {np.diag(T)}")


@main.command()
@click.argument("spec")
@click.option("--set", "sets", multiple=True, metavar="NAME=INT", help="override a named size")
def criticality(spec, sets):
    """Fixed point, χ∥, χ⊥, correlation depths and phase of an MLP spec (Schoenholz et al. arXiv 1611.01232);
    in the chaotic phase the stable correlation fixed point c* < 1 and ξ_c there (Poole et al. arXiv 1606.05340)."""
    from nnft.analytic.criticality import criticality as crit
    from nnft.errors import SpecError, suggest
    from nnft.spec.constants import evaluate_constants
    from nnft.spec import expr as E
    theory = _load(spec, sets)
    if theory.mlp is None:
        raise SpecError("criticality needs an 'mlp:' spec (activation, weight_var, bias_var)", file=theory.source,
                        field="mlp")
    env, _ = evaluate_constants(theory)

    def constant(field: str, src, extra: dict, allowed: str) -> float:
        try:
            return E.evaluate_constant(E.parse(src), {**env, **extra})
        except E.ExprError as err:
            bad = [n for n in E.names(E.parse(src)) if n not in env and n not in extra and n not in E.CONSTANTS]
            guess = suggest(bad[0], list(env) + list(extra)) if bad else None
            raise SpecError(f"{err}", file=theory.source, field=f"mlp.{field}", got=src, allowed=allowed,
                            hint=f"did you mean {guess!r}?" if guess else None) from None

    per_fan = "a constant over fan_in, e.g. C_W / fan_in (constants: " + (", ".join(theory.constants) or "none") + ")"
    wv1 = constant("weight_var", theory.mlp.weight_var, {"fan_in": 1.0}, per_fan)
    wv2 = constant("weight_var", theory.mlp.weight_var, {"fan_in": 2.0}, per_fan)
    if not abs(wv1 - 2 * wv2) <= 1e-12 * max(abs(wv1), 1e-300):
        raise SpecError("criticality analysis needs weight_var = C_W / fan_in (the variance must fall like "
                        "1/fan_in for the infinite-width recursion)", file=theory.source, field="mlp.weight_var",
                        got=theory.mlp.weight_var, allowed=per_fan)
    C_W = wv1
    C_b = constant("bias_var", theory.mlp.bias_var, {}, "a constant ≥ 0")
    gamma = 0.0 if theory.mlp.residual is None else constant("residual", theory.mlp.residual, {}, "a constant")
    if not C_W > 0:
        raise SpecError(f"C_W must be > 0, got {C_W:g}", file=theory.source, field="mlp.weight_var",
                        got=theory.mlp.weight_var, allowed=per_fan)
    if not C_b >= 0:
        raise SpecError(f"the bias variance must be ≥ 0, got {C_b:g}", file=theory.source, field="mlp.bias_var",
                        got=theory.mlp.bias_var)
    from nnft.spec.mlp import _depth
    _depth(theory)                       # the same depth bound as building the network (a one-line error)
    act = theory.mlp.activation.strip()
    try:
        c = crit(act, C_W, C_b, gamma=gamma)
    except (KeyError, ValueError) as err:
        raise SpecError(f"no criticality analysis for activation {act!r}: {err}", file=theory.source,
                        field="mlp.activation") from None
    click.echo(f"{theory.name}: σ = {act}, C_W = {C_W:g}, C_b = {C_b:g}" + (f", residual γ = {gamma:g}" if gamma else ""))
    click.echo(f"  fixed point K* = {c.fixed.K:.6g} ({c.fixed.kind}: {c.fixed.message})")
    click.echo(f"  χ∥ = {c.chi_parallel:.6g}   χ⊥ = {c.chi_perp:.6g}   ξ_q = {c.xi_q:.4g}")
    if c.phase == "chaotic" and c.note:
        click.echo(f"  c*, ξ_c: not defined ({c.note})")
    elif c.phase == "chaotic":
        click.echo(f"  correlation fixed point c* = {c.c_star:.6g} (c = 1 is unstable: χ⊥ > 1)   "
                   f"χ_c(c*) = {c.chi_c:.6g}   ξ_c = {c.xi_c:.4g}")
    else:
        click.echo(f"  correlation fixed point c* = 1   ξ_c = {c.xi_c:.4g}")
    click.echo(f"  phase: {c.phase}")


@main.command()
def schema():
    """Print the JSON Schema of spec files (for editor completion and checking)."""
    from nnft.spec.models import Theory
    click.echo(json.dumps(Theory.model_json_schema(), indent=2))


@main.command()
def specs():
    """List the shipped specs."""
    from nnft.spec.load import _read, shipped_specs
    for name, path in shipped_specs().items():
        desc = " ".join(str(_read(path).get("description", "")).split())
        click.echo(f"{name:<20} {desc[:100]}")


if __name__ == "__main__":  # pragma: no cover
    main()
