"""nnft is a stack: every import points down (imports made inside functions included).

The layers, top to bottom::

    public API (nnft/__init__.py, lazy)
    cli
    plot                figures of results (nnft.plot)
    workflows           study, perturbation (compare)
    checks / reference
    estimators
    sample
    graph               build, check, analyse, moments, kernels, symmetry, compile -> Model
    insertions          potentials compiled to log-weights
    densities / analytic
    spec                pydantic models and the expression grammar: no JAX, no graph library
    functions           the grammar's function table (the parser reads it)
    bottom              errors, inputs, stats, tails, partitions, runtime, checkpoint, signatures

A module may import a module of a lower layer, or of its own layer as long as the imports inside a
layer form no cycle. The test reads the source (``ast``): every ``import`` and ``from ... import``
anywhere in a module counts, ``from nnft import runtime`` is an import of ``nnft.runtime`` and
relative imports are resolved. A new module must be given a layer in :data:`LAYERS`.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "nnft"

#: bottom to top: (layer, modules). Each module of nnft/ is named exactly once.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    # Plain data and numerics every layer may use; none of them imports a layer above.
    ("bottom", (
        "nnft.errors",              # every error and warning class
        "nnft.inputs",              # checks of user arguments and their bounds
        "nnft.stats",               # Estimate, BlockSums, z-scores, ESS
        "nnft.tables",              # text tables fitted to the terminal, estimate notation, verdict colours
        "nnft.result_tables",       # text of the lower layers' result types (duck typed), for print and HTML
        "nnft.tails",               # Pareto-k̂ tail diagnostic (stats reads KHAT_FLAG)
        "nnft.partitions",          # set partitions, moment <-> cumulant relations
        "nnft.checkpoint",          # checkpoint files of streams (imports no runtime)
        "nnft.runtime",             # devices, processes, progress, run settings (builds Checkpoints)
        "nnft.spec.signatures",     # argument signatures of densities/references/potentials as data
        "nnft.materialise",         # a value computed once into memory (not fused into its consumers by XLA)
    )),
    # The grammar's function table: the expression parser (spec) reads which functions exist from it,
    # so it sits below spec; it imports numpy only (scipy and JAX on first use of a version).
    ("functions", (
        "nnft.function_kernels",    # closed-form Gaussian kernel maps (KernelMap) the function records carry
        "nnft.functions",           # one record per grammar function (numpy/JAX versions, kernel maps)
        "nnft.fastmath",            # vectorised float32 cos/sin/tan/arctan (JAX), used by functions
    )),
    # The spec file as data: pydantic models, the expression grammar, loading, constants, mlp: sugar.
    # No JAX, no SciPy, no networkx here (test_spec_imports_no_jax).
    ("spec", (
        "nnft.spec",
        "nnft.spec.expr",           # expression grammar
        "nnft.spec.validation",     # pydantic errors -> SpecError
        "nnft.spec.fields",         # field types and validators the models share
        "nnft.spec.hints",          # hints of spec errors (undeclared names, free axes)
        "nnft.spec.study",          # the study: block (points, correlators, checks)
        "nnft.spec.train",          # the train: block (data, loss, optimiser, parameterisation)
        "nnft.spec.models",         # Theory and its parts
        "nnft.spec.read",           # text and files -> plain mappings, safely (YAML/TOML/JSON)
        "nnft.spec.resolve",        # names and paths -> spec files (shipped specs, confined extends:)
        "nnft.spec.extends",        # extends: chains merged, provenance of inherited values
        "nnft.spec.load",           # files -> Theory (overrides, validation)
        "nnft.spec.constants",      # evaluate_constants
        "nnft.spec.mlp",            # mlp: expanded into params and field
        "nnft.spec.points",         # the study's points as coordinates
    )),
    # Implementations behind spec names: densities, analytic single-neuron laws and kernels.
    ("densities / analytic", (
        "nnft.densities",
        "nnft.densities.ball",
        "nnft.densities.discrete",
        "nnft.densities.orthogonal",
        "nnft.densities.base",
        "nnft.densities.constraints",
        "nnft.densities.draws",
        "nnft.densities.facts",
        "nnft.densities.noise",
        "nnft.densities.registry",
        "nnft.densities.scalar",
        "nnft.densities.threefry",  # Threefry-2x32 in elementwise jnp (JAX's bits, fused and vectorised)
        "nnft.analytic",
        "nnft.analytic._quad",
        "nnft.analytic.activations",
        "nnft.analytic.closed_forms",
        "nnft.analytic.susceptibility",
        "nnft.analytic.fixed_points",
        "nnft.analytic.criticality",
        "nnft.analytic.finite_width",
        "nnft.analytic.gaussian",
        "nnft.analytic.neurons",
        "nnft.analytic.neurons.base",
        "nnft.analytic.neurons.cosine",
        "nnft.analytic.neurons.erf",
        "nnft.analytic.neurons.gauss_net",
        "nnft.analytic.neurons.relu",
        "nnft.analytic.perturbative",   # perturbative numerics from moments (numpy only)
        "nnft.analytic.spectrum",       # closed-form power spectra, the lattice periodogram's expectation
        "nnft.analytic.scalar_design",  # d = 1 Scalar-net momentum design alpha (arXiv:2604.27050)
    )),
    # Potentials compiled to log-weights (reads only spec and functions).
    ("insertions", (
        "nnft.insertions",
    )),
    # Spec -> graph -> checked, analysed, compiled Model.
    ("graph", (
        "nnft.graph",
        "nnft.graph.ir",            # the graph's layout: node kinds, inputs, density-argument edges
        "nnft.graph.check",
        "nnft.graph.build",
        "nnft.graph.analyse",
        "nnft.graph.moments",
        "nnft.graph.kernel_maps",   # per-op kernel maps (KState) read by nnft.graph.kernels
        "nnft.graph.kernels",
        "nnft.graph.symmetry",
        "nnft.graph.evaluate",      # the graph evaluated in JAX (named axes, batches, non-finite rule)
        "nnft.graph.compile",
    )),
    # Drawing networks: the jitted step, i.i.d. streams, MCMC.
    ("sample", (
        "nnft.sample",
        "nnft.sample.reweight",     # importance weights e^{-S_int}, Kish ESS bookkeeping
        "nnft.sample.step",
        "nnft.sample.iid",
        "nnft.sample.noise",        # MCMC noise map T(eps) -> parameters
        "nnft.sample.groups",       # MCMC chains in fixed groups, one per device (shard_map)
        "nnft.sample.transition",   # BlackJAX kernel and warmup
        "nnft.sample.diagnostics",  # R-hat, ESS, autocorrelation time
        "nnft.sample.chain_checkpoint",  # MCMC chain states in checkpoint sections
        "nnft.sample.mcmc",
    )),
    # Correlators, neuron-level and NTK estimates from samples.
    ("estimators", (
        "nnft.estimators",
        "nnft.estimators.npoint",
        "nnft.estimators.neuron",
        "nnft.estimators.ntk",
        "nnft.estimators.mcmc",     # mcmc_ensemble: builds the Plan, hands features to the sampler
        "nnft.estimators.operators",  # local operators as data: names, directions, products as text
        "nnft.estimators.local",    # local operators: components, derivatives by jvp, phi^2, (dphi)^2
        "nnft.estimators.spectrum",  # power spectrum: neuron-level window (plane waves), lattice periodogram
    )),
    # Analytic references beside Monte Carlo, and the axiom checks.
    ("checks / reference", (
        "nnft.reference",
        "nnft.kernels_reference",   # graph kernels, else the NNGP from the neuron reference
        "nnft.reference_mlp",       # NNGP / finite-width theory of mlp: nets (not neuron sums)
        "nnft.checks",
        "nnft.checks._sampling",
        "nnft.checks.result",
        "nnft.checks.cluster",
        "nnft.checks.reflection",
        "nnft.checks.symmetry",
        "nnft.checks.internal",     # SO(D) of a vector field's components
    )),
    # Workflows: a study, a perturbative comparison (couplings and first-order terms use the
    # reference, so the whole perturbation package sits here).
    ("workflows", (
        "nnft.study_theory",        # the theory column of a study (exact / NNGP / leading order / 1st-order PT)
        "nnft.study_report",        # Row, Report: a study's result and the table nnft run prints
        "nnft.study",
        "nnft.spectrum",            # power_spectrum: MC beside the reference's spectrum
        "nnft.sweep",               # one study per value of a size, constant or spec path (Sweep)
        "nnft.perturbation",
        "nnft.perturbation.first_order",
        "nnft.perturbation.couplings",
        "nnft.perturbation.comparison",
        "nnft.perturbation.compare",
        "nnft.extrapolation",           # N -> infinity: weighted fits in 1/N, order chosen by the data
        "nnft.action",                  # actions and couplings measured from correlators
        "nnft.action.lattice",          # correlators on P points as symmetric tensors, regularised inverse
        "nnft.action.gaussian",         # S0 = 1/2 phi K^-1 phi (kernel map or measured G2)
        "nnft.action.quartic",          # quartic vertex: amputated connected 4-point function
        "nnft.action.running",          # 2008.08601 running coupling lambda(Lambda)
        "nnft.training",                # training of ensembles (docs/training.md)
        "nnft.training.setup",          # the train: block as numbers (data, targets, lr, recorded steps)
        "nnft.training.dynamics",       # vmapped, chunked gradient descent; per-network features
        "nnft.training.abcd",           # parameterisations as coordinates: ntk, standard, mup, abcd
        "nnft.training.theory",         # infinite-width linearised GP, eta_crit
        "nnft.training.result",         # Training: time-dependent statistics and their table
        "nnft.training.run",            # nnft.train
        "nnft.results",                 # results as xarray Datasets, files (knows every result type)
        "nnft.results.provenance",      # resolved spec, hash, versions, settings, timestamp
        "nnft.results.files",           # netCDF / JSON files of a Dataset
        "nnft.results.report",          # Report <-> Dataset
        "nnft.results.correlators",     # Correlators, Ensemble, WidthCorrelators <-> Dataset
        "nnft.results.local",           # LocalCorrelators (nnft local) <-> Dataset
        "nnft.results.checks",          # CheckResult list <-> Dataset
        "nnft.results.comparison",      # perturbative Comparison <-> Dataset
        "nnft.results.diagnostics",     # MCMC Diagnostics <-> Dataset
        "nnft.results.sweep",           # Sweep (one Report per swept value) <-> Dataset
        "nnft.results.kernels",         # NNGP / NTK Kernels <-> Dataset
        "nnft.results.criticality",     # MLP criticality analysis <-> Dataset
        "nnft.results.couplings",       # actions, couplings, extrapolations <-> Dataset
        "nnft.results.spectrum",        # PowerSpectrum <-> Dataset
        "nnft.results.training",        # Training (time as a dimension) <-> Dataset
        "nnft.bayes",               # Bayesian inference: NNGP posterior, finite-width posteriors
        "nnft.bayes.gp",            # exact GP algebra on the NNGP kernel (Cholesky with jitter)
        "nnft.bayes.likelihood",    # Gaussian likelihood of data as an insertion -> P(theta | D)
        "nnft.bayes.finite",        # posterior mean/covariance by reweighting or NUTS, NNGP beside
        "nnft.results.posterior",       # Posterior <-> Dataset
    )),
    # Figures of results (matplotlib imported on first use), drawn from their Datasets.
    ("plot", (
        "nnft.plot",                    # plot(result): the figure of any result kind; public functions
        "nnft.plot.base",               # lazy matplotlib, --plot path checks, results as Datasets
        "nnft.plot.correlators",        # G2 vs |x - y|, Report panels, width sweeps (1/N, 1/N^2), --set sweeps
        "nnft.plot.perturbation",       # lambda sweeps of a Comparison
        "nnft.plot.checks",             # check verdicts, cluster profiles, RP spectra
        "nnft.plot.criticality",        # phase diagram chi_perp(C_W, C_b) with the critical line
        "nnft.plot.kernels",            # NNGP / NTK Gram images
        "nnft.plot.training",           # trained ensembles: E f_t, Var f_t over the linearised GP, loss, dNTK
        "nnft.plot.spectrum",           # power spectrum G~(p) against |p| with theory
    )),
    ("cli", (
        "nnft.cli",
        "nnft.cli.__main__",        # python -m nnft.cli
        "nnft.cli.output",          # filtered streams, one-line errors and warnings
        "nnft.cli.invocation",      # one invocation's state, shared options, run settings
        "nnft.cli.plotting",        # --plot FILE: checked at parsing, figure of the result
        "nnft.cli.describe",        # commands that read a spec without sampling
        "nnft.cli.sampling",        # commands that sample
        "nnft.cli.local",           # nnft local: correlators of local operators (components, derivatives)
        "nnft.cli.couplings",       # nnft couplings: action, quartic vertex, running coupling
        "nnft.cli.spectrum",        # nnft spectrum: the power spectrum command
        "nnft.cli.train",           # nnft train
        "nnft.cli.posterior",       # nnft posterior: NNGP and finite-width posteriors from a data file
    )),
    # The public API (lazy re-exports) sits on top; nothing inside nnft imports the package itself.
    ("public API", (
        "nnft",
    )),
]

#: (importer, imported) -> why the edge is still there. Each is being removed by another change;
#: the list is expected to end empty (test_allowed_edges_still_exist keeps it from going stale).
ALLOWED: dict[tuple[str, str], str] = {}

LAYER_OF: dict[str, tuple[int, str]] = {m: (i, name) for i, (name, mods) in enumerate(LAYERS) for m in mods}


@dataclass(frozen=True)
class Edge:
    importer: str
    imported: str
    file: str
    line: int

    def where(self) -> str:
        return f"{self.file}:{self.line}"


def _modules() -> dict[str, Path]:
    """Every module of nnft/ by dotted name (packages by their own name)."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _targets(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """The nnft modules (or unresolved nnft names) one import statement imports."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            base = module.split(".") if is_package else module.split(".")[:-1]
            base = base[:len(base) - (node.level - 1)]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module or ""
        names = []
        for alias in node.names:
            sub = f"{source}.{alias.name}"
            names.append(sub if sub in MODULES else source)     # from nnft import runtime -> nnft.runtime
    else:
        return []
    return [n for n in names if n == "nnft" or n.startswith("nnft.")]


