"""Per-function figures under the local cloud, and the Python language baseline (the same handler in Python).

Every function of infra/template.yaml runs on one local cloud over a fresh moto backend, provisioned and seeded
as `./inv up` does (nothing leaves loopback). Two more functions join the stack on a bench-only HTTP API:
`Probe` (the trivial Rust fixture, `GET /echo`) and `PythonBaseline` (tests/fixtures/python-baseline: the
health handler in Python, run by awslambdaric through an exec-ing `bootstrap` script, so the same FunctionPool
spawns it; the pool needs no change).

Per function, one at a time:
- cold start, `rounds` times: reap the idle environment, send the cheap request, read the pool's Init Duration
  (spawn → first `/next`) and time the request itself (first-request latency: spawn + init + handler);
- warm p50/p99/requests/s of the cheap request at concurrency 1 (the `devkit.bench.load` client process);
- RSS: idle = VmRSS of the warm environment after the load, peak = VmHWM (the pool's Max Memory Used);
- sizes: bootstrap and zip (`devkit.build.Artifact`); for Python, the handler files and their zip.

The cheap request is `GET /health/<service>` for HTTP functions (the Fat function: `/health/auth` on its own
API), and for functions without a route (the currency projector) a direct invocation with an SQS-shaped event
(an empty batch: `{"Records": []}`, answered with no `batchItemFailures` and no backend call) through the
Invoke API of the local cloud's control endpoint. LMI functions are measured on demand (no pre-started
environments) so their cold start is comparable.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import statistics
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp

from devkit import build, paths
from devkit.bench import peer as python_peer
from devkit.bench.init_phases import InitLines, medians, split
from devkit.bench.load import load_in_subprocess
from devkit.bench.overhead import probe_function
from devkit.bench.python_functions import PYTHON, PYTHON_DIR, python_function
from devkit.bench.stats import median
from devkit.localcloud import FunctionSpec, HttpApiSpec, RouteSpec, StackSpec

PROBE = "Probe"
BENCH_API = "BenchApi"
SQS_EMPTY_BATCH = b'{"Records":[]}'
PYTHON_FUNCTIONS = (PYTHON, python_peer.PEER)  # no init line to wait for


@dataclass(frozen=True)
class Settings:
    rounds: int
    requests: int
    warmup: int
    paired_rounds: int = 10  # Probe / PythonBaseline cold starts taken in turns, for the language ratio


QUICK = Settings(rounds=5, requests=1000, warmup=100, paired_rounds=10)
FULL = Settings(rounds=10, requests=3000, warmup=300, paired_rounds=20)
COLD_ONLY = Settings(
    rounds=5, requests=0, warmup=0, paired_rounds=10
)  # `--local-cloud`: cold starts per function, no warm load


@dataclass(frozen=True)
class Target:
    function: str
    kind: str  # "http" | "invoke"
    api: str | None
    method: str
    path: str  # HTTP path, or "" for a direct invocation
    body: bytes | None = None
    route_key: str | None = None  # a direct invocation with this route's API Gateway v2 event
    # A function whose real event the bench cannot make (the CodeDeploy hook needs a deployment): invoked with
    # `{}`, its error answer accepted; cold start only, no warm load.
    cold_only: bool = False

    @property
    def label(self) -> str:
        if self.kind == "http":
            return f"{self.method} {self.path}"
        if self.cold_only:
            return "invoke {} (cold start only: answered with an error)"
        return f"invoke {self.route_key} (v2 event)" if self.route_key else 'invoke {"Records": []} (SQS-shaped)'


def bench_stack(template_stack: StackSpec) -> StackSpec:
    """The template's functions (on demand, no SQS pollers) + Probe and PythonBaseline on a bench-only API."""
    functions = {k: replace(fn, min_environments=0) for k, fn in template_stack.functions.items()}
    functions[PROBE] = probe_function()
    functions[PYTHON] = python_function()
    routes = [RouteSpec("GET", "/echo", PROBE), RouteSpec("GET", "/health/python-baseline", PYTHON)]
    if python_peer.RUST in template_stack.functions and python_peer.TABLE in template_stack.tables:
        functions[python_peer.PEER] = python_peer.peer_function(template_stack)
        routes.append(python_peer.ROUTE)
    api = HttpApiSpec(logical_id=BENCH_API, routes=tuple(routes))
    return replace(
        template_stack,
        functions=functions,
        http_apis={**template_stack.http_apis, BENCH_API: api},
        event_source_mappings=(),
    )


