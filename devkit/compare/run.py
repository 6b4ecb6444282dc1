"""Runs the traffic profiles against every topology; one fresh local cloud per profile, so each starts cold."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import requests

from devkit import build, paths, targets
from devkit.bench import write_to_read
from devkit.bench.stats import percentile
from devkit.compare import cost, curve, iam, reportlines
from devkit.compare.profiles import PROFILES, Call, Profile, plan
from devkit.localcloud import expand, load_stack, parse_line
from devkit.stack import local_status
from devkit.targets.endpoints import local_cloud

PASSWORD = "compare password: correct horse battery staple"
SHARED = {"AuthManager"}  # the identity API every topology uses (JWKS on cold starts); not a topology's own
SEED_CODES = ("EUR", "USD", "GBP", "CHF")


@dataclass(frozen=True)
class CompareOptions:
    traffic: str = "all"  # a profile name or "all"
    quick: bool = False
    profile: str = "ci"  # cargo profile of the bootstraps
    backend: str = "moto"
    build: bool = True

    @property
    def requests(self) -> int:
        return 300 if self.quick else 2000


def chosen_profiles(traffic: str) -> list[Profile]:
    if traffic == "all":
        return list(PROFILES.values())
    if traffic not in PROFILES:
        raise ValueError(f"unknown traffic profile {traffic!r}: choose all, {', '.join(PROFILES)}")
    return [PROFILES[traffic]]


def run_compare(options: CompareOptions, say: Callable[[str], None] = print) -> list[dict[str, Any]]:
    stack = load_stack(paths.TEMPLATE, stack_name="local", region="eu-west-1",
                       parameters=paths.LOCAL_PARAMETERS)  # fmt: skip
    actions = iam.actions_per_function(
        expand(paths.TEMPLATE, region="eu-west-1", parameters={"Stage": "local"})["template"]
    )
    if options.build:
        binaries = sorted({fn.binary for fn in stack.functions.values() if fn.binary})
        say(f"compare: building {len(binaries)} bootstraps (profile {options.profile})…")
        build.build_bootstraps(binaries, profile=options.profile)
    prices = cost.Prices.load()
    results = []
    for profile in chosen_profiles(options.traffic):
        say(f"compare: {profile.name} — {profile.description}; {options.requests} requests per topology")
        with local_cloud(build=False, backend=options.backend, profile=options.profile) as ep:
            results.append(_run_profile(profile, ep, stack, actions, prices, options, say))
    return results


def run_compare_stage(
    options: CompareOptions, stage_name: str, *, i_know: bool = False, say: Callable[[str], None] = print
) -> list[dict[str, Any]]:
    """The profiles against a deployed stage (`devkit.compare.stage`); refuses prod-looking names before any AWS
    call, and prod-looking API URLs before any request."""
    from devkit.compare import stage
    from devkit.localcloud.backends import stack_name_for

    stage.guard(stage_name, {}, i_know=i_know)
    target = targets.stage(stage_name)
    urls = stage.api_urls(target.outputs)
    stage.guard(stage_name, urls, i_know=i_know)
    if "HttpApi" not in urls or "AuthApi" not in urls:
        raise targets.TargetError(f"{target.name} has no HttpApiUrl/AuthApiUrl output: is it deployed?")
    parameters = {"Stage": stage_name, "Architecture": "x86_64"}
    spec = load_stack(paths.TEMPLATE, stack_name=stack_name_for(stage_name), region=target.region,
                      parameters=parameters)  # fmt: skip
    actions = iam.actions_per_function(expand(paths.TEMPLATE, region=target.region, parameters=parameters)["template"])
    names = stage.function_names(target.client("cloudformation"), stack_name_for(stage_name))
    context = {"stack": spec, "actions": actions, "prices": cost.Prices.load(), "options": options,
               "code_sizes": stage.code_sizes(target.client("lambda"), names)}  # fmt: skip
    results = []
    for profile in chosen_profiles(options.traffic):
        say(f"compare: {profile.name} against {target.name} — {profile.description}; {options.requests} requests")
        results.append(stage.run_profile(profile, target, urls, names, context, say))
    return results


def _run_profile(profile, ep, stack, actions, prices, options, say) -> dict[str, Any]:  # noqa: ANN001
    urls = ep.urls or {}
    control = ep.control or {}
    logs = Path(control["state_dir"]) / "logs"
    seeds = _seed(profile, urls, ep.target)
    out: dict[str, Any] = {
        "profile": profile.name,
        "description": profile.description,
        "monthly_requests": profile.monthly_requests,
        "requests_per_topology": options.requests,
        "concurrency": profile.concurrency,
        "topologies": {},
    }
    for topology, api in profile.topologies.items():
        if api not in urls:
            say(f"compare:   {topology}: {api} is not in the template; left out")
            continue
        before = _status(control)
        marks = _log_marks(logs)
        started, wall = time.monotonic(), time.time()
        figures, completions = asyncio.run(
            _drive(urls[api], plan(profile, options.requests), profile.concurrency, seeds)
        )
        elapsed = time.monotonic() - started
        after = _status(control)
        used = [f for f in after if f not in SHARED and after[f]["invocations"] > before[f]["invocations"]]
        expected = {f: after[f]["invocations"] - before[f]["invocations"] for f in used}
        # REPORT lines reach the files after the answers (flushed every 0.2 s): a seeding request's can land after
        # the marks, so only lines written once the traffic started count.
        reports = _reports(logs, marks, used, expected, since=wall)
        billing = {f: reportlines.summarise(reports[f]) for f in used}
        managed = {f: stack.functions[f].is_managed_instances for f in used}
        uses = curve.from_billing(
            billing,
            figures["requests"],
            {f: stack.functions[f].memory_mb for f in used},
            managed,
        )
        # Managed-instances environments are started by their capacity provider, not by a request.
        colds = [r.at for f in used for r in reports[f] if r.init_ms is not None and not managed[f]]
        row = {
            "api": api,
            "functions": sorted(used),
            **figures,
            "rps": round(figures["requests"] / elapsed, 1),
            "cold_starts": sum(after[f]["cold_starts"] - before[f]["cold_starts"] for f in used),
            "environments": sum(after[f]["environments"] for f in used),
            "timeline": reportlines.timeline(completions, colds),
            "rss_mb": round(sum(sum(after[f]["rss_kb"].values()) for f in used) / 1024, 1),
            "billed_ms_mean": {f: round(b.warm_billed_ms, 2) for f, b in billing.items()},
            "uses": [asdict(u) for u in uses],
            "cost": {"total": round(curve.monthly_cost(uses, profile.monthly_requests, prices), 2)},
            "iam_actions": {f: len(actions.get(f, [])) for f in used},
            "iam_max_actions": max((len(actions.get(f, [])) for f in used), default=0),
            "deploy_bytes": _per_function_zips(used, stack, options.profile),
        }
        out["topologies"][topology] = row
        say(
            f"compare:   {topology:<9} p50 {row['p50_ms']:.1f} p95 {row['p95_ms']:.1f} p99 {row['p99_ms']:.1f} ms, "
            f"errors {row['error_rate'] * 100:.1f} %, {row['cold_starts']} cold starts, {row['environments']} envs, "
            f"{row['rss_mb']} MB, ${row['cost']['total']:.2f}/month"
        )
    return out


def _per_function_zips(used: list[str], stack: Any, profile: str) -> int:
    """Deploy size: one zip per function (Lambda stores each function's package, even when several share a build)."""
    total = 0
    for f in used:
        binary = stack.functions[f].binary
        if binary:
            path = build.bootstrap_path(binary, profile=profile).with_name("bootstrap.zip")
            total += path.stat().st_size if path.exists() else 0
    return total


def _status(control: dict[str, Any]) -> dict[str, Any]:
    return local_status(control)["functions"]


def _log_marks(logs: Path) -> dict[str, int]:
    return {p.stem: p.stat().st_size for p in logs.glob("*.log")}


def _reports(
    logs: Path, marks: dict[str, int], used: list[str], expected: dict[str, int], *, since: float = 0.0
) -> dict[str, list[reportlines.Report]]:
    """The REPORT lines each function wrote after `marks` and at or after `since` (s since the epoch); waits for
    the log flush, bounded."""
    deadline = time.monotonic() + 5.0
    out: dict[str, list[reportlines.Report]] = {}
    for function in used:
        path = logs / f"{function}.log"
        while True:
            found: list[reportlines.Report] = []
            if path.exists():
                with path.open("rb") as handle:
                    handle.seek(marks.get(function, 0))
                    for line in handle.read().decode(errors="replace").splitlines():
                        record = parse_line(line)
                        report = record and reportlines.parse(record.text, _epoch(record.timestamp))
                        if report and report.at >= since:
                            found.append(report)
            if len(found) >= expected.get(function, 0) or time.monotonic() > deadline:
                break
            time.sleep(0.1)  # the local cloud flushes its log files every 0.2 s
        out[function] = found
    return out


def _epoch(iso: str) -> float:
    """2026-11-24T00:00:00.123Z → seconds since the epoch."""
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()


def _seed(profile: Profile, urls: dict[str, str], target: Any) -> dict[str, Any]:
    """An account (user token), an admin token, posts and currencies the profile's calls refer to."""
    seeds: dict[str, Any] = {"posts": [], "codes": list(SEED_CODES)}
    with requests.Session() as http:
        email = f"compare-{uuid.uuid4().hex[:10]}@example.test"
        account = {"email": email, "password": PASSWORD}
        http.post(f"{urls['AuthApi']}/register", json=account, timeout=30).raise_for_status()
        login = http.post(f"{urls['AuthApi']}/login", json=account, timeout=30)
        login.raise_for_status()
        seeds["user"] = login.json()["access_token"]
        if any(c.auth == "admin" for c in profile.calls) or any("{code}" in c.path for c in profile.calls):
            seeds["admin"] = write_to_read.admin_token(urls, target=target)
            _seed_currencies(http, urls["HttpApi"], seeds["admin"])
        if any("{post}" in c.path for c in profile.calls):
            bearer = {"Authorization": f"Bearer {seeds['user']}"}
            for i in range(5):
                reply = http.post(f"{urls['HttpApi']}/posts", json={"title": f"Seed {i}", "body": "Seed."},
                                  headers=bearer, timeout=30)  # fmt: skip
                reply.raise_for_status()
                seeds["posts"].append(reply.json()["id"])
    return seeds


def _seed_currencies(http: requests.Session, api: str, admin: str) -> None:
    bearer = {"Authorization": f"Bearer {admin}"}
    for code in SEED_CODES:
        body = {"name": f"Seed {code}", "minor_units": 2, "rate_to_base": "1.000000" if code == "EUR" else "1.1"}
        http.put(f"{api}/currencies/{code}", json=body, headers=bearer, timeout=30).raise_for_status()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the projector applies the commands asynchronously
        reply = http.get(f"{api}/currencies", timeout=30)
        if reply.ok and {c["code"] for c in reply.json()["items"]} >= set(SEED_CODES):
            return
        time.sleep(0.1)
    raise RuntimeError("the seeded currencies were not readable within 30 s")


async def _drive(
    base: str, calls: list[Call], concurrency: int, seeds: dict[str, Any]
) -> tuple[dict[str, Any], list[float]]:
    """The figures of one topology's run, and each request's completion time (s since the epoch)."""
    latencies: list[float] = []
    completions: list[float] = []
    errors = 0
    queue = list(enumerate(calls))
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def worker() -> None:
            nonlocal errors
            while queue:
                i, call = queue.pop()
                method, url, body, headers = _request(base, call, i, seeds)
                started = time.perf_counter()
                try:
                    async with session.request(method, url, json=body, headers=headers) as reply:
                        await reply.read()
                        errors += reply.status >= 400
                except (aiohttp.ClientError, TimeoutError):
                    errors += 1
                latencies.append((time.perf_counter() - started) * 1000)
                completions.append(time.time())

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "error_rate": round(errors / max(len(latencies), 1), 4),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p95_ms": round(percentile(latencies, 95), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "latency_quantiles_ms": [round(percentile(latencies, q), 2) for q in range(101)],
    }, completions


