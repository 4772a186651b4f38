"""Inputs and options a newcomer tries, each refused in one line (exit 2) or doing the documented thing:
constant expressions that divide by zero, overflow or turn complex (in ``train.target`` and wherever the
grammar folds constants); ``--out``/``--plot`` naming the ``--checkpoint`` file; ``--steps`` as
``--set train.steps``; SIGTERM as Ctrl-C (status 143, checkpoint saved); clear ``--set`` messages; a
sampling checkpoint resumed by a training; ``--neurons`` below two networks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import warnings

import pytest
import yaml
from click.testing import CliRunner

from nnft import runtime
from nnft.cli import main
from nnft.errors import ExprError
from nnft.spec import expr as E

#: a one-layer erf net with a train: block (a tiny ensemble)
SPEC = {"nnft": 1, "name": "erf-train", "dims": {"d": 1, "N": 4}, "constants": {"s": 1.0},
        "params": {"W0": {"shape": ["N", "d"], "density": {"normal": {"std": "s"}}},
                   "W1": {"shape": ["N"], "density": {"normal": {"std": "s / sqrt(N)"}}}},
        "field": "sum_N(W1 * erf(W0 @ x))",
        "study": {"points": {"list": [[0.0], [0.5]]}},
        "train": {"inputs": {"line": {"start": -1.0, "stop": 1.0, "n": 3}}, "target": "sin(pi * x)",
                  "steps": 20, "record": [0, 1, 3, 20], "networks": 8, "lr": 0.1}}


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(SPEC))
    return path


def _one_line(args, *words, status=2) -> str:
    r = CliRunner().invoke(main, [str(a) for a in args])
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert r.exit_code == status, r.output
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in r.output, r.output
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


# ------------------------------------------------------------------ 1. constant expressions
BAD = {"1/0": "division by zero", "0**-1": "division by zero", "N/0": "division by zero",
       "1/0 + x": "division by zero", "10**400": "overflows", "2.0**2000": "overflows", "(-8)**(1/3) * x": "complex",
       "(-8)**(1/3)": "complex"}


@pytest.mark.parametrize("text", list(BAD))
def test_a_bad_constant_in_the_target_is_one_line_at_validate(spec, tmp_path, text):
    _one_line(["validate", spec, "--set", f"train.target={text}"], "train.target", BAD[text], str(spec))
    data = {**SPEC, "train": {**SPEC["train"], "target": text}}      # written in the file: the same
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    _one_line(["validate", path], "train.target", BAD[text], str(path))


def test_a_bad_target_is_refused_by_train_before_training(spec):
    _one_line(["train", spec, "--quiet", "--set", "train.target=(-8)**(1/3)"], "train.target", "complex")


@pytest.mark.parametrize("where", ["params.W1.density.normal.std", "train.lr"])
@pytest.mark.parametrize("text", ["1/0", "0**-1", "10**400", "(-8)**(1/3)"])
def test_bad_constants_elsewhere_are_one_line(spec, where, text):
    _one_line(["validate", spec, "--set", f"{where}={text}"], where)


def test_bad_constants_in_the_field_and_constants_are_one_line(spec, tmp_path):
    for block, value, field in ((("field",), "sum_N(W1 * erf(W0 @ x)) * (-8)**(1/3)", "field"),
                                (("constants",), {"s": "2.0**2000"}, "constants.s"),
                                (("define",), {"g": "1/0 + s"}, "define")):
        data = {**SPEC, block[0]: value}
        path = tmp_path / "f.yaml"
        path.write_text(yaml.safe_dump(data))
        _one_line(["validate", path], field)


_ATOMS = ["0", "1", "2", "-8", "1e308", "0.5", "N", "pi", "e", "x", "10", "400", "1/3"]
_FUNCS = ["exp", "log", "sqrt", "cos", "gamma", "tanh", "abs", "erf", "cosh", "relu", "sign"]


def _random_expr(rng, depth=4) -> str:
    """A random expression of the grammar's arithmetic and functions (a seeded fuzz: hypothesis is not
    a dependency)."""
    if depth == 0 or rng.random() < 0.3:
        return str(rng.choice(_ATOMS))
    kind = rng.choice(["bin", "bin", "neg", "call"])
    if kind == "bin":
        op = rng.choice(["+", "-", "*", "/", "**"])
        return f"({_random_expr(rng, depth - 1)}) {op} ({_random_expr(rng, depth - 1)})"
    if kind == "neg":
        return f"-({_random_expr(rng, depth - 1)})"
    return f"{rng.choice(_FUNCS)}({_random_expr(rng, depth - 1)})"


def test_fuzz_the_evaluators_raise_only_expr_errors():
    """Any expression of the grammar evaluates to a finite float or raises ExprError, never another
    exception: the constant folder and the elementwise evaluator a target uses (1500 seeded draws)."""
    import numpy as np

    from nnft.functions import FUNCTIONS
    rng = np.random.default_rng(0)
    unary = {k: f.numpy for k, f in FUNCTIONS.items() if f.arity == 1}
    lookup = {"N": 4.0, "pi": np.pi, "e": np.e, "x": np.array([0.3, -0.2])}.__getitem__
    refused = 0
    for _ in range(1500):
        tree = E.parse(_random_expr(rng))
        try:
            assert np.isfinite(E.evaluate_constant(tree, {"N": 4.0, "x": 0.3}))
        except ExprError:
            refused += 1
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("error")                 # no complex value cast to real in silence
            try:
                np.asarray(E.evaluate(tree, lookup, unary), dtype=np.float64)
            except ExprError:
                pass
    assert 0 < refused < 1500                      # both kinds of expression were drawn


# ------------------------------------------------------------------ 2. --out / --plot is the checkpoint
def test_out_or_plot_naming_the_checkpoint_is_refused(spec, tmp_path, monkeypatch):
    ck = tmp_path / "same.nc"
    monkeypatch.chdir(tmp_path)
    _one_line(["train", spec, "--quiet", "--checkpoint", "same.nc", "--out", "./same.nc"],
              "--out", "never overwritten")
    assert not ck.exists()
    _one_line(["run", spec, "--quiet", "--checkpoint", "fig.png", "--plot", str(tmp_path / "fig.png")],
              "--plot", "never overwritten")
    _one_line(["run", spec, "--quiet", "--checkpoint", tmp_path / "r.json", "--out", "r.json.0-of-2"])
    from nnft.cli.invocation import same_file
    assert same_file(tmp_path / "a.ck.1-of-4", tmp_path / "a.ck") and not same_file(tmp_path / "a.ck.x", tmp_path / "a.ck")
    link = tmp_path / "link.nc"
    link.symlink_to(tmp_path / "target.nc")
    assert same_file(link, tmp_path / "target.nc")


# ------------------------------------------------------------------ 3. --steps is --set train.steps
def test_steps_keeps_the_record_as_set_does(spec):
    from nnft.cli.train import _given
    from nnft.spec.load import load
    theory = load(str(spec))
    assert _given(theory, {"steps": 40, "seed": None}) == {"steps": 40}    # record [0, 1, 3, 20] kept
    import nnft
    a = nnft.train(nnft.compile(theory), **_given(theory, {"steps": 40}))
    b = nnft.train(nnft.compile(load(str(spec), **{"train.steps": "40"})))
    assert list(a.steps) == list(b.steps) == [0, 1, 3, 20]
    assert a.mean.mean.tobytes() == b.mean.mean.tobytes()
    _one_line(["train", spec, "--quiet", "--steps", "5"], "--steps", "recorded step 20")
    _one_line(["train", spec, "--quiet", "--set", "train.steps=5"], "train.record", "record step 20")


# ------------------------------------------------------------------ 5. messages
def test_set_messages(spec):
    _one_line(["validate", spec, "--set", "N=4=5"], "'4=5'", "integer")
    line = _one_line(["validate", spec, "--set", "field=x"], "'field' is not overridable")
    assert "did you mean" not in line
    for cmd in ("check", "validate"):
        _one_line([cmd, spec, "--set", "N=4,8"], "'nnft run' and 'nnft train' run sweeps")


def test_a_sampling_checkpoint_resumed_by_train_says_so(spec, tmp_path):
    ck = tmp_path / "run.ck"
    r = CliRunner().invoke(main, ["run", str(spec), "--quiet", "--samples", "64", "--neurons", "0",
                                  "--orders", "2", "--checkpoint", str(ck)])
    assert r.exit_code == 0, r.output
    line = _one_line(["train", spec, "--quiet", "--checkpoint", ck, "--resume"],
                     "is a sampling checkpoint, not a training one")
    assert "train.seed" not in line


# ------------------------------------------------------------------ 4. SIGTERM as Ctrl-C
def test_sigterm_in_a_deferred_block_raises_terminated_at_the_safe_point():
    with runtime.deferred_interrupt(True) as flag:
        os.kill(os.getpid(), signal.SIGTERM)
        assert flag.requested                      # deferred, not raised
        with pytest.raises(runtime.Terminated):
            flag.check()
    assert issubclass(runtime.Terminated, KeyboardInterrupt)


def test_cli_sigterm_saves_one_line_status_143_and_resumes(tmp_path):
    from tests.speed import _runs
    from tests.train.test_train_checkpoint import N_NETS
    from tests.train.test_train_checkpoint import SPEC as TRAIN_SPEC
    from tests.train.test_train_checkpoint import _wait_for_progress
    from nnft import checkpoint as checkpoints
    path = tmp_path / "erf_train.yaml"
    path.write_text(yaml.safe_dump(TRAIN_SPEC))
    ck = tmp_path / "term.ck"
    env = _runs.env(tmp_path, NNFT_CHECKPOINT_SECONDS="0")
    status, out, err, lines = _runs.signalled(
        [sys.executable, "-m", "nnft.cli", "train", str(path), "--checkpoint", ck.name, "--quiet"], env, tmp_path,
        lambda proc: _wait_for_progress(ck, proc), signal.SIGTERM)
    assert status == 143, err[-3000:]
    assert lines == [f"terminated; checkpoint saved to {ck.name}, resume with --resume"], err[-3000:]
    assert out.strip() == ""
    done = checkpoints._read(str(ck))[0]["next"]
    assert 0 < done < N_NETS, "the signal did not land mid-run"
    res = subprocess.run([sys.executable, "-m", "nnft.cli", "train", str(path), "--checkpoint", ck.name, "--resume",
                          "--quiet"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    assert checkpoints._read(str(ck))[0]["next"] == N_NETS


# ------------------------------------------------------------------ 7. --neurons below two networks
def test_few_neurons_round_up_to_two_networks():
    import nnft
    from nnft.study import min_neurons, neuron_model
    model = nnft.compile(nnft.load("cos_net", N=4))
    assert min_neurons(neuron_model(model)) == 128
    r = nnft.run(model, samples=200, points=[[0.0, 0.0], [0.5, 0.0]], orders=[2], neurons=1)
    assert r.neurons == 128 and all(row.neuron_connected is not None for row in r.rows)


def test_fuzz_targets_through_validate_are_ok_or_one_line(spec):
    """Random targets through ``nnft validate``: exit 0, or one line and exit 2 naming train.target."""
    import numpy as np
    rng = np.random.default_rng(1)
    for _ in range(25):
        text = _random_expr(rng, depth=3)
        r = CliRunner().invoke(main, ["validate", str(spec), "--set", f"train.target={text}"])
        assert "Traceback" not in r.output and r.exit_code in (0, 2), (text, r.output)
        if r.exit_code == 2:
            lines = [ln for ln in r.output.splitlines() if ln.strip()]
            assert len(lines) == 1 and "train.target" in lines[0], (text, r.output)


def test_cli_run_sigterm_saves_one_line_status_143(tmp_path):
    """``nnft run --checkpoint`` under SIGTERM (a Slurm time limit): the checkpoint of a partial run is
    written, one line, status 143 (sampling's twin of the training test above)."""
    from tests.speed import _runs
    from tests.speed.test_checkpoint import _cli, _sections, _wait_for
    env = _runs.env(tmp_path, NNFT_CHECKPOINT_SECONDS="0.2")
    ck = tmp_path / "run.ck.npz"
    status, out, err, lines = _runs.signalled(_cli(tmp_path, "--checkpoint", ck.name, "--quiet"), env, tmp_path,
                                              lambda proc: _wait_for(ck, proc), signal.SIGTERM)
    assert status == 143, err[-3000:]
    assert lines == [f"terminated; checkpoint saved to {ck.name}, resume with --resume"], err[-3000:]
    assert out.strip() == "" and _sections(ck)[0]["n"] < 300_000, "the signal did not land mid-run"