def _edges() -> list[Edge]:
    edges = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            for target in _targets(node, module, path.name == "__init__.py"):
                if target != module:
                    edges.append(Edge(module, target, str(path.relative_to(ROOT)), node.lineno))
    return sorted(edges, key=lambda e: (e.file, e.line, e.imported))


EDGES = _edges()


def _layer(module: str) -> str:
    if module not in LAYER_OF:
        return "no layer (add it to LAYERS)"
    i, name = LAYER_OF[module]
    return f"{name!r} (layer {i})"


def test_every_module_has_a_layer():
    missing = sorted(set(MODULES) - set(LAYER_OF))
    assert not missing, ("add these modules to LAYERS in tests/test_layers.py (one layer each, with a comment "
                         f"if the layer is not obvious): {missing}")


def test_layer_map_names_only_existing_modules():
    named = [m for _, mods in LAYERS for m in mods]
    twice = sorted({m for m in named if named.count(m) > 1})
    assert not twice, f"modules named in more than one place of LAYERS: {twice}"
    stale = sorted(set(named) - set(MODULES))
    assert not stale, f"LAYERS names modules that no longer exist (remove them): {stale}"


def test_imports_resolve_to_modules():
    broken = [e for e in EDGES if e.imported not in MODULES and (e.importer, e.imported) not in ALLOWED]
    assert not broken, "imports of names that are not nnft modules:\n" + "\n".join(
        f"  {e.where()}: {e.importer} imports {e.imported}, which does not exist" for e in broken)