def _request(base: str, call: Call, i: int, seeds: dict[str, Any]) -> tuple[str, str, Any, dict[str, str]]:
    codes = seeds["codes"]
    path = call.path.replace("{code}", codes[i % len(codes)])
    if "{post}" in path:
        path = path.replace("{post}", seeds["posts"][i % len(seeds["posts"])])
    headers = {}
    if call.auth:
        headers["Authorization"] = f"Bearer {seeds[call.auth]}"
    body: Any = None
    if call.body == "post":
        body = {"title": f"Compare {i}", "body": "Written by ./inv compare."}
    elif call.body == "currency":
        body = {"name": "Compare", "minor_units": 2, "rate_to_base": f"1.{i % 1000:03d}"}
    return call.method, f"{base}{path}", body, headers


def compare_task(options: CompareOptions, *, stage: str = "", i_know: bool = False) -> None:
    """`./inv compare`: :func:`run_compare` (or :func:`run_compare_stage` for a deployed stage), then the Markdown
    + HTML report."""
    from devkit.compare import report

    results = run_compare_stage(options, stage, i_know=i_know) if stage else run_compare(options)
    where = (
        f" --stage {stage}" + " --i-know" * i_know
        if stage
        else f" --profile {options.profile} --backend {options.backend}"
    )
    command = f"./inv compare --traffic {options.traffic}" + " --quick" * options.quick + where
    md, page = report.write(results, command)
    print(f"compare: report {page} (Markdown: {md}; latest: {md.parent.parent / 'latest.md'})")
