"""devkit.bench.init_phases: one cold start split into the runner's and the binary's phases, their medians, the
targets, and the figures the regression comparison takes."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from devkit.bench import init_phases, report
from tests.devkit.test_bench_report import sample

SPAWNED_UNIX = 1_700_000_000.0


def _line(**changes: float) -> dict[str, Any]:
    """An `init` line as `platform::startup::InitTimer::ready` logs it: main 0.8 ms after the spawn, 1.5 ms of
    phases, ready at 2.3 ms."""
    line = {
        "level": "INFO",
        "message": "init",
        "telemetry_ms": 0.1,
        "sdk_config_ms": 0.6,
        "state_ms": 0.5,
        "router_ms": 0.3,
        "init_ms": 1.5,
        "main_at_unix_us": int(SPAWNED_UNIX * 1e6) + 800,
        "ready_at_unix_us": int(SPAWNED_UNIX * 1e6) + 2300,
    }
    line.update(changes)
    return line


def test_a_cold_start_splits_into_process_start_the_binary_phases_and_the_runtime() -> None:
    split = init_phases.split(_line(), SPAWNED_UNIX, init_duration_ms=2.9)
    assert split == {
        "process_start": 0.8,
        "telemetry": 0.1,
        "sdk_config": 0.6,
        "state": 0.5,
        "router": 0.3,
        "runtime": 0.6,  # ready at 2.3 ms, first /next at 2.9 ms
    }
    assert abs(sum(split.values()) - 2.9) < 1e-6  # the parts add up to the Init Duration


def test_the_lines_are_collected_per_function_and_anything_else_is_ignored() -> None:
    lines = init_phases.InitLines()
    lines("Blog", "-", json.dumps(_line()))
    lines("Blog", "-", json.dumps({"message": "prefetched", "what": "pagination key", "fetch_ms": 6.5}))
    lines("Blog", "-", '{"message":"init" but not json')
    lines("Blog", "-", json.dumps({"message": "init"}))  # no figures: someone else's line
    lines("Blog", "req-1", "START RequestId: req-1")
    assert len(lines.init["Blog"]) == 1 and len(lines.prefetched["Blog"]) == 1
    assert asyncio.run(lines.next_init("Blog", 0)) == _line()
    assert asyncio.run(lines.next_init("Blog", 1, deadline_s=0.05)) is None  # no second start: no line


def test_medians_per_phase_and_per_background_read() -> None:
    splits = [init_phases.split(_line(state_ms=v), SPAWNED_UNIX, 2.9) for v in (0.4, 0.5, 3.0)]
    prefetched = [{"what": "pagination key", "fetch_ms": v} for v in (5.0, 7.0, 6.0)]
    out = init_phases.medians(splits, prefetched)
    assert out is not None
    assert out["state"] == 0.5 and out["process_start"] == 0.8
    assert out["prefetched"] == {"pagination key": 6.0}
    assert init_phases.medians([], prefetched) is None  # a Python function logs no phases


def test_targets_probe_fat_and_the_services_but_not_python() -> None:
    assert init_phases.target_ms({"function": "Probe"}) == 3.0
    assert init_phases.target_ms({"function": "Fat", "template": True, "binary": "fat-lambda"}) == 8.0
    assert init_phases.target_ms({"function": "BlogManager", "template": True, "binary": "blog-lambda"}) == 5.0
    assert init_phases.target_ms({"function": "PythonBaseline", "template": False}) is None


def _with_phases(state_ms: float) -> dict[str, Any]:
    data = sample()
    probe = data["functions"]["functions"][0]
    later_us = round((state_ms - 0.5) * 1000)  # a slower state phase ends init (and the first /next) later
    line = _line(state_ms=state_ms, ready_at_unix_us=_line()["ready_at_unix_us"] + later_us)
    splits = [init_phases.split(line, SPAWNED_UNIX, 2.9 + later_us / 1000)]
    probe["cold"]["phases_ms"] = init_phases.medians(splits, [{"what": "signing keys", "fetch_ms": 4.0}])
    return data


def test_every_phase_is_a_compared_figure_and_a_slower_phase_is_a_regression() -> None:
    figures = report.metrics(_with_phases(0.5))
    for phase in init_phases.PHASES:
        assert f"functions.Probe.cold.phases.{phase}_ms" in figures
    assert figures["functions.Probe.cold.prefetched.signing_keys_ms"] == (4.0, "ms")
    found = report.compare(_with_phases(0.5), _with_phases(4.0))
    assert [r.metric for r in found] == ["functions.Probe.cold.phases.state_ms"]
    assert report.compare(_with_phases(0.5), _with_phases(1.5)) == []  # +1 ms: under the cold floor


def test_the_report_shows_where_init_goes_with_the_target_and_the_first_request() -> None:
    markdown = report.render_markdown(_with_phases(0.5))
    assert "### Where init goes" in markdown
    row = next(line for line in markdown.splitlines() if line.startswith("| Probe |") and "≤ 3 ms" in line)
    assert "met" in row and "signing keys" in row and "6.00 ms" in row  # first request beside init
    line = init_phases.console_line(_with_phases(9.0)["functions"]["functions"][0])
    assert line is not None and "NOT MET" in line and "process start 0.80" in line


def test_a_function_with_a_target_but_no_timer_is_listed_unsplit() -> None:
    markdown = report.render_markdown(sample())  # the probe logs no init line
    section = markdown[markdown.index("### Where init goes") :]
    row = next(line for line in section.splitlines() if line.startswith("| Probe |"))
    assert "—" in row and "≤ 3 ms **not met**" in row  # the sample's probe takes 4 ms