def targets_for(stack: StackSpec, sqs_consumers: frozenset[str] | None = None) -> list[Target]:
    """The cheap request of every function: a GET /health/… route (else any GET without path parameters),
    else a direct SQS-shaped invocation; with `sqs_consumers` given, only those get the SQS-shaped event and any
    other function without a route an empty `{}` (cold start only)."""
    out: list[Target] = []
    for logical_id in stack.functions:
        routes = [
            (api_id, route)
            for api_id, api in stack.http_apis.items()
            for route in api.routes
            if route.function == logical_id and route.method in ("GET", "ANY") and "{" not in route.path
        ]
        routes.sort(key=lambda ar: (not ar[1].path.startswith("/health/"), ar[1].authorizer is not None))
        any_route = next((r for api in stack.http_apis.values() for r in api.routes if r.function == logical_id), None)
        if routes:
            api_id, route = routes[0]
            out.append(Target(logical_id, "http", api_id, "GET", route.path))
        elif any_route is not None:  # only parameterised or token-guarded routes: its event, invoked directly
            out.append(Target(logical_id, "invoke", None, "POST", "", v2_event(any_route), any_route.route_key))
        elif sqs_consumers is None or logical_id in sqs_consumers:
            out.append(Target(logical_id, "invoke", None, "POST", "", SQS_EMPTY_BATCH))
        else:
            out.append(Target(logical_id, "invoke", None, "POST", "", b"{}", cold_only=True))
    return out


def v2_event(route: RouteSpec) -> bytes:
    """A minimal HTTP API (payload 2.0) event for `route`, path parameters filled with a value no item has and no
    token: the function answers it itself (404/401) without a backend write, which is all a cold start needs."""
    path = re.sub(r"\{[^}]+\}", "bench-cold-start", route.path)
    now = time.time()
    context = {
        "accountId": "123456789012", "apiId": "bench", "domainName": "localhost", "domainPrefix": "localhost",
        "http": {"method": route.method if route.method != "ANY" else "GET", "path": path, "protocol": "HTTP/1.1",
                 "sourceIp": "127.0.0.1", "userAgent": "bench"},
        "requestId": "bench", "routeKey": route.route_key, "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)), "timeEpoch": int(now * 1000),
    }  # fmt: skip
    event = {"version": "2.0", "routeKey": route.route_key, "rawPath": path, "rawQueryString": "",
             "headers": {"host": "localhost"}, "requestContext": context, "isBase64Encoded": False}  # fmt: skip
    return json.dumps(event).encode()


def template_binaries(template: Path = paths.TEMPLATE) -> list[str]:
    """Every bootstrap the per-function bench runs: the template's functions and the probe."""
    from devkit.localcloud import load_stack

    stack = load_stack(template, parameters=paths.LOCAL_PARAMETERS)
    return sorted({fn.binary or k for k, fn in stack.functions.items()} | {"probe"})


def _sizes(fn: FunctionSpec, bootstrap: Path) -> dict[str, int | None]:
    if fn.logical_id == PYTHON:
        files = [PYTHON_DIR / "handler.py", PYTHON_DIR / "bootstrap"]
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in files:
                archive.write(file, file.name)
        return {"bootstrap_bytes": sum(f.stat().st_size for f in files), "zip_bytes": len(buffer.getvalue())}
    artifact = build.Artifact(fn.binary or fn.logical_id, bootstrap, bootstrap.with_name("bootstrap.zip"))
    zip_bytes = artifact.zip_bytes if artifact.zip_path.is_file() else None
    return {"bootstrap_bytes": artifact.bootstrap_bytes, "zip_bytes": zip_bytes}


async def _request(cloud: Any, session: aiohttp.ClientSession, target: Target) -> tuple[float, str]:
    started = time.perf_counter()
    if target.kind == "http":
        async with session.get(cloud.urls[target.api] + target.path) as response:
            await response.read()
            status = "ok" if response.status < 400 else f"HTTP {response.status}"
    else:
        result = await cloud.invoke(target.function, target.body)
        answered = result.ok or (target.cold_only and result.status == "error")
        status = "ok" if answered else f"{result.status}: {result.outcome.body[:200]!r}"
    return (time.perf_counter() - started) * 1000, status


def _url(cloud: Any, target: Target) -> str:
    if target.kind == "http":
        return cloud.urls[target.api] + target.path
    return f"{cloud.control.url}/2015-03-31/functions/{target.function}/invocations"


