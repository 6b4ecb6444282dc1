"""The EMF validator (devkit.observe.metrics.validate) against the specification's required fields, and aggregation.

The same validator runs on lines captured from a real run in tests/system/e2e/test_observability.py.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from devkit.observe import metrics

VALID: dict[str, Any] = {
    "_aws": {
        "Timestamp": 1732406400000,
        "CloudWatchMetrics": [
            {
                "Namespace": "lambda-rust-reference/dev",
                "Dimensions": [["FunctionName", "Route"], ["FunctionName"]],
                "Metrics": [{"Name": "Requests", "Unit": "Count"}, {"Name": "Latency", "Unit": "Milliseconds"}],
            }
        ],
    },
    "FunctionName": "fn",
    "Route": "GET /currencies",
    "Requests": 1,
    "Latency": [2.5, 3.0],
    "request_id": "r-1",
}


def broken(path: list[Any], value: Any = None, *, delete: bool = False) -> dict[str, Any]:
    doc = copy.deepcopy(VALID)
    node: Any = doc
    for key in path[:-1]:
        node = node[key]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return doc


def test_a_complete_document_is_valid() -> None:
    assert metrics.validate(VALID) == []
    no_dimensions = broken(["_aws", "CloudWatchMetrics", 0, "Dimensions"], [[]])
    assert metrics.validate(no_dimensions) == []
    no_unit = broken(["_aws", "CloudWatchMetrics", 0, "Metrics"], [{"Name": "Requests"}])
    assert metrics.validate(no_unit) == []


@pytest.mark.parametrize(
    ("doc", "complaint"),
    [
        (broken(["_aws"], delete=True), "_aws"),
        (broken(["_aws", "Timestamp"], "2026-11-24T00:00:00Z"), "Timestamp"),
        (broken(["_aws", "Timestamp"], 1.5), "Timestamp"),
        (broken(["_aws", "Timestamp"], delete=True), "Timestamp"),
        (broken(["_aws", "CloudWatchMetrics"], {}), "CloudWatchMetrics"),
        (broken(["_aws", "CloudWatchMetrics", 0, "Namespace"], ""), "Namespace"),
        (broken(["_aws", "CloudWatchMetrics", 0, "Namespace"], delete=True), "Namespace"),
        (broken(["_aws", "CloudWatchMetrics", 0, "Dimensions"], ["FunctionName"]), "Dimensions[0]"),
        (broken(["_aws", "CloudWatchMetrics", 0, "Dimensions"], [[f"d{i}" for i in range(31)]]), "more than 30"),
        (broken(["FunctionName"], delete=True), "dimension 'FunctionName'"),
        (broken(["_aws", "CloudWatchMetrics", 0, "Metrics"], [{"Unit": "Count"}]), "Name"),
        (broken(["_aws", "CloudWatchMetrics", 0, "Metrics", 0, "Unit"], "Requests"), "Unit"),
        (broken(["_aws", "CloudWatchMetrics", 0, "Metrics"], [{"Name": f"m{i}"} for i in range(101)]), "100"),
        (broken(["Requests"], delete=True), "metric 'Requests'"),
        (broken(["Requests"], "1"), "metric 'Requests'"),
        (broken(["Latency"], [1, "2"]), "metric 'Latency'"),
        (broken(["Requests"], True), "metric 'Requests'"),
    ],
)
def test_each_missing_or_malformed_required_field_is_reported(doc: dict[str, Any], complaint: str) -> None:
    errors = metrics.validate(doc)
    assert errors and any(complaint in e for e in errors), errors


def test_parse_picks_emf_lines_only() -> None:
    assert metrics.parse_emf(json.dumps(VALID)) == VALID
    assert metrics.parse_emf('{"level":"INFO","message":"request"}') is None
    assert metrics.parse_emf("REPORT RequestId: x Duration: 1 ms") is None
    assert metrics.parse_emf('{"_aws": broken') is None


def test_aggregate_and_table(tmp_path: Path) -> None:
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    lines = []
    for latency in (1.0, 2.0, 3.0, 100.0):
        doc = {**copy.deepcopy(VALID), "Latency": latency}
        lines.append(f"2026-11-24T00:00:00.000Z\tFat\treq\t{json.dumps(doc)}")
    lines.append("2026-11-24T00:00:00.000Z\tFat\treq\tREPORT RequestId: req Duration: 1 ms")
    (log_dir / "Fat.log").write_text("\n".join(lines) + "\n")
    docs = [doc for _, doc in metrics.local_documents(log_dir)]
    assert len(docs) == 4
    series = {(s.metric, s.dimensions): s for s in metrics.aggregate(docs)}
    by_route = series[("Latency", (("FunctionName", "fn"), ("Route", "GET /currencies")))]
    assert (by_route.count, by_route.sum, by_route.percentile(50), by_route.percentile(99)) == (4, 106.0, 2.0, 100.0)
    assert series[("Requests", (("FunctionName", "fn"),))].sum == 4
    table = metrics.table(list(series.values()))
    assert table.splitlines()[0].split() == ["metric", "dimensions", "unit", "count", "sum", "p50", "p99"]
    assert "FunctionName=fn, Route=GET /currencies" in table


class _Paginator:
    def __init__(self, handler: Any) -> None:
        self.handler = handler

    def paginate(self, **kwargs: Any) -> list[dict[str, Any]]:
        return self.handler(**kwargs)


class _FakeCloudWatch:
    def __init__(self) -> None:
        self.queries: list[dict[str, Any]] = []

    def get_paginator(self, name: str) -> _Paginator:
        if name == "list_metrics":
            return _Paginator(
                lambda Namespace: [
                    {
                        "Metrics": [
                            {
                                "Namespace": Namespace,
                                "MetricName": "Latency",
                                "Dimensions": [{"Name": "Route", "Value": "GET /x"}],
                            }
                        ]
                    }
                ]
            )
        values = {"samplecount": [3.0, 1.0], "sum": [30.0, 6.0], "p50": [9.0], "p99": [20.0, 12.0]}

        def data(MetricDataQueries: list[dict[str, Any]], **_: Any) -> list[dict[str, Any]]:
            self.queries = MetricDataQueries
            return [
                {
                    "MetricDataResults": [
                        {"Id": q["Id"], "Values": values[q["Id"].split("_")[1]]} for q in MetricDataQueries
                    ]
                }
            ]

        return _Paginator(data)


def test_cloudwatch_series_reads_count_sum_and_percentiles() -> None:
    cloudwatch = _FakeCloudWatch()
    [series] = metrics.cloudwatch_series(cloudwatch, "lambda-rust-reference/dev", hours=1)
    assert (series.metric, series.dimensions) == ("Latency", (("Route", "GET /x"),))
    assert (series.count, series.sum, series.percentile(50), series.percentile(99)) == (4, 36.0, 9.0, 20.0)
    assert {q["MetricStat"]["Stat"] for q in cloudwatch.queries} == {"SampleCount", "Sum", "p50", "p99"}
    assert "Latency" in metrics.table([series])
