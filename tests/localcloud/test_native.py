"""The mypyc-compiled hot path of the local cloud (devkit/localcloud/native.py): keyed by the sources, never stale,
and the one the suite runs on (./inv test builds it in the step before pytest)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from devkit.localcloud import native

WHICH = "import devkit.localcloud.{m} as m, devkit.localcloud.native as n; print(m.__file__); print(n.active())"
ROOT = native.PACKAGE.parents[1]


def _import_in_fresh_process(module: str, **env: str) -> tuple[str, bool]:
    done = subprocess.run(
        [sys.executable, "-c", WHICH.format(m=module)],
        cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if k != native.DISABLE}, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    path, active = done.stdout.split()
    return path, active == "True"


def test_the_key_follows_every_source_of_the_package(tmp_path: Path) -> None:
    copy = tmp_path / "localcloud"
    shutil.copytree(native.PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert native.key(copy) == native.key()
    model = copy / "model.py"  # not compiled itself, but the compiled modules were type-checked against it
    model.write_text(model.read_text() + "\n# edited\n")
    assert native.key(copy) != native.key()
    assert native.compiled_dir(copy) is None, "an edited source never runs a build made from the old one"
    shutil.copy2(native.PACKAGE / "model.py", model)
    nested = copy / "apigw" / "routing.py"  # a subpackage's source counts too
    nested.write_text(nested.read_text() + "\n# edited\n")
    assert native.key(copy) != native.key()


def test_the_suite_runs_the_compiled_modules_and_the_switch_turns_them_off() -> None:
    built = native.build()  # built by ./inv test's step before pytest: then this only checks
    assert (built / "complete").exists()
    for module in native.MODULES:
        path, _ = _import_in_fresh_process(module)
        assert path.endswith(".so") and path.startswith(str(built)), path
    assert _import_in_fresh_process("server.http1")[1], "native.active()"
    path, active = _import_in_fresh_process("server.http1", LOCALCLOUD_NATIVE="0")
    assert path == str(native.PACKAGE / "server" / "http1.py") and not active
    path, _ = _import_in_fresh_process("cloud")  # not compiled: from the sources, next to the compiled ones
    assert path == str(native.PACKAGE / "cloud.py")
    path, _ = _import_in_fresh_process("awslambda.environment")  # a compiled subpackage's interpreted module
    assert path == str(native.PACKAGE / "awslambda" / "environment.py")


def test_this_process_runs_the_build_that_matches_its_sources() -> None:
    import devkit.localcloud.apigw.gateway as gateway

    compiled = not str(gateway.__file__).endswith(".py")
    assert compiled == (native.compiled_dir() is not None) == native.active()
    if os.environ.get("CI"):
        assert compiled, "./inv test compiles the hot path before pytest, so CI tests the compiled modules"


def test_disabled_means_no_build_is_looked_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(native.DISABLE, "0")
    assert native.compiled_dir() is None
    assert native.activate([]) is False
    assert native.ensure(report=lambda line: None) is False
