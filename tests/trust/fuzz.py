"""A structure-aware fuzzer of nnft's loader, compiler, analytic references and command line.

Each example takes a shipped spec as a tree and applies a few mutations chosen by a seeded
``random.Random`` (replace a value by an "interesting" one, delete or add a key, graft a subtree from
another shipped spec, change a size), then goes through nnft in-process: ``from_dict`` (or a spec
file in YAML/JSON/TOML text, sometimes with text-level damage) -> ``compile`` -> study points ->
default tuples -> the analytic reference (no sampling). The contract: only :class:`~nnft.errors.NnftError`
may escape, no example takes more than ``TIME_LIMIT`` seconds. A finding is recorded with its seed,
so ``python -m tests.trust.fuzz --seed S`` replays it.

Budgets: the test suite runs a small fixed set of seeds (``NNFT_FUZZ_EXAMPLES``, default 300);
``NNFT_FUZZ_EXAMPLES=10000 NNFT_FUZZ_START=1000 pytest tests/trust/test_fuzz.py`` or
``python -m tests.trust.fuzz --examples 10000`` runs long ones.
"""

from __future__ import annotations

import contextlib
import copy
import json
import random
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import yaml

TIME_LIMIT = 10.0

INTERESTING: list = [
    0, 1, -1, 2, 3, 7, 64, 4096, 4097, 10_000_000, 10_000_001, 2 ** 31, 2 ** 63, 2 ** 64, 10 ** 40,
    1e308, -1e308, 1e-308, 5e-324, 0.5, -0.0, 1e30, 1e-30, 3.5,
    True, False, None, "", " ", "x", "a" * 300, "\x1b]0;title\x07", "\u202eevil", "é", "\x00",
    "../x.yaml", "/etc/passwd", "cos_net", "gauss_net", "relu_mlp", "sub/p.yaml", "nope.yaml",
    "1e308*1e308", "exp(1000)", "exp(-1000)", "gamma(400)", "gamma(-1)", "sqrt(-1)", "log(0)", "0/0", "1/0",
    "N**N", "d**d**d", "2**10000", "x", "x[0]", "x[5]", "x[-1]", "W0", "W1", "b0", "sum_N(W1)",
    "sum_N(sum_N(W1))", "norm(x)", "norm_d(W0)", "W0 @ W0", "W0 @ x", "((((((((((1))))))))))",
    "(" * 200 + "1" + ")" * 200, "1" * 400, "sigma_w0 / sqrt(d)", "C_W / fan_in", "z * sigmoid(z)",
    "relu", "tanh", "linear", "erf", "cos", "fan_in", "pi", "e", "__import__('os')", "lambda: 1",
    "sigma_w1 / sqrt(N)", "-pi", "Lambda", "m", "sqrt(k**2 + m**2)",
    [], {}, [1, 2], [[1], [2, 3]], [[0.0, 0.0], [1.0, 0.0]], [0.0] * 5, ["N", "d"], ["N", "N"], ["d"] * 5,
    ["M"], {"normal": {"std": 1}}, {"normal": {"std": -1}}, {"normal": {}}, {"uniform": {"low": 1, "high": 0}},
    {"cauchy": {"scale": 1}}, {"student_t": {"df": 1, "scale": 1}}, {"exponential": {"rate": 0}},
    {"normal": {"std": 1}, "cauchy": {"scale": 1}}, {"bogus": {}}, {"normal": {"std": "W1"}},
    {"line": {"start": 0, "stop": 1, "n": 300}}, {"list": [[0.0], [1.0, 2.0]]}, {"list": []},
    {"line": {"start": [0.0, 0.0, 0.0], "stop": 1.0, "n": 3}},
    {"cos_net": {"sigma_w0": 1e308}}, {"gauss_net": {"sigma_w0": 1, "sigma_b0": 1e200}},
    {"shaped_net": {"sigma_w0": 1e-300, "mass": 1e300}}, {"scalar_net": {"mass": 1e-300, "cutoff": 1e300}},
    {"relu_layer": {"weight_std": 1e200, "bias_std": 0}}, {"erf_layer": {"weight_std": 1e155, "bias_std": 1}},
    {"rp_scalar": {"mass": 1e-300, "cutoff": 1e300}}, {"cauchy_net": {"mass": 1e308}},
    {"depth": 3, "width": 8, "activation": "relu", "weight_var": "2 / fan_in"},
    {"depth": "L", "width": [4, 5], "activation": "tanh", "weight_var": 1, "bias_var": 0.1, "residual": 0.5},
    {"potential": {"phi4": {"coupling": 1e308}}, "domain": {"box": [[0, 1]], "lattice": 4096}},
]

FIELD_NAMES = ["nnft", "name", "description", "dims", "constants", "params", "define", "field", "mlp",
               "insertions", "reference", "study", "extends", "source", "samples", "seed", "chunk", "dtype",
               "points", "correlators", "orders", "connected", "widths", "checks", "shape", "density",
               "depth", "width", "activation", "weight_var", "bias_var", "residual", "d", "N", "L", "W0", "x",
               "line", "list", "start", "stop", "n", "potential", "domain", "box", "lattice", "allow_unbounded"]


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


