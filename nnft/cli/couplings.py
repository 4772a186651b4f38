"""``nnft couplings SPEC``: the action and couplings an ensemble has, measured on a lattice of points.

    nnft couplings SPEC [--kind quartic|action|running] [--points "x1,x2;y1,y2;..."] [--samples 100000]
                   [--seed 0] [--set N=8] [--cutoffs 7,10,...] [--method networks|neurons]
                   [--bias-variance S2] [--out FILE]

``action``: the Gaussian action S₀ = ½φᵀK⁻¹φ with K from the kernel map, and ⟨S₀⟩ against P/2;
``quartic`` (default): the quartic vertex λ_abcd and its locality; ``running``: the 2008.08601 running
coupling λ(Λ) over the cutoffs (d = 1). The Python API is ``nnft.gaussian_action``,
``nnft.quartic_coupling``, ``nnft.running_coupling`` (docs/couplings.md).
"""

from __future__ import annotations

import click

from nnft.cli.invocation import load_theory, points_option, set_option
from nnft.inputs import MAX_SAMPLES

MAX_SEED = 2 ** 31 - 1
#: at most this many cutoffs on the command line
MAX_CUTOFFS = 64


def _cutoffs(text: str | None):
    if text is None:
        return None
    from nnft.errors import InputError
    parts = [p.strip() for p in text.split(",") if p.strip()]
    try:
        vals = [float(p) for p in parts]
    except ValueError:
        raise InputError(f"--cutoffs: {text[:60]!r} is not a comma list of numbers (e.g. 7,10,100,1000)") from None
    if not 3 <= len(vals) <= MAX_CUTOFFS:
        raise InputError(f"--cutoffs: {len(vals)} values given; 3..{MAX_CUTOFFS} allowed")
    return vals


@click.command()
@click.argument("spec")
@click.option("--kind", type=click.Choice(["quartic", "action", "running"]), default="quartic", show_default=True,
              help="quartic vertex, Gaussian action, or the 2008.08601 running coupling (d = 1)")
@click.option("--points", default=None, help="lattice points 'x1,x2;y1,y2;...' (default: the spec's study points)")
@click.option("--samples", type=click.IntRange(10, MAX_SAMPLES), default=100_000, show_default=True,
              help="networks (or neurons with --method neurons)")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), default=0, show_default=True, help="PRNG seed")
@set_option
@click.option("--cutoffs", default=None, help="running: cutoffs Λ, comma list (default: the paper's 7 … 10⁵)")
@click.option("--method", type=click.Choice(["networks", "neurons"]), default="networks", show_default=True,
              help="running: ΔG4 from whole networks or from the neuron-level estimator (exact in N)")
@click.option("--bias-variance", type=click.FloatRange(0, 1e6), default=0.0, show_default=True,
              help="running: σ_b² removed from the kernel on the legs (the readout bias does not interact)")
@click.option("--out", type=click.Path(dir_okay=False), metavar="FILE",
              help="save the result with provenance: FILE.nc (netCDF-4) or FILE.json")
def couplings(spec, kind, points, samples, seed, sets, cutoffs, method, bias_variance, out):
    """Action and couplings of SPEC measured on a lattice of points (docs/couplings.md)."""
    import time

    import numpy as np

    from nnft.graph.compile import compile
    if out is not None:
        from nnft.results.files import check_writable
        check_writable(out)
    cut = _cutoffs(cutoffs)
    started = time.monotonic()
    theory = load_theory(spec, sets)
    model = compile(theory)
    if points is None:
        from nnft.spec.points import study_points
        pts = np.atleast_2d(np.asarray(study_points(theory), dtype=np.float64))
        if pts.shape[1] != model.d:
            if pts.size % model.d:
                from nnft.errors import InputError
                raise InputError(f"{spec}: the study points have {pts.shape[1]} coordinates, the field d = {model.d}; "
                                 "pass --points 'x1,..;y1,..'")
            pts = pts.reshape(-1, model.d)
    else:
        pts = points_option(points, model.d)
    if kind == "action":
        from nnft.action.gaussian import gaussian_action
        result = gaussian_action(model, pts, samples=samples, key=seed)
    elif kind == "quartic":
        from nnft.action.quartic import quartic_coupling
        result = quartic_coupling(model, pts, samples=samples, key=seed)
    else:
        from nnft.action.running import PAPER_CUTOFFS, running_coupling
        result = running_coupling(model, pts, samples=samples, key=seed, cutoffs=cut or PAPER_CUTOFFS, method=method,
                                  bias_variance=bias_variance)
    click.echo(f"{theory.name}: " + result.table())
    if out is not None:
        from nnft.results import save
        save(result, out, theory=theory, seed=seed, samples=samples, wall_time_s=time.monotonic() - started)
        click.echo(f"saved: {out}")
