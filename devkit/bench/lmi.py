"""One Lambda Managed Instances environment vs standard environments, on loopback, through the local cloud.

`lmi_vs_standard()` runs the convert service's two variants from a SAM template (`ConvertLmi`: LMI,
`PerExecutionEnvironmentMaxConcurrency`; `Convert`: standard, one invocation per environment) behind their
HTTP APIs and drives both at rising concurrency. Per level it reports throughput, p50/p99 latency, the number
of environments the pool started and their RSS.

The rates come from `RatesBackend`: just enough of DynamoDB's JSON protocol (`GetItem`) for the convert
function, with a configurable per-read latency standing in for the network round trip and a gate that tests
close to hold reads (and so requests) in flight deterministically. With a short cache TTL every request is
I/O-bound, which is the case LMI is for: one environment overlaps many waits, a standard environment serves
them one after another.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from devkit import paths
from devkit.bench.loopback import Started, serve
from devkit.bench.stats import percentile
from devkit.localcloud import StackSpec

AMZ_JSON = "application/x-amz-json-1.0"
LMI_FUNCTION = "ConvertLmi"
STANDARD_FUNCTION = "Convert"


def currency_item(code: str, rate: str, version: int = 1, minor_units: int = 2, name: str | None = None) -> dict:
    """A read-model item as DynamoDB's JSON protocol carries it (layout: shared/money/src/record.rs)."""
    return {
        "code": {"S": code},
        "name": {"S": name or code},
        "minor_units": {"N": str(minor_units)},
        "rate_to_base": {"S": rate},
        "version": {"N": str(version)},
        "updated_at": {"S": "2026-01-01T00:00:00Z"},
    }


DEFAULT_ITEMS = {
    "USD": currency_item("USD", "1", 3, 2, "US Dollar"),
    "EUR": currency_item("EUR", "1.08", 7, 2, "Euro"),
    "JPY": currency_item("JPY", "0.0067", 8, 0, "Yen"),
    "KWD": currency_item("KWD", "3.25", 2, 3, "Kuwaiti Dinar"),
}


@dataclass
class RatesBackend(Started):
    """A loopback stand-in for DynamoDB's `GetItem` on the currencies table."""

    items: dict[str, dict] = field(default_factory=lambda: dict(DEFAULT_ITEMS))
    latency_s: float = 0.0
    reads: Counter[str] = field(default_factory=Counter)
    waiting: int = 0
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""
    _runner: web.AppRunner | None = None

    async def start(self) -> str:
        self.gate.set()
        app = web.Application()
        app.router.add_post("/", self._handle)
        self._runner, self.url = await serve(app)
        return self.url

    async def stop(self) -> None:
        self.gate.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.Response:
        target = request.headers.get("X-Amz-Target", "")
        body = json.loads(await request.read() or b"{}")
        if not target.endswith(".GetItem"):
            return _error(400, "ValidationException", f"the rates backend only answers GetItem, not {target!r}")
        code = body.get("Key", {}).get("code", {}).get("S", "")
        self.reads[code] += 1
        self.waiting += 1
        try:
            await self.gate.wait()
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
        finally:
            self.waiting -= 1
        item = self.items.get(code)
        return web.Response(body=json.dumps({"Item": item} if item else {}), content_type=AMZ_JSON)


def _error(status: int, kind: str, message: str) -> web.Response:
    payload = {"__type": f"com.amazonaws.dynamodb.v20120810#{kind}", "message": message}
    return web.Response(status=status, body=json.dumps(payload), content_type=AMZ_JSON)


def convert_stack(
    template: Path = paths.TEMPLATE, functions: Iterable[str] = (LMI_FUNCTION, STANDARD_FUNCTION)
) -> StackSpec:
    """The template's stack cut down to the convert functions and the routes that reach them."""
    from devkit.localcloud import load_stack

    stack = load_stack(template, stack_name="local", region="eu-west-1", parameters=_parameters(template))
    keep = set(functions)
    missing = keep - set(stack.functions)
    if missing:
        raise ValueError(f"{template} has no function(s) {', '.join(sorted(missing))}")
    return stack.only(keep)


def _parameters(template: Path) -> dict[str, str]:
    return paths.LOCAL_PARAMETERS if template == paths.TEMPLATE else {}


@dataclass(frozen=True)
class LevelResult:
    variant: str
    concurrency: int
    requests: int
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float
    environments: int
    rss_mb_total: float
    backend_reads: int

    def line(self) -> str:
        return (
            f"{self.variant:<8} c={self.concurrency:<4} n={self.requests:<5} rps={self.rps:8.0f} "
            f"p50={self.p50_ms:7.1f} ms p99={self.p99_ms:7.1f} ms envs={self.environments:<3} "
            f"rss={self.rss_mb_total:6.1f} MB reads={self.backend_reads} errors={self.errors}"
        )


