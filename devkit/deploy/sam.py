"""SAM CLI in its own virtualenv (.venv-sam), pinned by infra/sam-cli.lock.

aws-sam-cli 1.170.0 pins `boto3[crt]==1.43.108`, while the project pins boto3/botocore 1.44.5 (moto, the local
cloud), so the two cannot share .venv; `sam` is a separate tool, installed on first use like .venv itself.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from devkit import paths

SAM_VENV = paths.ROOT / ".venv-sam"
SAM_LOCK = paths.ROOT / "infra" / "sam-cli.lock"


class SamError(RuntimeError):
    """SAM CLI could not be installed or failed; the message says what to do."""


def _stamp() -> str:
    return hashlib.sha256(SAM_LOCK.read_bytes()).hexdigest()[:16]


def sam_executable(venv: Path = SAM_VENV) -> Path:
    """`sam` from .venv-sam, (re)installed from infra/sam-cli.lock when missing or when the lock changed."""
    exe = venv / "bin" / "sam"
    stamp_file = venv / ".sam-stamp"
    stamp = _stamp()
    if exe.is_file() and stamp_file.is_file() and stamp_file.read_text().strip() == stamp:
        return exe
    print(f"sam: preparing {venv} from {SAM_LOCK.name} (first use or lock changed)…", file=sys.stderr, flush=True)
    python = getattr(sys, "_base_executable", None) or sys.executable
    steps = [
        [python, "-m", "venv", str(venv)],
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "-r",
            str(SAM_LOCK),
        ],
    ]
    for cmd in steps:
        if subprocess.run(cmd, check=False).returncode != 0:
            raise SamError(f"could not prepare {venv}: `{' '.join(cmd)}` failed (see above)")
    stamp_file.write_text(stamp + "\n")
    return exe


def sam_env() -> dict[str, str]:
    """The caller's environment (credentials, AWS_ENDPOINT_URL for a stand-in) without telemetry."""
    return {**os.environ, "SAM_CLI_TELEMETRY": "0"}


def run_sam(args: list[str], *, interactive: bool = False, cwd: Path | None = None) -> None:
    cmd = [str(sam_executable()), *args]
    result = subprocess.run(
        cmd,
        env=sam_env(),
        cwd=cwd or paths.ROOT,
        stdin=None if interactive else subprocess.DEVNULL,
        check=False,
    )
    if result.returncode != 0:
        raise SamError(f"`sam {args[0]}` failed with exit {result.returncode} (its output is above)")
