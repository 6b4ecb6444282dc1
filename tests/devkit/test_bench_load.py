"""devkit.bench.load: a bounded, loopback-only load generator (in-process and as its own process)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from devkit.bench.load import LoadError, check_loopback, load_in_subprocess, run_load
from devkit.bench.loopback import serve
from devkit.localcloud import run


class Server:
    """A loopback aiohttp server counting hits: /ok answers 200, /fail 500."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> Server:
        async def handle(request: web.Request) -> web.Response:
            self.hits[request.path] += 1
            await request.read()
            return web.Response(status=500 if request.path == "/fail" else 200, text="x")

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        self.runner, self.url = await serve(app)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


@pytest.mark.parametrize("url", ["http://example.com/", "http://10.0.0.1:3000/x", "http://192.168.1.2/"])
def test_only_loopback_is_accepted(url: str) -> None:
    with pytest.raises(LoadError, match="only target loopback"):
        check_loopback(url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:3000/x", "http://localhost/", "http://[::1]:9000/"])
def test_loopback_urls_pass(url: str) -> None:
    check_loopback(url)


def _load_ok(load: Callable[..., Awaitable[dict]], **settings: Any) -> tuple[dict, Counter[str]]:
    """`load` (run_load or load_in_subprocess) against a fresh Server's /ok: its summary and the server's hits."""

    async def body() -> tuple[dict, Counter[str]]:
        async with Server() as server:
            return await load(server.url + "/ok", **settings), server.hits

    return run(body())


def test_exact_request_count_at_the_given_concurrency_after_warmup() -> None:
    summary, hits = _load_ok(run_load, requests=30, concurrency=3, warmup=7)
    assert hits["/ok"] == 37  # warm-up requests are sent but not timed
    assert summary["requests"] == 30
    assert summary["errors"] == 0
    assert summary["statuses"] == {"200": 30}
    assert summary["concurrency"] == 3
    assert 0 < summary["p50_ms"] <= summary["p99_ms"] <= summary["max_ms"]
    assert summary["rps"] > 0


def test_error_statuses_and_refused_connections_count_as_errors() -> None:
    async def body() -> tuple[dict, dict]:
        async with Server() as server:
            failing = await run_load(server.url + "/fail", requests=5, method="POST", body=b"{}")
            url = server.url
        refused = await run_load(url + "/ok", requests=2)  # the server is gone: connection refused
        return failing, refused

    failing, refused = run(body())
    assert failing["errors"] == 5 and failing["statuses"] == {"500": 5}
    assert refused["errors"] == 2 and set(refused["statuses"]) == {"ClientConnectorError"}


def test_bad_counts_are_refused() -> None:
    with pytest.raises(LoadError, match="requests and concurrency"):
        run(run_load("http://127.0.0.1:9/", requests=0))


def test_the_client_runs_in_its_own_process() -> None:
    summary, hits = _load_ok(load_in_subprocess, requests=12, concurrency=2, warmup=3)
    assert hits["/ok"] == 15
    assert summary["requests"] == 12 and summary["errors"] == 0 and summary["p99_ms"] > 0


def test_a_failing_client_process_is_an_error() -> None:
    with pytest.raises(LoadError, match="only target loopback"):
        run(load_in_subprocess("http://example.com/", requests=1))


def test_currency_warm_up_ramps_to_the_rate_then_holds_it() -> None:
    from devkit.bench.write_to_read import send_times

    times, warmup = send_times(rate=200, seconds=2, warmup_s=10)
    assert warmup == 1100, "a linear ramp from 20/s to 200/s over 10 s sends (20 + 200) / 2 * 10 commands"
    per_second = [sum(1 for t in times if s <= t < s + 1) for s in range(12)]
    assert per_second[0] < 40 and per_second[9] > 180 and per_second[10:] == [200, 200], per_second
    assert per_second[:10] == sorted(per_second[:10]), "the warm-up only grows"
    assert times == sorted(times) and len(times) == warmup + 400
    assert send_times(rate=50, seconds=1, warmup_s=0) == ([i / 50 for i in range(50)], 0)
