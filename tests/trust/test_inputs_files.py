"""extends: is confined to shipped specs and the spec's own directory; a parent's values are never echoed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import nnft

from .helpers_cli import assert_one_line_error

SECRET = "hunter2-s3cr3t"
GOOD_PARENT = ("nnft: 1\nname: parent\ndims: {d: 1, N: 2}\n"
               "params:\n  W: {shape: [N], density: {normal: {std: 1.0}}}\nfield: sum_N(W * x[0])\n")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def refused(path: Path, *fragments: str) -> nnft.SpecError:
    with pytest.raises(nnft.SpecError) as info:
        nnft.load(path)
    msg = str(info.value)
    assert info.value.field == "extends" or "extends" in msg
    assert path.name in msg                       # the child spec is named
    for f in fragments:
        assert f in msg, msg
    assert SECRET not in msg
    return info.value


def test_dotdot_escape_is_refused(tmp_path):
    write(tmp_path / "other" / "secrets.yaml", f"nnft: 1\nname: x\npassword: {SECRET}\n")
    child = write(tmp_path / "spec" / "a.yaml", "nnft: 1\nname: c\nextends: ../other/secrets.yaml\n")
    refused(child, "outside the spec's own directory")


def test_symlink_leaving_the_directory_is_refused(tmp_path):
    outside = write(tmp_path / "outside.yaml", f"nnft: 1\nname: x\npassword: {SECRET}\n")
    (tmp_path / "spec").mkdir()
    os.symlink(outside, tmp_path / "spec" / "x.yaml")
    child = write(tmp_path / "spec" / "b.yaml", "nnft: 1\nname: c\nextends: x.yaml\n")
    refused(child, "outside the spec's own directory")


def test_absolute_path_is_refused(tmp_path):
    target = write(tmp_path / "elsewhere" / "p.yaml", GOOD_PARENT)
    child = write(tmp_path / "spec" / "c.yaml", f"nnft: 1\nname: c\nextends: {target}\n")
    refused(child, "absolute paths are not allowed")


def test_very_long_extends_is_a_spec_error(tmp_path):
    child = write(tmp_path / "c.yaml", "nnft: 1\nname: c\nextends: " + "a" * 300 + "\n")
    refused(child, "255 characters")


def test_a_dict_spec_may_extend_only_shipped_specs(tmp_path):
    write(tmp_path / "p.yaml", GOOD_PARENT)
    with pytest.raises(nnft.SpecError, match="only shipped specs"):
        nnft.from_dict({"extends": str(tmp_path / "p.yaml").lstrip("/"), "name": "c"})
    assert nnft.from_dict({"extends": "cos_net", "name": "c"}).dims["d"] == 2


def test_files_in_subdirectories_and_symlinks_inside_are_allowed(tmp_path):
    write(tmp_path / "spec" / "lib" / "p.yaml", GOOD_PARENT)
    os.symlink(tmp_path / "spec" / "lib" / "p.yaml", tmp_path / "spec" / "link.yaml")
    a = write(tmp_path / "spec" / "a.yaml", "name: a\nextends: lib/p.yaml\n")
    b = write(tmp_path / "spec" / "b.yaml", "name: b\nextends: link.yaml\n")
    assert nnft.load(a).name == "a" and nnft.load(b).name == "b"


def test_values_inherited_from_a_parent_are_not_echoed(tmp_path):
    write(tmp_path / "p.yaml", GOOD_PARENT + f"password: {SECRET}\n")
    child = write(tmp_path / "c.yaml", "name: c\nextends: p.yaml\n")
    with pytest.raises(nnft.SpecError) as info:
        nnft.load(child)
    msg = str(info.value)
    assert SECRET not in msg
    assert info.value.field == "password" and "p.yaml" in msg and "c.yaml" in msg


def test_parent_parse_errors_are_not_echoed(tmp_path):
    write(tmp_path / "p.yaml", f"nnft: 1\nname: p\n  bad: [{SECRET}\n")
    child = write(tmp_path / "c.yaml", "name: c\nextends: p.yaml\n")
    err = refused(child, "p.yaml", "not shown")
    assert err.file.endswith("c.yaml")


def test_the_users_own_values_are_still_shown(tmp_path):
    write(tmp_path / "p.yaml", GOOD_PARENT)
    child = write(tmp_path / "c.yaml", "name: c\nextends: p.yaml\ndims: {N: 'many'}\n")
    with pytest.raises(nnft.SpecError, match="many"):
        nnft.load(child)


def test_cli_prints_one_line_for_a_refused_parent(tmp_path):
    write(tmp_path / "other" / "secrets.yaml", f"nnft: 1\nname: x\npassword: {SECRET}\n")
    child = write(tmp_path / "spec" / "a.yaml", "nnft: 1\nname: c\nextends: ../other/secrets.yaml\n")
    line = assert_one_line_error(["validate", str(child)], "a.yaml", "extends")
    assert SECRET not in line


def test_compile_errors_about_inherited_values_are_not_echoed_by_the_cli(tmp_path):
    write(tmp_path / "p.yaml", GOOD_PARENT.replace("sum_N(W * x[0])", f"sum_N(W * {SECRET.replace('-', '_')})"))
    child = write(tmp_path / "c.yaml", "name: c\nextends: p.yaml\n")
    line = assert_one_line_error(["validate", str(child)], "c.yaml", "p.yaml", "not shown")
    assert SECRET.replace("-", "_") not in line


def test_compile_errors_about_inherited_values_are_not_echoed_by_the_api(tmp_path):
    write(tmp_path / "p.yaml", GOOD_PARENT.replace("sum_N(W * x[0])", f"sum_N(W * {SECRET.replace('-', '_')})"))
    child = write(tmp_path / "c.yaml", "name: c\nextends: p.yaml\n")
    with pytest.raises(nnft.SpecError) as err:
        nnft.compile(nnft.load(child))
    assert "not shown" in str(err.value) and "p.yaml" in str(err.value)
    assert SECRET.replace("-", "_") not in str(err.value)
