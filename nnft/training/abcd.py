"""Parameterisations as coordinates: which θ the optimiser moves, at what learning rate, from which
initial law (docs/training.md, "Parameterisation").

Every parameterisation of nnft is, per trained parameter p (a Gaussian of constant std s_p in the spec),
three numbers: the multiplier c_p of the trained coordinate (θ_p = c_p w_p), the learning-rate factor
r_p (w_p moves at rate η r_p) and the rescaling ρ_p of the spec's initial law (θ_p(0) = ρ_p θ_p^spec,
so network i still starts from network i of ``nnft.measure``, rescaled):

- ``ntk``: c = s_p, r = 1, ρ = 1 (Jacot et al. arXiv:1806.07572);  ``standard``: c = 1, r = 1, ρ = 1;
- ``abcd`` (TASI arXiv:2408.00082 eq. 101-106; Yang & Hu arXiv:2011.14522 §3), with the width n and
  the spec's width exponent e_p (s_p² ∝ n^-e_p, measured by compiling the spec at width 2n) and its
  O(1) scale σ_p = s_p n^{e_p/2}:

      θ_p = σ_p n^-(a_p + d·[p readout]) w_p,  w_p ~ N(0, n^-b_p)    (sigma: multiplier)
      θ_p = n^-(a_p + d·[p readout]) w_p,      w_p ~ N(0, σ_p² n^-b_p) (sigma: init)
      w_p trained at rate η n^{2d − c_p}

  so c_p = σ_p n^-a_eff (or n^-a_eff), r_p = n^{2d − c_p}, ρ_p = n^{(e_p − 2a_eff − b_p)/2};
- ``mup``: the abcd values of μP (TASI eq. 126-127 with a = 0, c = 1, d = 1/2; biases as input weights
  of fan-in 1, Yang & Hu Table 3): input weights and hidden biases (−½, 1, 1), hidden weights (0, 1, 1),
  readout (0, 1, 1), output bias (0, 0, 1), σ in the multiplier.

The roles (input, hidden, readout, output bias) are read off the graph: a parameter contracted by ``@``
over its fan-in axes, added as a bias, or multiplied into a sum over its axes (the readout); an axis is
a width axis unless it is the input's ``d``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnft.errors import SpecError
from nnft.graph import ir

#: role -> μP exponents (a, b, c) (TASI arXiv:2408.00082 eq. 126-127, a = 0, c = 1; Yang & Hu Table 3)
MUP = {"input": (-0.5, 1.0, 1.0), "hidden": (0.0, 1.0, 1.0), "readout": (0.0, 1.0, 1.0),
       "output bias": (0.0, 0.0, 1.0)}
MUP_D = 0.5
#: bounds of |c_p|, r_p, ρ_p: a width and exponents whose powers leave them overflow float32 training
COORD_RANGE = (1e-30, 1e30)
#: a width exponent of the spec within this of a multiple of 1/4 is that multiple (so ntk/standard
#: values of abcd give ρ = 1 and the same multipliers exactly)
SNAP = 1e-9


@dataclass(frozen=True)
class Coord:
    """One trained parameter's coordinates: θ = c·w, w moves at rate η·r, θ(0) = ρ·θ_spec(0)."""

    c: float
    r: float = 1.0
    rho: float = 1.0


def _err(model, field: tuple, msg: str, **kw) -> SpecError:
    return SpecError(msg, file=model.theory.source, field=("train",) + field, **kw)


def roles(model, names) -> dict[str, str | None]:
    """Each trained parameter's role from the graph: ``input`` (fan-in finite, fan-out a width),
    ``hidden`` (both widths), ``readout`` (fan-in a width, no fan-out), ``output bias`` (neither), or
    None when its use is none of W @ h, a bias added, W * h summed (or it is used twice)."""
    g = model.graph
    out = {}
    for name in names:
        node = ir.param_node(name)
        uses = [v for v, role in ir.consumers(g, node) if role == ir.IN]
        axes = tuple(ir.axes(g, node))
        role = None
        if len(uses) == 1:
            v = uses[0]
            op = ir.op(g, v)
            if op == "matmul":
                fan_in = tuple(g.nodes[v].get("contract") or ())
                fan_out = tuple(a for a in axes if a not in fan_in)
            elif op == "mul":
                fan_in, fan_out = axes, ()
            elif op in ("add", "sub"):
                fan_in, fan_out = (), axes
            else:
                fan_in = fan_out = None
            if fan_in is not None:
                wide_in = any(a != "d" for a in fan_in)
                wide_out = any(a != "d" for a in fan_out)
                role = {(False, True): "input", (True, True): "hidden", (True, False): "readout",
                        (False, False): "output bias"}[(wide_in, wide_out)]
        out[name] = role
    return out


