"""End-to-end fixtures: black-box HTTP against the local cloud, or against a deployed stage.

By default a session-scoped fixture runs the stack (`python -m devkit.stack`, moto backend, random ports) and
stops it afterwards. `--base-url URL` (the main API) and `--auth-url URL` (the identity API; defaults to the
base URL) point the same tests at any deployment instead; `--backend dynamodb-local` runs them on the real engine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from devkit.stack import stop_child
from tests.conftest import ROOT

START_DEADLINE_S = 300  # the first start may build bootstraps


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("e2e")
    group.addoption("--base-url", default=None, help="main API of a deployed stage (skips the local cloud)")
    group.addoption("--auth-url", default=None, help="identity API of a deployed stage (default: --base-url)")
    group.addoption("--backend", default="moto", choices=["moto", "dynamodb-local"], help="local cloud backend")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Against a deployed stage, tests that read the local cloud's internals are deselected (not skipped)."""
    if not config.getoption("--base-url"):
        return
    kept = [item for item in items if item.get_closest_marker("local_only") is None]
    deselected = [item for item in items if item.get_closest_marker("local_only") is not None]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


@dataclass
class Stack:
    urls: dict[str, str]  # API logical id → base URL
    control: dict | None  # the local cloud's control file; None against a deployed stage
    state_dir: Path | None

    @property
    def api(self) -> str:
        return self.urls["HttpApi"]

    @property
    def auth(self) -> str:
        return self.urls.get("AuthApi", self.api)

    def logs(self) -> str:
        """Everything the functions printed so far (local cloud only)."""
        assert self.state_dir is not None, "logs are only readable from the local cloud"
        log_dir = self.state_dir / "logs"
        return "".join(p.read_text(errors="replace") for p in sorted(log_dir.glob("*.log")))


def _wait_for_control(state_dir: Path, proc: subprocess.Popen, deadline: float) -> dict:
    control_file = state_dir / "control.json"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the local cloud exited with {proc.returncode}; see its output above")
        if control_file.exists():
            try:
                return json.loads(control_file.read_text())
            except ValueError:
                pass  # half-written; read again
        time.sleep(0.1)
    raise TimeoutError(f"the local cloud was not ready within {START_DEADLINE_S} s")


@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    base_url = request.config.getoption("--base-url")
    if base_url:
        auth_url = request.config.getoption("--auth-url") or base_url
        yield Stack({"HttpApi": base_url.rstrip("/"), "AuthApi": auth_url.rstrip("/")}, None, None)
        return
    state_dir = tmp_path_factory.mktemp("localcloud")
    cmd = [sys.executable, "-m", "devkit.stack", "--port", "0", "--state-dir", str(state_dir), "--quiet"]
    cmd += ["--backend", request.config.getoption("--backend")]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        control = _wait_for_control(state_dir, proc, time.monotonic() + START_DEADLINE_S)
        yield Stack(control["urls"], control, state_dir)
    finally:
        stop_child(proc)


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def unique_email(tag: str = "user") -> str:
    """Test data is tagged so `./inv clean-test-data` can find it on a shared stage."""
    return f"e2e-{tag}-{uuid.uuid4().hex[:12]}@example.test"
