"""Every error and warning class nnft defines lives in nnft/errors.py, and every error derives from
NnftError (so one ``except nnft.NnftError`` catches all of nnft's refusals, and the CLI prints each
as one line)."""

import ast
import inspect
from pathlib import Path

import nnft
import nnft.errors as errors

ROOT = Path(nnft.__file__).parent


def _exception_like(node: ast.ClassDef) -> bool:
    names = [b.id if isinstance(b, ast.Name) else b.attr if isinstance(b, ast.Attribute) else "" for b in node.bases]
    return any(n.endswith(("Error", "Exception", "Warning")) for n in names)


def test_error_classes_are_defined_only_in_errors_py():
    stray = []
    for path in ROOT.rglob("*.py"):
        if path.name == "errors.py" and path.parent == ROOT:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and _exception_like(node):
                stray.append(f"{path.relative_to(ROOT.parent)}:{node.lineno} {node.name}")
    assert not stray, "define error classes in nnft/errors.py: " + ", ".join(stray)


def test_every_error_is_an_nnft_error():
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass) if c.__module__ == errors.__name__]
    excs = [c for c in classes if issubclass(c, Exception) and not issubclass(c, Warning)]
    assert len(excs) >= 10
    assert all(issubclass(c, errors.NnftError) for c in excs), [c for c in excs if not issubclass(c, errors.NnftError)]


def test_old_import_paths_still_work():
    from nnft.analytic.neurons import NeuronArgError, QuadratureError
    from nnft.densities.base import DensityArgError
    from nnft.graph.kernels import KernelError
    from nnft.sample.mcmc import ConvergenceWarning
    from nnft.spec.expr import ExprError
    assert ExprError is errors.ExprError and issubclass(ExprError, errors.NnftError)
    for cls in (NeuronArgError, QuadratureError, DensityArgError, KernelError, ConvergenceWarning):
        assert getattr(errors, cls.__name__) is cls


#: plain built-in raises that are not nnft refusals: pydantic validators (pydantic turns their ValueError
#: into a SpecError naming file and field), click's binary probe, internal invariants
ALLOWED_PLAIN = {"nnft/spec/models.py": "ValueError", "nnft/spec/study.py": "ValueError", "nnft/cli/output.py": "TypeError",
                 "nnft/graph/evaluate.py": "KeyError", "nnft/densities/base.py": "ValueError"}


def test_no_plain_builtin_errors_escape():
    plain = []
    for path in ROOT.rglob("*.py"):
        rel = str(path.relative_to(ROOT.parent))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and isinstance(node.exc.func, ast.Name):
                name = node.exc.func.id
                if name in {"ValueError", "TypeError", "KeyError", "RuntimeError", "IndexError", "OverflowError"} \
                        and ALLOWED_PLAIN.get(rel) != name:
                    plain.append(f"{rel}:{node.lineno} {name}")
    assert not plain, "raise an nnft error (nnft/errors.py) instead: " + ", ".join(plain)