async def _measure(
    cloud: Any, session: aiohttp.ClientSession, target: Target, s: Settings, lines: InitLines | None = None
) -> dict[str, Any]:
    pool = cloud.pools[target.function]
    inits: list[float] = []
    firsts: list[float] = []
    splits: list[dict[str, float]] = []
    lines = lines or InitLines()
    prefetched_before = len(lines.prefetched[target.function])
    for _ in range(s.rounds):
        await pool.reap_idle()  # idle timeout 0: the next request starts a fresh environment
        cold_starts = pool.cold_starts
        seen = len(lines.init[target.function])
        ms, status = await _request(cloud, session, target)
        if status != "ok":
            raise RuntimeError(f"{target.function} {target.label}: {status}")
        if pool.cold_starts != cold_starts + 1:
            raise RuntimeError(f"{target.function}: the cold request did not start an environment")
        firsts.append(ms)
        inits.append(pool.init_durations_ms[-1])
        started = max(pool.envs, key=lambda env: env.index, default=None)
        line = await lines.next_init(target.function, seen) if target.function not in PYTHON_FUNCTIONS else None
        if line is not None and started is not None and started.spawned_unix is not None:
            splits.append(split(line, started.spawned_unix, inits[-1]))
    warm: dict[str, Any] = {"requests": 0, "errors": 0, "p50_ms": None, "p99_ms": None, "rps": None}
    if s.requests and not target.cold_only:
        warm = await load_in_subprocess(
            _url(cloud, target),
            requests=s.requests,
            concurrency=1,
            warmup=s.warmup,
            method=target.method,
            body=target.body,
        )
    envs = [e for e in pool.envs if e.pid is not None]  # the pool samples VmHWM after every invocation
    idle_kb = [env.rss_kb() for env in envs]
    peak_kb = [env.max_memory_kb for env in envs]
    return {
        "function": target.function,
        "request": target.label,
        "cold": {
            "rounds": s.rounds,
            "init_ms": median(inits),
            "init_ms_min": min(inits),
            "first_request_ms": median(firsts),
            "phases_ms": medians(splits, lines.prefetched[target.function][prefetched_before:]),
        },
        "warm": {k: warm[k] for k in ("requests", "errors", "p50_ms", "p99_ms", "rps")},
        "rss": {
            "environments": len(envs),
            "idle_mb": max(idle_kb, default=0) / 1024,
            "peak_mb": max(peak_kb, default=0) / 1024,
        },
    }


async def interleaved_cold(
    cloud: Any, session: aiohttp.ClientSession, targets: list[Target], rounds: int
) -> dict[str, dict[str, float]]:
    """Cold starts of `targets` taken in turns (A, B, A, B, …), so load from other work hits both alike: the
    language comparison's cold-start figures. Per function: median and minimum Init Duration, median first
    request."""
    inits: dict[str, list[float]] = {t.function: [] for t in targets}
    firsts: dict[str, list[float]] = {t.function: [] for t in targets}
    for _ in range(rounds):
        for target in targets:
            pool = cloud.pools[target.function]
            await pool.reap_idle()
            ms, status = await _request(cloud, session, target)
            if status != "ok":
                raise RuntimeError(f"{target.function} {target.label}: {status}")
            inits[target.function].append(pool.init_durations_ms[-1])
            firsts[target.function].append(ms)
    for target in targets:
        await cloud.pools[target.function].reap_idle()
    return {
        name: {
            "rounds": rounds,
            "init_ms": median(inits[name]),
            "init_ms_min": min(inits[name]),
            "first_request_ms": median(firsts[name]),
        }
        for name in inits
    }


async def functions_async(
    settings: Settings = QUICK, *, profile: str = "release", resolve: Callable[[str], Path] | None = None
) -> dict[str, Any]:
    """Every template function + Probe + PythonBaseline; `resolve` maps a binary to the bootstrap to run
    (default: the `profile` build in target/lambda)."""
    from devkit import seed
    from devkit.bench.cloud import bench_cloud
    from devkit.localcloud import create_backend, load_stack, provision

    resolve = resolve or (lambda binary: build.bootstrap_path(binary, profile=profile))
    rows: list[dict[str, Any]] = []
    paired: dict[str, Any] = {}
    peer: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-functions-") as tmp:
        backend = create_backend("moto", state_dir=Path(tmp), cache_dir=paths.cache_dir(), region="us-east-1")
        await asyncio.to_thread(backend.start)
        try:
            template = load_stack(paths.TEMPLATE, parameters=paths.LOCAL_PARAMETERS, queue_url=backend.queue_url)
            stack = bench_stack(template)
            await asyncio.to_thread(provision, stack, backend, say=lambda *_: None)
            await asyncio.to_thread(seed.signing_keys, stack, backend)
            python_bootstraps = {PYTHON: PYTHON_DIR / "bootstrap", python_peer.PEER: python_peer.PEER_DIR / "bootstrap"}
            bootstraps = {k: python_bootstraps.get(k) or resolve(fn.binary or k) for k, fn in stack.functions.items()}
            cloud = bench_cloud(stack, bootstraps, backend, control_port=0)
            lines = InitLines()
            cloud.sink.listeners.append(lines)
            async with cloud, aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
                consumers = frozenset(m.function for m in template.event_source_mappings)
                for target in targets_for(stack, consumers):
                    if target.function == python_peer.PEER:
                        continue  # measured below, beside its Rust counterpart on the same post
                    fn = stack.functions[target.function]
                    try:
                        row = await _measure(cloud, session, target, settings, lines)
                    except Exception as exc:  # one broken function must not cost the figures of the others
                        row = {"function": target.function, "request": target.label, "error": str(exc)[:500]}
                    finally:
                        await cloud.pools[target.function].reap_idle()
                    row["binary"] = fn.binary or "python (awslambdaric)"
                    row["runtime"] = fn.runtime
                    row["memory_mb"] = fn.memory_mb
                    row["managed_instances"] = fn.is_managed_instances
                    row["template"] = target.function not in (PROBE, PYTHON)
                    row["size"] = _sizes(fn, bootstraps[target.function])
                    rows.append(row)
                pair = [t for t in targets_for(stack) if t.function in (PROBE, PYTHON)]
                try:
                    paired = await interleaved_cold(cloud, session, pair, settings.paired_rounds)
                except Exception as exc:
                    paired = {"error": str(exc)[:500]}
                if python_peer.PEER in stack.functions:
                    endpoint = backend.env().get("AWS_ENDPOINT_URL", "")
                    peer = await _measure_peer(cloud, session, stack, endpoint, settings, lines)
        finally:
            await asyncio.to_thread(backend.stop)
    return {
        "settings": settings.__dict__,
        "profile": profile,
        "functions": rows,
        "language": language_ratios(rows, paired),
        "python_peer": peer,
    }


