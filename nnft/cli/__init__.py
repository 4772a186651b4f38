"""The ``nnft`` command line: a thin shell over the Python API.

    nnft validate SPEC [--set N=64]
    nnft run SPEC [--samples 200000] [--seed 0] [--set N=64] [--points "0,0;0.5,0"] [--orders 2,4]
             [--devices N] [--checkpoint FILE [--resume]] [--quiet]
    nnft check SPEC [--only translation,z2,cluster,reflection_positivity] [--samples 50000] [--plot FILE.png]
    nnft perturb SPEC [--lambdas 0.01,0.1,1] [--samples 100000] [--seed 0] [--points "0;0.5"] [--set N=10]
    nnft train SPEC [--networks 1024] [--steps 200] [--checkpoint FILE [--resume]] [--quiet]
    nnft local SPEC "d0 phi(0.3,-0.2) * d0 phi(-0.1,0.4)" "phi[1](0.2)" "(dphi)^2(0,0)"   # local operators
    nnft show FILE                      # the table of a result saved with --out FILE.nc / FILE.json
    nnft schema
    nnft specs
    nnft [--coordinator HOST:PORT --num-processes N --process-id I | --distributed] run ...

The sampling commands (run, check, perturb, local, spectrum, posterior; run also for a ``--set`` sweep) and train take ``--devices N`` (local devices; default all),
``--checkpoint FILE`` / ``--resume`` (save and continue long runs, bitwise the same result) and
``--quiet`` (no progress bar; it is shown only on a terminal anyway) and ``--out FILE`` (save the
result with its provenance as netCDF-4 ``.nc`` or JSON ``.json``, checked before sampling). Ctrl-C during a run with a
checkpoint saves it and exits with status 130 after one line saying how to resume; SIGTERM (a Slurm
time limit) does the same and exits with status 143 ("terminated; checkpoint saved to FILE, ...").

Every error — in a spec (file, field, what is allowed), in an option, or a size above its bound —
is printed as ONE line on stderr, ``error: ...``, and the command exits with status 2. This is
structural: :func:`main` catches every :class:`~nnft.errors.NnftError` and every click usage error;
anything else that escapes is a bug. All output passes through a filter that replaces terminal
control characters (spec text is untrusted). Nothing heavy is imported before a command runs, so
``nnft --help`` starts without JAX.

The package: :mod:`~nnft.cli.output` (filtered streams, one-line errors and warnings),
:mod:`~nnft.cli.invocation` (one invocation's state, shared options, run settings),
:mod:`~nnft.cli.describe` (commands that read a spec without sampling) and
:mod:`~nnft.cli.sampling` (commands that sample); here the ``nnft`` group itself.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import warnings

import click

from nnft.cli import describe, local, sampling
from nnft.cli.invocation import LOADED, RUN, redacted
from nnft.cli.output import MAX_ERROR_CHARS, one_line, one_line_warning, printable_streams  # noqa: F401
from nnft.errors import NnftError


class _Group(click.Group):
    """The ``nnft`` group: one-line errors, filtered output, Ctrl-C as status 130."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """Run a command; every nnft error and usage error becomes one line on stderr and exit 2."""
        code = 0
        LOADED.clear()
        RUN.clear()
        with printable_streams(), warnings.catch_warnings():
            warnings.showwarning = one_line_warning
            try:
                rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
                code = rv if isinstance(rv, int) else 0
            except (NnftError, click.ClickException) as err:
                click.echo(one_line(redacted(err)), err=True)
                code = 2
            except click.exceptions.Abort:
                click.echo("error: aborted", err=True)
                code = 1
        if "sigint" in RUN and not standalone_mode:
            signal.signal(signal.SIGINT, RUN.pop("sigint"))
        if standalone_mode:
            sys.exit(code)
        return code

    def invoke(self, ctx):
        """Run the command; Ctrl-C is one line on stderr (saying where the checkpoint is) and status 130,
        SIGTERM with a checkpoint the same line beginning "terminated" and status 143."""
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as err:
            with contextlib.suppress(ValueError):      # more Ctrl-C while exiting would break atexit callbacks
                RUN["sigint"] = signal.signal(signal.SIGINT, signal.SIG_IGN)
            from nnft.runtime import Terminated
            what, code = ("terminated", 143) if isinstance(err, Terminated) else ("interrupted", 130)
            saved = RUN.get("checkpoint")
            if saved is not None and os.path.exists(saved):
                click.echo(f"{what}; checkpoint saved to {saved}, resume with --resume", err=True)
            else:
                click.echo(what, err=True)
            return code


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
        RUN["process"] = init_distributed(*opts)[0]


for _command in (describe.validate, sampling.run, sampling.check, sampling.perturb, describe.kernel,
                 describe.criticality, describe.schema, describe.specs, describe.show, local.local):
    main.add_command(_command)
from nnft.cli.spectrum import spectrum as _spectrum  # noqa: E402 - nnft spectrum (docs/spectrum.md)
main.add_command(_spectrum)
from nnft.cli.train import train as _train  # noqa: E402 - nnft train (docs/training.md)
main.add_command(_train)


from nnft.cli import couplings as _couplings  # noqa: E402 - nnft couplings (docs/couplings.md)

main.add_command(_couplings.couplings)

from nnft.cli import posterior as _posterior  # noqa: E402 - nnft posterior (docs/posterior.md)

main.add_command(_posterior.posterior)
