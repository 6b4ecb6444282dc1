"""Load thresholds: parsing locust's CSV, merging defaults, judging a run, bounds of local runs."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from devkit.load.run import (
    SCENARIOS,
    THRESHOLDS,
    LoadError,
    LoadOptions,
    RouteStats,
    check_bounds,
    evaluate,
    parse_duration,
    read_stats,
    scenario_thresholds,
)
from devkit.targets.endpoints import Endpoints

HEADER = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,"
    "Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
)


def row(kind: str, name: str, requests: int, failures: int, p50: str, p95: str, p99: str, rps: str) -> str:
    return f"{kind},{name},{requests},{failures},1,1,1,1,1,{rps},0,{p50},1,1,1,1,{p95},1,{p99},1,1,1"


def test_read_stats_parses_routes_and_the_aggregate(tmp_path: Path) -> None:
    path = tmp_path / "locust_stats.csv"
    lines = [
        HEADER,
        row("GET", "/posts", 100, 2, "12", "80", "150", "10.5"),
        row("POST", "/login", 1, 0, "N/A", "N/A", "N/A", "0.1"),
        row("", "Aggregated", 101, 2, "12", "80", "150", "10.6"),
    ]
    path.write_text("\n".join(lines) + "\n")
    rows, total = read_stats(path)
    assert rows[0] == RouteStats("GET /posts", 100, 2, 12.0, 80.0, 150.0, 10.5)
    assert rows[1].p95 == 0.0
    assert total.name == "Aggregated" and total.error_rate == pytest.approx(2 / 101)


def test_missing_aggregate_means_locust_did_not_finish(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text(HEADER + "\n")
    with pytest.raises(LoadError, match="Aggregated"):
        read_stats(path)


LIMITS = {
    "error_rate": 0.01,
    "min_rps": 5,
    "p95_ms": 100,
    "p99_ms": 200,
    "routes": {"/login": {"p95_ms": 5000, "p99_ms": 1000}},
}


def test_thresholds_that_hold_report_nothing() -> None:
    rows = [RouteStats("GET /posts", 1000, 5, 10, 90, 190, 50), RouteStats("POST /login", 1, 0, 900, 900, 900, 0.1)]
    assert evaluate(rows, RouteStats("Aggregated", 1001, 5, 10, 90, 190, 50), LIMITS) == []


def test_each_broken_threshold_is_one_sentence() -> None:
    rows = [RouteStats("GET /posts", 100, 5, 10, 120, 250, 4), RouteStats("POST /login", 1, 0, 6000, 6000, 6000, 0)]
    broken = evaluate(rows, RouteStats("Aggregated", 101, 5, 10, 120, 6000, 4), LIMITS)
    assert any(b.startswith("error rate 4.95%") for b in broken)
    assert any(b.startswith("throughput 4.0 rps") for b in broken)
    assert "GET /posts: p95 120 ms > 100 ms" in broken and "GET /posts: p99 250 ms > 200 ms" in broken
    assert "POST /login: p95 6000 ms > 5000 ms" in broken
    assert "POST /login: p99 6000 ms > 1000 ms" in broken  # the route's own limit, not the scenario's


def test_a_run_without_requests_fails() -> None:
    assert evaluate([], RouteStats("Aggregated", 0, 0, 0, 0, 0, 0), LIMITS) == ["no requests were made"]


def test_the_committed_thresholds_cover_every_scenario_with_defaults_underneath() -> None:
    config = tomllib.loads(THRESHOLDS.read_text())
    for scenario in SCENARIOS:
        limits = scenario_thresholds(config, scenario)
        assert {"error_rate", "p95_ms", "p99_ms", "min_rps"} <= set(limits), scenario
        assert "/login" in limits["routes"]
    with pytest.raises(LoadError, match="nope"):
        scenario_thresholds(config, "nope")


def test_scenario_values_override_defaults_per_route() -> None:
    config = {
        "defaults": {"error_rate": 0.05, "routes": {"/a": {"p95_ms": 10, "p99_ms": 20}}},
        "s": {"error_rate": 0.01, "routes": {"/a": {"p95_ms": 15}}},
    }
    limits = scenario_thresholds(config, "s")
    assert limits["error_rate"] == 0.01 and limits["routes"]["/a"] == {"p95_ms": 15, "p99_ms": 20}


@pytest.mark.parametrize(("text", "seconds"), [("20", 20), ("20s", 20), ("5m", 300), ("1m30s", 90), ("1h", 3600)])
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0s", "5x", "m"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(LoadError):
        parse_duration(text)


class LocalTarget:
    name = "the local cloud"


def test_local_runs_stay_on_loopback_and_bounded() -> None:
    local = Endpoints("http://127.0.0.1:1", "http://127.0.0.1:2", None, LocalTarget(), "the local cloud")
    check_bounds(local, LoadOptions(users=50))
    with pytest.raises(LoadError, match="at most 50"):
        check_bounds(local, LoadOptions(users=51))
    remote = Endpoints("http://10.0.0.5:1", "http://127.0.0.1:2", None, LocalTarget(), "the local cloud")
    with pytest.raises(LoadError, match="loopback"):
        check_bounds(remote, LoadOptions())