def _get(node, path):
    for p in path:
        node = node[p]
    return node


def _set(root, path, value):
    if not path:
        return value
    _get(root, path[:-1])[path[-1]] = value
    return root


def _random_value(rng: random.Random, donors: list[dict]):
    r = rng.random()
    if r < 0.55:
        return copy.deepcopy(rng.choice(INTERESTING))
    if r < 0.7:
        return rng.choice([rng.randint(-5, 10 ** rng.randint(1, 9)), rng.uniform(-10, 10) * 10 ** rng.randint(-5, 5)])
    if r < 0.85:   # a subtree of another spec
        donor = rng.choice(donors)
        return copy.deepcopy(_get(donor, rng.choice(list(_paths(donor)))))
    toks = ["x", "N", "d", "W0", "W1", "b0", "(", ")", "+", "-", "*", "/", "**", "@", "sum_N(", "cos(", "exp(",
            "sqrt(", "1", "2.5", "1e308", "[0]", ",", "pi", "norm(", "sigma_w0", " "]
    return "".join(rng.choice(toks) for _ in range(rng.randint(1, 12)))


def mutate(rng: random.Random, spec: dict, donors: list[dict]) -> dict:
    """A few structure-aware mutations of ``spec`` (a deep copy is returned)."""
    data = copy.deepcopy(spec)
    for _ in range(rng.randint(1, 4)):
        paths = list(_paths(data))
        path = rng.choice(paths[1:] or paths)
        op = rng.random()
        try:
            parent = _get(data, path[:-1]) if path else None
            leaf = _get(data, path)
            if rng.random() < 0.3 and isinstance(leaf, (int, float)) and not isinstance(leaf, bool):
                # a gentle, valid-looking change: the same kind of number at another scale
                new = leaf * 10.0 ** rng.choice([-300, -30, -3, -1, 1, 3, 30, 154, 300]) if leaf else rng.random()
                data = _set(data, path, int(new) if isinstance(leaf, int) and abs(new) < 1e18 else new)
                continue
            if op < 0.5 or parent is None:
                data = _set(data, path, _random_value(rng, donors))
            elif op < 0.65:                       # delete
                if isinstance(parent, dict):
                    parent.pop(path[-1], None)
                elif isinstance(parent, list) and parent:
                    parent.pop(path[-1])
            elif op < 0.8:                        # add a key (known or odd)
                target = _get(data, path)
                if isinstance(target, dict):
                    key = rng.choice(FIELD_NAMES + ["bad key", "x" * 70, "\x1b[31m", "9lives"])
                    target[key] = _random_value(rng, donors)
                elif isinstance(target, list):
                    target.append(_random_value(rng, donors))
            elif op < 0.9:                        # sizes: the numbers that drive memory and time
                dims = data.get("dims") if isinstance(data, dict) else None
                if isinstance(dims, dict) and dims:
                    k = rng.choice(list(dims))
                    dims[k] = rng.choice([0, 1, 2, 64, 400, 4096, 4097, 10 ** 5, 10 ** 7, 10 ** 8, -1, 2.5, "N"])
            else:                                 # duplicate a subtree under a sibling key
                if isinstance(parent, dict):
                    parent[rng.choice(FIELD_NAMES)] = copy.deepcopy(_get(data, path))
        except (KeyError, IndexError, TypeError):
            pass
    return data


def _damage(rng: random.Random, text: str) -> str:
    if not text or rng.random() < 0.6:
        return text
    i = rng.randrange(len(text))
    op = rng.random()
    if op < 0.3:
        return text[:i]
    if op < 0.6:
        return text[:i] + rng.choice(["{", "[", ":", "'", '"', "\t", "\x00", "&a", "*a", "!!python/object ", "<<: ",
                                      "\n  ", "\x1b", "#", "- "]) + text[i:]
    j = min(len(text), i + rng.randint(1, 40))
    return text[:i] + text[j:]


class Hang(Exception):
    """An example ran longer than TIME_LIMIT."""


@contextlib.contextmanager
def time_limit(seconds: float):
    def handler(signum, frame):
        raise Hang(f"example took more than {seconds} s")
    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@dataclass
class Finding:
    seed: int
    kind: str              # exception type and where it was raised
    message: str
    spec: object


@dataclass
class Report:
    examples: int = 0
    accepted: int = 0      # compiled without error
    refused: int = 0       # refused with an NnftError
    findings: dict[str, Finding] = field(default_factory=dict)
    slowest: float = 0.0


def _where(err: BaseException) -> str:
    tb = traceback.extract_tb(err.__traceback__)
    frames = [f for f in tb if "/nnft/" in f.filename] or tb
    f = frames[-1] if frames else None
    return f"{type(err).__name__} at {Path(f.filename).name}:{f.lineno}" if f else type(err).__name__


