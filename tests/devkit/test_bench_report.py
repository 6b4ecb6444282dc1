"""devkit.bench.report: metrics, regression comparison with the previous run, Markdown rendering, files."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

from devkit.bench import report


def _warm(p50: float, p99: float, rps: float, cpu: float = 150.0) -> dict[str, Any]:
    return {
        "p50_ms": p50,
        "p99_ms": p99,
        "rps": rps,
        "errors": 0,
        "requests": 100,
        "environments": 1,
        "runner_cpu_us_per_request": cpu,
    }


def sample(timestamp: str = "20260101T000000Z", **changes: float) -> dict[str, Any]:
    """A small but complete report (both sections), with figures overridable by dotted-ish keys."""
    data: dict[str, Any] = {
        "version": 1,
        "timestamp": timestamp,
        "command": "./inv bench --quick",
        "args": {"quick": True, "profile": "release", "local_cloud_only": False, "threshold": 0.25},
        "machine": {"cpus": 2, "loadavg_before": 0.5, "loadavg_after": 0.7},
        "build": {"seconds": 1.5, "binaries": ["probe"]},
        "overhead": {
            "settings": {"requests": 100, "warmup": 10, "repeats": 3, "levels": [1]},
            "cases": {
                "http-probe": {
                    "description": "echo through the gateway",
                    "function": "Probe",
                    "binary": "probe",
                    "ours": {
                        "path": "GET /echo",
                        "cold": {"init_ms": 3.0, "first_request_ms": 4.0, "rounds": 3},
                        "warm": {
                            "1": _warm(
                                changes.get("ours_p50", 0.5),
                                changes.get("ours_p99", 1.0),
                                changes.get("ours_rps", 2000.0),
                            )
                        },
                    },
                    "cargo": {
                        "path": "POST /2015-03-31/functions/_/invocations",
                        "cold": {"init_ms": None, "first_request_ms": 3.5, "rounds": 3},
                        "warm": {"1": _warm(0.3, 0.6, changes.get("cargo_rps", 3000.0))},
                    },
                }
            },
            "targets": [{"what": "http-probe p50 (c=1)", "value": 0.5, "target": "<= 2.0 ms", "ok": True}],
        },
        "functions": {
            "settings": {"rounds": 3, "requests": 100, "warmup": 10},
            "functions": [
                {
                    "function": "Probe",
                    "request": "GET /echo",
                    "runtime": "provided.al2023",
                    "cold": {"init_ms": changes.get("probe_init", 4.0), "first_request_ms": 6.0, "rounds": 3},
                    "warm": {"p50_ms": 0.5, "p99_ms": 0.9, "rps": 1900.0, "errors": 0, "requests": 100},
                    "rss": {"idle_mb": changes.get("probe_rss", 4.5), "peak_mb": 4.6, "environments": 1},
                    "size": {"bootstrap_bytes": 2_000_000, "zip_bytes": 900_000},
                },
                {
                    "function": "PythonBaseline",
                    "request": "GET /health/python-baseline",
                    "runtime": "python3.11",
                    "cold": {"init_ms": 40.0, "first_request_ms": 42.0, "rounds": 3},
                    "warm": {"p50_ms": None, "p99_ms": None, "rps": None, "errors": 0, "requests": 0},
                    "rss": {"idle_mb": 14.0, "peak_mb": 14.2, "environments": 1},
                    "size": {"bootstrap_bytes": 1500, "zip_bytes": 1100},
                },
            ],
            "language": {
                "python": {"init_ms": 40.0, "first_request_ms": 42.0, "idle_rss_mb": 14.0, "peak_rss_mb": 14.2},
                "probe": {"init_ms": 4.0, "first_request_ms": 6.0, "idle_rss_mb": 4.5, "peak_rss_mb": 4.6},
                "python_over_probe": {"init_ms": 10.0, "first_request_ms": 7.0, "idle_rss_mb": 3.1, "peak_rss_mb": 3.1},
            },
        },
        "regressions": [],
        "comparison_notes": [],
    }
    return data


def test_metrics_cover_our_side_only_and_skip_missing_values() -> None:
    found = report.metrics(sample())
    assert found["overhead.http-probe.c1.p50_ms"] == (0.5, "ms")
    assert found["overhead.http-probe.c1.rps"] == (2000.0, "rps")
    assert found["functions.Probe.rss.idle_mb"] == (4.5, "MB")
    assert found["functions.Probe.size.zip_bytes"] == (900_000.0, "bytes")
    assert not any("cargo" in name for name in found)  # the reference runner is not ours to regress
    assert "functions.PythonBaseline.warm.p50_ms" not in found  # None (cold-only run) is not a figure


def test_no_previous_run_no_regressions() -> None:
    assert report.compare(None, sample()) == []
    assert report.context_notes(None, sample()) == ["no previous run to compare with"]


def test_latency_regression_beyond_threshold_and_floor_is_reported_with_its_delta() -> None:
    before, after = sample(), sample(ours_p50=1.0)  # 0.5 → 1.0 ms: +100 %, +0.5 ms (floor 0.25 ms)
    found = report.compare(before, after, threshold=0.25)
    assert [r.metric for r in found] == ["overhead.http-probe.c1.p50_ms"]
    assert found[0].delta_pct == 100.0
    assert found[0].line() == "warning: regression overhead.http-probe.c1.p50_ms: 0.50 ms → 1.00 ms (+100 %)"


def test_throughput_regresses_downwards() -> None:
    found = report.compare(sample(), sample(ours_rps=1000.0))
    assert [(r.metric, round(r.delta_pct)) for r in found] == [("overhead.http-probe.c1.rps", -50)]


def test_improvements_small_changes_and_noise_are_not_regressions() -> None:
    base = sample()
    assert report.compare(base, sample(ours_p50=0.3, ours_rps=4000.0)) == []  # better
    assert report.compare(base, sample(ours_p50=0.6)) == []  # +20 %: under the threshold
    assert report.compare(base, sample(ours_p99=2.5)) == []  # +150 % but +1.5 ms: under the p99 floor (2 ms)
    assert report.compare(base, sample(probe_rss=5.2)) == []  # +0.7 MB: under the memory floor
    assert report.compare(base, sample(cargo_rps=100.0)) == []  # the reference runner got slower: not ours


def test_wider_floor_for_tails_and_cold_starts_still_catches_big_ones() -> None:
    assert report.compare(sample(), sample(probe_init=5.5)) == []  # +1.5 ms: under the cold-start floor (2 ms)
    found = report.compare(sample(), sample(ours_p99=5.0, probe_init=6.5))
    assert {r.metric for r in found} == {"overhead.http-probe.c1.p99_ms", "functions.Probe.cold.init_ms"}


def test_threshold_is_configurable() -> None:
    assert report.compare(sample(), sample(ours_p50=0.8), threshold=0.7) == []
    assert len(report.compare(sample(), sample(ours_p50=0.8), threshold=0.5)) == 1


def test_context_notes_name_a_different_mode_and_the_load() -> None:
    previous = sample()
    current = copy.deepcopy(previous)
    current["args"]["quick"] = False
    current["machine"]["loadavg_before"] = 3.0
    notes = report.context_notes(previous, current)
    assert any("quick=True" in n and "False" in n for n in notes)
    assert any("0.5 then, 3.0 now" in n for n in notes)


def test_markdown_has_every_section_and_the_warning_lines() -> None:
    data = sample()
    data["regressions"] = [{"line": "warning: regression x: 1.00 ms → 2.00 ms (+100 %)"}]
    data["previous"] = "20251231T000000Z"
    text = report.render_markdown(data)
    assert text.startswith("# Bench 20260101T000000Z")
    assert "**warning: regression x: 1.00 ms → 2.00 ms (+100 %)**" in text
    assert "## Local cloud overhead vs cargo lambda watch" in text
    assert (
        "| http-probe | 1 | 0.50 ms | 1.00 ms | 2000/s | 0.30 ms | 0.60 ms | 3000/s | 0.67 | 150 µs | 150 µs | 0 |"
        in text
    )
    assert "## Per function" in text
    assert "| PythonBaseline | `GET /health/python-baseline` | 40.00 ms |" in text
    assert "n/a" in text  # the cold-only warm figures
    assert "### Rust vs Python" in text and "**10.0x**" in text
    assert "Build (excluded from the bench): 1.5 s" in text


def test_markdown_says_when_nothing_regressed() -> None:
    data = sample()
    data["previous"] = "20251231T000000Z"
    assert "- no regression beyond the threshold" in report.render_markdown(data)


def test_jsonable_turns_nan_into_null() -> None:
    assert report.jsonable({"a": [math.nan, 1.0], "b": math.inf}) == {"a": [None, 1.0], "b": None}


def test_write_keeps_every_run_and_the_latest_and_previous_is_read_before_overwrite(tmp_path: Path) -> None:
    first = sample("20260101T000000Z")
    first["overhead"]["cases"]["http-probe"]["ours"]["warm"]["1"]["p99_ms"] = math.nan
    path = report.write(first, tmp_path)
    assert path == tmp_path / "20260101T000000Z" / "report.md"
    assert (tmp_path / "20260101T000000Z" / "chart.png").read_bytes()[:4] == b"\x89PNG"
    assert "](chart.png)" in path.read_text()
    assert "](20260101T000000Z/chart.png)" in (tmp_path / "latest.md").read_text()
    stored = json.loads((tmp_path / "latest.json").read_text())  # strict JSON: NaN became null
    assert stored["overhead"]["cases"]["http-probe"]["ours"]["warm"]["1"]["p99_ms"] is None

    previous = report.load_previous(tmp_path)
    assert previous is not None and previous["timestamp"] == "20260101T000000Z"
    report.write(sample("20260102T000000Z"), tmp_path)
    assert report.load_previous(tmp_path)["timestamp"] == "20260102T000000Z"  # type: ignore[index]
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["20260101T000000Z", "20260102T000000Z"]
    assert not list(tmp_path.rglob("*.tmp"))


def test_load_previous_of_nothing_or_garbage(tmp_path: Path) -> None:
    assert report.load_previous(tmp_path) is None
    (tmp_path / "latest.json").write_text("{not json")
    assert report.load_previous(tmp_path) is None


def test_a_failed_function_is_shown_and_skipped_by_the_comparison(tmp_path: Path) -> None:
    data = sample()
    data["functions"]["functions"].append({"function": "Broken", "request": "GET /health/x", "error": "HTTP 500"})
    assert not any(name.startswith("functions.Broken") for name in report.metrics(data))
    assert "| Broken | `GET /health/x` | **failed**: HTTP 500 |" in report.render_markdown(data)
    assert report.write(data, tmp_path).is_file()  # the chart leaves it out too


def test_runner_cpu_per_request_is_compared_too() -> None:
    before = sample()
    after = copy.deepcopy(before)
    after["overhead"]["cases"]["http-probe"]["ours"]["warm"]["1"]["runner_cpu_us_per_request"] = 300.0
    found = report.compare(before, after)
    assert [(r.metric, r.line()) for r in found] == [
        (
            "overhead.http-probe.c1.runner_cpu_us_per_request",
            "warning: regression overhead.http-probe.c1.runner_cpu_us_per_request: 150 µs → 300 µs (+100 %)",
        )
    ]


def test_currency_writes_per_command_is_a_figure_that_regresses_upwards() -> None:
    before, after = sample(), sample()
    before["currency"] = {"p50_ms": 50.0, "p99_ms": 200.0, "dynamodb_writes_per_command": 2.0}
    after["currency"] = {"p50_ms": 50.0, "p99_ms": 200.0, "dynamodb_writes_per_command": 4.0}
    assert report.metrics(after)["currency.dynamodb_writes_per_command"] == (4.0, "writes")
    found = report.compare(before, after)
    assert [r.line() for r in found] == [
        "warning: regression currency.dynamodb_writes_per_command: 2.00 writes → 4.00 writes (+100 %)"
    ]
    assert report.compare(after, before) == []  # fewer writes: better
