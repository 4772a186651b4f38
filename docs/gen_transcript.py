"""Write docs/transcript.md: a command-line session on the shipped Cos-net, run for real.

    PYTHONPATH=. python docs/gen_transcript.py                 # regenerate docs/transcript.md (+ its figure)
    PYTHONPATH=. python docs/gen_transcript.py --samples 500 --neurons 4000 --out /tmp/t.md   # quick

Each command of :data:`COMMANDS` is run through the ``nnft`` command group in this process (click's
runner; the output is what ``nnft ... > file`` writes: no terminal, so tables keep their long rows) in
a scratch directory; the page shows each command and its output. The sweep's figure is copied next to
the page. tests/test_docs.py runs this script with small sample counts and checks that the commands
on the checked-in page are the ones below, so the page cannot drift from the script.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FIGURE = "transcript_sweep.png"
SAMPLES, NEURONS = 200_000, 1_000_000

#: (command template, what it shows); {samples} and {neurons} are filled in
COMMANDS = [
    ("nnft validate cos_net",
     "What the analysis reads from the spec: sampling order, independence, the neuron-sum form."),
    ("nnft run cos_net --points '0,0;1,0' --samples {samples} --neurons {neurons} --out run.nc",
     "Correlators ± standard errors beside the exact finite-N theory, saved with provenance."),
    ("nnft show run.nc",
     "The saved result's table again, read from the file (no sampling)."),
    ("nnft run cos_net --set N=4,16,64 --orders 4 --points '0,0;0.5,0' --samples {samples} --neurons {neurons} "
     "--out sweep.nc --plot sweep.png",
     "A width sweep: one run per N with the same seed; G_c⁽⁴⁾ falls like 1/N; saved and plotted."),
]


def commands(samples: int = SAMPLES, neurons: int = NEURONS) -> list[str]:
    return [c.format(samples=samples, neurons=neurons) for c, _ in COMMANDS]


def run(line: str) -> tuple[int, str]:
    """Run one ``nnft ...`` line in this process; (exit status, output)."""
    from click.testing import CliRunner

    from nnft.cli import main
    args = shlex.split(line)
    assert args[0] == "nnft", line
    r = CliRunner().invoke(main, args[1:], prog_name="nnft", env={"COLUMNS": None, "NO_COLOR": "1"})
    return r.exit_code, r.output


def generate(out: Path, samples: int = SAMPLES, neurons: int = NEURONS) -> str:
    """Run the commands in a scratch directory, write the page to ``out`` (and the figure beside it)."""
    import jax

    import nnft
    lines = [
        "# Command line transcript",
        "",
        "A session on the shipped Cos-net spec (`nnft specs` lists the shipped specs). **Generated** by",
        "`docs/gen_transcript.py`, not written by hand: rerun it after changing the command line.",
        f"nnft {nnft.__version__}, JAX {jax.__version__}, {datetime.now(timezone.utc):%Y-%m-%d} (UTC); "
        "output as written to a file (no terminal: tables keep long rows). The numbers are Monte Carlo: another seed or sample count "
        "gives others, within the printed errors.",
        "",
    ]
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)
        try:
            for line, (_, what) in zip(commands(samples, neurons), COMMANDS):
                status, output = run(line)
                if status != 0:
                    raise SystemExit(f"gen_transcript: '{line}' exited {status}:\n{output}")
                output = output.replace(str(ROOT) + os.sep, "").replace(scratch + os.sep, "")
                lines += [what, "", "```console", f"$ {line}", output.rstrip(), "```", ""]
            if Path("sweep.png").exists():
                shutil.copyfile("sweep.png", out.parent / FIGURE)
                lines += [f"The figure `--plot sweep.png` wrote:", "", f"![width sweep of cos_net]({FIGURE})", ""]
        finally:
            os.chdir(cwd)
    text = "\n".join(lines)
    out.write_text(text, encoding="utf-8")
    return text


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=SAMPLES, help=f"networks per run (default {SAMPLES})")
    ap.add_argument("--neurons", type=int, default=NEURONS, help=f"neurons of the exact-in-N estimate (default {NEURONS})")
    ap.add_argument("--out", type=Path, default=HERE / "transcript.md", help="the page to write")
    a = ap.parse_args(argv)
    generate(a.out.resolve(), a.samples, a.neurons)
    print(f"wrote {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
