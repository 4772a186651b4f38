"""The commands that read a spec without sampling: ``nnft validate`` (load, check and analyse),
``nnft kernel`` (infinite-width K and Θ), ``nnft criticality`` (the MLP's phase), ``nnft schema`` and
``nnft specs``."""

from __future__ import annotations

import json

import click

from nnft.cli.invocation import load_theory, notation_option, points_option, set_option
from nnft.cli.plotting import plot_option, write_plot
from nnft.errors import InputError, NnftError


@click.command()
@click.argument("spec")
@set_option
def validate(spec, sets):
    """Load, check and analyse SPEC (a file or a shipped spec name) without sampling."""
    from nnft.graph.compile import compile
    from nnft.reference import check_reference
    from nnft.spec.points import study_points
    model = compile(load_theory(spec, sets))
    theory = model.theory                    # an mlp: is shown expanded into its layers
    st = model.structure
    points = study_points(theory)            # the study's points fit d (else a SpecError naming them)
    if theory.train is not None:             # the train: block as numbers: target, lr, inputs (one-line SpecError)
        from nnft.training.setup import resolve
        resolve(theory)
    rc = check_reference(model) if theory.reference else None
    click.echo(f"ok: {theory.name} ({theory.source})")
    click.echo("  dims: " + ", ".join(f"{k}={v}" for k, v in theory.dims.items()))
    for name, p in theory.params.items():
        args = ", ".join(f"{k}={v}" for k, v in p.density_args.items())
        click.echo(f"  {name} [{', '.join(p.shape)}] ~ {p.density_kind}({args})")
    for name, src in theory.define.items():
        click.echo(f"  {name} := {src}")
    click.echo(f"  field: {theory.field}")
    if theory.components is not None:
        click.echo(f"  components: {theory.components} = {theory.dims[theory.components]} (a vector field φ_a, a = 0..D-1)")
    click.echo("  sampling order: " + " -> ".join(st.order))
    click.echo("  independent blocks: " + "; ".join("{" + ", ".join(sorted(b)) + "}" for b in st.independent))
    ns = st.neuron_sum
    if ns:
        click.echo(f"  neuron sum: over {ns.width}, readout {ns.readout}" + (f", offset {ns.offset}" if ns.offset else "")
                   + f", neuron parameters {', '.join(ns.neuron_params)}"
                   + (" (neuron law depends on the width)" if ns.width_dependent else ""))
    else:
        click.echo("  not a neuron sum: " + "; ".join(st.notes))
    if st.unused:
        click.echo("  unused parameters: " + ", ".join(st.unused))
    click.echo(f"  study points: {len(points)}")
    click.echo(f"  reference: {rc.reference} ({rc.summary})" if rc else "  reference: none")



@click.command()
@click.argument("spec")
@click.option("--points", default=None, help="points 'x1,x2;y1,y2;...' (default: the spec's study points)")
@set_option
@click.option("--layers/--no-layers", default=False, help="also print K and Θ layer by layer")
@click.option("--out", type=click.Path(dir_okay=False), metavar="FILE",
              help="save K, Θ and the layers with provenance: FILE.nc (netCDF-4) or FILE.json")
@plot_option
def kernel(spec, points, sets, layers, out, plot_path):
    """Infinite-width NNGP kernel K and NTK Θ of SPEC on POINTS, read off its graph."""
    import time

    from nnft.graph.compile import compile
    import numpy as np

    from nnft.kernels_reference import kernels_or_reference
    if out is not None:
        from nnft.results.files import check_writable
        check_writable(out)
    started = time.monotonic()
    theory = load_theory(spec, sets)
    model = compile(theory)
    if points is None:
        from nnft.spec.points import study_points
        pts = np.atleast_2d(np.asarray(study_points(theory), dtype=np.float64))
    else:
        pts = points_option(points, model.d)
    k = kernels_or_reference(model, pts)
    if model.insertions:                     # the graph's kernels are the free networks': say so, in the file too
        from dataclasses import replace
        k = replace(k, source=f"{k.source}; of the FREE networks: the insertion e^(-∫V) is not included (an "
                              "interacting theory is not a Gaussian process)")
    from nnft.results.kernels import table as kernel_table
    click.echo(kernel_table(k, name=model.theory.name, layers=layers))
    if out is not None:
        from nnft.results import save
        save(k, out, points=pts, theory=model.theory, show_layers=layers, wall_time_s=time.monotonic() - started)
        click.echo(f"saved: {out}")
    write_plot(plot_path, k, provenance=dict(points=pts, theory=model.theory))


@click.command()
@click.argument("spec")
@set_option
@click.option("--out", type=click.Path(dir_okay=False), metavar="FILE",
              help="save the analysis with provenance: FILE.nc (netCDF-4) or FILE.json")
