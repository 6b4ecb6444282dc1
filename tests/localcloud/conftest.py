"""Fixtures for the local cloud's tests (helpers live in support.py): the probe's bootstrap, built by the caller
of the local cloud as any bootstrap is."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from devkit.build import BuildError, build_bootstraps


@pytest.fixture(scope="session")
def probe_bootstrap() -> Path:
    # cargo-lambda copies the bootstrap into place and fails with "Text file busy" while another test session
    # (a parallel run, another checkout's suite) executes it; the build itself is a no-op then, so retry a little.
    for attempt in range(5):
        try:
            return build_bootstraps(["probe"], profile="ci", quiet=True)["probe"].bootstrap
        except BuildError:
            if attempt == 4:
                raise
            time.sleep(2 * (attempt + 1))
    raise AssertionError("unreachable")
