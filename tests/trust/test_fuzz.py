"""Fuzz the loader, compiler, analytic references and the CLI options: only NnftError may escape.

Small fixed budget here (seconds); long runs: ``NNFT_FUZZ_EXAMPLES=10000 pytest tests/trust/test_fuzz.py``
or ``python -m tests.trust.fuzz --examples 10000`` (see ``tests/trust/fuzz.py``).
"""

from __future__ import annotations

import os
import random
import resource

import pytest

from . import fuzz
from .helpers_cli import invoke

EXAMPLES = int(os.environ.get("NNFT_FUZZ_EXAMPLES", "300"))
START = int(os.environ.get("NNFT_FUZZ_START", "0"))
CLI_EXAMPLES = int(os.environ.get("NNFT_FUZZ_CLI_EXAMPLES", "60"))


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def test_specs_fuzzed_only_raise_nnft_errors_fast_and_small():
    before = _rss_mib()
    rep = fuzz.run(range(START, START + EXAMPLES), collect=True)
    assert rep.examples == EXAMPLES
    assert not rep.findings, "\n".join(f"{f.kind} (seed {f.seed}): {f.message}\n  spec: {repr(f.spec)[:500]}"
                                       for f in rep.findings.values())
    assert rep.slowest < fuzz.TIME_LIMIT
    assert _rss_mib() - before < 1024            # no memory blow-up (peak RSS growth)
    assert rep.accepted > 0 and rep.refused > 0  # the mutations reach both outcomes


# ----------------------------------------------------------------------------- CLI options
TOKENS = {
    "--points": ["0", "0;1", "0,0;1,0", "0,0,0", "", ";", "nan", "1e999", "-1e6", "1e7", "a", "0,,0", "0;;1",
                 ";".join(["0.5"] * 300), "1e-320", "0x10", "١", "0,0;1"],
    "--set": ["N=4", "d=3", "d=0", "N=-1", "N=1e3", "d=4097", "N=10000000", "L=2", "Q=1", "=1", "N=", "N==3",
              "N=" + "9" * 50, "d=400", "N=٣"],
    "--orders": ["2", "2,4", "0", "9", "-1", "2.0", "", ",", "1,1,1", "6", "8", "x", "99999999999999999999"],
    "--lambdas": ["0.1", "nan", "inf", "-inf", "", ",", "1e308", "1,2,x", ",".join(["1"] * 70), "1e-400"],
    "--seed": ["0", "-1", str(2 ** 31), str(2 ** 64), "x", "1.5"],
    "--samples": ["10", "9", "0", str(10 ** 15), "1e4", "x"],
    "--threshold": ["5", "0", "-1", "nan", "inf", "1e300", "x"],
}
COMMANDS = {
    # commands that do no Monte Carlo sampling (fast): the options are parsed and checked in full
    "kernel": (["relu_mlp", "deep_linear", "tanh_mlp", "erf_net"], ["--points", "--set"]),
    "validate": (["relu_mlp", "deep_linear", "tanh_mlp_chaotic"], ["--set"]),
    "criticality": (["relu_mlp", "tanh_mlp", "residual_relu", "cos_net"], ["--set"]),
    # sampling commands: one option is always one of the refused values, so nothing is sampled
    "run": (["cos_net", "relu_mlp"], ["--points", "--set", "--orders", "--seed", "--samples"]),
    "perturb": (["phi4_cos_1d"], ["--lambdas", "--orders", "--threshold", "--seed", "--samples"]),
}
REFUSED = {"--orders": "0", "--lambdas": "nan", "--seed": "-1", "--samples": "9", "--threshold": "nan",
           "--points": "nan", "--set": "N=-1"}


@pytest.mark.parametrize("seed", range(START, START + CLI_EXAMPLES))
def test_cli_options_fuzzed_give_exit_0_or_one_error_line(seed):
    rng = random.Random(seed)
    cmd = rng.choice(sorted(COMMANDS))
    specs, opts = COMMANDS[cmd]
    args = [cmd, rng.choice(specs)]
    for opt in rng.sample(opts, rng.randint(1, len(opts))):
        args += [opt, rng.choice(TOKENS[opt])]
    if cmd in ("run", "perturb"):
        opt = rng.choice(sorted(set(opts) & set(REFUSED)))
        args += [opt, REFUSED[opt]]
    if cmd == "kernel" and "--points" not in args:
        args += ["--points", "0;1"]
    code, out, err, exc = invoke(*args)
    assert exc is None, f"nnft {args!r} raised {exc!r}"
    assert code in (0, 2), (args, code, out, err)
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (args, err)
    assert "Traceback" not in out + err
    if cmd in ("run", "perturb"):
        assert code == 2
