"""``nnft train SPEC``: train the spec's ensemble as its ``train:`` block says and print the
time-dependent statistics beside the infinite-width linearised theory (docs/training.md).

    nnft train SPEC [--set lr=0.5] [--networks 1024] [--seed 0] [--steps 200] [--dynamics gd|flow]
                    [--devices D] [--checkpoint FILE [--resume]] [--out FILE] [--plot FILE] [--quiet]
    nnft train SPEC --set lr=0.1,0.5,1.0      # a sweep: one training per value, same seed

``--checkpoint FILE`` saves the training every few seconds (``NNFT_CHECKPOINT_SECONDS``) and at its end;
``--resume`` continues it, bitwise as a run never interrupted (a sweep is one file, one section per value).

With ``nnft --coordinator HOST:PORT --num-processes P --process-id I train ...`` (or ``--distributed``) each
process trains the networks of its own jackknife blocks; every process gets the same numbers, process 0
prints them and writes ``--out``/``--plot``, and each process checkpoints to ``FILE.<I>-of-<P>``.
"""

from __future__ import annotations

import time

import click

from nnft.cli.invocation import LOADED, RUN, execution, load_theory, parse_sets, require_checkpoint, result, set_option
from nnft.cli.plotting import plot_option, write_plot
from nnft.inputs import MAX_CHUNK, MAX_SEED


@click.command("train")
@click.argument("spec")
@set_option(sweeps=True)
@click.option("--networks", type=click.IntRange(4, 10_000_000), help="ensemble size (default: train.networks)")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), help="PRNG seed (default: train.seed)")
@click.option("--steps", type=click.IntRange(0, 1_000_000), help="gradient steps (default: train.steps); the same as --set train.steps=S (train.record is kept)")
@click.option("--chunk", type=click.IntRange(1, MAX_CHUNK), help="networks per jitted step (does not change the numbers)")
@click.option("--dynamics", type=click.Choice(["gd", "flow"]), default="gd", show_default=True,
              help="the theory's time evolution: discrete gradient descent or gradient flow (t = η k)")
@click.option("--devices", type=click.IntRange(1, 1 << 16),
              help="local devices to train on, chunk j on device j mod D (default: all; does not change the numbers)")
@click.option("--checkpoint", type=click.Path(dir_okay=False), metavar="FILE",
              help="save the training's state to FILE every few seconds (continue it with --resume)")
@click.option("--resume", is_flag=True, help="continue the training saved in --checkpoint")
@click.option("--out", type=click.Path(dir_okay=False), metavar="FILE",
              help="save the result with its provenance: FILE.nc (netCDF-4) or FILE.json (time as a dimension)")
@click.option("--quiet", is_flag=True, help="no progress bar on stderr")
@plot_option
def train(spec, sets, networks, seed, steps, chunk, dynamics, devices, checkpoint, resume, out, plot_path, quiet):
    """Train the ensemble of SPEC (its train: block) and print E f_t, Var f_t, the loss, |ΔΘ| and
    |f − f_lin| at the recorded steps beside the linearised-GP theory.

    --plot FILE draws E f_t(x) and Var f_t(x) against t = η k at the test points (Monte Carlo ± 1 standard
    error bands over the linearised GP μ_t, Σ_t), the loss with its band over E L_t, and |ΔΘ| with
    |f − f_lin| (nnft.plot.training).

    --checkpoint FILE saves the training at chunk boundaries every few seconds and at its end; after a
    crash or Ctrl-C (status 130) --resume continues it with bitwise the numbers of a run never interrupted."""
    require_checkpoint(checkpoint, resume)              # one line, before anything is loaded
    from nnft.graph.compile import compile
    from nnft.training.run import train as run_train
    if out is not None:
        from nnft.results.files import check_writable
        check_writable(out)
    from nnft import runtime
    devs = len(runtime.local_devices(devices))          # more than there are: one line, before any work
    over, sweep = parse_sets(sets)
    kw = {"networks": networks, "seed": seed, "steps": steps, "chunk": chunk}
    if sweep is not None:
        for given, name in ((out, "--out"), (plot_path, "--plot")):
            if given is not None:
                raise click.BadParameter(f"{name} takes one training; run one value at a time", param_hint=name)
        from nnft.spec.load import resolve
        from nnft.sweep import at_value, theories
        ths = theories(resolve(spec), sweep[0], sweep[1], over)
        LOADED.extend(ths)
        with execution(devices, checkpoint, resume, quiet):   # one checkpoint file: a section per value
            for t, v in zip(ths, sweep[1]):
                with at_value(sweep[0], t):
                    r = run_train(compile(t), dynamics=dynamics, devices=devices, **_given(t, kw))
                result(f"--- {sweep[0]} = {v}\n{r.table()}")
        return
    started = time.monotonic()
    theory = load_theory(spec, sets)
    with execution(devices, checkpoint, resume, quiet):
        r = run_train(compile(theory), dynamics=dynamics, devices=devices, **_given(theory, kw))
    result(r.table())
    wall = time.monotonic() - started
    if out is not None and RUN.get("process", 0) == 0:   # every process has the same numbers; process 0 writes
        from nnft.results import save
        save(r, out, theory=theory, wall_time_s=wall, devices=devs)
        click.echo(f"saved: {out}")
    write_plot(plot_path, r, provenance=dict(theory=theory, wall_time_s=wall, devices=devs))


def _given(theory, kw: dict) -> dict:
    """The options given on the command line, as fields of the ``train:`` block. ``--steps S`` is
    ``--set train.steps=S``: the spec's ``record`` steps are kept (a recorded step after S is refused in
    one line), and without ``record`` 11 evenly spaced steps 0 … S are recorded."""
    out = {k: v for k, v in kw.items() if v is not None}
    record = theory.train.record if theory.train is not None else None
    if "steps" in out and record is not None and record[-1] > out["steps"]:
        raise click.BadParameter(f"{out['steps']} is before the spec's last recorded step {record[-1]} "
                                 f"(train.record: {record[:10]}); give --steps ≥ {record[-1]}, or change "
                                 "train.record (e.g. --set 'train.record=[0, 10]')", param_hint="--steps")
    return out
