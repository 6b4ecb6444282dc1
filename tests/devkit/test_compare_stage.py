"""`./inv compare --stage S`, offline: the prod guard (before any AWS call), the stage's API URLs and function
names, REPORT lines read back from CloudWatch Logs (moto, recorded lines), waiting for log delivery, and the
billing and cost a topology gets from those lines. The run against a real deployment needs an AWS account."""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest
from moto import mock_aws

from devkit import targets
from devkit.compare import curve, reportlines, stage
from devkit.compare.cost import Prices
from devkit.compare.run import CompareOptions, run_compare_stage
from devkit.targets.safety import ProdRefused

PRICES = Prices(
    request_per_million=0.20, gb_second=0.0000166667, api_per_million=1.0, lmi_instance_hour=0.1, lmi_fee=0.15,
    lmi_min_instances=3, lmi_request_per_million=0.20, lmi_instance_type="test.large",
)  # fmt: skip
T0 = float(
    int(time.time()) - 3600
)  # the recorded run started an hour ago (CloudWatch refuses events older than 14 days)
RECORDED = [  # CloudWatch messages of one function during a run: one cold start, two warm invocations
    (T0 + 1.0, "REPORT RequestId: a1\tDuration: 12.40 ms\tBilled Duration: 58 ms\tMemory Size: 1024 MB\t"
               "Max Memory Used: 21 MB\tInit Duration: 45.10 ms\t"),
    (T0 + 1.5, "START RequestId: a2 Version: $LATEST"),
    (T0 + 2.0, "REPORT RequestId: a2\tDuration: 3.20 ms\tBilled Duration: 4 ms\tMemory Size: 1024 MB\t"
               "Max Memory Used: 22 MB\t"),
    (T0 + 3.0, "REPORT RequestId: a3\tDuration: 5.90 ms\tBilled Duration: 6 ms\tMemory Size: 1024 MB\t"
               "Max Memory Used: 22 MB\t"),
    (T0 + 60.0, "REPORT RequestId: late\tDuration: 1.00 ms\tBilled Duration: 1 ms\tMemory Size: 1024 MB\t"
                "Max Memory Used: 22 MB\t"),
]  # fmt: skip


