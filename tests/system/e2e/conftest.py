"""End-to-end fixtures: black-box HTTP against the local cloud, or against a deployed stage.

By default a session-scoped fixture runs the stack (`python -m devkit.stack`, moto backend, random ports) and
stops it afterwards. `--base-url URL` (the main API) and `--auth-url URL` (the identity API; defaults to the
base URL) point the same tests at any deployment instead; `--backend dynamodb-local` runs them on the real engine.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
import requests

from tests.support import Stack, local_stack


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
    with local_stack(cmd, state_dir) as running:
        yield running


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session
