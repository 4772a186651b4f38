"""Sweeps: one study (:func:`nnft.study.run`) per value of one size, constant or dotted spec path,
gathered into one result with the swept value as its first dimension.

Every value runs with the same seed (the spec's ``study.seed`` or ``seed=``), so a sweep equals the
separate runs of specs edited by hand, number for number: ``run_sweep("tanh_mlp", "C_W", [0.9, 1.0])``
gives the estimates of ``run(load("tanh_mlp", C_W=0.9))`` and ``run(load("tanh_mlp", C_W=1.0))``.
The values share the random draws (common random numbers), so differences between values are less
noisy than the error bars of each value suggest; their errors are correlated across values.

A sweep over a constant compiles the sampling step once: the constants that enter the field and the
density arguments as numbers are traced arguments of the compiled i.i.d. step (``Model.tunable_constants``;
a step is shared by the models that differ only in them, ``Model.step_key``). A sweep equals separate
runs bitwise (both run the same step); against the numbers compiled in, θ is bitwise the same and φ
too except where XLA would fold products of compiled-in numbers (bound: ``Model.constant_values``). Sizes change shapes, so a sweep over a size compiles once per value; the
theory column (``reference:``, kernels) is computed on the host for every value.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Sequence

from nnft.errors import CheckpointError, InputError, SpecError
from nnft.spec.load import from_dict, spec_mapping
from nnft.spec.models import Theory
from nnft.stats import few_blocks_note
from nnft.tables import TextTable, estimate, render, wrap_text
from nnft.study import Report
from nnft.study import run as run_study

#: most values one sweep runs
MAX_SWEEP_VALUES = 1000


@dataclass
class Sweep(TextTable):
    """What :func:`run_sweep` returns: the swept name, its values and one :class:`~nnft.study.Report`
    per value (same seed, same point tuples and orders).

    Attributes:
      name: the swept size, constant or dotted path (``"C_W"``, ``"N"``, ``"study.samples"``).
      values: the values, in the order run (length V), as validated (``"1e3"`` -> 1000).
      reports: ``reports[i]`` is the study at ``values[i]`` (its ``rows`` in the same order for every i).

    Source: not from a paper: a container of :class:`~nnft.study.Report` per value.
    """

    name: str
    values: list
    reports: list[Report]

    def __len__(self) -> int:
        return len(self.values)

    def __iter__(self):
        return iter(zip(self.values, self.reports))

    def __getitem__(self, i: int) -> Report:
        return self.reports[i]

    @property
    def theories(self) -> list[Theory]:
        """The validated theory of every value (after the override)."""
        return [r.theory for r in self.reports]

    def table(self, width: int | None = None) -> str:
        """The sweep as text: a header, then one line per (value, point tuple) with the swept value as
        the first column: MC G⁽ⁿ⁾ and G_c⁽ⁿ⁾ (mean ± standard error) beside theory, with z-scores."""
        first = self.reports[0]
        t = first.theory
        vals = [_show(v) for v in self.values]
        lines = [f"{t.name}  ({t.source})  sweep over {self.name}: {', '.join(vals)}", "  " + self._draws()]
        if first.versions or first.dtype:
            ver = first.versions or {}
            lines.append("  " + "  ".join(x for x in (f"nnft {ver['nnft']}" if "nnft" in ver else "",
                                                      f"JAX {ver['jax']}" if "jax" in ver else "",
                                                      f"dtype {first.dtype}" if first.dtype else "") if x))
        few = few_blocks_note(min(r.samples for r in self.reports), "the error bars of the smallest ensemble", "there")
        if few:
            lines.append("  " + few)
        notes = list(dict.fromkeys(f"{_show(v)}: {n}" for v, r in self for n in r.notes))
        lines += [f"  note: {n}" for n in notes]
        header = [self.name, " n", "points", "G (MC)", "G (theory)", "z", "G_c (MC)", "G_c (theory)", "z"]
        minw = [0, 2, 28, 20, 11, 6, 22, 12, 6]
        neuron = any(r.neuron_connected for rep in self.reports for r in rep.rows)
        if neuron:
            header += ["G_c (neuron-level)", "z"]
            minw += [25, 6]

        def num(v):
            return f"{v:.5g}" if v is not None else "—"

        def zz(v):
            return f"{v:+.2f}" if v is not None else "—"

        cells, merged = [], False
        for v, rep in zip(vals, self.reports):
            for r in rep.rows:
                pts = ";".join(",".join(f"{c:.3g}" for c in p) for p in r.points)
                row = [v, f"{r.order:>2}", pts, estimate(*r.full), num(r.exact_full), zz(r.z_full)]
                if rep.same_connected(r):
                    merged = True
                    row += ["= G", "= G", ""]
                else:
                    row += [estimate(*r.connected), num(r.exact_connected), zz(r.z_connected)]
                if neuron:
                    row += [estimate(*r.neuron_connected), zz(r.z_neuron)] if r.neuron_connected else ["—", "—"]
                cells.append(row)
        if merged:
            lines.append("  G_c shown as '= G': one estimate (G_c⁽¹⁾ = G⁽¹⁾ by definition; G_c⁽²⁾ = G⁽²⁾ where ⟨φ⟩ = 0 "
                         "by a proven symmetry, as nnft run says)")
        lines = wrap_text(lines, width)
        lines += [""] + render(header, cells, align=[">", ">", "<"] + [">"] * (len(header) - 3), width=width,
                               keep=(0, 1), label=2, minwidth=minw)
        return "\n".join(lines)

    def _draws(self) -> str:
        """The header line on networks and seeds: what varies across values is said to vary."""
        samples = list(dict.fromkeys(r.samples for r in self.reports))
        seeds = list(dict.fromkeys(r.seed for r in self.reports))
        many = f"{samples[0]} networks per value" if len(samples) == 1 else \
            f"networks vary by value ({', '.join(map(str, samples))})"
        neurons = list(dict.fromkeys(r.neurons for r in self.reports if r.neurons))
        if len(neurons) == 1:
            many += f", {neurons[0]} neurons (neuron level)"
        elif neurons:
            many += f", neurons vary by value ({', '.join(map(str, neurons))})"
        if len(seeds) > 1:
            return f"{many}, seed varies ({', '.join(map(str, seeds))}): independent draws, errors independent across values"
        return f"{many}, seed {seeds[0]} at every value (common random numbers: errors are correlated across values)"

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        vals = ", ".join(_show(v) for v in self.values)
        return f"Sweep({self.name}=[{vals}], {len(self.reports)} reports)"


def _show(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _data(spec) -> tuple[dict, str]:
    """The spec mapping and its source name (:func:`nnft.spec.load.spec_mapping`, as :func:`nnft.run`)."""
    return spec_mapping(spec)


def theories(spec, name: str, values: Sequence, overrides: dict | None = None) -> list[Theory]:
    """One validated :class:`Theory` per value of ``name`` (with ``overrides`` applied to every value).

    Args:
      spec: a spec file, shipped spec name, mapping or Theory (as :func:`run_sweep`).
      name: a size, constant or dotted spec path.
      values: its values (a list).
      overrides: other names set at every value.

    Returns:
      one Theory per value, in order.

    Raises:
      SpecError: no values, too many, ``name`` also in ``overrides``, or any value the spec refuses
        (the first, before anything runs).
    """
    data, source = _data(spec)
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise SpecError(f"a sweep's values are a list, got {type(values).__name__}", file=source, field=str(name),
                        allowed="a list of values, e.g. [0.9, 1.0, 1.1]")
    if len(values) == 0:
        raise SpecError("a sweep needs at least one value", file=source, field=str(name),
                        allowed="e.g. [0.9, 1.0, 1.1]")
    if len(values) > MAX_SWEEP_VALUES:
        raise SpecError(f"a sweep runs at most {MAX_SWEEP_VALUES} values, got {len(values)}", file=source,
                        field=str(name))
    overrides = dict(overrides or {})
    if name in overrides:
        raise SpecError(f"{name!r} is both swept and overridden", file=source, field=str(name), hint="give it once")
    ths = [from_dict(data, source=source, overrides={**overrides, name: v}) for v in values]
    seen = [swept_value(t, name) for t in ths]
    dup = next((v for i, v in enumerate(seen) if v in seen[:i]), None)
    if dup is not None:
        raise SpecError(f"the value {_show(dup)} is swept twice", file=source, field=str(name),
                        hint="give each value once")
    return ths


def run_sweep(spec, name: str, values: Sequence, *, overrides: dict | None = None, samples: int | None = None,
          seed: int | None = None, chunk: int | None = None, dtype: str | None = None, points=None, orders=None,
          neurons: int | None = 1_000_000, checkpoint=None, resume: bool = False) -> Sweep:
    """Run the study of ``spec`` once per value of one size, constant or dotted path.

    Example::

        sw = nnft.run_sweep("tanh_mlp", "C_W", [0.9, 1.0, 1.1], samples=10_000)
        print(sw.table())              # the swept value is the first column
        sw.reports[1].rows[0].full     # (mean, standard error) of G⁽²⁾ at C_W = 1.0

    Args:
      spec: a spec file, a shipped spec name, a spec mapping or a :class:`Theory`.
      name: what to sweep: a size (``"N"``, integer values), a constant (``"C_W"``, numbers) or a
        dotted path (``"study.samples"``), as in :func:`nnft.load`.
      values: the values (V ≥ 1), run in order.
      overrides: other overrides, the same at every value (``{"N": 64}``).
      samples: as :func:`nnft.study.run`.
      seed: as :func:`nnft.study.run`; the same seed is used at every value, so the sweep equals
        separate runs of edited specs.
      chunk: as :func:`nnft.study.run`.
      dtype: as :func:`nnft.study.run`.
      points: as :func:`nnft.study.run`.
      orders: as :func:`nnft.study.run`.
      neurons: as :func:`nnft.study.run`.
      checkpoint: a file to save the whole sweep to every few seconds (``nnft.checkpoint``; default: the
        checkpoint of ``nnft.runtime.settings``, else none): one section per stream, value after value.
      resume: continue ``checkpoint``: the finished values are read back without sampling, the
        interrupted one continues, and the sweep is bitwise the one never interrupted.

    Returns:
      a :class:`Sweep` (``values``, ``reports`` with one :class:`~nnft.study.Report` per value).

    Raises:
      SpecError: an unknown name, a value the spec refuses, no values (all before anything runs).
      InputError: ``samples=`` with a sweep over ``study.samples`` (``seed=`` with ``study.seed``): the
        argument would override every swept value.
      EstimatorError: as :func:`nnft.study.run`.
      SamplingError: as :func:`nnft.study.run`.
      CheckpointError: ``checkpoint`` exists and ``resume`` is False, or it holds another sweep (another
        spec, seed or value at the same position: the fields that differ are named).

    Source: not from a paper: repeated :func:`nnft.study.run` (whose estimators cite arXiv:2408.00082).
    """
    for path, arg, given in (("study.samples", "samples", samples), ("study.seed", "seed", seed)):
        if name == path and given is not None:
            raise InputError(f"{arg}={given}: {path} is swept, and {arg}= would override every value; give one "
                             f"of them (drop {arg}=, or sweep another name)")
    ths = theories(spec, name, values, overrides)
    reports = []
    with _checkpointed(checkpoint, resume):
        for t in ths:
            with at_value(name, t):
                reports.append(run_study(t, samples=samples, seed=seed, chunk=chunk, dtype=dtype, points=points,
                                         orders=orders, neurons=neurons))
    return Sweep(name=name, values=[swept_value(t, name) for t in ths], reports=reports)


@contextlib.contextmanager
def at_value(name: str, theory: Theory):
    """Within the block, a :class:`~nnft.errors.CheckpointError` names the swept value it was raised at
    (``at N=8: checkpoint ... is of a different run: ...``).

    Args:
      name: the swept name.
      theory: the theory of the value being run.

    Returns:
      a context manager.

    Raises:
      CheckpointError: re-raised with the value in front.
    """
    try:
        yield
    except CheckpointError as err:
        raise CheckpointError(f"at {name}={_show(swept_value(theory, name))}: {err}") from None


def _checkpointed(checkpoint, resume: bool):
    """The run settings of a sweep with ``checkpoint`` (the surrounding ones without)."""
    from nnft import runtime
    if checkpoint is None:
        if resume:
            raise InputError("resume=True needs checkpoint= (the file the sweep was saved to)")
        return contextlib.nullcontext()
    now = runtime.current()
    return runtime.settings(devices=now.devices, progress=now.progress, checkpoint=checkpoint, resume=resume)


def swept_value(theory: Theory, name: str) -> Any:
    """The value of the size, constant or dotted path ``name`` in ``theory``, as validated (the text
    ``"1e3"`` given for ``study.samples`` is 1000 here).

    Args:
      theory: a validated Theory.
      name: a size, constant or dotted path that the theory has.

    Returns:
      the value, as the Theory's JSON dump holds it.

    Raises:
      nothing for a name the sweep has validated (:func:`theories` refuses the others).
    """
    if "." in name:
        path = name.split(".")
    else:
        path = ["dims" if name in theory.dims else "constants", name]
    node: Any = theory.model_dump(mode="json")
    for part in path:
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


__all__ = ["Sweep", "run_sweep", "theories", "swept_value", "at_value", "MAX_SWEEP_VALUES"]
