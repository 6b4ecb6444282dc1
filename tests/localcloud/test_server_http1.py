"""The local cloud's HTTP/1.1 server (`devkit.localcloud.server.http1`), byte for byte over raw sockets: keep-alive,
pipelining in order, `Connection: close`, HTTP/1.0, chunked bodies, `Expect: 100-continue`, the body cap,
malformed requests, synchronous and asynchronous handlers, long polls whose client goes away."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from devkit.localcloud.server.http1 import Request, Response, Server

Handler = Callable[[Request], "Response | Awaitable[Response]"]


def run(handler: Handler, body: Callable[[int], Awaitable[None]], *, max_body: int = 1024) -> None:
    async def main() -> None:
        server = Server(handler, max_body=max_body)
        port = await server.start("127.0.0.1", 0)
        try:
            await asyncio.wait_for(body(port), 10)
        finally:
            await server.stop(0.5)

    asyncio.run(main())


async def exchange(port: int, raw: bytes, *, responses: int = 1) -> bytes:
    """Sends `raw`, reads until `responses` complete responses (Content-Length framed) or EOF."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    await writer.drain()
    data = b""
    try:
        while data.count(b"HTTP/1.1 ") - data.count(b"HTTP/1.1 100 ") < responses or not _complete(data):
            chunk = await reader.read(65536)
            if not chunk:
                break
            data += chunk
    finally:
        writer.close()
    return data


def _complete(data: bytes) -> bool:
    """True when the last response's body is complete."""
    head_end = data.rfind(b"\r\n\r\n")
    start = data.rfind(b"HTTP/1.1 ")
    if head_end < start:
        return False
    head = data[start:head_end].decode("latin-1").lower()
    length = next((int(line.split(":", 1)[1]) for line in head.split("\r\n") if line.startswith("content-length:")), 0)
    return len(data) - (head_end + 4) >= length


def echo(request: Request) -> Response:
    body = b"none" if request.body is None else request.body
    return Response(
        200,
        body,
        [("X-Method", request.method), ("X-Target", request.target), ("X-Size", str(request.body_size))],
    )


def test_pipelined_requests_are_answered_in_order_on_one_connection() -> None:
    order: list[str] = []

    async def slow_then_fast(request: Request) -> Response:
        if request.target == "/slow":
            await asyncio.sleep(0.05)
        order.append(request.target)
        return Response(200, request.target.encode())

    async def body(port: int) -> None:
        raw = b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\nHost: x\r\n\r\n"
        data = await exchange(port, raw, responses=2)
        assert data.index(b"/slow") < data.index(b"/fast")
        assert data.count(b"HTTP/1.1 200 OK") == 2

    run(slow_then_fast, body)
    assert order == ["/slow", "/fast"], "the second request waits for the first answer"


def test_keep_alive_connection_close_and_http_1_0() -> None:
    async def body(port: int) -> None:
        kept = await exchange(port, b"GET /a?x=1 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert b"Connection: close" not in kept and b"X-Target: /a?x=1" in kept
        closed = await exchange(port, b"GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert b"Connection: close" in closed
        old = await exchange(port, b"GET /c HTTP/1.0\r\n\r\n")
        assert old.startswith(b"HTTP/1.1 200 OK") and b"Connection: close" in old

    run(echo, body)


def test_chunked_body_expect_continue_and_the_body_cap() -> None:
    async def body(port: int) -> None:
        chunked = await exchange(
            port, b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
        )
        assert chunked.endswith(b"\r\n\r\nabcde") and b"X-Size: 5" in chunked
        continued = await exchange(
            port, b"POST /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok"
        )
        assert continued.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK") and continued.endswith(b"ok")
        big = b"y" * 2000
        capped = await exchange(port, b"POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n" + big)
        assert capped.endswith(b"none") and b"X-Size: 2000" in capped, "over the cap: no body, its size kept"

    run(echo, body, max_body=1024)


def test_malformed_request_is_400_and_closes() -> None:
    async def body(port: int) -> None:
        data = await exchange(port, b"NOT HTTP AT ALL\r\n\r\n")
        assert data.startswith(b"HTTP/1.1 400 Bad Request") and b"Connection: close" in data

    run(echo, body)


def test_handler_exception_is_500_and_the_connection_lives_on() -> None:
    def broken(request: Request) -> Response:
        if request.target == "/boom":
            raise RuntimeError("bug")
        return Response(204)

    async def body(port: int) -> None:
        raw = b"GET /boom HTTP/1.1\r\nHost: x\r\n\r\nGET /fine HTTP/1.1\r\nHost: x\r\n\r\n"
        data = await exchange(port, raw, responses=2)
        assert data.startswith(b"HTTP/1.1 500 Internal Server Error")
        assert b"HTTP/1.1 204 No Content" in data

    run(broken, body)


def test_a_long_poll_whose_client_disconnects_is_cancelled() -> None:
    parked: list[asyncio.Future[Response]] = []

    def long_poll(_: Request) -> asyncio.Future[Response]:
        waiter: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        parked.append(waiter)
        return waiter

    async def body(port: int) -> None:
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        while not parked:
            await asyncio.sleep(0.001)  # until the server parked the request (bounded by run()'s deadline)
        writer.close()
        await writer.wait_closed()
        while not parked[0].cancelled():
            await asyncio.sleep(0.001)  # the server sees EOF and cancels the waiter (bounded by the deadline)

    run(long_poll, body)
    assert parked[0].cancelled()


def test_head_has_no_body_and_204_has_no_length() -> None:
    def handler(request: Request) -> Response:
        return Response(204) if request.target == "/none" else Response(200, b"abc")

    async def body(port: int) -> None:
        head = await exchange(port, b"HEAD /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert b"Content-Length: 3" in head and head.endswith(b"\r\n\r\n")
        none = await exchange(port, b"GET /none HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert b"Content-Length" not in none

    run(handler, body)
