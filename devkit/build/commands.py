"""`./inv build`, `./inv lock` and `./inv openapi`: bootstraps checked for Lambda, the pinned Python set, and the
OpenAPI document generated from the code."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from devkit import paths
from devkit.build import bootstraps, glibc
from devkit.errors import TaskFailure


def build_checked(functions: list[str] | None, *, profile: str, arch: str) -> None:
    """Builds the bootstraps, prints their sizes, and fails when one needs a glibc newer than Lambda's."""
    artifacts, seconds = bootstraps.timed_build(functions, profile=profile, arch=arch)
    print(bootstraps.size_table(artifacts, seconds))
    bad = {name: glibc.inspect(a.bootstrap).problems() for name, a in artifacts.items()}
    bad = {name: p for name, p in bad.items() if p}
    if bad:
        raise TaskFailure("\n".join(f"{name} is not Lambda-compatible: {'; '.join(p)}" for name, p in bad.items()))
    print(f"bootstraps: {paths.lambda_dir(profile, arch)}")


def lock() -> None:
    """Re-resolves pyproject.toml's dependencies into requirements.lock in a throwaway venv."""
    deps = tomllib.loads((paths.ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    tmp = paths.ROOT / ".cache" / "lock-venv"
    shutil.rmtree(tmp, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(tmp)], check=True)
    subprocess.run([f"{tmp}/bin/pip", "install", "-q", "--disable-pip-version-check", *deps], check=True)
    frozen = subprocess.run(
        [f"{tmp}/bin/pip", "freeze", "--exclude-editable"], check=True, capture_output=True, text=True
    ).stdout
    header = "# Pinned transitive set for pyproject.toml. Regenerate with `./inv lock` after changing dependencies.\n"
    (paths.ROOT / "requirements.lock").write_text(header + frozen)
    shutil.rmtree(tmp, ignore_errors=True)
    print("requirements.lock updated")


def openapi(root: Path = paths.ROOT) -> None:
    """Regenerates openapi.json from the fat Lambda's code (its cargo test writes it with UPDATE_OPENAPI=1)."""
    test = "openapi::committed_openapi_json_matches_the_code"
    cmd = ["cargo", "test", "-p", "fat", "--test", "api", "--", "--exact", test]
    if subprocess.run(cmd, cwd=root, env={**os.environ, "UPDATE_OPENAPI": "1"}, check=False).returncode:
        raise TaskFailure("the document could not be generated; see the cargo output above")
    print(f"openapi: wrote {root / 'openapi.json'}")
