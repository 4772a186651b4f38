"""The commands that sample networks: ``nnft run`` (correlators beside the reference), ``nnft check``
(the axiom checks) and ``nnft perturb`` (reweighted Monte Carlo beside first-order perturbation
theory). They share ``--devices``, ``--checkpoint``/``--resume`` and ``--quiet``."""

from __future__ import annotations

import sys
import time

import click

from nnft.cli.invocation import (RUN, Finite, check_spec_reference, execution, has_sweep, load_theory, points_option,
                                 notation_option, require_checkpoint, result, run_sweep, sampling_options,
                                 set_option)
from nnft.cli.plotting import plot_option, write_plot
from nnft.inputs import MAX_CHUNK, MAX_NEURONS, MAX_SAMPLES, MAX_SEED, parse_numbers, parse_orders


def out_option(f):
    """``--out FILE``: save the result as netCDF-4 (.nc) or JSON (.json), chosen by the extension."""
    return click.option("--out", type=click.Path(dir_okay=False), metavar="FILE",
                        help="save the result with its provenance: FILE.nc (netCDF-4) or FILE.json")(f)


def check_out(out) -> None:
    """Refuse a wrong extension or an unwritable --out path before any sampling (one line, exit 2)."""
    if out is not None:
        from nnft.results.files import check_writable
        check_writable(out)


def save_out(out, result, started: float, devices, **provenance) -> None:
    """Write the result to --out (process 0 only) with the run's dtype, devices and wall time."""
    if out is None or RUN.get("process", 0) != 0:
        return
    from nnft import runtime
    from nnft.results import save
    save(result, out, devices=len(runtime.local_devices(devices)), wall_time_s=time.monotonic() - started,
         **provenance)
    click.echo(f"saved: {out}")


@click.command()
@click.argument("spec")
@click.option("--samples", type=click.IntRange(10, MAX_SAMPLES),
              help="number of networks (default: the spec's study)")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), help="PRNG seed")
@click.option("--chunk", type=click.IntRange(1, MAX_CHUNK),
              help="networks per jitted chunk (does not change the numbers)")
@click.option("--dtype", type=click.Choice(["float32", "float64"]), help="sampling precision (sums are float64)")
@set_option(sweeps=True)
@click.option("--points", help="points 'x1,x2;y1,y2;...' (default: the spec's study points)")
@click.option("--orders", help="correlator orders, e.g. 2,4")
@click.option("--neurons", type=click.IntRange(0, MAX_NEURONS), default=1_000_000, show_default=True,
              help="neurons drawn for the exact-in-N estimate (0: skip); rounded up to whole networks of "
                   "width 64 (of the spec's width if the neuron law depends on it), at least two")
@out_option
@plot_option
@notation_option
@sampling_options
def run(spec, samples, seed, chunk, dtype, sets, points, orders, neurons, out, plot_path, devices, checkpoint, resume,
        quiet):
    """Measure correlators of SPEC and print them beside theory with z-scores."""
    require_checkpoint(checkpoint, resume)
    check_out(out)
    if has_sweep(sets):                    # --set NAME=v1,v2,...: one study per value, one table (nnft.sweep)
        started = time.monotonic()
        sw = run_sweep(spec, sets, samples=samples, seed=seed, chunk=chunk, dtype=dtype, points=points, orders=orders,
                       neurons=neurons, devices=devices, checkpoint=checkpoint, resume=resume, quiet=quiet)
        save_out(out, sw, started, devices, dtype=dtype or sw.reports[0].theory.study.dtype)
        write_plot(plot_path, sw)
        return sw
    from nnft.study import run as run_study
    order_list = parse_orders(orders) if orders is not None else None
    theory = load_theory(spec, sets)
    pts = points_option(points, theory.dims["d"])
    started = time.monotonic()
    with execution(devices, checkpoint, resume, quiet):
        check_spec_reference(theory)
        report = run_study(theory, samples=samples, seed=seed, chunk=chunk, dtype=dtype,
                           points=pts, orders=order_list, neurons=neurons)
    result(report.table())
    save_out(out, report, started, devices, dtype=dtype or theory.study.dtype)
    write_plot(plot_path, report)


@click.command()
@click.argument("spec")
@click.option("--only", help=f"comma-separated checks (default: the spec's study.checks, else all)")
@click.option("--samples", type=click.IntRange(100, MAX_SAMPLES // 10),
              help="networks per symmetry check (10x samples for cluster/RP)")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), help="random seed")
@click.option("--alpha", type=Finite(1e-12, 0.5), default=1e-3, show_default=True,
              help="family-wise false-FAIL level of each check")
