"""``--plot FILE`` of the CLI commands: the figure of the command's result (:mod:`nnft.plot`). The path
is checked when the option is parsed, before any sampling: extension .png/.pdf/.svg, an existing folder,
matplotlib installed (otherwise one line, exit 2)."""

from __future__ import annotations

import click

#: figure options per result kind on the command line (criticality: a coarse grid, tanh ~0.4 s a cell)
CLI_OPTIONS = {"Criticality": {"resolution": (7, 11)}}


def _check(ctx, param, value):
    if value is None:
        return None
    from nnft.errors import InputError
    from nnft.plot.base import check_path, pyplot
    try:
        check_path(value)
        pyplot(headless=True)
    except InputError as err:
        raise click.BadParameter(str(err), ctx=ctx, param=param) from None
    return value


def plot_option(f):
    """``--plot FILE``: write the result's figure (.png, .pdf or .svg, chosen by the extension)."""
    return click.option("--plot", "plot_path", type=click.Path(dir_okay=False), metavar="FILE", callback=_check,
                        help="write the result's figure: FILE.png, FILE.pdf or FILE.svg (needs nnft[plot])")(f)


def write_plot(path, result, provenance: dict | None = None) -> None:
    """Draw the result's figure (:func:`nnft.plot.plot`) into ``path`` on process 0 and say so.

    Args:
      provenance: keyword arguments of :func:`nnft.results.to_dataset` the result does not hold.
    """
    if path is None:
        return
    from nnft.cli.invocation import RUN
    if RUN.get("process", 0) != 0:
        return
    from nnft.plot import plot
    from nnft.plot.base import pyplot
    import xarray as xr

    from nnft.results import to_dataset
    if isinstance(result, list):                  # check results: drawn from the objects (their data arrays)
        fig = plot(result, path)
    else:
        ds = result if isinstance(result, xr.Dataset) else to_dataset(result, **(provenance or {}))
        fig = plot(ds, path, **CLI_OPTIONS.get(ds.attrs["nnft_result"], {}))
    pyplot(headless=True).close(fig)
    click.echo(f"plot: {path}")
