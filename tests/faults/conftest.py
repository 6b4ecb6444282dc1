"""The reliability suite's stack: the project's stack on DynamoDB Local with its tables on disk, one per session.

It is the e2e stack (`devkit.stack`, real bootstraps from infra/template.yaml) started by `tests.faults.fault_stack`
so that the backend can be stopped and restarted mid-test and `Convert` has a reserved concurrency of 1. Sizes are
short by default; `FAULTS_LONG=1` (`./inv test --faults --long`) scales them up.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import requests

from devkit.localcloud import ManagedProcess, relaunch_server, stop_server
from devkit.stack import stop_child
from tests.conftest import ROOT
from tests.e2e.conftest import START_DEADLINE_S, Stack, _wait_for_control

LIMITED_FUNCTION = "Convert"  # ReservedConcurrentExecutions 1 in this stack (see fault_stack.py)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    state_dir = tmp_path_factory.mktemp("faults")
    cmd = [sys.executable, "-m", "tests.faults.fault_stack", "--state-dir", str(state_dir)]
    cmd += ["--limit", f"{LIMITED_FUNCTION}=1"]
    if os.environ.get("FAULTS_NO_BUILD"):  # `./inv test` built them in an earlier step
        cmd.append("--no-build")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "LOCALCLOUD_DYNAMODB_DB_PATH": str(state_dir / "dynamodb-data")}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    try:
        control = _wait_for_control(state_dir, proc, time.monotonic() + START_DEADLINE_S)
        yield Stack(control["urls"], control, state_dir)
    finally:
        stop_child(proc)


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


class Backend:
    """Stops a server of the running stack's backend and starts it again on the same port (same data on disk)."""

    def __init__(self, stack: Stack) -> None:
        assert stack.state_dir is not None and stack.control is not None
        self.state_dir = stack.state_dir
        self.env: dict[str, str] = stack.control["backend_env"]
        self.relaunched: list[ManagedProcess] = []

    def stop(self, server: str = "dynamodb-local") -> int:
        pid = stop_server(self.state_dir, server)
        assert pid is not None, f"no {server} server runs under {self.state_dir}"
        return pid

    def start(self, server: str = "dynamodb-local", deadline_s: float = 60.0) -> None:
        url = self.env["AWS_ENDPOINT_URL_DYNAMODB"] if server == "dynamodb-local" else self.env["AWS_ENDPOINT_URL"]
        self.relaunched.append(relaunch_server(self.state_dir, server, url, deadline=time.monotonic() + deadline_s))


@pytest.fixture(scope="session")
def backend(stack: Stack) -> Iterator[Backend]:
    control = Backend(stack)
    yield control
    for process in control.relaunched:  # the cloud that started the first server does not own these
        process.stop()
