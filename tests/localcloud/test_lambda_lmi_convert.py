"""The convert service's two topologies on the local cloud, through their HTTP APIs.

- `ConvertLmi` (`convert-lmi-lambda`, `run_concurrent`): ≥ 64 requests in flight in ONE environment, sharing one
  rate read per currency (single flight across concurrent invocations).
- `Convert` (`convert-lambda`, the sequential runtime): the same load scales out to one environment per request.
- SIGTERM with requests in flight (both variants): every in-flight request completes with 200, then the
  process exits 0 by itself, well inside the grace period; a stuck request is abandoned at the drain deadline.

Rates come from `RatesBackend` (a loopback DynamoDB `GetItem` stand-in) whose gate holds reads, so "in flight
at the signal" is a fact checked before the signal, not a timing guess. The stack is
tests/localcloud/fixtures/convert.yaml, which must agree with infra/template.yaml (checked below).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from devkit import paths
from devkit.bench.lmi import LMI_FUNCTION, STANDARD_FUNCTION, RatesBackend, convert_stack
from devkit.build import build_bootstraps
from devkit.localcloud import process_alive
from devkit.localcloud.awslambda.pool import FunctionPool
from devkit.localcloud.cloud import LocalCloud
from devkit.localcloud.model import PoolSettings, StackSpec
from tests.localcloud.support import CapturedLogs, run, wait_until

FIXTURE = Path(__file__).parent / "fixtures" / "convert.yaml"
GRACE_S = 4.0
QUERY = "/convert?from=USD&to=JPY&amount=12345"  # 123.45 USD / 0.0067 = 18425.37 JPY → 18425
EXPECTED = 18425


@pytest.fixture(scope="module")
def bootstraps() -> dict[str, Path]:
    built = build_bootstraps(["convert-lambda", "convert-lmi-lambda"], profile="ci", quiet=True)
    return {LMI_FUNCTION: built["convert-lmi-lambda"].bootstrap, STANDARD_FUNCTION: built["convert-lambda"].bootstrap}


def _stack(function: str, **env: str) -> StackSpec:
    stack = convert_stack(FIXTURE, functions=[function])
    if env:
        fn = stack.functions[function]
        stack = replace(stack, functions={function: replace(fn, environment={**fn.environment, **env})})
    return stack


async def _with_cloud(
    function: str,
    bootstraps: dict[str, Path],
    body: Callable[[FunctionPool, RatesBackend, CapturedLogs, str], Awaitable[None]],
    **env: str,
) -> None:
    async with RatesBackend() as backend:
        cloud = LocalCloud(
            _stack(function, **env),
            {function: bootstraps[function]},
            endpoint_url=backend.url,
            state_dir=None,
            console=None,
            pool_settings=PoolSettings(shutdown_grace_s=GRACE_S, console_reports=False),
        )
        logs = CapturedLogs()
        cloud.sink.listeners.append(logs)
        await cloud.start()
        try:
            url = next(iter(cloud.urls.values()))
            await body(cloud.pools[function], backend, logs, url)
        finally:
            backend.gate.set()
            await cloud.stop()


def _fire(session: aiohttp.ClientSession, url: str, n: int) -> list[asyncio.Task[tuple[int, Any]]]:
    async def one() -> tuple[int, Any]:
        async with session.get(url + QUERY) as response:
            return response.status, await response.json(content_type=None)

    return [asyncio.create_task(one()) for _ in range(n)]


def _session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=30))


def _json_logs(logs: CapturedLogs) -> list[dict[str, Any]]:
    out = []
    for text in logs.texts("{"):
        try:
            out.append(json.loads(text))
        except ValueError:
            continue
    return out


def _logged(logs: CapturedLogs, message: str) -> dict[str, Any] | None:
    return next((line for line in _json_logs(logs) if line.get("message") == message), None)


def _assert_all_converted(results: list[tuple[int, Any]]) -> None:
    failures = [r for r in results if r[0] != 200 or r[1].get("converted") != EXPECTED]
    assert not failures, failures[:3]


# ---- the template ------------------------------------------------------------------------------------------------


def test_fixture_and_infra_template_agree_on_the_convert_functions() -> None:
    fixture = convert_stack(FIXTURE)
    infra = convert_stack(paths.TEMPLATE)
    for name in (LMI_FUNCTION, STANDARD_FUNCTION):
        a, b = fixture.functions[name], infra.functions[name]
        for attr in ("binary", "memory_mb", "max_concurrency_per_env", "min_environments", "max_environments"):
            assert getattr(a, attr) == getattr(b, attr), f"{name}.{attr}: fixture {getattr(a, attr)} != infra"
        differing = {k: v for k, v in a.environment.items() if b.environment.get(k) != v}
        assert not differing, f"{name}: infra differs on {differing}"
    lmi = infra.functions[LMI_FUNCTION]
    assert lmi.is_managed_instances and lmi.max_concurrency_per_env == 64
    assert infra.functions[STANDARD_FUNCTION].max_concurrency_per_env is None
    routes = {(api, r.method, r.path, r.function) for api, spec in infra.http_apis.items() for r in spec.routes}
    assert ("HttpApi", "GET", "/convert", LMI_FUNCTION) in routes
    assert ("ConvertStandardApi", "GET", "/convert", STANDARD_FUNCTION) in routes


async def _held(
    session: aiohttp.ClientSession, pool: FunctionPool, backend: RatesBackend, url: str, n: int
) -> list[asyncio.Task[tuple[int, Any]]]:
    """`n` requests sent with the rates backend's gate closed, once all `n` are in flight at `pool`."""
    backend.gate.clear()
    tasks = _fire(session, url, n)
    await wait_until(lambda: pool.status()["in_flight"] == n, 15, f"{n} requests in flight")
    return tasks


