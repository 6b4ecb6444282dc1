"""Packaging rules: zips Lambda can execute, reproducible, clear errors for missing targets."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from devkit.build import bootstraps as build


def test_zip_holds_an_executable_bootstrap_and_is_reproducible(tmp_path: Path) -> None:
    bootstrap = tmp_path / "bootstrap"
    bootstrap.write_bytes(b"\x7fELF fake")
    first = build._zip("x", bootstrap).zip_path.read_bytes()
    bootstrap.with_name("bootstrap.zip").unlink()
    second = build._zip("x", bootstrap).zip_path.read_bytes()
    assert first == second
    with zipfile.ZipFile(tmp_path / "bootstrap.zip") as archive:
        (info,) = archive.infolist()
        assert info.filename == "bootstrap"
        assert stat.S_IMODE(info.external_attr >> 16) == 0o755


def test_a_rebuilt_but_unchanged_bootstrap_keeps_its_zip_and_a_changed_one_is_zipped_again(tmp_path: Path) -> None:
    import os

    bootstrap = tmp_path / "bootstrap"
    bootstrap.write_bytes(b"\x7fELF one")
    zip_path = build._zip("x", bootstrap).zip_path
    with zipfile.ZipFile(zip_path, "w") as archive:  # a marker: a zip made again would not hold it
        archive.writestr("kept", b"")
    os.utime(zip_path, (1_000_000, 1_000_000))
    os.utime(bootstrap, (2_000_000, 2_000_000))  # cargo-lambda touched it, same bytes
    build._zip("x", bootstrap)
    with zipfile.ZipFile(zip_path) as archive:
        assert archive.namelist() == ["kept"], "same bytes: the zip is kept, not deflated again"
    assert zip_path.stat().st_mtime >= bootstrap.stat().st_mtime, "and marked up to date"

    bootstrap.write_bytes(b"\x7fELF two")
    os.utime(zip_path, (1_000_000, 1_000_000))
    build._zip("x", bootstrap)
    with zipfile.ZipFile(zip_path) as archive:
        assert archive.read("bootstrap") == b"\x7fELF two", "new bytes, new zip"
    assert not zip_path.with_name("bootstrap.zip.partial").exists()


def test_unknown_arch_is_a_clear_error() -> None:
    with pytest.raises(build.BuildError, match="unknown arch"):
        build.check_arch_available("sparc")


def test_arm64_without_its_std_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    class Done:
        stdout = "x86_64-unknown-linux-gnu\n"

    monkeypatch.setattr(build.subprocess, "run", lambda *a, **k: Done())
    with pytest.raises(build.BuildError, match="rustup target add aarch64-unknown-linux-gnu"):
        build.check_arch_available("arm64")


def test_fixtures_are_not_service_binaries() -> None:
    services = build.workspace_binaries()
    everything = build.workspace_binaries(include_fixtures=True)
    assert "auth-lambda" in services
    assert "probe" not in services and "probe" in everything
