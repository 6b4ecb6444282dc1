"""Fixtures for the local cloud's runtime tests (helpers live in lc_helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from devkit.build import build_bootstraps


@pytest.fixture(scope="session")
def probe_bootstrap() -> Path:
    return build_bootstraps(["probe"], profile="ci", quiet=True)["probe"].bootstrap
