"""What every nnft figure shares: the lazy matplotlib import, the file check, results as Datasets."""

from __future__ import annotations

import os

from nnft.errors import InputError

#: file extensions a figure can be written to (chosen by the extension)
FORMATS = ("png", "pdf", "svg")
INSTALL = "plotting needs matplotlib: pip install 'nnft[plot]'"


def pyplot(headless: bool = False):
    """``matplotlib.pyplot``, imported on first use (matplotlib is the optional extra ``plot``).

    Args:
      headless: select the Agg backend first (files only; the CLI and tests).

    Raises:
      InputError: matplotlib is not installed (one line naming ``pip install 'nnft[plot]'``).
    """
    try:
        import matplotlib
        if headless:
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError(INSTALL) from None
    return plt


def check_path(path) -> str:
    """Refuse a figure path before any work: the extension must be .png, .pdf or .svg, the folder must
    exist and the file must be creatable there. Returns the path as a string.

    Raises:
      InputError: another extension, a missing folder, a directory, a path under /proc, /sys or /dev, or a
        file the system refuses to create (the OS reason; one line).
    """
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    if ext not in FORMATS:
        raise InputError(f"cannot write a figure to {path[:200]!r}: the extension must be "
                         + ", ".join("." + f for f in FORMATS) + (f", got .{ext[:20]}" if ext else ", got none"))
    from nnft.results.files import check_creatable
    check_creatable(path, "figure", prefix="cannot write a figure to ")
    return path


def dataset(result):
    """The ``xarray.Dataset`` of a result (a Dataset passes through) and its kind (``nnft_result``)."""
    import xarray as xr
    if isinstance(result, xr.Dataset):
        ds = result
    else:
        from nnft.results import to_dataset
        ds = to_dataset(result)
    kind = ds.attrs.get("nnft_result")
    if kind is None:
        raise InputError("not an nnft result Dataset (no nnft_result attribute)")
    return ds, str(kind)


def new_axes(ax=None, ncols: int = 1, size=(5.6, 4.0)):
    """(figure, list of axes): ``ax`` when given (one panel), else a new figure with ``ncols`` panels."""
    if ax is not None:
        return ax.figure, [ax]
    plt = pyplot()
    fig, axes = plt.subplots(1, ncols, figsize=(size[0] * ncols, size[1]), squeeze=False)
    return fig, list(axes[0])


def finish(fig, path=None, title: str | None = None, ax=None):
    """Title, lay out and (when ``path`` is given) write the figure; returns it. With ``ax`` (the caller's
    axes) the title goes on those axes and the layout is left to the caller."""
    if ax is not None:
        if title:
            ax.set_title(title, fontsize=9)
    else:
        if title:
            fig.suptitle(title, fontsize=10)
        fig.tight_layout()
    if path is not None:
        fig.savefig(check_path(path), dpi=120)
    return fig


def spec_name(ds) -> str:
    """The spec's file name (without extension) from a Dataset's provenance ('' when it has none)."""
    src = str(ds.attrs.get("spec_source", ""))
    return os.path.splitext(os.path.basename(src))[0] if src else ""