def test_imports_point_down():
    upward = []
    for e in EDGES:
        if (e.importer, e.imported) in ALLOWED or e.importer not in LAYER_OF or e.imported not in LAYER_OF:
            continue        # (unknown modules are reported by the tests above)
        if LAYER_OF[e.imported][0] > LAYER_OF[e.importer][0]:
            upward.append(f"  {e.where()}: {e.importer} in {_layer(e.importer)} imports {e.imported} "
                          f"in {_layer(e.imported)}")
    assert not upward, "imports of a higher layer:\n" + "\n".join(upward)


def _find_cycle(graph: dict[str, list[Edge]]) -> list[Edge] | None:
    """One cycle of the import graph as its edges, or None (iterative depth-first search)."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        path: list[Edge] = []
        on_path = {start: 0}
        stack = [(start, iter(graph.get(start, ())))]
        while stack:
            node, todo = stack[-1]
            edge = next(todo, None)
            if edge is None:
                stack.pop()
                done.add(node)
                del on_path[node]
                if path:
                    path.pop()
                continue
            nxt = edge.imported
            if nxt in on_path:
                return path[on_path[nxt]:] + [edge]
            if nxt not in done:
                path.append(edge)
                on_path[nxt] = len(path)
                stack.append((nxt, iter(graph.get(nxt, ()))))
    return None


def test_no_import_cycles():
    graph: dict[str, list[Edge]] = {}
    for e in EDGES:
        if (e.importer, e.imported) not in ALLOWED and e.imported in MODULES:
            graph.setdefault(e.importer, []).append(e)
    cycle = _find_cycle(graph)
    assert cycle is None, "import cycle:\n" + "\n".join(
        f"  {e.where()}: {e.importer} in {_layer(e.importer)} imports {e.imported} in {_layer(e.imported)}"
        for e in cycle)


def test_allowed_edges_still_exist():
    present = {(e.importer, e.imported) for e in EDGES}
    gone = sorted(set(ALLOWED) - present)
    assert not gone, f"these ALLOWED edges are gone: remove them from ALLOWED in tests/test_layers.py: {gone}"


def test_the_checker_sees_lazy_and_package_relative_imports():
    tree = ast.parse("def f():\n    from nnft import runtime\n    from . import expr\n    import nnft.stats\n")
    found = [t for node in ast.walk(tree) for t in _targets(node, "nnft.spec.models", False)]
    assert sorted(found) == ["nnft.runtime", "nnft.spec.expr", "nnft.stats"]
    found = [t for node in ast.walk(ast.parse("from .models import Theory\nfrom .. import errors"))
             for t in _targets(node, "nnft.spec", True)]
    assert sorted(found) == ["nnft.errors", "nnft.spec.models"]


# --- what the layers buy: light imports -----------------------------------------------------------
HEAVY = ("jax", "jaxlib", "scipy", "networkx")


def _loaded_after(code: str) -> set[str]:
    """The heavy top-level packages in sys.modules after running ``code`` in a fresh interpreter."""
    probe = (f"import sys\n{code}\n"
             f"print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    return set(lines[-1].split()) if lines else set()


def test_spec_imports_no_jax():
    assert _loaded_after("import nnft.spec.load, nnft.spec.models, nnft.spec.mlp, nnft.spec.constants") == set()


def test_loading_the_shipped_specs_imports_no_jax():
    code = ("from nnft.spec.constants import evaluate_constants\n"
            "from nnft.spec.load import load, shipped_specs\n"
            "from nnft.spec.mlp import expand\n"
            "for name in shipped_specs():\n"
            "    evaluate_constants(expand(load(name)))")
    assert _loaded_after(code) == set()


# ``import nnft``, ``nnft --help`` and ``nnft run --help``: tests/speed/test_startup.py
def test_schema_imports_no_jax():
    code = ("import contextlib, io\n"
            "from nnft.cli import main\n"
            "sys.argv = ['nnft', 'schema']\n"
            "out = io.StringIO()\n"
            "with contextlib.redirect_stdout(out):\n"
            "    try:\n"
            "        main()\n"
            "    except SystemExit as exit:\n"
            "        assert not exit.code, exit.code\n"
            "assert '\"dims\"' in out.getvalue(), out.getvalue()[:200]")
    assert _loaded_after(code) == set()