def width_axes(model, names) -> list[str]:
    """The width axes: the trained parameters' axes other than the input's ``d``."""
    g = model.graph
    return sorted({a for n in names for a in ir.axes(g, ir.param_node(n)) if a != "d"})


def width(model, block) -> tuple[float, list[str]]:
    """The width n of the exponents (``abcd.width``, or the one size of every width axis) and the axes."""
    from nnft.estimators.ntk import trainable_scales
    from nnft.spec import expr as E
    from nnft.spec.constants import evaluate_constants
    names = [k for k, s in trainable_scales(model).items() if float(s) > 0]
    axes = width_axes(model, names)
    dims = model.theory.dims
    src = block.abcd.width if block.abcd is not None else None
    if src is not None:
        env, _ = evaluate_constants(model.theory)
        try:
            n = float(E.evaluate_constant(E.parse(src), env))
        except E.ExprError as err:
            raise _err(model, ("abcd", "width"), str(err), got=src, allowed="sizes (dims) and constants") from None
    else:
        sizes = sorted({dims[a] for a in axes})
        if len(sizes) != 1:
            raise _err(model, ("abcd", "width"), f"the width axes {axes} do not have one size ({sizes})",
                       allowed="an expression of sizes", hint="give abcd: {width: N}")
        n = float(sizes[0])
    if not (np.isfinite(n) and n > 1):
        raise _err(model, ("abcd", "width"), f"the width must be > 1, got {n:g}", got=src)
    return n, axes


def spec_exponents(model, names, axes: list[str]) -> dict[str, float]:
    """e_p with s_p² ∝ n^-e_p: the spec compiled with every width axis doubled (its ratio of stds)."""
    from nnft.estimators.ntk import trainable_scales
    from nnft.graph.compile import compile as compile_theory
    s1 = trainable_scales(model)
    from nnft.errors import GraphError
    dims = dict(model.theory.dims)
    try:
        wide = compile_theory(model.theory.model_copy(update={"dims": {**dims, **{a: 2 * dims[a] for a in axes}}}))
    except (SpecError, GraphError) as err:
        raise _err(model, ("abcd", "width"), f"the width exponents of the densities are read off the spec at "
                   f"twice the width ({', '.join(axes)} doubled), which does not compile: {err}") from None
    s2 = trainable_scales(wide)
    out = {}
    for k in names:
        e = -2.0 * np.log2(float(s2[k]) / float(s1[k]))
        q = round(4 * e) / 4
        out[k] = q if abs(e - q) < SNAP else e
    return out