async def _measure_peer(
    cloud: Any,
    session: aiohttp.ClientSession,
    stack: StackSpec,
    endpoint_url: str,
    settings: Settings,
    lines: InitLines,
) -> dict[str, Any]:
    """The Rust blog function and its Python peer on one seeded post: each measured alike, then cold starts in
    turns (devkit/bench/peer.py)."""
    post_id = await asyncio.to_thread(python_peer.seed_post, stack, endpoint_url)
    targets = [
        Target(python_peer.RUST, "http", python_peer.RUST_API, "GET", f"/posts/{post_id}"),
        Target(python_peer.PEER, "http", BENCH_API, "GET", f"/posts/{post_id}"),
    ]
    rows: list[dict[str, Any]] = []
    for target in targets:
        try:
            rows.append(await _measure(cloud, session, target, settings, lines))
        except Exception as exc:
            rows.append({"function": target.function, "request": target.label, "error": str(exc)[:500]})
        finally:
            await cloud.pools[target.function].reap_idle()
    try:
        paired: dict[str, Any] | None = await interleaved_cold(cloud, session, targets, settings.paired_rounds)
    except Exception as exc:
        paired = None
        rows[0].setdefault("paired_error", str(exc)[:500])
    return python_peer.compare(rows[0], rows[1], paired)


def language_ratios(rows: list[dict[str, Any]], paired: dict[str, Any] | None = None) -> dict[str, Any]:
    """Python (awslambdaric) ÷ Rust, for cold start and memory: vs the probe (the same trivial shape) and vs the
    median of the template's Rust functions (real axum services with SDK clients). With `paired` (cold starts of
    Probe and PythonBaseline taken in turns) the Python and probe cold-start figures come from there, plus the
    ratio of the minimum Init Durations (the least disturbed sample of each)."""
    by_name = {row["function"]: row for row in rows if "error" not in row}
    python = by_name.get(PYTHON)
    if python is None:
        return {}
    services = [row for row in by_name.values() if row.get("template")]
    paired = paired if paired and PROBE in paired and PYTHON in paired else None

    def figures(row: dict[str, Any]) -> dict[str, float]:
        cold = paired[row["function"]] if paired and row["function"] in (PROBE, PYTHON) else row["cold"]
        return {
            "init_ms": cold["init_ms"],
            "first_request_ms": cold["first_request_ms"],
            "idle_rss_mb": row["rss"]["idle_mb"],
            "peak_rss_mb": row["rss"]["peak_mb"],
        }

    out: dict[str, Any] = {"python": figures(python), "paired_cold_starts": paired}
    references = {}
    if PROBE in by_name:
        references["probe"] = figures(by_name[PROBE])
    if services:
        keys = figures(services[0]).keys()
        references["services_median"] = {k: statistics.median(figures(r)[k] for r in services) for k in keys}
    for name, reference in references.items():
        out[name] = reference
        out[f"python_over_{name}"] = {k: (out["python"][k] / v if v else None) for k, v in reference.items()}
    if paired and "probe" in references and paired[PROBE]["init_ms_min"]:
        out["python_over_probe"]["init_ms_min"] = paired[PYTHON]["init_ms_min"] / paired[PROBE]["init_ms_min"]
    return out
