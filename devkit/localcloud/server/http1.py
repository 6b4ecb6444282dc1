"""A lean HTTP/1.1 server for the local cloud's hot path (the HTTP API gateway and each Runtime API).

Parsing is httptools (llhttp, the parser behind uvicorn); this module only frames requests and responses on an
asyncio Protocol. Why not aiohttp's server here: every gateway request crosses three HTTP exchanges (client →
gateway, the Runtime API's `/next` answer, the bootstrap's `/response`), and aiohttp's per-request machinery
(request objects, payload streams, a task per request) cost about 2x the CPU of `cargo lambda watch` per
invocation. Here a handler may answer synchronously (no task at all: the Runtime API's `/response`, or `/next`
with work queued) or return an awaitable (one task).

Supported: keep-alive and `Connection: close`, HTTP/1.0, chunked request bodies (de-chunked by the parser),
`Expect: 100-continue`, pipelined requests (answered in order), a body cap (the body is dropped, its size kept,
so the handler can answer 413), malformed requests → 400 and close.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

import httptools

_REASONS = {
    100: "Continue", 200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 301: "Moved Permanently",
    302: "Found", 304: "Not Modified", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
    404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 412: "Precondition Failed",
    413: "Request Entity Too Large", 415: "Unsupported Media Type", 422: "Unprocessable Entity",
    429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
    504: "Gateway Timeout",
}  # fmt: skip


def first_header(headers: list[tuple[str, str]], name: str) -> str | None:
    """The first value of header `name` in `headers` (case-insensitive)."""
    lowered = name.lower()
    return next((value for key, value in headers if key.lower() == lowered), None)


@dataclass
class Request:
    method: str
    target: str  # raw path + "?" + raw query, as sent
    headers: list[tuple[str, str]]  # as sent (names keep their case), duplicates kept
    body: bytes | None  # None when it exceeded the server's body cap
    body_size: int
    version: str  # "1.1" | "1.0"
    peer: str

    def header(self, name: str) -> str | None:
        """The first value of header `name` (case-insensitive)."""
        return first_header(self.headers, name)


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)

    def set(self, name: str, value: str) -> None:
        """Replaces every header `name` (case-insensitive) with one value."""
        self.remove(name)
        self.headers.append((name, value))

    def add(self, name: str, value: str) -> None:
        self.headers.append((name, value))

    def remove(self, name: str) -> None:
        lowered = name.lower()
        self.headers = [(k, v) for k, v in self.headers if k.lower() != lowered]

    def get(self, name: str) -> str | None:
        return first_header(self.headers, name)


_MAX_PIPELINED = 32  # queued requests on one connection before it stops reading


def _internal_error() -> Response:
    return Response(500, b'{"message":"Internal Server Error"}', [("Content-Type", "application/json")])


Handler = Callable[[Request], "Response | Awaitable[Response]"]

_date_cache: tuple[int, bytes] = (0, b"")


def _date_header() -> bytes:
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, f"Date: {formatdate(now, usegmt=True)}\r\n".encode())
    return _date_cache[1]


def encode(response: Response, *, keep_alive: bool, head: bool = False) -> bytes:
    status = response.status
    parts = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}\r\n".encode(), _date_header()]
    for name, value in response.headers:
        lowered = name.lower()
        if lowered in ("content-length", "connection", "transfer-encoding", "date"):
            continue
        if "\r" in value or "\n" in value:
            raise ValueError(f"header {name!r} has a line break")
        parts.append(f"{name}: {value}\r\n".encode("latin-1", "replace"))
    if status >= 200 and status not in (204, 304):
        parts.append(b"Content-Length: %d\r\n" % len(response.body))
    if not keep_alive:
        parts.append(b"Connection: close\r\n")
    parts.append(b"\r\n")
    if not head and status not in (204, 304):
        parts.append(response.body)
    return b"".join(parts)


class _Connection(asyncio.Protocol):
    """One client connection: parse, queue complete requests, answer them in order."""

    def __init__(self, handler: Handler, max_body: int, connections: set[_Connection]) -> None:
        self._handler = handler
        self._max_body = max_body
        self._connections = connections
        self._parser = httptools.HttpRequestParser(self)
        self._transport: Any = None  # an asyncio.Transport; uvloop's TCPTransport is not a subclass of it
        self._loop: Any = None  # the running loop (uvloop's Loop in the local cloud)
        self._peer = "127.0.0.1"
        self._ready: collections.deque[tuple[Request, bool]] = collections.deque()
        self._busy = False  # a request is being answered (asynchronously)
        self._closing = False
        self._paused = False
        self.task: asyncio.Task[None] | None = None
        self.waiting: asyncio.Future[Response] | None = None
        self._reset()

    def _reset(self) -> None:
        self._url = b""
        self._headers: list[tuple[str, str]] = []
        self._chunks: list[bytes] = []
        self._size = 0

    # asyncio.Protocol ----------------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport
        self._loop = asyncio.get_running_loop()
        peer = transport.get_extra_info("peername")
        if peer:
            self._peer = peer[0]
        self._connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._connections.discard(self)
        self._closing = True
        self._transport = None
        if self.task is not None and not self.task.done():
            self.task.cancel()
        if self.waiting is not None and not self.waiting.done():
            self.waiting.cancel()  # the long poll's owner sees a cancelled waiter and skips it

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(400)
        except httptools.HttpParserError:
            self._fail(400)

    # httptools callbacks -------------------------------------------------------------------------------------

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        for name, value in self._headers:
            if name.lower() == "expect" and value.lower() == "100-continue" and self._transport is not None:
                self._transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        if self._size <= self._max_body:
            self._chunks.append(body)
        elif self._chunks:
            self._chunks.clear()

    def on_message_complete(self) -> None:
        parser = self._parser
        body = None if self._size > self._max_body else b"".join(self._chunks)
        request = Request(
            method=parser.get_method().decode("ascii", "replace"),
            target=self._url.decode("latin-1"),
            headers=self._headers,
            body=body,
            body_size=self._size,
            version=parser.get_http_version(),
            peer=self._peer,
        )
        keep_alive = parser.should_keep_alive()
        self._reset()
        self._ready.append((request, keep_alive))
        if not self._busy:
            self._drain()
        elif len(self._ready) >= _MAX_PIPELINED and self._transport is not None and not self._paused:
            self._paused = True  # back-pressure; otherwise reading goes on, so a client's EOF is seen at once
            self._transport.pause_reading()

    # answering -----------------------------------------------------------------------------------------------

    def _drain(self) -> None:
        """Answers queued requests in order; stops at the first that needs to wait."""
        while self._ready and not self._closing:
            request, keep_alive = self._ready.popleft()
            try:
                answer = self._handler(request)
            except Exception:  # a handler bug is a 500 for that request, not a dead server
                answer = _internal_error()
            if isinstance(answer, Response):
                self._send(request, answer, keep_alive)
                continue
            self._busy = True
            if isinstance(answer, asyncio.Future):  # e.g. a long poll: no task, a callback when it resolves
                self.waiting = answer
                answer.add_done_callback(functools.partial(self._settled, request, keep_alive=keep_alive))
            else:
                self.task = self._loop.create_task(self._finish(request, answer, keep_alive))
            return

    def _settled(self, request: Request, done: asyncio.Future[Response], *, keep_alive: bool) -> None:
        self.waiting = None
        if done.cancelled():
            return
        error = done.exception()
        response = done.result() if error is None else _internal_error()
        self._answered(request, response, keep_alive)

    async def _finish(self, request: Request, answer: Awaitable[Response], keep_alive: bool) -> None:
        try:
            response = await answer
        except asyncio.CancelledError:
            return
        except Exception:
            response = _internal_error()
        self.task = None
        self._answered(request, response, keep_alive)

    def _answered(self, request: Request, response: Response, keep_alive: bool) -> None:
        self._busy = False
        self._send(request, response, keep_alive)
        if self._transport is not None and not self._closing:
            if self._paused:
                self._paused = False
                self._transport.resume_reading()
            self._drain()

    def _send(self, request: Request, response: Response, keep_alive: bool) -> None:
        transport = self._transport
        if transport is None or self._closing:
            return
        try:
            data = encode(response, keep_alive=keep_alive, head=request.method == "HEAD")
        except ValueError:
            data = encode(_internal_error(), keep_alive=keep_alive)
        transport.write(data)
        if not keep_alive:
            self._closing = True
            transport.close()

    def _fail(self, status: int) -> None:
        if self._transport is not None and not self._closing:
            self._transport.write(encode(Response(status), keep_alive=False))
            self._closing = True
            self._transport.close()

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


class Server:
    """`handler` served on host:port (0 = any free port) until `stop()`."""

    def __init__(self, handler: Handler, *, max_body: int) -> None:
        self._handler = handler
        self._max_body = max_body
        self._server: Any = None  # an asyncio.Server; uvloop's is not a subclass (its `sockets` is a list)
        self._connections: set[_Connection] = set()
        self.port = 0

    async def start(self, host: str, port: int, *, reuse_address: bool = False) -> int:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Connection(self._handler, self._max_body, self._connections),
            host,
            port,
            reuse_address=reuse_address,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self, grace_s: float = 1.0) -> None:
        """Stops listening, lets answers in progress finish for up to `grace_s`, then closes every connection."""
        if self._server is None:
            return
        self._server.close()
        pending = [c.task for c in self._connections if c.task is not None and not c.task.done()]
        if pending:
            await asyncio.wait(pending, timeout=grace_s)
        for connection in list(self._connections):
            connection.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._server.wait_closed(), grace_s)
        self._server = None
