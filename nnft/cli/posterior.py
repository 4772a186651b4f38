"""``nnft posterior SPEC --data FILE``: Bayesian inference with the networks of SPEC (docs/posterior.md).

    nnft posterior SPEC --data FILE --noise-var 0.1 [--points "x1;x2;..."] [--method reweight|nuts|nngp]
                   [--samples 100000] [--seed 0] [--set N=8] [--out FILE]
                   [--devices N] [--checkpoint FILE [--resume]] [--quiet]

FILE is a text table, one training point a line: d input coordinates then the target, separated by
commas or whitespace (``#`` starts a comment). ``nngp`` gives the NNGP posterior only (exact GP
algebra); ``reweight`` and ``nuts`` sample the finite-width posterior and print it beside the NNGP one.
The Python API is ``nnft.posterior``, ``nnft.nngp_posterior``, ``nnft.condition``.
"""

from __future__ import annotations

import os

import click

from nnft.cli.invocation import execution, load_theory, points_option, require_checkpoint, sampling_options, set_option
from nnft.inputs import MAX_SAMPLES

#: largest data file read (bytes)
MAX_DATA_BYTES = 1 << 20


def read_data(path: str, d: int):
    """(X (n, d), y (n,)) from a text table of n lines ``x_1 … x_d y`` (comma or whitespace separated).

    Raises:
      InputError: missing, too large or malformed file (naming the line), or more than ``MAX_TRAIN`` rows.
    """
    import numpy as np

    from nnft.bayes.likelihood import MAX_TRAIN
    from nnft.errors import InputError
    try:
        size = os.path.getsize(path)
        if size > MAX_DATA_BYTES:
            raise InputError(f"--data {path[:100]!r}: {size} bytes (at most {MAX_DATA_BYTES}); use fewer points")
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"--data {path[:100]!r}: cannot read it ({type(err).__name__}); give a text file of "
                         "lines 'x_1 ... x_d y'") from None
    rows = []
    for i, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].replace(",", " ").split()
        if not line:
            continue
        try:
            vals = [float(v) for v in line]
        except ValueError:
            raise InputError(f"--data {path[:100]!r} line {i}: not numbers; each line is 'x_1 ... x_d y' "
                             f"(d = {d})") from None
        if len(vals) != d + 1:
            raise InputError(f"--data {path[:100]!r} line {i}: {len(vals)} numbers, need d + 1 = {d + 1} "
                             "(the input coordinates, then the target)")
        rows.append(vals)
        if len(rows) > MAX_TRAIN:
            raise InputError(f"--data {path[:100]!r}: more than {MAX_TRAIN} training points")
    if not rows:
        raise InputError(f"--data {path[:100]!r}: no data lines")
    arr = np.asarray(rows, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise InputError(f"--data {path[:100]!r}: non-finite values")
    return arr[:, :d], arr[:, d]


@click.command()
@click.argument("spec")
@click.option("--data", "data", required=True, type=click.Path(dir_okay=False), metavar="FILE",
              help="training data: lines 'x_1 ... x_d y' (comma or whitespace separated)")
@click.option("--noise-var", type=click.FloatRange(min=0.0, min_open=True, max=1e12), required=True,
              help="σ_ε², the variance of the Gaussian likelihood (units of φ²)")
@click.option("--points", default=None, help="test points 'x1,x2;y1,y2;...' (default: the spec's study points)")
@click.option("--method", type=click.Choice(["reweight", "nuts", "nngp"]), default="reweight", show_default=True,
              help="finite-width posterior by reweighting prior networks or by NUTS; nngp: the NNGP posterior only")
@click.option("--samples", type=click.IntRange(10, MAX_SAMPLES), default=100_000, show_default=True,
              help="prior networks (reweight) or kept draws (nuts)")
@click.option("--seed", type=click.IntRange(0, 2 ** 31 - 1), default=0, show_default=True, help="PRNG seed")
@set_option
@click.option("--out", type=click.Path(dir_okay=False), metavar="FILE",
              help="save the result with provenance: FILE.nc (netCDF-4) or FILE.json")
@sampling_options
def posterior(spec, data, noise_var, points, method, samples, seed, sets, out, devices, checkpoint, resume, quiet):
    """Posterior mean and covariance of SPEC's field given --data (docs/posterior.md)."""
    import time

    import numpy as np

    from nnft.graph.compile import compile
    require_checkpoint(checkpoint, resume)
    if checkpoint is not None and method == "nngp":
        raise click.BadParameter("nngp samples nothing to checkpoint (exact GP algebra)", param_hint="--checkpoint")
    if out is not None:
        from nnft.results.files import check_writable
        check_writable(out)
    started = time.monotonic()
    theory = load_theory(spec, sets)
    model = compile(theory)
    X, y = read_data(data, model.d)
    if points is None:
        from nnft.spec.points import study_points
        pts = np.atleast_2d(np.asarray(study_points(theory), dtype=np.float64)).reshape(-1, model.d)
    else:
        pts = points_option(points, model.d)
    if method == "nngp":
        from nnft.bayes.gp import nngp_posterior
        result = nngp_posterior(model, X, y, pts, noise_var)
    else:
        from nnft.bayes.finite import posterior as finite_posterior
        with execution(devices, checkpoint, resume, quiet):         # reweight streams or NUTS chains, resumable
            result = finite_posterior(model, X, y, pts, noise_var, samples=samples, method=method, key=seed)
    click.echo(f"{theory.name}: " + result.table())
    if out is not None:
        from nnft.results import save
        save(result, out, theory=theory, seed=None if method == "nngp" else seed,
             wall_time_s=time.monotonic() - started)
        click.echo(f"saved: {out}")
