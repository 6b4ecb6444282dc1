"""actionlint for .github/workflows, installed from the Go module proxy into the cache dir on first use."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from devkit import paths

ACTIONLINT_VERSION = "v1.7.12"
ACTIONLINT_MODULE = "github.com/rhysd/actionlint/cmd/actionlint"


class LintToolError(RuntimeError):
    """A lint tool could not be installed; the message says what to install."""


def _go() -> str:
    found = shutil.which("go") or ("/usr/local/go/bin/go" if os.path.exists("/usr/local/go/bin/go") else None)
    if found is None:
        raise LintToolError("actionlint needs Go to install (https://go.dev/doc/install, or apt-get install golang)")
    return found


def actionlint_executable() -> Path:
    """The pinned actionlint (`go install …@v1.7.12` into <cache>/go-bin/<version>/ once)."""
    bin_dir = paths.cache_dir() / "go-bin" / ACTIONLINT_VERSION
    exe = bin_dir / "actionlint"
    if exe.is_file():
        return exe
    bin_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GOBIN": str(bin_dir), "GOFLAGS": "-mod=mod", "GOTOOLCHAIN": "local"}
    cmd = [_go(), "install", f"{ACTIONLINT_MODULE}@{ACTIONLINT_VERSION}"]
    if subprocess.run(cmd, env=env, check=False).returncode != 0 or not exe.is_file():
        raise LintToolError(f"`{' '.join(cmd)}` failed (see above)")
    return exe


def actionlint() -> str:
    """Lint every workflow under .github/workflows; raises on findings (printed above)."""
    workflows = sorted((paths.ROOT / ".github" / "workflows").glob("*.y*ml"))
    if not workflows:
        raise LintToolError("no workflow files under .github/workflows")
    result = subprocess.run([str(actionlint_executable()), *map(str, workflows)], cwd=paths.ROOT, check=False)
    if result.returncode != 0:
        raise LintToolError(f"actionlint found problems in {len(workflows)} workflow(s) (listed above)")
    return f"{len(workflows)} workflows clean"
