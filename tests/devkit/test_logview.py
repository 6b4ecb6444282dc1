"""devkit.observe.logs: parsing, filtering and printing function logs (local files and CloudWatch Logs pages)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from devkit.observe import logs as logview

APP = {
    "timestamp": "2026-11-24T01:02:03.456Z",
    "level": "WARN",
    "target": "currency::routes",
    "function": "stack-CurrencyWrite",
    "request_id": "req-1",
    "trace_id": "1-abc-def",
    "cold_start": True,
    "method": "POST",
    "route": "/currencies",
    "status": 202,
    "latency_ms": 3.5,
    "message": "request",
}
EMF = {
    "_aws": {
        "Timestamp": 1,
        "CloudWatchMetrics": [{"Namespace": "n", "Dimensions": [[]], "Metrics": [{"Name": "Payments"}]}],
    },
    "Payments": 1,
}


def test_parse_app_emf_and_runtime_lines() -> None:
    app = logview.parse("ignored", "CurrencyWrite", json.dumps(APP))
    assert (app.level, app.request_id, app.trace_id, app.message) == ("WARN", "req-1", "1-abc-def", "request")
    assert app.timestamp == APP["timestamp"]  # the function's own timestamp wins
    emf = logview.parse("t", "Billing", json.dumps(EMF))
    assert emf.level == "METRIC" and emf.message == "EMF Payments=1"
    runtime = logview.parse("2026-11-24T00:00:00.000Z", "Fn", "REPORT RequestId: r Duration: 1 ms")
    assert (runtime.level, runtime.fields, runtime.request_id) == ("INFO", {}, None)


def test_filters_by_minimum_level_request_and_trace() -> None:
    app = logview.parse("t", "CurrencyWrite", json.dumps(APP))
    info = logview.parse("t", "CurrencyWrite", json.dumps({**APP, "level": "INFO"}))
    runtime = logview.parse("t", "Fn", "START RequestId: req-1 Version: $LATEST")
    assert logview.matches(app, level="warn") and not logview.matches(info, level="warn")
    assert logview.matches(info, level="info") and logview.matches(runtime, level="debug")
    assert not logview.matches(runtime, level="error")
    assert logview.matches(app, request_id="req-1") and logview.matches(runtime, request_id="req-1")
    assert not logview.matches(app, request_id="req-2")
    assert logview.matches(app, trace_id="1-abc-def") and not logview.matches(runtime, trace_id="1-abc-def")


def test_pretty_and_json_rendering() -> None:
    app = logview.parse("t", "CurrencyWrite", json.dumps(APP))
    line = logview.pretty(app)
    assert line.startswith("01:02:03.456 WARN   [CurrencyWrite] request method=POST route=/currencies status=202")
    assert line.endswith("[req-1 cold]") and "target=" not in line
    assert json.loads(logview.render(app, as_json=True))["route"] == "/currencies"
    raw = logview.render(logview.parse("t", "Fn", "END RequestId: r"), as_json=True)
    assert json.loads(raw) == {"timestamp": "t", "function": "Fn", "message": "END RequestId: r"}


def test_an_access_log_line_is_one_summary_in_pretty_mode_and_whole_in_json() -> None:
    record = {
        "requestId": "gw-1",
        "ip": "127.0.0.1",
        "requestTime": "06/Dec/2026:10:00:00 +0000",
        "httpMethod": "POST",
        "routeKey": "POST /login",
        "status": "500",
        "protocol": "HTTP/1.1",
        "responseLength": "35",
        "responseLatency": "12",
        "integrationErrorMessage": "The Lambda function returned an error",
    }
    entry = logview.parse("2026-12-06T10:00:00.123Z", "AuthApiAccessLogs", json.dumps(record))
    line = logview.pretty(entry)
    assert "[AuthApiAccessLogs] POST POST /login 500 12ms (The Lambda function returned an error)" in line
    assert "requestId=" not in line and "ip=" not in line, line
    assert json.loads(logview.render(entry, as_json=True))["routeKey"] == "POST /login"


def test_local_entries_are_in_time_order_across_functions(tmp_path: Path) -> None:
    (tmp_path / "A.log").write_text("2026-11-24T00:00:02.000Z\tA\treq-a\tsecond\n")
    (tmp_path / "B.log").write_text(
        "2026-11-24T00:00:01.000Z\tB\treq-b\tfirst\n2026-11-24T00:00:03.000Z\tB\t-\tthird\n"
    )
    entries = list(logview.local_entries(tmp_path))
    assert [e.text for e in entries] == ["first", "second", "third"]
    assert [e.request_id for e in entries] == ["req-b", "req-a", None]
    assert [e.text for e in logview.local_entries(tmp_path, function="A")] == ["second"]


class _Pages:
    def __init__(self, pages: dict[str, list[dict[str, Any]]]) -> None:
        self.pages = pages
        self.calls: list[dict[str, Any]] = []

    def paginate(self, **kwargs: Any) -> list[dict[str, Any]]:
        self.calls.append(kwargs)
        key = kwargs.get("logGroupName") or kwargs.get("StackName") or ""
        if key not in self.pages:
            raise _FakeLogs.exceptions.ResourceNotFoundException()
        return self.pages[key]


class _FakeLogs:
    class exceptions:  # boto3's shape
        class ResourceNotFoundException(Exception):
            pass

    def __init__(self, pages: dict[str, list[dict[str, Any]]]) -> None:
        self.paginator = _Pages(pages)

    def get_paginator(self, name: str) -> _Pages:
        return self.paginator


def test_deployed_log_groups_and_filter_log_events() -> None:
    cfn = _FakeLogs(
        {
            "lambda-rust-reference-dev": [
                {
                    "StackResourceSummaries": [
                        {
                            "LogicalResourceId": "Fat",
                            "PhysicalResourceId": "dev-Fat-1",
                            "ResourceType": "AWS::Lambda::Function",
                        },
                        {
                            "LogicalResourceId": "Gone",
                            "PhysicalResourceId": "dev-Gone",
                            "ResourceType": "AWS::Lambda::Function",
                        },
                        {"LogicalResourceId": "T", "PhysicalResourceId": "t", "ResourceType": "AWS::DynamoDB::Table"},
                        {
                            "LogicalResourceId": "FatApiAccessLogs",
                            "PhysicalResourceId": "/aws/apigateway/dev/FatApi/access",
                            "ResourceType": "AWS::Logs::LogGroup",
                        },
                        {
                            "LogicalResourceId": "FatLogs",
                            "PhysicalResourceId": "x",
                            "ResourceType": "AWS::Logs::LogGroup",
                        },
                    ]
                }
            ]
        }
    )
    groups = logview.log_groups(cfn, "lambda-rust-reference-dev")
    assert groups == {
        "Fat": "/aws/lambda/dev-Fat-1",
        "Gone": "/aws/lambda/dev-Gone",
        "FatApiAccessLogs": "/aws/apigateway/dev/FatApi/access",
    }
    logs = _FakeLogs(
        {
            "/aws/lambda/dev-Fat-1": [
                {"events": [{"timestamp": 1795482475809, "eventId": "e1", "message": json.dumps(APP)}]}
            ]
        }
    )
    found = list(logview.cloudwatch_entries(logs, groups, start_ms=5, filter_pattern='"req-1"'))
    assert [(ts, eid, e.function, e.message) for ts, eid, e in found] == [(1795482475809, "e1", "Fat", "request")]
    assert logs.paginator.calls[0] == {
        "logGroupName": "/aws/lambda/dev-Fat-1",
        "startTime": 5,
        "filterPattern": '"req-1"',
    }
    assert logview.filter_pattern_for("req-1", "1-abc") == '"req-1" "1-abc"'
    assert logview.filter_pattern_for() == ""