def client_session(timeout_s: float = 30.0) -> aiohttp.ClientSession:
    """Unbounded keep-alive connections: reused across a level's warm-up and measurement."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=timeout_s)
    )


async def drive(
    session: aiohttp.ClientSession, url: str, *, concurrency: int, requests: int
) -> tuple[list[float], int, float]:
    """`requests` GETs of `url`, `concurrency` at a time: (latencies in ms, errors, elapsed s)."""
    latencies: list[float] = []
    errors = 0
    remaining = requests

    async def worker() -> None:
        nonlocal remaining, errors
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            try:
                async with session.get(url) as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
            except (aiohttp.ClientError, TimeoutError):
                errors += 1
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, errors, time.perf_counter() - started


async def lmi_vs_standard_async(
    *,
    template: Path = paths.TEMPLATE,
    levels: Iterable[int] = (1, 8, 32, 64),
    requests_per_level: int = 400,
    io_latency_ms: float = 20.0,
    cache_ttl_ms: int = 0,
    profile: str = "ci",
) -> list[LevelResult]:
    """Each level runs on a fresh local cloud (cold pools), so environments started = what that load needs."""
    from devkit.build import bootstrap_path
    from devkit.localcloud import LocalCloud, PoolSettings

    base = convert_stack(template)
    results: list[LevelResult] = []
    async with RatesBackend(latency_s=io_latency_ms / 1000) as backend:
        for variant, function in (("lmi", LMI_FUNCTION), ("standard", STANDARD_FUNCTION)):
            for concurrency in levels:
                stack = _only(base, function, {"RATE_CACHE_TTL_MS": str(cache_ttl_ms)})
                fn = stack.functions[function]
                bootstraps = {function: bootstrap_path(fn.binary or function, profile=profile)}
                cloud = LocalCloud(
                    stack,
                    bootstraps,
                    endpoint_url=backend.url,
                    state_dir=None,
                    console=None,
                    pool_settings=PoolSettings(console_reports=False, shutdown_grace_s=2.0),
                )
                backend.reads.clear()
                await cloud.start()
                try:
                    url = next(iter(cloud.urls.values())) + "/convert?from=EUR&to=JPY&amount=12345"
                    async with client_session() as session:
                        # Warm-up: every connection open and every environment the level needs started, so the
                        # measurement is steady state (no cold starts, no burst of connects overflowing the
                        # listen backlog into 1 s SYN retransmits).
                        await drive(session, url, concurrency=concurrency, requests=2 * concurrency)
                        reads_before = sum(backend.reads.values())
                        latencies, errors, elapsed = await drive(
                            session, url, concurrency=concurrency, requests=requests_per_level
                        )
                    status = cloud.pools[function].status()
                    rss_kb = sum(int(v) for v in status["rss_kb"].values())  # type: ignore[union-attr]
                    results.append(
                        LevelResult(
                            variant=variant,
                            concurrency=concurrency,
                            requests=len(latencies),
                            errors=errors,
                            rps=len(latencies) / elapsed if elapsed else 0.0,
                            p50_ms=percentile(latencies, 50),
                            p99_ms=percentile(latencies, 99),
                            environments=int(status["environments"]),  # type: ignore[arg-type]
                            rss_mb_total=rss_kb / 1024,
                            backend_reads=sum(backend.reads.values()) - reads_before,
                        )
                    )
                finally:
                    await cloud.stop()
    return results


def _only(stack: StackSpec, function: str, env: dict[str, str]) -> StackSpec:
    fn = stack.functions[function]
    fn = replace(fn, environment={**fn.environment, **env})
    apis = {k: a for k, a in stack.http_apis.items() if any(r.function == function for r in a.routes)}
    return replace(stack, functions={function: fn}, http_apis=apis)


def lmi_vs_standard(**kwargs: Any) -> list[LevelResult]:
    """See `lmi_vs_standard_async`; prints one line per level and returns the rows."""
    results = asyncio.run(lmi_vs_standard_async(**kwargs))
    for row in results:
        print(row.line())
    return results


def summary(results: list[LevelResult]) -> dict[str, Any]:
    """The headline figures: LMI at its best level vs one standard environment (concurrency 1)."""
    lmi = [r for r in results if r.variant == "lmi"]
    single = next((r for r in results if r.variant == "standard" and r.concurrency == 1), None)
    best = max(lmi, key=lambda r: r.rps, default=None)
    out: dict[str, Any] = {}
    if best is not None:
        out["lmi_best"] = {"concurrency": best.concurrency, "rps": round(best.rps), "environments": best.environments}
    if best is not None and single is not None and single.rps:
        out["lmi_vs_single_standard_env"] = round(best.rps / single.rps, 1)
    return out


if __name__ == "__main__":  # pragma: no cover - manual run: python -m devkit.bench.lmi
    with contextlib.suppress(KeyboardInterrupt):
        rows = lmi_vs_standard()
        print(json.dumps(summary(rows), indent=2))


def run(*, requests: int) -> None:
    """`./inv bench-lmi`: builds both convert bootstraps, then :func:`lmi_vs_standard` at rising concurrency."""
    from devkit.build import build_bootstraps

    build_bootstraps(["convert-lambda", "convert-lmi-lambda"], profile="ci", quiet=True)
    lmi_vs_standard(levels=(1, 8, 32, 64, 128), requests_per_level=requests, io_latency_ms=20, cache_ttl_ms=0)
