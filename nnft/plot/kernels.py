"""Infinite-width kernels (``nnft.kernels``, ``nnft kernel``) as images: the NNGP K(xᵢ, xⱼ) and the NTK
Θ(xᵢ, xⱼ) (NTK parameterisation; Jacot et al. arXiv:1806.07572, Lee et al. arXiv:1711.00165)."""

from __future__ import annotations

import numpy as np

from nnft.errors import InputError
from nnft.plot.base import dataset, finish, new_axes, spec_name


def kernel(result, path=None):
    """K and Θ as two images over the point indices, with colour bars; the values are exact (no error bars).

    Args:
      result: Kernels or their Dataset (``nnft.load_result``).
      path: write the figure there (.png, .pdf or .svg).

    Returns:
      the matplotlib Figure (images with gid "nngp" and "ntk").
    """
    ds, kind = dataset(result)
    if kind != "Kernels":
        raise InputError(f"kernel plots Kernels, got {kind}")
    fig, axes = new_axes(None, ncols=2, size=(4.6, 4.0))
    P = ds.sizes["point_i"]
    for ax, name, label in zip(axes, ("nngp", "ntk"), ("NNGP K(xᵢ, xⱼ)", "NTK Θ(xᵢ, xⱼ)")):
        im = ax.imshow(np.asarray(ds[name].values, dtype=np.float64), cmap="viridis", origin="upper")
        im.set_gid(name)
        fig.colorbar(im, ax=ax, fraction=0.046)
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("point j")
        ax.set_ylabel("point i")
        if P <= 12:
            ax.set_xticks(range(P))
            ax.set_yticks(range(P))
    return finish(fig, path, spec_name(ds) or None)
