"""The write-to-readable benchmark function, run small through the local cloud (the full run is `./inv bench`)."""

from __future__ import annotations

import pytest

from devkit import bench_currency
from tests.e2e.conftest import Stack


@pytest.mark.local_only
def test_write_to_readable_measures_every_command(stack: Stack) -> None:
    assert stack.state_dir is not None
    result = bench_currency.write_to_readable(stack.urls, rate=20, seconds=2, state_dir=stack.state_dir)
    assert result["sent"] == 40
    assert result["errors"] == 0, result["first_errors"]
    assert result["unreadable"] == 0
    assert result["readable"] == 40
    assert 0 < result["p50_ms"] <= result["p99_ms"] <= result["max_ms"] < 10_000


def test_percentile_is_nearest_rank() -> None:
    assert bench_currency.percentile([3.0, 1.0, 2.0, 4.0], 50) == 2.0
    assert bench_currency.percentile([float(v) for v in range(1, 101)], 99) == 99.0
    assert bench_currency.percentile([7.0], 99) == 7.0