# ---- concurrency -----------------------------------------------------------------------------------------------


def test_lmi_serves_64_in_flight_requests_in_one_environment(bootstraps: dict[str, Path]) -> None:
    async def body(pool: FunctionPool, backend: RatesBackend, logs: CapturedLogs, url: str) -> None:
        assert pool.status()["environments"] == 1, "MinExecutionEnvironments: 1 pre-started"
        async with _session() as session:
            tasks = await _held(session, pool, backend, url, 64)
            env = pool.envs[0]
            await wait_until(lambda: len(env.api.in_flight) == 64, 10, "64 invocations taken by the runtime")
            status = pool.status()
            assert status["environments"] == 1 and status["cold_starts"] == 1, status
            assert status["max_concurrency_per_env"] == 64
            # 64 concurrent misses of two currencies: one read each, the other requests wait on those.
            await wait_until(lambda: backend.waiting == 2, 10, "the two rate reads")
            assert dict(backend.reads) == {"USD": 1, "JPY": 1}
            backend.gate.set()
            results = await asyncio.gather(*tasks)
        _assert_all_converted(results)
        assert pool.status()["environments"] == 1
        assert dict(backend.reads) == {"USD": 1, "JPY": 1}, "later requests hit the cache"

    run(_with_cloud(LMI_FUNCTION, bootstraps, body))


def test_standard_variant_scales_out_one_environment_per_request(bootstraps: dict[str, Path]) -> None:
    async def body(pool: FunctionPool, backend: RatesBackend, logs: CapturedLogs, url: str) -> None:
        assert pool.status()["environments"] == 0, "standard functions start on demand"
        async with _session() as session:
            tasks = await _held(session, pool, backend, url, 8)
            await wait_until(lambda: backend.waiting == 16, 15, "every environment reading both rates")
            status = pool.status()
            assert status["environments"] == 8 and status["cold_starts"] == 8, status
            assert all(e.active == 1 for e in pool.envs)
            assert dict(backend.reads) == {"USD": 8, "JPY": 8}, "one cache per environment"
            backend.gate.set()
            results = await asyncio.gather(*tasks)
        _assert_all_converted(results)

    run(_with_cloud(STANDARD_FUNCTION, bootstraps, body))


# ---- SIGTERM -----------------------------------------------------------------------------------------------------


