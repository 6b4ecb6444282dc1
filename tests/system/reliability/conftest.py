"""The reliability suite's stack: the project's stack on DynamoDB Local with its tables on disk, one per session.

It is the e2e stack (`devkit.stack`, real bootstraps from infra/template.yaml) started by
`tests.system.reliability.fault_stack` so that the backend can be stopped and restarted mid-test and `Convert` has
a reserved concurrency of 1. Sizes are short by default; `FAULTS_LONG=1` (`./inv test --faults --long`) scales them up.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest
import requests

from tests.support import Stack, local_stack
from tests.system.reliability.helpers import LIMITED_FUNCTION, Backend


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    state_dir = tmp_path_factory.mktemp("faults")
    cmd = [sys.executable, "-m", "tests.system.reliability.fault_stack", "--state-dir", str(state_dir)]
    cmd += ["--limit", f"{LIMITED_FUNCTION}=1"]
    if os.environ.get("FAULTS_NO_BUILD"):  # `./inv test` built them in an earlier step
        cmd.append("--no-build")
    with local_stack(cmd, state_dir, env={"LOCALCLOUD_DYNAMODB_DB_PATH": str(state_dir / "dynamodb-data")}) as running:
        yield running


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


@pytest.fixture(scope="session")
def backend(stack: Stack) -> Iterator[Backend]:
    control = Backend(stack)
    yield control
    for process in control.relaunched:  # the cloud that started the first server does not own these
        process.stop()
