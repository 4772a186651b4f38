"""``nnft local``: correlators of local operators — components, derivatives, φ², (∂φ)² — at points.

    nnft local cos_net "d0 phi(0.3,-0.2) * d0 phi(-0.1,0.4)" "(dphi)^2(0,0)" [--samples 20000] [--seed 0]
    nnft local gauss_net_vector "phi[0](0.2) * phi[1](-0.1)" [--out local.nc]

Each argument after SPEC is one correlator, a product of factors OPERATOR(x1,...,xd)
(``nnft.estimators.local.parse_product``); all are measured on one ensemble and printed with their
connected parts and standard errors (docs/vector-fields.md).
"""

from __future__ import annotations

import click

import time

from nnft.cli.invocation import execution, load_theory, notation_option, result, sampling_options, set_option
from nnft.cli.sampling import check_out, out_option, save_out
from nnft.inputs import MAX_CHUNK, MAX_SAMPLES, MAX_SEED

#: correlators one command measures
MAX_PRODUCTS = 64


@click.command()
@click.argument("spec")
@click.argument("products", nargs=-1, required=True)
@click.option("--samples", type=click.IntRange(10, MAX_SAMPLES), help="number of networks (default: the spec's study)")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), help="PRNG seed")
@click.option("--chunk", type=click.IntRange(1, MAX_CHUNK), help="networks per jitted chunk (does not change the numbers)")
@click.option("--dtype", type=click.Choice(["float32", "float64"]), help="sampling precision (sums are float64)")
@set_option
@out_option
@notation_option
@sampling_options
def local(spec, products, samples, seed, chunk, dtype, sets, out, devices, checkpoint, resume, quiet):
    """Measure ⟨O1(x1)…On(xn)⟩ of local operators of SPEC: "d0 phi(0.3) * d0 phi(-0.1)", "phi[1](0.2)", "(dphi)^2(0)"."""
    from nnft.estimators.local import local_correlator, parse_product
    from nnft.graph.compile import compile as compile_theory
    if len(products) > MAX_PRODUCTS:
        raise click.BadParameter(f"{len(products)} correlators (at most {MAX_PRODUCTS})", param_hint="PRODUCTS")
    check_out(out)
    started = time.monotonic()
    theory = load_theory(spec, sets)
    model = compile_theory(theory)
    parsed = [parse_product(p, model.d, model.components) for p in products]
    study = theory.study
    seed = study.seed if seed is None else seed
    dtype = dtype or study.dtype
    with execution(devices, checkpoint, resume, quiet):
        c = local_correlator(model, [p for p, _ in parsed], [o for _, o in parsed], samples=samples or study.samples,
                             key=seed, chunk=chunk or study.chunk, dtype=dtype)
    result(c.table())
    save_out(out, c, started, devices, theory=theory, seed=seed, dtype=dtype, blocks=64)   # local_ensemble's default
