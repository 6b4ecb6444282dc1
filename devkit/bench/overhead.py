"""The local cloud's own overhead, side by side with `cargo lambda watch` on the same bootstrap.

Each case runs one Rust bootstrap under both runners in the same run; the same load client
(`devkit.bench.load`, its own process) drives both, repeats alternate sides, figures are medians over repeats.

- `http-health`: the equivalent HTTP path on both sides. `GET /health/currency-read` (currency-read-lambda,
  lambda_http + axum). Ours: HTTP API gateway (route match, v2 event, Runtime API, v2 response mapping).
  cargo lambda watch: its function URL `/lambda-url/_/health/currency-read` (v2 event, Runtime API, response
  mapping).
- `http-probe`: the trivial function (the `probe` fixture's echo). Ours: `GET /echo` through the gateway
  (`$default` route). cargo lambda watch cannot serve the probe on its function-URL path: cargo-lambda 1.9.2
  answers 500 to a v2 response without a `cookies` field (API Gateway accepts it), so its side is the Invoke API
  carrying the v2 event our gateway would build: less work on its side than on ours (no event building, no
  response mapping), so this comparison is conservative.
- `invoke-probe`: Invoke API on both sides (`POST /2015-03-31/functions/<fn>/invocations`, same v2 event):
  ours is the local cloud's control endpoint → FunctionPool → Runtime API.

Cold start per side: ours reaps the idle environment and times the next request (spawn + init + invoke; the
pool's Init Duration is spawn → first `/next`); cargo lambda watch's side kills the bootstrap, spawns a fresh one
and times spawn → first response of a request sent at once (it has no Init Duration of its own to read).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp

from devkit import build, paths
from devkit.bench.cargo_watch import CargoWatch
from devkit.bench.load import load_in_subprocess
from devkit.bench.stats import median, median_of
from devkit.localcloud import FunctionSpec, HttpApiSpec, RouteSpec, StackSpec

REGION = "eu-west-1"
ACCOUNT = "123456789012"
PROBE = "Probe"
HEALTH = "CurrencyRead"
API = "BenchApi"
UNUSED_ENDPOINT = "http://127.0.0.1:9"  # health routes and the probe never call a backend


@dataclass(frozen=True)
class Settings:
    requests: int
    repeats: int
    levels: tuple[int, ...]
    warmup: int
    cold_rounds: int


QUICK = Settings(requests=2000, repeats=5, levels=(1, 4), warmup=200, cold_rounds=5)  # 3 repeats moved ±7%
FULL = Settings(requests=5000, repeats=5, levels=(1, 4, 16), warmup=500, cold_rounds=10)


@dataclass(frozen=True)
class Case:
    name: str
    function: str
    path: str  # the HTTP path (gateway / function URL) or the rawPath of the invoked v2 event
    ours: str  # "gateway" | "invoke"
    cargo: str  # "function-url" | "invoke"
    description: str


CASES = (
    Case(
        "http-health",
        HEALTH,
        "/health/currency-read",
        "gateway",
        "function-url",
        "GET /health/currency-read: our HTTP API gateway vs cargo lambda watch's function URL (equivalent paths)",
    ),
    Case(
        "http-probe",
        PROBE,
        "/echo",
        "gateway",
        "invoke",
        "echo: GET /echo through our gateway vs cargo lambda watch's Invoke API with the same v2 event "
        "(its function URL answers 500 to the probe's cookie-less v2 response; less work on its side)",
    ),
    Case(
        "invoke-probe",
        PROBE,
        "/echo",
        "invoke",
        "invoke",
        "echo: Invoke API on both sides (our control endpoint vs cargo lambda watch), same v2 event",
    ),
)


def v2_event(path: str) -> bytes:
    """A minimal HTTP API v2 event for `GET path`, as a gateway would send it."""
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"host": "127.0.0.1", "user-agent": "devkit-bench"},
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "bench",
            "domainName": "127.0.0.1",
            "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"},
            "requestId": "bench",
            "routeKey": "$default",
            "stage": "$default",
            "time": "24/Nov/2026:00:00:00 +0000",
            "timeEpoch": 0,
        },
        "isBase64Encoded": False,
    }
    return json.dumps(event, separators=(",", ":")).encode()


def probe_function() -> FunctionSpec:
    return FunctionSpec(
        logical_id=PROBE,
        physical_name=f"bench-{PROBE}",
        code_uri=paths.ROOT / "tests" / "fixtures" / "probe",
        binary="probe",
        handler="bootstrap",
        runtime="provided.al2023",
        architecture="x86_64",
        memory_mb=128,
        timeout_s=10.0,  # as the template's HTTP functions: under the 30 s integration timeout
        environment={},
    )


Resolve = Callable[[str], Path]  # cargo binary → the bootstrap to run


def bench_stack(resolve: Resolve, functions_needed: set[str]) -> tuple[StackSpec, dict[str, Path]]:
    """Probe (`$default`) and, when needed, the template's CurrencyRead (`GET /health/currency-read`) behind one
    HTTP API."""
    functions = {PROBE: probe_function()}
    routes = [RouteSpec("ANY", "$default", PROBE)]
    if HEALTH in functions_needed:
        from devkit.localcloud import load_stack

        template = load_stack(paths.TEMPLATE, stack_name="bench", region=REGION, parameters=paths.LOCAL_PARAMETERS)
        functions[HEALTH] = replace(template.functions[HEALTH], reserved_concurrency=None)
        routes.insert(0, RouteSpec("GET", "/health/currency-read", HEALTH))
    api = HttpApiSpec(logical_id=API, routes=tuple(routes))
    stack = StackSpec(
        stack_name="bench",
        region=REGION,
        account_id=ACCOUNT,
        functions=functions,
        http_apis={API: api},
        tables={},
        queues={},
        event_source_mappings=(),
    )
    bootstraps = {k: resolve(fn.binary or k) for k, fn in functions.items()}
    return stack, bootstraps


def binaries(cases: Iterable[str] | None = None) -> list[str]:
    chosen = _cases(cases)
    return sorted({"probe"} | ({"currency-read-lambda"} if any(c.function == HEALTH for c in chosen) else set()))


def _cases(names: Iterable[str] | None) -> tuple[Case, ...]:
    if names is None:
        return CASES
    wanted = set(names)
    unknown = wanted - {c.name for c in CASES}
    if unknown:
        raise ValueError(
            f"unknown case(s) {', '.join(sorted(unknown))}: choose from {', '.join(c.name for c in CASES)}"
        )
    return tuple(c for c in CASES if c.name in wanted)


async def _timed(session: aiohttp.ClientSession, method: str, url: str, body: bytes | None) -> tuple[float, int]:
    started = time.perf_counter()
    async with session.request(method, url, data=body) as response:
        await response.read()
        return (time.perf_counter() - started) * 1000, response.status


class _Sides:
    """URLs and request shapes of one case on both runners."""

    def __init__(self, case: Case, cloud: Any, watch: CargoWatch) -> None:
        event = v2_event(case.path)
        if case.ours == "gateway":
            self.ours = ("GET", cloud.urls[API] + case.path, None)
        else:
            self.ours = ("POST", f"{cloud.control.url}/2015-03-31/functions/{case.function}/invocations", event)
        if case.cargo == "function-url":
            self.cargo = ("GET", watch.function_url(case.path), None)
        else:
            self.cargo = ("POST", watch.invoke_url, event)


async def _cold(
    case: Case, sides: _Sides, cloud: Any, watch: CargoWatch, bootstrap: Path, env: dict[str, str], rounds: int
) -> dict[str, dict[str, Any]]:
    pool = cloud.pools[case.function]
    ours_init: list[float] = []
    ours_first: list[float] = []
    cargo_first: list[float] = []
    statuses: set[int] = set()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        for _ in range(rounds):
            await pool.reap_idle()  # idle timeout 0: the next request starts a fresh environment
            cold_starts = pool.cold_starts
            ms, status = await _timed(session, *sides.ours)
            statuses.add(status)
            if pool.cold_starts != cold_starts + 1:
                raise RuntimeError(f"{case.name}: the cold request did not start an environment")
            ours_first.append(ms)
            ours_init.append(pool.init_durations_ms[-1])
            await watch.stop_functions()
            spawned = await watch.spawn(bootstrap, env)
            method, url, body = sides.cargo
            async with session.request(method, url, data=body) as response:
                await response.read()
                statuses.add(response.status)
            cargo_first.append((time.perf_counter() - spawned) * 1000)
    if any(s >= 400 for s in statuses):
        raise RuntimeError(f"{case.name}: cold requests answered {sorted(statuses)}")
    return {
        "ours": {"init_ms": median(ours_init), "first_request_ms": median(ours_first), "rounds": rounds},
        "cargo": {"init_ms": None, "first_request_ms": median(cargo_first), "rounds": rounds},
    }


def runner_cpu_s(side: str, watch: CargoWatch) -> float:
    """CPU time (user + system, s) of the runner itself, not of the function nor the load client: ours is this
    process (it hosts the local cloud; the client and the bootstraps are other processes), cargo lambda watch's
    is its server process. A machine-load-independent view of each runner's cost per request."""
    if side == "ours":
        return time.process_time()
    if watch.server is None:
        return math.nan
    try:
        fields = Path(f"/proc/{watch.server.pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime, in clock ticks


async def _warm(
    case: Case, sides: _Sides, cloud: Any, watch: CargoWatch, bootstrap: Path, env: dict[str, str], s: Settings
) -> dict[str, dict[str, Any]]:
    pool = cloud.pools[case.function]
    out: dict[str, dict[str, Any]] = {"ours": {}, "cargo": {}}
    for level in s.levels:
        missing = level - len(watch.functions)
        if missing > 0:
            await watch.spawn(bootstrap, env, count=missing)
        runs: dict[str, list[dict[str, Any]]] = {"ours": [], "cargo": []}
        for repeat in range(s.repeats):
            order = ("ours", "cargo") if repeat % 2 == 0 else ("cargo", "ours")
            for side in order:
                method, url, body = getattr(sides, side)
                warmup = max(s.warmup, 20 * level)
                cpu_before = runner_cpu_s(side, watch)
                summary = await load_in_subprocess(
                    url, requests=s.requests, concurrency=level, warmup=warmup, method=method, body=body
                )
                cpu = runner_cpu_s(side, watch) - cpu_before
                summary["runner_cpu_us_per_request"] = cpu / (s.requests + warmup) * 1e6
                runs[side].append(summary)
        for side in ("ours", "cargo"):
            figures: dict[str, Any] = median_of(runs[side])
            figures["errors"] = sum(int(r["errors"]) for r in runs[side])
            figures["repeats"] = s.repeats
            if side == "ours":
                figures["environments"] = len(pool.envs)
            else:
                figures["environments"] = len(watch.functions)
            out[side][str(level)] = figures
    return out


async def overhead_async(
    settings: Settings = QUICK,
    *,
    profile: str = "release",
    resolve: Resolve | None = None,
    cases: Iterable[str] | None = None,
) -> dict[str, Any]:
    """Runs the chosen cases (default: all) on one local cloud and one `cargo lambda watch`; `resolve` maps a
    binary to the bootstrap to run (default: the `profile` build in target/lambda)."""
    from devkit.localcloud import LocalCloud, PoolSettings, lambda_environment

    chosen = _cases(cases)
    stack, bootstraps = bench_stack(
        resolve or (lambda binary: build.bootstrap_path(binary, profile=profile)), {c.function for c in chosen}
    )
    cloud = LocalCloud(
        stack,
        bootstraps,
        endpoint_url=UNUSED_ENDPOINT,
        state_dir=None,
        console=None,
        # Reaping is driven by the benchmark (idle timeout 0 + reap_idle()), never by the background reaper.
        pool_settings=PoolSettings(idle_timeout_s=0.0, reap_interval_s=3600.0, console_reports=False),
        control_port=0,
    )
    cases: dict[str, Any] = {}
    async with cloud, CargoWatch() as watch:
        for case in chosen:
            fn = stack.functions[case.function]
            bootstrap = cloud.bootstraps[case.function]
            env = lambda_environment(
                fn, region=REGION, bootstrap=bootstrap, runtime_api="", endpoint_url=UNUSED_ENDPOINT
            )
            sides = _Sides(case, cloud, watch)
            try:
                cold = await _cold(case, sides, cloud, watch, bootstrap, env, settings.cold_rounds)
                warm = await _warm(case, sides, cloud, watch, bootstrap, env, settings)
            finally:
                await watch.stop_functions()
                await cloud.pools[case.function].reap_idle()
            cases[case.name] = {
                "description": case.description,
                "function": case.function,
                "binary": fn.binary,
                "ours": {
                    "path": f"{sides.ours[0]} {_path_of(sides.ours[1])}",
                    "cold": cold["ours"],
                    "warm": warm["ours"],
                },
                "cargo": {
                    "path": f"{sides.cargo[0]} {_path_of(sides.cargo[1])}",
                    "cold": cold["cargo"],
                    "warm": warm["cargo"],
                },
            }
    return {
        "settings": settings.__dict__ | {"levels": list(settings.levels)},
        "profile": profile,
        "cases": cases,
        "targets": targets(cases),
    }


def _path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


TARGET_P50_MS = 2.0
TARGET_P99_MS = 10.0


def targets(cases: dict[str, Any]) -> list[dict[str, Any]]:
    """The overhead targets (TARGET_P50_MS, TARGET_P99_MS, throughput at least cargo lambda watch's), checked on
    every HTTP case at concurrency 1 (latency) and every level (throughput)."""
    checks: list[dict[str, Any]] = []
    for name, case in cases.items():
        ours, cargo = case["ours"]["warm"], case["cargo"]["warm"]
        one = ours.get("1")
        if one and name.startswith("http-"):
            checks.append(
                _check(f"{name} p50 (c=1)", one["p50_ms"], f"<= {TARGET_P50_MS} ms", one["p50_ms"] <= TARGET_P50_MS)
            )
            checks.append(
                _check(f"{name} p99 (c=1)", one["p99_ms"], f"<= {TARGET_P99_MS} ms", one["p99_ms"] <= TARGET_P99_MS)
            )
        for level, figures in ours.items():
            theirs = cargo.get(level)
            if theirs:
                ok = figures["rps"] >= theirs["rps"]
                checks.append(_check(f"{name} rps (c={level})", figures["rps"], f">= cargo {theirs['rps']:.0f}", ok))
    return checks


def _check(what: str, value: float, target: str, ok: bool) -> dict[str, Any]:
    return {"what": what, "value": value, "target": target, "ok": bool(ok)}