async def _sigterm_with_requests_in_flight(
    pool: FunctionPool, backend: RatesBackend, logs: CapturedLogs, url: str, n: int
) -> None:
    async with _session() as session:
        tasks = await _held(session, pool, backend, url, n)  # standard: n = 1 (more would start more environments)
        env = pool.envs[0]
        await wait_until(lambda: len(env.api.in_flight) == len(tasks), 10, "invocations taken by the runtime")
        await wait_until(lambda: backend.waiting >= 1, 10, "rate reads held at the gate")
        assert env.proc is not None
        pid = env.proc.pid
        started = time.monotonic()
        stopping = asyncio.create_task(pool.stop())  # SIGTERM, SIGKILL after GRACE_S
        line = await wait_until(lambda: _logged(logs, "shutdown signal: draining in-flight invocations"), 5, "SIGTERM")
        assert line["in_flight"] == len(tasks), line
        assert process_alive(pid), "still draining"
        assert not any(t.done() for t in tasks), "nothing answered yet"
        backend.gate.set()
        results = await asyncio.gather(*tasks)
        await stopping
        elapsed = time.monotonic() - started
    _assert_all_converted(results)
    assert env.proc.returncode == 0, f"exit status {env.proc.returncode}"
    assert elapsed < GRACE_S - 0.5, f"exited by itself ({elapsed:.2f}s), not by SIGKILL"
    drained = _logged(logs, "drained: every in-flight invocation completed")
    assert drained is not None and drained["drained"] == len(tasks), _json_logs(logs)[-5:]


def test_lmi_sigterm_finishes_every_in_flight_request_then_exits_0(bootstraps: dict[str, Path]) -> None:
    async def body(pool: FunctionPool, backend: RatesBackend, logs: CapturedLogs, url: str) -> None:
        await _sigterm_with_requests_in_flight(pool, backend, logs, url, 48)

    run(_with_cloud(LMI_FUNCTION, bootstraps, body))


def test_standard_sigterm_finishes_the_in_flight_request_then_exits_0(bootstraps: dict[str, Path]) -> None:
    async def body(pool: FunctionPool, backend: RatesBackend, logs: CapturedLogs, url: str) -> None:
        async with _session() as session:  # start the one environment first
            assert (await asyncio.gather(*_fire(session, url, 1)))[0][0] == 200
        backend.reads.clear()
        await _sigterm_with_requests_in_flight(pool, backend, logs, url, 1)

    # A zero TTL makes the second request read the rates again, so it can be held at the gate.
    run(_with_cloud(STANDARD_FUNCTION, bootstraps, body, RATE_CACHE_TTL_MS="0"))


def test_drain_deadline_bounds_shutdown_when_a_request_is_stuck(bootstraps: dict[str, Path]) -> None:
    async def body(pool: FunctionPool, backend: RatesBackend, logs: CapturedLogs, url: str) -> None:
        backend.gate.clear()
        async with _session() as session:
            tasks = _fire(session, url, 4)
            await wait_until(lambda: pool.status()["in_flight"] == 4, 15, "requests in flight")
            env = pool.envs[0]
            await wait_until(lambda: len(env.api.in_flight) == 4, 10, "invocations taken by the runtime")
            await wait_until(lambda: backend.waiting >= 1, 10, "rate reads held at the gate")
            assert env.proc is not None
            started = time.monotonic()
            await pool.stop()
            elapsed = time.monotonic() - started
            results = await asyncio.gather(*tasks)
        assert env.proc.returncode == 0
        assert 0.25 < elapsed < GRACE_S - 0.5, f"SHUTDOWN_DRAIN_MS=300 bounds the drain ({elapsed:.2f}s)"
        abandoned = _logged(logs, "drain deadline passed with invocations still in flight")
        assert abandoned is not None and abandoned["abandoned"] == 4
        # The environment exited under them: HTTP API answers a function failure with 500, as AWS does.
        assert all(status == 500 for status, _ in results), results

    run(_with_cloud(LMI_FUNCTION, bootstraps, body, SHUTDOWN_DRAIN_MS="300"))


# ---- the benchmark, at toy scale ---------------------------------------------------------------------------------


def test_bench_lmi_vs_standard_runs_and_reports_environments(bootstraps: dict[str, Path]) -> None:
    from devkit.bench.lmi import lmi_vs_standard_async, summary

    rows = run(
        lmi_vs_standard_async(template=FIXTURE, levels=(1, 4), requests_per_level=24, io_latency_ms=10, cache_ttl_ms=0)
    )
    by_key = {(r.variant, r.concurrency): r for r in rows}
    assert set(by_key) == {("lmi", 1), ("lmi", 4), ("standard", 1), ("standard", 4)}
    assert all(r.errors == 0 and r.requests == 24 for r in rows), [r.line() for r in rows]
    assert by_key[("lmi", 4)].environments == 1
    assert by_key[("standard", 4)].environments == 4
    assert by_key[("lmi", 4)].backend_reads < by_key[("standard", 4)].backend_reads, "single flight across requests"
    assert summary(rows)["lmi_best"]["environments"] == 1
