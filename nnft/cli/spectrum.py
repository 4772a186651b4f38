"""``nnft spectrum SPEC``: the power spectrum G̃(p) with standard errors beside the reference's spectrum
(``nnft.power_spectrum``; docs/spectrum.md).

    nnft spectrum scalar_net --momenta "0;0.5;1;2" [--window 0.1] [--neurons 1000000]      # neuron route
    nnft spectrum relu_net --box "-4,4;-4,4" --lattice 16 [--samples 20000]                   # lattice route
"""

from __future__ import annotations

import time

import click

from nnft.cli.invocation import (Finite, execution, load_theory, notation_option, points_option, result, sampling_options,
                                 set_option)
from nnft.cli.plotting import plot_option, write_plot
from nnft.cli.sampling import check_out, out_option, save_out
from nnft.inputs import MAX_CHUNK, MAX_NEURONS, MAX_SAMPLES, MAX_SEED, parse_points


def _domain(box: str, lattice: int, d: int):
    """--box/--lattice as an insertion's ``domain: {box, lattice}`` (the same model and checks)."""
    from nnft.errors import InputError
    from nnft.spec.models import Domain
    edges = parse_points(box, "--box")
    try:
        dom = Domain(box=edges, lattice=lattice)
    except ValueError as err:
        errors = getattr(err, "errors", None)
        what = errors()[0].get("msg", str(err)) if callable(errors) and errors() else str(err).splitlines()[0]
        raise InputError(f"--box/--lattice: {what}; write the box as 'lo,hi;lo,hi' (one edge per input dimension) "
                         "and --lattice n ≥ 1") from None
    if len(dom.box) != d:
        raise InputError(f"--box gives {len(dom.box)} edges but the spec has d = {d}; give one 'lo,hi' per dimension")
    return dom


@click.command()
@click.argument("spec")
@click.option("--momenta", help="momenta 'p1,p2;q1,q2;...' (neuron route), units 1/|x|")
@click.option("--window", type=Finite(0.0, 1e6, lo_open=True),
              help="half-width h of the neuron route's momentum window (default 0.02 max|p|, at least 0.05)")
@click.option("--neurons", type=click.IntRange(100, MAX_NEURONS), default=1_000_000, show_default=True,
              help="neurons drawn (neuron route)")
@click.option("--box", help="lattice route: the box 'lo,hi;lo,hi' (like an insertion's domain.box)")
@click.option("--lattice", type=click.IntRange(2, 4096), help="lattice route: points per axis (domain.lattice)")
@click.option("--modes", type=click.Choice(["axis", "all"]), default="axis", show_default=True,
              help="lattice route: modes along the first axis, or all modes (one of each ±k)")
@click.option("--samples", type=click.IntRange(10, MAX_SAMPLES), default=20_000, show_default=True,
              help="networks (lattice route)")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), default=0, show_default=True, help="PRNG seed")
@click.option("--chunk", type=click.IntRange(1, MAX_CHUNK), default=4096, help="networks per jitted chunk")
@click.option("--dtype", type=click.Choice(["float32", "float64"]), default="float32", help="sampling precision")
@set_option
@out_option
@plot_option
@notation_option
@sampling_options
def spectrum(spec, momenta, window, neurons, box, lattice, modes, samples, seed, chunk, dtype, sets, out, plot_path,
             devices, checkpoint, resume, quiet):
    """Power spectrum G̃(p) of SPEC with errors, beside theory: neuron route (--momenta) or lattice (--box, --lattice)."""
    from nnft.graph.compile import compile as compile_model
    from nnft.spectrum import power_spectrum
    check_out(out)
    theory = load_theory(spec, sets)
    d = theory.dims["d"]
    if (box is None) != (lattice is None):
        raise click.BadParameter("give both --box and --lattice (the lattice route), or neither", param_hint="--box")
    if box is not None and momenta is not None:
        raise click.BadParameter("--momenta is for the neuron route; the lattice route (--box, --lattice) measures "
                                 "p_k = 2πk/(na) at its modes (--modes): give one or the other", param_hint="--momenta")
    if box is None and momenta is None:
        raise click.BadParameter("give --momenta (neuron route) or --box and --lattice (lattice route)",
                                 param_hint="--momenta")
    started = time.monotonic()
    with execution(devices, checkpoint, resume, quiet):
        model = compile_model(theory)
        if box is not None:
            dom = _domain(box, lattice, d)
            res = power_spectrum(model, route="lattice", box=dom.box, lattice=dom.lattice, samples=samples, key=seed,
                                 modes="all" if modes == "all" else None,
                                 chunk=chunk, dtype=dtype)
        else:
            p = points_option(momenta, d, "--momenta")
            res = power_spectrum(model, p, route="neurons", window=window, neurons=neurons, key=seed, chunk=chunk,
                                 dtype=dtype)
    from nnft.estimators.spectrum import table
    result(table(res, name=theory.name))
    save_out(out, res, started, devices, theory=theory, seed=seed, dtype=dtype,
             samples=samples if box is not None else res.spectrum.n)
    write_plot(plot_path, res)
