"""`./inv compare --stage S`: the same traffic profiles against a deployed stack (every topology is in the one
template, so one stage serves them all), measured from the client and from the functions' REPORT lines in
CloudWatch Logs; refuses a stage or URL that looks like production unless `--i-know`.

A deployed stage is not fresh: environments kept warm by earlier traffic serve the run, so "environments started"
counts the cold starts seen during the run, and memory is each function's Max Memory Used times the environments
that run started (the local cloud reads the resident memory of every environment instead).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from devkit import targets
from devkit.compare import curve, reportlines
from devkit.compare.profiles import Profile, plan
from devkit.targets import safety

# API logical id → the stack output that holds its URL (infra/template.yaml's Outputs)
API_OUTPUTS = {
    "AuthApi": "AuthApiUrl",
    "HttpApi": "HttpApiUrl",
    "FatApi": "FatApiUrl",
    "BlogMicroApi": "BlogMicroApiUrl",
    "ConvertStandardApi": "ConvertStandardApiUrl",
}
LOG_DELIVERY_S = 180.0  # CloudWatch Logs usually shows REPORT lines within a minute; wait at most this long
STABLE_POLLS = 3


def api_urls(outputs: dict[str, str]) -> dict[str, str]:
    """API logical id → base URL (no trailing slash), for the APIs the stage's outputs name."""
    return {api: outputs[key].rstrip("/") for api, key in API_OUTPUTS.items() if outputs.get(key)}


def guard(stage: str, urls: dict[str, str], *, i_know: bool) -> None:
    """Refuse a prod-looking stage name or API URL (`safety.ProdRefused`) unless `i_know`."""
    if i_know:
        return
    for target in [stage, *urls.values()]:
        if target and safety.looks_like_prod(target):
            raise safety.ProdRefused(
                f"{target!r} looks like production (contains one of {', '.join(safety.PROD_WORDS)}); "
                "compare sends thousands of requests and writes posts and currencies to it: pass --i-know if this "
                "really is a test stage"
            )


def function_names(cloudformation: Any, stack_name: str) -> dict[str, str]:
    """Function logical id → deployed function name, from the stack's resources."""
    out: dict[str, str] = {}
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name):
        for resource in page["StackResourceSummaries"]:
            if resource["ResourceType"] == "AWS::Lambda::Function":
                out[resource["LogicalResourceId"]] = resource["PhysicalResourceId"]
    return out


def report_lines(logs: Any, function_name: str, start_s: float, end_s: float) -> list[reportlines.Report]:
    """The function's REPORT lines logged between `start_s` and `end_s` (s since the epoch)."""
    found: list[reportlines.Report] = []
    pages = logs.get_paginator("filter_log_events").paginate(
        logGroupName=f"/aws/lambda/{function_name}",
        startTime=int(start_s * 1000),
        endTime=int(end_s * 1000) + 1,
        filterPattern="REPORT",
    )
    try:
        for page in pages:
            for event in page.get("events", []):
                report = reportlines.parse(event["message"], event["timestamp"] / 1000)
                if report:
                    found.append(report)
    except logs.exceptions.ResourceNotFoundException:
        return []  # never invoked: no log group yet
    return sorted(found, key=lambda r: r.at)


def settled_reports(
    fetch: Callable[[], dict[str, list[reportlines.Report]]],
    *,
    deadline_s: float = LOG_DELIVERY_S,
    poll_s: float = 5.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, list[reportlines.Report]]:
    """Polls `fetch` (function → REPORT lines) until the counts stop changing for `STABLE_POLLS` polls with some
    lines seen, or `deadline_s` passes (log delivery is asynchronous)."""
    end = clock() + deadline_s
    last: dict[str, int] = {}
    stable = 0
    latest = fetch()
    while clock() < end:
        counts = {f: len(r) for f, r in latest.items() if r}
        stable = stable + 1 if counts and counts == last else 0
        if stable >= STABLE_POLLS:
            break
        last = counts
        sleep(poll_s)
        latest = fetch()
    return latest