@plot_option
def criticality(spec, sets, out, plot_path):
    """Fixed point, χ∥, χ⊥, correlation depths and phase of an MLP spec (Schoenholz et al. arXiv 1611.01232);
    in the chaotic phase the stable correlation fixed point c* < 1 and ξ_c there (Poole et al. arXiv 1606.05340)."""
    from nnft.analytic.criticality import criticality as crit
    from nnft.errors import SpecError, did_you_mean, suggest
    from nnft.spec.constants import evaluate_constants
    from nnft.spec import expr as E
    if out is not None:
        from nnft.results.files import check_writable
        check_writable(out)
    theory = load_theory(spec, sets)
    if theory.mlp is None:
        raise SpecError("criticality needs an 'mlp:' spec (activation, weight_var, bias_var)", file=theory.source,
                        field="mlp")
    env, _ = evaluate_constants(theory)

    def constant(field: str, src, extra: dict, allowed: str) -> float:
        try:
            return E.evaluate_constant(E.parse(src), {**env, **extra})
        except E.ExprError as err:
            bad = [n for n in E.names(E.parse(src)) if n not in env and n not in extra and n not in E.CONSTANTS]
            guess = suggest(bad[0], list(env) + list(extra)) if bad else None
            raise SpecError(f"{err}", file=theory.source, field=f"mlp.{field}", got=src, allowed=allowed,
                            hint=did_you_mean(bad[0], guess) if bad else None) from None

    per_fan = "a constant over fan_in, e.g. C_W / fan_in (constants: " + (", ".join(theory.constants) or "none") + ")"
    wv1 = constant("weight_var", theory.mlp.weight_var, {"fan_in": 1.0}, per_fan)
    wv2 = constant("weight_var", theory.mlp.weight_var, {"fan_in": 2.0}, per_fan)
    if not abs(wv1 - 2 * wv2) <= 1e-12 * max(abs(wv1), 1e-300):
        raise SpecError("criticality analysis needs weight_var = C_W / fan_in (the variance must fall like "
                        "1/fan_in for the infinite-width recursion)", file=theory.source, field="mlp.weight_var",
                        got=theory.mlp.weight_var, allowed=per_fan)
    C_W = wv1
    C_b = constant("bias_var", theory.mlp.bias_var, {}, "a constant ≥ 0")
    gamma = 0.0 if theory.mlp.residual is None else constant("residual", theory.mlp.residual, {}, "a constant")
    if not C_W > 0:
        raise SpecError(f"C_W must be > 0, got {C_W:g}", file=theory.source, field="mlp.weight_var",
                        got=theory.mlp.weight_var, allowed=per_fan)
    if not C_b >= 0:
        raise SpecError(f"the bias variance must be ≥ 0, got {C_b:g}", file=theory.source, field="mlp.bias_var",
                        got=theory.mlp.bias_var)
    from nnft.spec.mlp import depth
    depth(theory)                       # the same depth bound as building the network (a one-line error)
    act = theory.mlp.activation.strip()
    try:
        c = crit(act, C_W, C_b, gamma=gamma)
    except (KeyError, ValueError) as err:
        raise SpecError(f"no criticality analysis for activation {act!r}: {err}", file=theory.source,
                        field="mlp.activation") from None
    click.echo(criticality_table(theory.name, act, C_W, C_b, gamma, c))
    if out is not None:
        from nnft.results import save
        save(c, out, activation=act, C_W=C_W, C_b=C_b, gamma=gamma, theory=theory)
        click.echo(f"saved: {out}")
    write_plot(plot_path, c, provenance=dict(activation=act, C_W=C_W, C_b=C_b, gamma=gamma, theory=theory))


def criticality_table(name: str, act: str, C_W: float, C_b: float, gamma: float, c) -> str:
    """The text ``nnft criticality`` prints for an analysis ``c`` (also ``nnft show``)."""
    from nnft.result_tables import criticality as text
    return text(c, header=f"{name}: σ = {act}, C_W = {C_W:g}, C_b = {C_b:g}" + (f", residual γ = {gamma:g}" if gamma else ""))


@click.command()
def schema():
    """Print the JSON Schema of spec files (for editor completion and checking)."""
    from nnft.spec.models import Theory
    click.echo(json.dumps(Theory.model_json_schema(), indent=2))


@click.command()
def specs():
    """List the shipped specs."""
    from nnft.spec.load import read_mapping, shipped_specs
    for name, path in shipped_specs().items():
        desc = " ".join(str(read_mapping(path).get("description", "")).split())
        click.echo(f"{name:<20} {desc[:100]}")


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--provenance/--no-provenance", default=False, help="also print the provenance (versions, seed, hash...)")
@plot_option
@notation_option
def show(file, provenance, plot_path):
    """Print the table of a result saved with --out (FILE.nc or FILE.json)."""
    from nnft.results import from_dataset, load_dataset, table
    from nnft.results.provenance import KEYS
    ds = load_dataset(file)
    try:
        if ds.attrs.get("nnft_result") == "Criticality":
            a = ds.attrs
            name = json.loads(a["spec"]).get("name", "") if "spec" in a else ""
            text = criticality_table(name, str(a["activation"]), float(a["C_W"]), float(a["C_b"]), float(a["gamma"]),
                                     from_dataset(ds))
        elif ds.attrs.get("nnft_result") == "Kernels":
            from nnft.results.kernels import text_of_dataset
            text = text_of_dataset(ds)
        elif ds.attrs.get("nnft_result") in ("Correlators", "WidthCorrelators", "Exact"):
            from nnft.results.correlators import table as correlator_table
            from_dataset(ds)                                  # refuses a damaged file
            text = correlator_table(ds)
        else:
            text = table(from_dataset(ds))
    except NnftError:
        raise
    except (KeyError, ValueError, TypeError, IndexError, AttributeError) as err:
        raise InputError(f"{file[:200]!r}: damaged nnft result ({type(err).__name__})") from None
    click.echo(text)
    if provenance:
        for k in (*KEYS, "provenance_missing"):
            if k in ds.attrs and k != "spec":
                click.echo(f"  {k}: {ds.attrs[k]}")
        for k in str(ds.attrs.get("per_value", "")).split(", "):      # a sweep's provenance that varies by value
            if k and k in ds:
                click.echo(f"  {k} (per swept value): {', '.join(str(v) for v in ds[k].values)}")
    write_plot(plot_path, ds)