@pytest.mark.parametrize("name", ["prod", "live-eu", "my-production"])
def test_prod_looking_stages_are_refused_before_any_aws_call(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_aws(*_: Any, **__: Any) -> None:
        raise AssertionError("an AWS call was made before the prod guard")

    monkeypatch.setattr(targets, "stage", no_aws)
    with pytest.raises(ProdRefused, match="--i-know"):
        run_compare_stage(CompareOptions(), name)


def test_a_prod_looking_api_url_is_refused_even_on_an_innocent_stage(monkeypatch: pytest.MonkeyPatch) -> None:
    outputs = {"HttpApiUrl": "https://api.prod.example.com/", "AuthApiUrl": "https://auth.example.com"}
    monkeypatch.setattr(targets, "stage", lambda name: targets.Target(f"stage {name}", "us-east-1", outputs))
    with pytest.raises(ProdRefused, match=r"api\.prod\.example\.com"):
        run_compare_stage(CompareOptions(), "dev")


def test_guard_lets_test_stages_and_i_know_through() -> None:
    stage.guard("dev", {"HttpApi": "https://abc.execute-api.us-east-1.amazonaws.com"}, i_know=False)
    stage.guard("product-demo", {}, i_know=False)
    stage.guard("prod", {"HttpApi": "https://prod.example.com"}, i_know=True)


def test_api_urls_come_from_the_stacks_outputs() -> None:
    outputs = {"HttpApiUrl": "https://h.example/", "AuthApiUrl": "https://a.example", "FatApiUrl": "",
               "BlogMicroApiUrl": "https://m.example", "UsersTableName": "users"}  # fmt: skip
    assert stage.api_urls(outputs) == {
        "AuthApi": "https://a.example", "HttpApi": "https://h.example", "BlogMicroApi": "https://m.example",
    }  # fmt: skip


class _Pages:
    def __init__(self, pages: list[dict[str, Any]]) -> None:
        self.pages = pages

    def get_paginator(self, _: str) -> _Pages:
        return self

    def paginate(self, **_: Any) -> list[dict[str, Any]]:
        return self.pages


def test_function_names_are_the_stacks_lambda_functions() -> None:
    pages = [
        {"StackResourceSummaries": [
            {"LogicalResourceId": "Convert", "PhysicalResourceId": "app-dev-Convert-1A", "ResourceType":
             "AWS::Lambda::Function"},
            {"LogicalResourceId": "ConvertRole", "PhysicalResourceId": "r", "ResourceType": "AWS::IAM::Role"},
        ]},
        {"StackResourceSummaries": [
            {"LogicalResourceId": "Fat", "PhysicalResourceId": "app-dev-Fat-9Z", "ResourceType":
             "AWS::Lambda::Function"},
        ]},
    ]  # fmt: skip
    assert stage.function_names(_Pages(pages), "app-dev") == {"Convert": "app-dev-Convert-1A", "Fat": "app-dev-Fat-9Z"}


@mock_aws
def test_report_lines_are_read_back_from_cloudwatch_logs_within_the_window() -> None:
    logs = boto3.client("logs", region_name="us-east-1")
    logs.create_log_group(logGroupName="/aws/lambda/app-dev-Convert-1A")
    logs.create_log_stream(logGroupName="/aws/lambda/app-dev-Convert-1A", logStreamName="2026/12/06/[$LATEST]x")
    logs.put_log_events(
        logGroupName="/aws/lambda/app-dev-Convert-1A", logStreamName="2026/12/06/[$LATEST]x",
        logEvents=[{"timestamp": int(at * 1000), "message": text} for at, text in RECORDED],
    )  # fmt: skip
    found = stage.report_lines(logs, "app-dev-Convert-1A", T0, T0 + 10)
    assert [r.billed_ms for r in found] == [58.0, 4.0, 6.0], "REPORT lines of the window only"
    assert found[0].init_ms == 45.1 and found[0].at == T0 + 1.0
    assert stage.report_lines(logs, "never-invoked", T0, T0 + 10) == []


def test_settled_reports_waits_until_the_counts_stop_growing() -> None:
    report = reportlines.parse(RECORDED[2][1])
    assert report is not None
    seen = iter([0, 1, 2, 2, 2, 2, 2, 9])
    now = [0.0]
    polls: list[int] = []

    def fetch() -> dict[str, list[reportlines.Report]]:
        n = next(seen)
        polls.append(n)
        return {"Convert": [report] * n}

    got = stage.settled_reports(fetch, deadline_s=100, poll_s=1, clock=lambda: now[0],
                                sleep=lambda s: now.__setitem__(0, now[0] + s))  # fmt: skip
    assert len(got["Convert"]) == 2 and polls == [0, 1, 2, 2, 2, 2]
    late = stage.settled_reports(lambda: {"Convert": []}, deadline_s=3, poll_s=1, clock=lambda: now[0],
                                 sleep=lambda s: now.__setitem__(0, now[0] + s))  # fmt: skip
    assert late == {"Convert": []}, "gives up at the deadline"


def test_a_topology_is_priced_from_its_recorded_report_lines() -> None:
    reports = {"Convert": [r for at, text in RECORDED[:4] if (r := reportlines.parse(text, at))], "Fat": []}
    server = stage.measure(reports, [T0 + 0.9, T0 + 2.0, T0 + 3.0], 3, {"Convert": 1024, "Fat": 1024}, {})
    assert server["functions"] == ["Convert"] and server["cold_starts"] == 1
    assert server["timeline"] == [(0, 0), (1, 1), (3, 1)]
    assert server["uses"] == [curve.FunctionUse("Convert", 1.0, 5.0, 45.1, 1024, False)]
    # 1 M requests: API 1.00 + requests 0.20 + 1 M x 5 ms x 1 GB (0.083333) + 365 cold starts x 45.1 ms (0.000274)
    assert curve.monthly_cost(server["uses"], 1_000_000, PRICES) == pytest.approx(1.283608, abs=1e-5)


@mock_aws
def test_a_profile_against_a_stage_prices_each_topology_from_the_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stage loop with its network edges replaced: seeding and driving are stubbed, the "deployed" function
    writes the recorded REPORT lines to (moto's) CloudWatch Logs while the traffic runs."""
    from dataclasses import replace
    from types import SimpleNamespace

    from devkit.compare import run
    from devkit.compare.profiles import CONVERT

    logs = boto3.client("logs", region_name="us-east-1")
    group, stream = "/aws/lambda/app-dev-Convert-1A", "s"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)

    async def drive(base: str, calls: list[Any], concurrency: int, seeds: Any) -> tuple[dict[str, Any], list[float]]:
        now = time.time()  # the lines are stamped inside the run's window, in the millisecond it started
        reports = [text for _, text in RECORDED[:4] if text.startswith("REPORT")]
        events = [{"timestamp": int(now * 1000), "message": text} for text in reports]
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
        figures = {"requests": 3, "errors": 0, "error_rate": 0.0, "p50_ms": 5.0, "p95_ms": 9.0, "p99_ms": 12.0,
                   "latency_quantiles_ms": [5.0] * 101}  # fmt: skip
        return figures, [now, now, now]

    monkeypatch.setattr(run, "_seed", lambda *_: {})
    monkeypatch.setattr(run, "_drive", drive)
    monkeypatch.setattr(stage.time, "sleep", lambda _: None)
    target = SimpleNamespace(name="stage dev", client=lambda service: logs)
    spec = SimpleNamespace(functions={"Convert": SimpleNamespace(memory_mb=1024, is_managed_instances=False)})
    context = {"stack": spec, "actions": {"Convert": ["dynamodb:GetItem"]}, "prices": PRICES,
               "options": CompareOptions(quick=True), "code_sizes": {"Convert": 4_400_000}}  # fmt: skip
    profile = replace(
        CONVERT, topologies={"standard": "ConvertStandardApi", "lmi": "HttpApi"}, monthly_requests=1_000_000
    )
    urls = {"ConvertStandardApi": "https://s.example"}  # no HttpApi URL: the lmi topology is left out
    said: list[str] = []
    result = stage.run_profile(profile, target, urls, {"Convert": "app-dev-Convert-1A"}, context, said.append)

    assert list(result["topologies"]) == ["standard"] and any("lmi: HttpApi has no URL" in s for s in said)
    standard = result["topologies"]["standard"]
    assert standard["functions"] == ["Convert"] and standard["cold_starts"] == 1
    assert standard["uses"] == [{"function": "Convert", "per_request": 1.0, "warm_billed_ms": 5.0, "init_ms": 45.1,
                                 "memory_mb": 1024, "managed_instances": False}]  # fmt: skip
    assert standard["cost"]["total"] == 1.28, "priced from the recorded lines, as computed by hand above"
    assert standard["deploy_bytes"] == 4_400_000 and standard["iam_max_actions"] == 1
