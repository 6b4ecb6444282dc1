"""A bounded, loopback-only HTTP load generator: a fixed number of requests at a fixed concurrency.

    summary = await run_load("http://127.0.0.1:3000/echo", requests=2000, concurrency=1, warmup=200)

Keep-alive connections (one per concurrent worker) are opened and reused by an untimed warm-up at the same
concurrency, so the measured requests see steady state: every connection open, every execution environment the
load needs already started. Only loopback URLs are accepted: a benchmark never leaves the machine.

`python -m devkit.bench.load URL --requests N --concurrency C --warmup W [--method POST --body JSON]` prints the
summary as one JSON line. `load_in_subprocess` runs exactly that, so the client has its own process and
interpreter and does not take CPU (or the GIL) from a Python server in the measuring process; both sides of a
comparison are driven by the same client this way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from devkit.bench.stats import summarize

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


class LoadError(RuntimeError):
    """The load could not run (bad URL, client crashed); the message says why."""


def check_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host not in LOOPBACK_HOSTS:
        raise LoadError(f"benchmarks only target loopback, not {host or url!r}")


async def run_load(
    url: str,
    *,
    requests: int,
    concurrency: int = 1,
    warmup: int = 0,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout_s: float = 30.0,
) -> dict[str, Any]:
    """`requests` timed requests after `warmup` untimed ones, `concurrency` at a time. A status >= 400 or a
    client error counts as an error (its latency is still recorded)."""
    check_loopback(url)
    if requests < 1 or concurrency < 1 or warmup < 0:
        raise LoadError("requests and concurrency must be >= 1 and warmup >= 0")
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    statuses: Counter[str] = Counter()
    latencies: list[float] = []

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def one(record: bool) -> None:
            started = time.perf_counter()
            try:
                async with session.request(method, url, data=body, headers=headers) as response:
                    await response.read()
                    status = str(response.status)
            except (aiohttp.ClientError, TimeoutError) as exc:
                status = type(exc).__name__
            if record:
                latencies.append((time.perf_counter() - started) * 1000)
                statuses[status] += 1

        async def drive(count: int, record: bool) -> None:
            remaining = count

            async def worker() -> None:
                nonlocal remaining
                while remaining > 0:
                    remaining -= 1
                    await one(record)

            await asyncio.gather(*(worker() for _ in range(min(concurrency, count) or 1)))

        if warmup:
            await drive(warmup, record=False)
        started = time.perf_counter()
        await drive(requests, record=True)
        elapsed = time.perf_counter() - started

    errors = sum(n for status, n in statuses.items() if not (status.isdigit() and int(status) < 400))
    summary: dict[str, Any] = summarize(latencies, elapsed_s=elapsed, errors=errors)
    summary["concurrency"] = concurrency
    summary["statuses"] = dict(statuses)
    return summary


async def load_in_subprocess(
    url: str,
    *,
    requests: int,
    concurrency: int = 1,
    warmup: int = 0,
    method: str = "GET",
    body: bytes | None = None,
    timeout_s: float = 300.0,
) -> dict[str, Any]:
    """`run_load` in a fresh `python -m devkit.bench.load` process (awaitable: the caller's loop keeps serving)."""
    check_loopback(url)
    cmd = [sys.executable, "-m", "devkit.bench.load", url]
    cmd += ["--requests", str(requests), "--concurrency", str(concurrency), "--warmup", str(warmup)]
    cmd += ["--method", method]
    if body is not None:
        cmd += ["--body", body.decode()]
    proc = await asyncio.create_subprocess_exec(
        *cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout_s)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise LoadError(f"load client for {url} did not finish within {timeout_s:.0f} s") from None
    if proc.returncode != 0:
        raise LoadError(f"load client for {url} failed (exit {proc.returncode}): {err.decode()[-2000:]}")
    return json.loads(out.decode().strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devkit.bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--method", default="GET")
    parser.add_argument("--body", default=None, help="request body (text)")
    args = parser.parse_args(argv)
    from devkit.localcloud import run  # uvloop when installed: the cheapest client loop

    try:
        summary = run(
            run_load(
                args.url,
                requests=args.requests,
                concurrency=args.concurrency,
                warmup=args.warmup,
                method=args.method,
                body=args.body.encode() if args.body is not None else None,
            )
        )
    except LoadError as err:
        raise SystemExit(f"load: {err}") from None
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
