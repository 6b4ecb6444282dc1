"""The write-to-readable benchmark function, run small through the local cloud (the full run is `./inv bench`)."""

from __future__ import annotations

import pytest

from devkit.bench import write_to_read
from tests.support import Stack


@pytest.mark.local_only
def test_write_to_readable_measures_every_command(stack: Stack) -> None:
    assert stack.state_dir is not None
    result = write_to_read.write_to_readable(stack.urls, rate=20, seconds=2, state_dir=stack.state_dir)
    assert result["sent"] == 40
    assert result["errors"] == 0, result["first_errors"]
    assert result["unreadable"] == 0
    assert result["readable"] == 40
    assert 0 < result["p50_ms"] <= result["p99_ms"] <= result["max_ms"] < 10_000


@pytest.mark.local_only
def test_warm_up_commands_are_sent_but_not_measured(stack: Stack) -> None:
    assert stack.state_dir is not None
    result = write_to_read.write_to_readable(stack.urls, rate=20, seconds=1, warmup_s=1, state_dir=stack.state_dir)
    assert result["sent"] == 20, "only the measured second counts"
    assert result["errors"] == 0, result["first_errors"]
    assert result["readable"] == 20 and result["unreadable"] == 0


def test_bench_section_renders_the_figures_and_the_verdict() -> None:
    from devkit.bench import currency

    figures = {"rate": 200.0, "seconds": 30.0, "warmup_s": 5.0, "backend": "dynamodb-local", "sent": 6000,
               "readable": 6000, "unreadable": 0, "errors": 0, "p50_ms": 120.5, "p99_ms": 1450.0, "max_ms": 1800.0,
               "target_p99_ms": 1000.0, "met": False}  # fmt: skip
    text = "\n".join(currency.render(figures))
    assert "| 6000 | 6000 | 0 | 0 | 120.5 ms | 1450.0 ms | 1800.0 ms | ≤ 1000 ms: **missed** |" in text
    assert "MISSED" in currency.line(figures)
    assert "met" in currency.line(figures | {"met": True, "p99_ms": 900.0}).split("target")[1]