def table(model, block, names) -> tuple[dict[str, tuple[float, float, float]], float, str]:
    """(parameter -> (a, b, c), d, sigma) of a ``mup``/``abcd`` block, validated against the model.

    Raises:
      SpecError: an unknown or non-trainable parameter under abcd.params, a trained one missing, a
        parameter whose role μP needs but the graph does not show (naming the field).
    """
    from nnft.estimators.ntk import trainable_scales
    if block.parameterisation == "mup":
        if block.optimizer == "adam":
            raise _err(model, ("optimizer",), "mup here is gradient descent's μP (TASI arXiv:2408.00082 eq. "
                       "126-127); Adam's has other learning-rate exponents (Yang & Hu arXiv:2011.14522 Table 3)",
                       allowed="sgd, momentum", hint="give Adam's exponents with parameterisation: abcd")
        rl = roles(model, names)
        bad = [k for k, r in rl.items() if r is None]
        if bad:
            raise _err(model, ("parameterisation",), f"mup needs an MLP: {', '.join(bad)} is not a weight "
                       "contracted by @, a bias, or the readout sum(W * σ)", allowed="ntk, standard, abcd",
                       hint="give the exponents yourself with parameterisation: abcd")
        sigma = block.abcd.sigma if block.abcd is not None else "multiplier"
        return {k: MUP[rl[k]] for k in names}, MUP_D, sigma
    given = block.abcd.params
    scales = trainable_scales(model)
    for k in given:
        if k not in model.theory.params:
            from nnft.errors import suggest
            raise _err(model, ("abcd", "params", k), f"no parameter {k!r} in the spec",
                       allowed=", ".join(names), hint=suggest(k, names))
        if k not in names:
            why = "its std is 0" if k in scales else "its density is not a Gaussian of constant std"
            raise _err(model, ("abcd", "params", k), f"{k} is not trained ({why}): it has no exponents",
                       allowed=", ".join(names))
    missing = [k for k in names if k not in given]
    if missing:
        raise _err(model, ("abcd", "params"), f"no exponents for the trained parameter(s) {', '.join(missing)}",
                   allowed=", ".join(names), hint=f"add {missing[0]}: {{a: 0, b: 0, c: 0}}")
    d = block.abcd.d or 0.0                              # d not given: 0 (TASI eq. 101 without the n^-d)
    if d != 0 and "readout" not in roles(model, names).values():
        raise _err(model, ("abcd", "d"), "d multiplies the readout (TASI eq. 101), and no trained parameter is one "
                   "(a weight W in sum_N(W * σ(z)))", allowed="d: 0", hint="fold d into the a of the last layer")
    return ({k: (given[k].a, given[k].b, given[k].c) for k in names}, d, block.abcd.sigma)


def coordinates(model, block) -> dict[str, Coord]:
    """The trained parameters and their :class:`Coord` for the block's parameterisation (module
    docstring). ``ntk``/``standard`` need no width; ``mup``/``abcd`` read it from the spec's sizes."""
    from nnft.estimators.ntk import trainable_scales
    scales = {k: float(s) for k, s in trainable_scales(model).items() if float(s) > 0}
    if block.parameterisation == "ntk":
        return {k: Coord(s) for k, s in scales.items()}
    if block.parameterisation == "standard":
        return {k: Coord(1.0) for k in scales}
    names = list(scales)
    n, axes = width(model, block)
    exps, d, sigma = table(model, block, names)
    e = spec_exponents(model, names, axes)
    rl = roles(model, names)
    out = {}
    for k in names:
        a, b, c = exps[k]
        a_eff = a + (d if rl[k] == "readout" else 0.0)
        mult = scales[k] * n ** (e[k] / 2 - a_eff) if sigma == "multiplier" else n ** (-a_eff)
        rho_exp = (e[k] - 2 * a_eff - b) / 2
        with np.errstate(over="ignore", under="ignore"):
            co = Coord(c=float(mult), r=float(np.float64(n) ** (2 * d - c)),
                       rho=1.0 if rho_exp == 0 else float(np.float64(n) ** rho_exp))
        if not all(COORD_RANGE[0] < abs(v) < COORD_RANGE[1] for v in (co.c, co.r, co.rho)):
            field = ("abcd", "width") if block.abcd is None or block.abcd.width is not None else ("abcd", "params", k)
            raise _err(model, field, f"at width n = {n:g} the exponents of {k} give a multiplier {co.c:.3g}, a "
                       f"learning-rate factor {co.r:.3g} and an initial scale {co.rho:.3g}: not all within "
                       f"[{COORD_RANGE[0]:g}, {COORD_RANGE[1]:g}] (float32 arithmetic)",
                       allowed="a width and exponents whose powers n^x stay in that range",
                       hint="a smaller width or smaller exponents")
        out[k] = co
    return out


def kernel_weights(coords: dict[str, Coord], scales: dict[str, float]) -> dict[str, float]:
    """w_p = r_p c_p² / s_p²: the NTK of the trained coordinates (lr-weighted) is Σ_p w_p Θ_p with Θ_p
    parameter p's term of the NTK-parameterisation NTK (``Kernels.ntk_terms``)."""
    return {k: co.r * co.c ** 2 / float(scales[k]) ** 2 for k, co in coords.items()}
