"""Helpers for the local cloud's tests: StackSpec builders, condition waits, a pool with captured logs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devkit.localcloud.model import FunctionSpec, HttpApiSpec, RouteSpec, StackSpec

if TYPE_CHECKING:
    import aiohttp

    from devkit.localcloud.apigw.gateway import Gateway
    from devkit.localcloud.awslambda.pool import FunctionPool

REGION = "eu-west-1"
ACCOUNT = "123456789012"


def function_spec(logical_id: str = "Probe", **overrides: Any) -> FunctionSpec:
    spec = FunctionSpec(
        logical_id=logical_id,
        physical_name=f"localtest-{logical_id}",
        code_uri=Path("tests/fixtures/probe"),
        binary="probe",
        handler="bootstrap",
        runtime="provided.al2023",
        architecture="x86_64",
        memory_mb=128,
        timeout_s=5.0,
        environment={},
    )
    return replace(spec, **overrides)


def stack_spec(
    functions: list[FunctionSpec] | None = None,
    http_apis: list[HttpApiSpec] | None = None,
    **kwargs: Any,
) -> StackSpec:
    functions = functions if functions is not None else [function_spec()]
    return StackSpec(
        stack_name="localtest",
        region=REGION,
        account_id=ACCOUNT,
        functions={f.logical_id: f for f in functions},
        http_apis={a.logical_id: a for a in (http_apis or [])},
        tables=kwargs.pop("tables", {}),
        queues=kwargs.pop("queues", {}),
        event_source_mappings=kwargs.pop("event_source_mappings", ()),
        **kwargs,
    )


def probe_api(logical_id: str = "HttpApi", function: str = "Probe", **kwargs: Any) -> HttpApiSpec:
    return HttpApiSpec(logical_id=logical_id, routes=(RouteSpec("ANY", "$default", function),), **kwargs)


async def wait_until(condition: Callable[[], Any], timeout_s: float = 10.0, what: str = "condition") -> Any:
    """Polls `condition` until it is truthy; fails the test with `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        await asyncio.sleep(0.01)


async def serve_gateway(
    api: HttpApiSpec,
    invoker: Any,
    body: Callable[[aiohttp.ClientSession, Gateway], Awaitable[None]],
    **gateway_args: Any,
) -> None:
    """`body(http, gateway)` against a started gateway for `api` (a JWT authorizer over a fresh JWKS cache; api id
    abcde12345 unless `gateway_args` says otherwise); gateway and cache closed after."""
    import aiohttp

    from devkit.localcloud.apigw.authorizer import JwksCache, JwtAuthorizer
    from devkit.localcloud.apigw.gateway import Gateway

    cache = JwksCache(ttl_s=60)
    args = {"api_id": "abcde12345", **gateway_args}
    gateway = Gateway(api, invoker=invoker, authorizer=JwtAuthorizer(cache), account_id=ACCOUNT, **args)
    await gateway.start()
    try:
        async with aiohttp.ClientSession(gateway.url) as http:
            await body(http, gateway)
    finally:
        await gateway.stop()
        await cache.close()


def run(coro: Any) -> Any:
    """Runs one async test body in a fresh event loop (the suite has no asyncio plugin), the loop `./inv up` uses."""
    from devkit.localcloud.cloud import run as run_loop

    return run_loop(coro)


class CapturedLogs:
    """A LogSink listener that keeps every line, for assertions."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str, str]] = []

    def __call__(self, function: str, request_id: str, text: str) -> None:
        self.lines.append((function, request_id, text))

    def texts(self, prefix: str = "") -> list[str]:
        return [text for _, _, text in self.lines if text.startswith(prefix)]

    def for_request(self, request_id: str) -> list[str]:
        return [text for _, rid, text in self.lines if rid == request_id]


def make_pool(bootstrap: Path, fn: FunctionSpec, tmp: Path, **settings: Any) -> tuple[Any, CapturedLogs]:
    from devkit.localcloud.awslambda.logs import LogSink
    from devkit.localcloud.awslambda.pool import FunctionPool
    from devkit.localcloud.model import PoolSettings

    sink = LogSink(tmp / "logs", console=None)
    captured = CapturedLogs()
    sink.listeners.append(captured)
    pool = FunctionPool(
        fn,
        arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fn.physical_name}",
        region=REGION,
        bootstrap=bootstrap,
        sink=sink,
        endpoint_url="http://127.0.0.1:9",
        settings=PoolSettings(**settings),
    )
    return pool, captured


def with_pool(
    bootstrap: Path,
    fn: FunctionSpec,
    tmp: Path,
    body: Callable[[FunctionPool, CapturedLogs], Awaitable[None]],
    **settings: Any,
) -> None:
    """`body(pool, logs)` against a started pool of `fn` (see `make_pool`), stopped after, in a fresh event loop."""

    async def main() -> None:
        pool, logs = make_pool(bootstrap, fn, tmp, **settings)
        await pool.start()
        try:
            await body(pool, logs)
        finally:
            await pool.stop()

    run(main())
