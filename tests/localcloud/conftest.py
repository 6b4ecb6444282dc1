"""Fixtures for the local cloud's tests (helpers live in support.py): the probe's bootstrap, built by the caller
of the local cloud as any bootstrap is."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import build_probe


@pytest.fixture(scope="session")
def probe_bootstrap() -> Path:
    return build_probe()
