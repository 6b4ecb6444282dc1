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


async def gateway_latency_async(url: str, n: int = 2000, concurrency: int = 1, warmup: int = 50) -> LatencyReport:
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:
        for _ in range(warmup):
            async with session.get(url) as response:
                await response.read()
        latencies: list[float] = []
        errors = 0
        remaining = n

        async def worker() -> None:
            nonlocal remaining, errors
            while remaining > 0:
                remaining -= 1
                started = time.perf_counter()
                async with session.get(url) as response:
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


def gateway_latency(url: str, n: int = 2000, concurrency: int = 1) -> dict[str, float]:
    """p50/p99 (ms) and requests/s of `n` GETs of `url`, `concurrency` at a time. Run it outside the server's loop
    (another process or thread), so client and server do not share one event loop."""
    report = asyncio.run(gateway_latency_async(url, n, concurrency))
    return {"p50_ms": report.p50_ms, "p99_ms": report.p99_ms, "rps": report.rps, "errors": report.errors}
