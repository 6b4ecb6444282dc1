"""Micro-benchmark of the gateway hot path: warm latency percentiles and throughput over keep-alive connections."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import aiohttp


@dataclass(frozen=True)
class LatencyReport:
    requests: int
    concurrency: int
    p50_ms: float
    p99_ms: float
    rps: float
    errors: int

    def line(self) -> str:
        return (
            f"n={self.requests} c={self.concurrency} p50={self.p50_ms:.2f} ms p99={self.p99_ms:.2f} ms "
            f"rps={self.rps:.0f} errors={self.errors}"
        )


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


async def http_latency_async(
    url: str,
    n: int = 2000,
    concurrency: int = 1,
    warmup: int = 50,
    *,
    method: str = "GET",
    body: bytes | None = None,
) -> LatencyReport:
    """`n` requests over `concurrency` keep-alive connections, after `warmup` untimed ones."""
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:
        for _ in range(warmup):
            async with session.request(method, url, data=body) as response:
                await response.read()
        latencies: list[float] = []
        errors = 0
        remaining = n

        async def worker() -> None:
            nonlocal remaining, errors
            while remaining > 0:
                remaining -= 1
                started = time.perf_counter()
                async with session.request(method, url, data=body) as response:
                    await response.read()
                    if response.status >= 400:
                        errors += 1
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return LatencyReport(
        len(latencies),
        concurrency,
        _percentile(latencies, 0.50),
        _percentile(latencies, 0.99),
        len(latencies) / elapsed,
        errors,
    )


def _figures(report: LatencyReport) -> dict[str, float]:
    return {"p50_ms": report.p50_ms, "p99_ms": report.p99_ms, "rps": report.rps, "errors": report.errors}


def gateway_latency(url: str, n: int = 2000, concurrency: int = 1) -> dict[str, float]:
    """p50/p99 (ms) and requests/s of `n` GETs of `url`, `concurrency` at a time. Run it outside the server's loop
    (another process or thread), so client and server do not share one event loop."""
    return _figures(asyncio.run(http_latency_async(url, n, concurrency)))


def invoke_latency(
    endpoint: str, function: str, n: int = 2000, concurrency: int = 1, payload: bytes = b"{}"
) -> dict[str, float]:
    """The same figures for direct invocations through a Lambda Invoke API (`POST /2015-03-31/functions/
    <function>/invocations`): the local cloud's control endpoint, or `cargo lambda watch` (port 9000), so the two
    runners compare on the same bootstrap."""
    url = f"{endpoint.rstrip('/')}/2015-03-31/functions/{function}/invocations"
    return _figures(asyncio.run(http_latency_async(url, n, concurrency, method="POST", body=payload)))