def measure(
    reports: dict[str, list[reportlines.Report]],
    completions: list[float],
    requests: int,
    memory_mb: dict[str, int],
    managed: dict[str, bool],
) -> dict[str, Any]:
    """A topology's server-side figures from its functions' REPORT lines during the run (functions without any
    are left out)."""
    used = sorted(f for f, found in reports.items() if found)
    billing = {f: reportlines.summarise(reports[f]) for f in used}
    uses = curve.from_billing(billing, requests, memory_mb, managed)
    colds = [r.at for f in used for r in reports[f] if r.init_ms is not None and not managed.get(f, False)]
    return {
        "functions": used,
        "cold_starts": len(colds),
        "environments": len(colds),
        "timeline": reportlines.timeline(completions, colds),
        "rss_mb": float(sum(b.max_memory_mb * max(b.cold_starts, 1) for b in billing.values())),
        "billed_ms_mean": {f: round(b.warm_billed_ms, 2) for f, b in billing.items()},
        "uses": uses,
    }


def run_profile(
    profile: Profile,
    target: targets.Target,
    urls: dict[str, str],
    names: dict[str, str],
    context: dict[str, Any],
    say: Callable[[str], None],
) -> dict[str, Any]:
    """One profile against the stage: the local run's driving and seeding, CloudWatch's REPORT lines for billing.
    `context`: stack spec, IAM actions, prices, options, deploy sizes (function → bytes)."""
    import asyncio

    from devkit.compare import run

    stack, actions, prices, options = context["stack"], context["actions"], context["prices"], context["options"]
    seeds = run._seed(profile, urls, target)
    logs = target.client("logs")
    out: dict[str, Any] = {
        "profile": profile.name, "description": profile.description, "monthly_requests": profile.monthly_requests,
        "requests_per_topology": options.requests, "concurrency": profile.concurrency, "topologies": {},
        "target": target.name,
    }  # fmt: skip
    candidates = sorted(f for f in names if f not in run.SHARED)
    for topology, api in profile.topologies.items():
        if api not in urls:
            say(f"compare:   {topology}: {api} has no URL in the stage's outputs; left out")
            continue
        started = time.time()
        figures, completions = asyncio.run(
            run._drive(urls[api], plan(profile, options.requests), profile.concurrency, seeds)
        )
        ended = time.time()
        window = (started, ended)
        reports = settled_reports(
            lambda w=window: {f: report_lines(logs, names[f], *w) for f in candidates}  # type: ignore[misc]
        )
        server = measure(
            reports,
            completions,
            figures["requests"],
            {f: stack.functions[f].memory_mb for f in candidates if f in stack.functions},
            {f: stack.functions[f].is_managed_instances for f in candidates if f in stack.functions},
        )
        uses = server.pop("uses")
        used = server["functions"]
        out["topologies"][topology] = {
            "api": api,
            **figures,
            **server,
            "rps": round(figures["requests"] / max(ended - started, 1e-9), 1),
            "uses": [asdict(u) for u in uses],
            "cost": {"total": round(curve.monthly_cost(uses, profile.monthly_requests, prices), 2)},
            "iam_actions": {f: len(actions.get(f, [])) for f in used},
            "iam_max_actions": max((len(actions.get(f, [])) for f in used), default=0),
            "deploy_bytes": sum(context["code_sizes"].get(f, 0) for f in used),
        }
        say(f"compare:   {topology:<9} p99 {figures['p99_ms']:.1f} ms, {server['cold_starts']} cold starts, "
            f"functions {', '.join(used) or 'none seen in the logs'}")  # fmt: skip
    return out


def code_sizes(lambda_client: Any, names: dict[str, str]) -> dict[str, int]:
    """Function logical id → deployed package size (bytes)."""
    return {lid: lambda_client.get_function_configuration(FunctionName=name)["CodeSize"] for lid, name in names.items()}
