"""Micro-benchmarks of the local cloud: warm latency percentiles and throughput over keep-alive connections,
through the gateway or a Lambda Invoke API, and `cargo lambda watch` on the same bootstrap for comparison.

Clients run outside the server's event loop (another process or thread): `gateway_latency` and `invoke_latency`
call `asyncio.run` themselves."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from devkit import paths


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


@contextlib.contextmanager
def cargo_lambda_watch(bootstrap: Path, *, port: int, memory_mb: int = 128, deadline_s: float = 60.0) -> Iterator[str]:
    """`cargo lambda watch --only-lambda-apis` with `bootstrap` (a private copy, so builds can still replace the
    original) running against it; yields its Lambda Invoke API endpoint (function name `_`)."""
    from devkit.build import cargo_lambda

    with tempfile.TemporaryDirectory(prefix="clw-") as tmp:
        copy = Path(shutil.copy2(bootstrap, Path(tmp) / "bootstrap"))
        watch = subprocess.Popen(
            [*cargo_lambda(), "watch", "--only-lambda-apis", "-A", "127.0.0.1", "-P", str(port),
             "--manifest-path", str(paths.ROOT / "Cargo.toml")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        function: subprocess.Popen[bytes] | None = None
        try:
            _wait_for_port(port, deadline_s, watch)
            env = {
                "AWS_LAMBDA_RUNTIME_API": f"http://127.0.0.1:{port}/.rt",
                "AWS_LAMBDA_FUNCTION_NAME": "_",
                "AWS_LAMBDA_FUNCTION_VERSION": "1",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
                "PATH": os.environ.get("PATH", ""),
            }
            function = subprocess.Popen([str(copy)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            yield f"http://127.0.0.1:{port}"
        finally:
            for proc in (function, watch):
                if proc is not None and proc.poll() is None:
                    proc.terminate()
                    try:
                        proc.wait(5)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()


def _wait_for_port(port: int, deadline_s: float, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"cargo lambda watch exited with {proc.returncode} before listening on {port}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"cargo lambda watch did not listen on port {port} within {deadline_s:.0f} s")
