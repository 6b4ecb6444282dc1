"""Where things live. Every other module asks here instead of building paths itself."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "infra" / "template.yaml"
# The template's parameters for a local run. Every request to the local gateway comes from 127.0.0.1, so the
# per-source-IP login budget would be one budget for every suite and user of the stack: it is raised locally (the
# per-account lockout keeps its defaults).
LOCAL_PARAMETERS = {"Stage": "local", "Architecture": "x86_64", "LoginIpMaxFailures": "1000000"}
# Control file, logs and staged bootstraps of a running local cloud (LOCALCLOUD_STATE_DIR moves it, e.g. in tests).
STATE_DIR = Path(os.environ.get("LOCALCLOUD_STATE_DIR") or ROOT / ".localcloud").resolve()
REPORTS_DIR = ROOT / "reports"


def cargo_target_dir() -> Path:
    """The cargo target dir: `CARGO_TARGET_DIR` when set (CI reuses one outside the clone), else ./target."""
    configured = os.environ.get("CARGO_TARGET_DIR")
    return Path(configured).resolve() if configured else ROOT / "target"


def lambda_dir(profile: str, arch: str) -> Path:
    """Root of built bootstraps: `<lambda_dir>/<binary>/bootstrap` (+ `bootstrap.zip`)."""
    return cargo_target_dir() / "lambda" / profile / arch


def cache_dir() -> Path:
    """Downloads that outlive a clone (DynamoDB Local, ElasticMQ jars, aws-lambda-rie)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lambda-rust-reference"