def exercise(data, tmpdir: Path, rng: random.Random, deep: float = 0.0) -> bool:
    """Load, compile and evaluate one (possibly malformed) spec. True if nnft accepted it all."""
    import numpy as np

    from nnft.graph.compile import compile
    from nnft.reference import _exact, neuron_reference
    from nnft.spec.load import from_dict, load
    from nnft.spec.points import study_points
    from nnft.study import default_tuples

    route = rng.random()
    if route < 0.6 or not isinstance(data, dict):
        theory = from_dict(data if isinstance(data, dict) else {"value": data}, source="<dict>")
    else:
        fmt = rng.choice(["yaml", "json", "toml"])
        try:
            if fmt == "yaml":
                text = yaml.safe_dump(data, allow_unicode=True)
            elif fmt == "json":
                text = json.dumps(data)
            else:
                import tomli_w  # noqa: F401 - optional; fall back to JSON
                text = tomli_w.dumps(data)
        except Exception:  # noqa: BLE001 - the *fuzzer* could not serialise it: use JSON text
            fmt, text = "json", json.dumps(data, default=str)
        path = tmpdir / f"spec.{fmt}"
        path.write_text(_damage(rng, text), encoding="utf-8", errors="surrogatepass")
        theory = load(path)
    model = compile(theory)
    pts = study_points(theory)
    tuples = default_tuples(pts, theory.study.correlators.orders)
    if theory.reference and model.structure.neuron_sum is not None and not model.insertions:
        neuron = neuron_reference(model)
        small = [t for t in tuples if len(t) <= neuron.max_order][:4]
        if small:
            _exact(model, small, neuron)
        if deep and rng.random() < deep:        # the sampling cross-check too (seconds each)
            from nnft.reference import check_reference
            check_reference(model)
    assert np.all(np.isfinite(pts))
    return True


def run(seeds, *, collect: bool = True, limit: float = TIME_LIMIT, progress: int = 0, deep: float = 0.0) -> Report:
    """Run the fuzzer over ``seeds``. With ``collect`` every distinct finding kind is kept; otherwise
    the first finding is raised."""
    from nnft.errors import NnftError
    from nnft.spec.load import read_mapping, shipped_specs

    donors = [read_mapping(p) for p in shipped_specs().values()]
    report = Report()
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        (tmpdir / "sub").mkdir()
        (tmpdir / "sub" / "p.yaml").write_text("nnft: 1\nname: p\ndims: {d: 1, N: 2}\n", encoding="utf-8")
        for i, seed in enumerate(seeds):
            if progress and i and i % progress == 0:
                print(f"  {i} examples: {report.accepted} accepted, {report.refused} refused, "
                      f"{len(report.findings)} findings, slowest {report.slowest:.2f} s", flush=True)
            rng = random.Random(seed)
            data = mutate(rng, rng.choice(donors), donors)
            t0 = time.perf_counter()
            report.examples += 1
            try:
                with time_limit(limit):
                    exercise(data, tmpdir, rng, deep)
                report.accepted += 1
            except NnftError:
                report.refused += 1
            except Exception as err:  # noqa: BLE001 - anything else is a finding
                if not collect:
                    raise AssertionError(f"seed {seed}: {_where(err)}: {err!r}\nspec: {data!r}"[:4000]) from err
                report.findings.setdefault(_where(err), Finding(seed, _where(err), repr(err)[:500], data))
            elapsed = time.perf_counter() - t0
            report.slowest = max(report.slowest, elapsed)
            if elapsed > limit:     # the alarm can be swallowed (e.g. inside a gc callback): time decides
                if not collect:
                    raise AssertionError(f"seed {seed}: took {elapsed:.1f} s\nspec: {data!r}"[:4000])
                report.findings.setdefault(f"slow-{seed}", Finding(seed, "slow", f"{elapsed:.1f} s", data))
    return report


def main(argv=None) -> int:  # pragma: no cover - the long-run driver
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=10_000)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--seed", type=int, help="replay one seed")
    ap.add_argument("--deep", type=float, default=0.0, help="fraction of accepted specs with a reference that also "
                                                            "run the sampling reference cross-check")
    a = ap.parse_args(argv)
    seeds = [a.seed] if a.seed is not None else range(a.start, a.start + a.examples)
    t0 = time.perf_counter()
    rep = run(seeds, progress=1000, deep=a.deep)
    print(f"{rep.examples} examples in {time.perf_counter() - t0:.0f} s: {rep.accepted} accepted, {rep.refused} "
          f"refused with NnftError, {len(rep.findings)} finding kinds, slowest {rep.slowest:.2f} s")
    for f in rep.findings.values():
        print(f"- {f.kind} (seed {f.seed}): {f.message}\n    spec: {repr(f.spec)[:600]}")
    return 1 if rep.findings else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