@set_option
@click.option("--evidence", type=click.IntRange(0), default=2, show_default=True, help="evidence lines per check")
@out_option
@plot_option
@sampling_options
def check(spec, only, samples, seed, alpha, sets, evidence, out, plot_path, devices, checkpoint, resume, quiet):
    """Check symmetries, cluster decomposition and reflection positivity of SPEC (PASS/FAIL/INCONCLUSIVE).

    Exit status: 0 when every verdict is as the spec declares (study.checks: {name: {expect: fail,
    reason: ...}}) and nothing else FAILs; 1 on an undeclared FAIL or a declared verdict that did not
    occur; 2 on a usage or spec error.
    """
    from nnft.checks import CHECKS
    from nnft.checks import check as run_checks
    from nnft.checks.result import table
    require_checkpoint(checkpoint, resume)
    check_out(out)
    theory = load_theory(spec, sets)
    names = list(dict.fromkeys(n.strip() for n in only.split(",") if n.strip())) if only is not None else None
    if names is not None and not names:
        raise click.BadParameter(f"names no check; allowed: {', '.join(CHECKS)}", param_hint="--only")
    bad = [n for n in names or [] if n not in CHECKS]
    if bad:
        raise click.BadParameter(f"unknown check(s) {', '.join(bad)}; allowed: {', '.join(CHECKS)}", param_hint="--only")
    started = time.monotonic()
    with execution(devices, checkpoint, resume, quiet):
        results = run_checks(theory, names, samples=samples, seed=seed, alpha=alpha)
    result(table(results, evidence=evidence))
    save_out(out, results, started, devices, theory=theory, seed=theory.study.seed if seed is None else seed)
    write_plot(plot_path, results)
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


@click.command()
@click.argument("spec")
@click.option("--lambdas", default="0.01,0.1,1", show_default=True, help="values of the swept coupling, e.g. 0.01,0.1,1")
@click.option("--samples", type=click.IntRange(10, MAX_SAMPLES),
              help="networks, the same at every λ (default: the spec's study)")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), help="PRNG seed")
@set_option
@click.option("--points", help="points 'x1,x2;y1,y2;...': tuples (p0, pj) and (p0,p0,pj,pj) (default: the spec's study points)")
@click.option("--orders", default="2,4", show_default=True, help="correlator orders of the tuples")
@click.option("--coupling", help="the constant to sweep (default: the one the φ⁴ coupling names)")
@click.option("--threshold", type=Finite(0.0, 1e6, lo_open=True), default=5.0, show_default=True,
              help="flag rows with |z| above this: first order no longer holds")
@out_option
@plot_option
@notation_option
@sampling_options
def perturb(spec, lambdas, samples, seed, sets, points, orders, coupling, threshold, plot_path, out, devices,
            checkpoint, resume, quiet):
    """Reweighted MC shifts of SPEC's correlators beside first-order perturbation theory, swept over λ.

    Exit status: 0 when every λ is measured; 1 when some λ are refused (e.g. a φ⁴ coupling < 0, unbounded
    below) or not estimable (importance weights collapsed): the others are printed and saved, and each
    such value gets one line on stderr; 2 when every λ is refused, or on a usage or spec error.
    """
    from nnft.graph.compile import compile
    from nnft.perturbation.compare import compare
    from nnft.reference import check_reference
    require_checkpoint(checkpoint, resume)
    lams = parse_numbers(lambdas, "--lambdas")
    order_list = parse_orders(orders)
    check_out(out)
    theory = load_theory(spec, sets)
    pts = points_option(points, theory.dims["d"])
    started = time.monotonic()
    with execution(devices, checkpoint, resume, quiet):
        model = compile(theory)                        # once: the reference check and compare share it
        if theory.reference:
            check_reference(model)
        table = compare(model, lambdas=lams, samples=samples, key=seed, coupling=coupling, orders=order_list,
                        points=pts, threshold=threshold)
    result(table.table())
    save_out(out, table, started, devices, dtype=theory.study.dtype)
    write_plot(plot_path, table)
    for lam, why in table.refused:
        click.echo(f"refused: {table.coupling} = {lam:g}: {why}", err=True)
    lost = sorted({r.lam for r in table.rows if not r.estimable})
    for lam in lost:
        ess = [r.ess for r in table.rows if r.lam == lam and r.ess is not None]
        why = f"importance weights collapsed (Kish ESS {min(ess):.3g})" if ess else "the reweighted shift is not finite"
        click.echo(f"not estimable: {table.coupling} = {lam:g}: {why}; lower the coupling or sample the "
                   "interacting theory by MCMC (nnft.mcmc_ensemble)", err=True)
    if table.refused or lost:
        sys.exit(1)

