"""Regressions for bugs a tester found in results-as-data (fast: no sampling unless stated)."""

from __future__ import annotations

import numpy as np
import pytest

import nnft
from nnft.errors import InputError
from nnft.results import files


def _check_with_reasons():
    from nnft.checks.result import CheckResult
    reasons = np.array(["zero variance", None, "φ constant"], dtype=object)
    return [CheckResult(check="cluster G2", verdict="PASS", statistic=1.0, threshold=3.0, samples=10,
                        data={"degenerate_reason": reasons, "r": np.array([0.5, 1.0, 2.0])})]


@pytest.mark.parametrize("ext", [".nc", ".json"])
def test_object_array_of_text_round_trips(tmp_path, ext):
    from nnft.results import save
    path = str(tmp_path / f"c{ext}")
    save(_check_with_reasons(), path)
    back = nnft.load_result(path)[0].data["degenerate_reason"]
    assert back.dtype == object and list(back) == ["zero variance", None, "φ constant"]


def test_object_array_not_text_refused_at_write(tmp_path):
    from nnft.results import save
    res = _check_with_reasons()
    res[0].data["degenerate_reason"] = np.array([1, "a"], dtype=object)
    path = tmp_path / "c.json"
    with pytest.raises(InputError, match="object array holding a int"):
        save(res, str(path))
    assert not path.exists()
    # and a wrong answer: an object array of text passes the same check
    files.pack(np.array(["a", None], dtype=object))


def test_unicode_array_and_single_damage_prefix():
    u = np.array(["ab", "c"])
    assert np.array_equal(files.unpack(files.pack(u)), u)
    bad = '{"$array": [1], "dtype": "|O", "shape": [1]}'
    with pytest.raises(InputError) as err:
        files.unpack(bad)
    assert str(err.value).count("damaged result file") == 1


def _cli(*args):
    from click.testing import CliRunner

    from nnft.cli import main
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("where, msg", [("link", "does not exist"), ("/proc/x.nc", "system file system")])
def test_out_resolved_before_sampling(tmp_path, where, msg):
    if where == "link":
        where = str(tmp_path / "dang.nc")
        (tmp_path / "dang.nc").symlink_to(tmp_path / "nodir" / "x.nc")
    r = _cli("run", "cos_net", "--samples", "40", "--out", where)
    assert r.exit_code == 2 and msg in r.output
    assert len(r.output.strip().splitlines()) == 1 and "networks" not in r.output and "errno" not in r.output


def test_dangling_link_into_existing_folder_is_written(tmp_path):
    (tmp_path / "k.json").symlink_to(tmp_path / "target.json")
    files.check_writable(str(tmp_path / "k.json"))
    assert not (tmp_path / "target.json").exists()          # the probe leaves nothing behind
    r = _cli("kernel", "relu_mlp", "--points", "1,0,0;0.6,0.8,0", "--out", str(tmp_path / "k.json"))
    assert r.exit_code == 0, r.output
    assert (tmp_path / "target.json").is_file()


@pytest.mark.parametrize("ext", [".nc", ".json"])
def test_write_failure_is_one_line_with_os_reason(tmp_path, ext):
    import xarray as xr
    path = str(tmp_path / "gone" / f"x{ext}")               # the folder vanished after the pre-check
    with pytest.raises(InputError) as err:
        files.write(xr.Dataset({"a": ("i", [1.0])}, attrs={"nnft_result": "x"}), path)
    text = str(err.value)
    assert text == f"cannot write {path!r}: No such file or directory" and "\n" not in text
    assert "synchronously" not in text


def test_results_reachable_after_import_nnft():
    import subprocess
    import sys
    code = ("import sys, nnft; assert 'nnft.results' not in sys.modules; "
            "print(nnft.results.save.__name__, 'results' in dir(nnft), 'jax' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["save", "True", "False"]        # lazy: no JAX import for it
    with pytest.raises(AttributeError):
        nnft.no_such_subpackage


@pytest.mark.parametrize("ext, layers", [(".nc", True), (".json", False)])
def test_kernel_show_prints_what_the_command_printed(tmp_path, ext, layers):
    path = str(tmp_path / f"k{ext}")
    r = _cli("kernel", "relu_mlp", "--points", "1,0,0;0.6,0.8,0", *(["--layers"] if layers else []), "--out", path)
    assert r.exit_code == 0, r.output
    printed = r.output.split("saved:")[0].rstrip("\n")
    assert printed.startswith("relu-mlp-critical: NNGP") and ("layer 1 (z1): diag K" in printed) == layers
    s = _cli("show", path)
    assert s.exit_code == 0, s.output
    assert s.output.rstrip("\n") == printed


@pytest.mark.parametrize("ext", [".nc", ".json"])
def test_resaved_ensemble_keeps_blocks(tmp_path, ext):
    from nnft.results import load_dataset, save, to_dataset
    model = nnft.compile(nnft.load("cos_net", N=4))
    ens = nnft.ensemble(model, [np.array([[0.0, 0.0], [0.5, 0.0]])], samples=64, key=1, blocks=8)
    save(ens, str(tmp_path / f"a{ext}"), seed=1)
    back = nnft.load_result(str(tmp_path / f"a{ext}"))
    save(back, str(tmp_path / f"b{ext}"))
    a = load_dataset(str(tmp_path / f"b{ext}")).attrs
    assert a["blocks"] == 8 and a["seed"] == 1 and "blocks" not in a["provenance_missing"]
    # a wrong answer: the same correlators not loaded from the file know no blocks
    from nnft.estimators.npoint import Correlators
    fresh = Correlators(full=back.full, connected=back.connected, orders=back.orders)
    assert "blocks" not in to_dataset(fresh).attrs
    assert to_dataset(back, blocks=4).attrs["blocks"] == 4                   # an explicit value wins
