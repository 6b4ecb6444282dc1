"""Fixtures for the local cloud's tests (helpers live in support.py): the probe's bootstrap, built by the caller
of the local cloud as any bootstrap is."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from tests.support import build_probe


@pytest.fixture(scope="session")
def probe_bootstrap() -> Path:
    return build_probe()


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """moto's in-process server on a loopback port (SQS and the other services), one per test module."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
