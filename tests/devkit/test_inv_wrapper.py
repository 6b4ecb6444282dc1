"""The ./inv wrapper: clear one-line errors, and no reinstall when nothing changed."""

from __future__ import annotations

import os
import shutil
import subprocess

from tests.conftest import ROOT


def _run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", str(ROOT / "inv"), "--list"], env=env, capture_output=True, text=True, timeout=120)


def test_missing_cargo_is_one_clear_line(tmp_path: os.PathLike) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("sh", "dirname", "cat", "cksum", "cut", "printf"):
        found = shutil.which(tool)
        if found:
            os.symlink(found, bindir / tool)
    result = _run({"PATH": str(bindir), "HOME": str(tmp_path)})
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "cargo not found" in lines[0] and "rustup" in lines[0]


def test_missing_python_is_one_clear_line(tmp_path: os.PathLike) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("sh", "dirname", "cat", "cksum", "cut", "printf", "cargo"):
        found = shutil.which(tool)
        if found:
            os.symlink(found, bindir / tool)
    # A copy of the wrapper beside a fresh (empty) venv location, so it must look for Python.
    clone = tmp_path / "clone"
    clone.mkdir()
    for name in ("inv", "pyproject.toml", "requirements.lock"):
        shutil.copy2(ROOT / name, clone / name)
    result = subprocess.run(
        ["sh", str(clone / "inv"), "--list"],
        env={"PATH": str(bindir), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Python 3.11 or newer not found" in lines[0]


def test_second_run_does_not_reinstall() -> None:
    _run(dict(os.environ))  # make sure the stamp is current
    result = _run(dict(os.environ))
    assert result.returncode == 0, result.stderr
    assert "preparing" not in result.stderr  # the stamp matched: no pip run
    assert "test" in result.stdout
