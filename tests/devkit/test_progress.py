"""devkit.progress: the phase lines and the phase-time summary of `./inv up` and `./inv test`."""

from __future__ import annotations

import pytest

from devkit.progress import Phases, format_seconds, format_summary


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.04, "0.0 s"),
        (0.45, "0.5 s"),
        (12.34, "12.3 s"),
        (59.94, "59.9 s"),
        (60.0, "1 min 00 s"),
        (125.4, "2 min 05 s"),
    ],
)
def test_seconds_are_tenths_below_a_minute_and_minutes_above(seconds: float, text: str) -> None:
    assert format_seconds(seconds) == text


def test_summary_lists_phases_in_order_with_the_total() -> None:
    assert (
        format_summary([("backend", 0.42), ("build", 95.0)], 96.1)
        == "backend 0.4 s, build 1 min 35 s (total 1 min 36 s)"
    )
    assert format_summary([], 0.3) == "total 0.3 s"


def test_phases_say_when_each_starts_and_time_each_one() -> None:
    ticks = iter([0.0, 0.5, 0.5, 2.0, 2.0, 2.0, 2.25, 3.0])
    lines: list[str] = []
    phases = Phases("up", say=lines.append, clock=lambda: next(ticks))
    with phases.phase("backend"):
        pass
    with phases.phase("build", "cargo-lambda, profile ci"):
        pass
    assert lines == ["up: backend… (+0.5 s)", "up: build (cargo-lambda, profile ci)… (+2.0 s)"]
    assert phases.done == [("backend", 1.5), ("build", 0.25)]
    assert phases.summary() == "backend 1.5 s, build 0.2 s (total 3.0 s)"


def test_a_failing_phase_is_still_timed() -> None:
    ticks = iter([0.0, 0.0, 0.0, 1.0])
    phases = Phases("up", say=lambda _: None, clock=lambda: next(ticks))
    with pytest.raises(RuntimeError), phases.phase("build"):
        raise RuntimeError("cargo failed")
    assert phases.done == [("build", 1.0)]
