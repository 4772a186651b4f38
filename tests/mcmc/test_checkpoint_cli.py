"""``nnft posterior --method nuts --checkpoint FILE``: the NUTS chains are a section of FILE (continued
with ``--resume``, bitwise: tests/speed/test_checkpoint_mcmc.py); a checkpoint of another run is
refused in one line with exit status 2, before any warmup."""

import numpy as np
from click.testing import CliRunner

from nnft.checkpoint import Checkpoint
from nnft.cli import main


def _posterior(tmp_path, *extra):
    data = tmp_path / "d.txt"
    data.write_text("-0.8, 0.6\n0.7 0.9\n")
    return CliRunner().invoke(main, ["posterior", "relu_net", "--data", str(data), "--noise-var", "0.5",
                                     "--points", "0;1.2", "--method", "nuts", "--samples", "200", "--quiet",
                                     "--set", "N=4", *extra])


def test_a_checkpoint_of_another_run_is_refused_in_one_line_before_warmup(tmp_path):
    ck = tmp_path / "post.ck.npz"
    other = Checkpoint(ck)
    other.save(0, {"sampler": "mcmc", "samples": 400, "key": "elsewhere"},
               {"sums": np.zeros((8, 3)), "weights": np.zeros(8), "n": 0, "next": 0})
    r = _posterior(tmp_path, "--checkpoint", str(ck), "--resume")
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert r.exit_code == 2 and len(lines) == 1, r.output
    assert lines[0].startswith("error: checkpoint") and "(stream 0) is of a different run" in lines[0]
    assert "samples is 200 here but 400 in the file" in lines[0] and "theory is" in lines[0]
    r = _posterior(tmp_path, "--checkpoint", str(ck))
    assert r.exit_code == 2 and "already exists" in r.output
    r = _posterior(tmp_path, "--resume")
    assert r.exit_code == 2 and "--resume needs --checkpoint" in r.output
