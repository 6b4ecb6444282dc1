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


def _fake_cargo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, state: dict) -> list[list[str]]:
    """cargo-lambda replaced by a function that writes each asked bootstrap; returns the calls it got."""
    import subprocess

    calls: list[list[str]] = []

    def run(cmd: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        calls.append(cmd)
        out_dir = Path(cmd[cmd.index("--lambda-dir") + 1])
        for name in [cmd[i + 1] for i, arg in enumerate(cmd) if arg == "--bin"]:
            (out_dir / name).mkdir(parents=True, exist_ok=True)
            (out_dir / name / "bootstrap").write_bytes(b"\x7fELF " + name.encode())
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(build.subprocess, "run", run)
    monkeypatch.setattr(build, "check_arch_available", lambda arch: None)
    monkeypatch.setattr(build, "cargo_lambda", lambda: ["cargo-lambda", "lambda"])
    monkeypatch.setattr(build.paths, "lambda_dir", lambda profile, arch: tmp_path / profile / arch)
    monkeypatch.setattr(build, "inputs_digest", lambda *args, **kwargs: state["inputs"])
    return calls


def test_a_build_with_nothing_changed_runs_no_cargo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    state = {"inputs": "a"}
    calls = _fake_cargo(monkeypatch, tmp_path, state)
    first = build.build_bootstraps(["one", "two"], profile="ci")
    again = build.build_bootstraps(["one", "two"], profile="ci")
    assert len(calls) == 1, "same inputs, same bootstraps: cargo is not run again"
    assert again == first
    build.build_bootstraps(["one"], profile="ci")
    assert len(calls) == 2, "another set of binaries has its own stamp"
    state["inputs"] = "b"  # a source edited
    build.build_bootstraps(["one", "two"], profile="ci")
    assert len(calls) == 3
    build.build_bootstraps(["one", "two"], profile="ci")
    assert len(calls) == 3
    (tmp_path / "ci" / "x86_64" / "two" / "bootstrap").write_bytes(b"\x7fELF from another checkout")
    build.build_bootstraps(["one", "two"], profile="ci")
    assert len(calls) == 4, "a bootstrap changed by another build: cargo decides again"


def test_the_inputs_digest_follows_sources_manifests_and_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import os

    monkeypatch.setattr(build, "cargo_lambda", lambda: [str(tmp_path / "cargo-lambda"), "lambda"])
    source = tmp_path / "services" / "svc" / "src" / "lib.rs"
    source.parent.mkdir(parents=True)
    source.write_text("pub fn a() {}")
    (tmp_path / "Cargo.lock").write_text("v1")
    built = tmp_path / "services" / "svc" / "target" / "debug" / "out"
    built.parent.mkdir(parents=True)

    def digest() -> str:
        return build.inputs_digest("ci", "x86_64", ["svc"], root=tmp_path)

    before = digest()
    built.write_text("build output is not an input")
    assert digest() == before
    assert build.inputs_digest("release", "x86_64", ["svc"], root=tmp_path) != before
    source.write_text("pub fn b() {}")
    edited = digest()
    assert edited != before
    os.utime(source, ns=(1, 1))  # same size, other mtime (a checkout)
    assert digest() != edited
    touched = digest()
    (tmp_path / "Cargo.lock").write_text("v2")
    assert digest() != touched
    locked = digest()
    monkeypatch.setenv("RUSTFLAGS", "-C target-cpu=native")
    assert digest() != locked
