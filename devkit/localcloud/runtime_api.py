"""The Lambda Runtime API (`/2018-06-01/runtime/...`) of one execution environment, as aws-lambda-rie serves it.

One server per environment on 127.0.0.1 (random port); the bootstrap finds it through AWS_LAMBDA_RUNTIME_API.
Invocations are handed over with `deliver()`; each `/next` long poll takes the next one and records it in the
in-flight table (many at once in Lambda Managed Instances mode), and `/response` or `/error` resolves its future.

Status codes and bodies follow aws-lambda-rie (lambda/rapi/handler, lambda/rapi/rendering): 202 `{"status":"OK"}`;
413 `RequestEntityTooLarge` over 6,291,556 bytes (the invocation then fails with `Function.ResponseSizeTooLarge`);
400 `InvalidRequestID` for an id that is not in flight; 403 `InvalidStateTransition` when nothing is in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
import uuid
from dataclasses import dataclass, field

from aiohttp import web

API_PREFIX = "/2018-06-01/runtime"
MAX_PAYLOAD_BYTES = 6_291_556  # interop.MaxPayloadSize in aws-lambda-rie: 6 MiB + 100 bytes of envelope
_JSON = "application/json"


@dataclass(frozen=True)
class RuntimeOutcome:
    """What the function produced: a response body, or an error body with its type."""

    ok: bool
    body: bytes
    error_type: str | None = None

    @staticmethod
    def error(error_type: str, message: str) -> RuntimeOutcome:
        body = json.dumps({"errorType": error_type, "errorMessage": message}).encode()
        return RuntimeOutcome(False, body, error_type)


@dataclass
class Invocation:
    request_id: str
    payload: bytes
    deadline_ms: int  # epoch milliseconds
    function_arn: str
    trace_id: str
    client_context: str | None = None
    cognito_identity: str | None = None
    future: asyncio.Future[RuntimeOutcome] = field(default_factory=lambda: asyncio.get_running_loop().create_future())

    def settle(self, outcome: RuntimeOutcome) -> None:
        if not self.future.done():
            self.future.set_result(outcome)


def new_request_id() -> str:
    return str(uuid.uuid4())


def new_trace_id() -> str:
    """An X-Ray trace header as Lambda passes it: `Root=1-<epoch hex>-<96-bit hex>;Parent=<64-bit hex>;Sampled=0`."""
    return f"Root=1-{int(time.time()):08x}-{os.urandom(12).hex()};Parent={os.urandom(8).hex()};Sampled=0"


def _json_response(status: int, payload: dict[str, str]) -> web.Response:
    return web.Response(status=status, body=json.dumps(payload).encode() + b"\n", content_type=_JSON)


_ACCEPTED = b'{"status":"OK"}\n'


class RuntimeApi:
    """Runtime API server of one execution environment."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[Invocation] = asyncio.Queue()
        self.in_flight: dict[str, Invocation] = {}
        self.first_next = asyncio.Event()
        self.first_next_at: float | None = None  # time.monotonic() of the first /next: end of init
        self.init_error: RuntimeOutcome | None = None
        self.init_failed = asyncio.Event()
        self._server: asyncio.AbstractServer | None = None
        self._web: web.Server | None = None
        self.port = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._web = web.Server(self._handle, handler_cancellation=True, access_log=None)
        self._server = await loop.create_server(self._web, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        if self._web is not None:
            with contextlib.suppress(Exception):
                await self._web.shutdown(0.5)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 1.0)
        self._server = None

    def deliver(self, invocation: Invocation) -> None:
        self._queue.put_nowait(invocation)

    def pending(self) -> int:
        return self._queue.qsize()

    def fail_all(self, outcome_for: dict[str, RuntimeOutcome] | RuntimeOutcome) -> None:
        """Settles every queued and in-flight invocation (process died or was killed)."""
        while not self._queue.empty():
            self._take_queued_into_flight()
        for request_id, invocation in list(self.in_flight.items()):
            outcome = outcome_for if isinstance(outcome_for, RuntimeOutcome) else outcome_for.get(request_id)
            if outcome is not None:
                invocation.settle(outcome)
        self.in_flight.clear()

    def _take_queued_into_flight(self) -> None:
        invocation = self._queue.get_nowait()
        self.in_flight[invocation.request_id] = invocation

    def forget(self, request_id: str) -> None:
        self.in_flight.pop(request_id, None)

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        path = request.path
        if not path.startswith(API_PREFIX):
            return _json_response(404, {"errorType": "NotFound", "errorMessage": "Not Found"})
        tail = path[len(API_PREFIX) :]
        if tail == "/invocation/next" and request.method == "GET":
            return await self._next()
        if tail == "/init/error" and request.method == "POST":
            return await self._init_error(request)
        if tail.startswith("/invocation/") and request.method == "POST":
            request_id, _, kind = tail[len("/invocation/") :].partition("/")
            if kind == "response":
                return await self._response(request, request_id)
            if kind == "error":
                return await self._error(request, request_id)
        return _json_response(404, {"errorType": "NotFound", "errorMessage": "Not Found"})

    async def _next(self) -> web.Response:
        if self.first_next_at is None:
            self.first_next_at = time.monotonic()
            self.first_next.set()
        invocation = await self._queue.get()
        self.in_flight[invocation.request_id] = invocation
        headers = {
            "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
            "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": invocation.function_arn,
            "Lambda-Runtime-Trace-Id": invocation.trace_id,
        }
        if invocation.client_context is not None:
            headers["Lambda-Runtime-Client-Context"] = invocation.client_context
        if invocation.cognito_identity is not None:
            headers["Lambda-Runtime-Cognito-Identity"] = invocation.cognito_identity
        return web.Response(body=invocation.payload, headers=headers, content_type=_JSON)

    def _check_id(self, request_id: str) -> web.Response | Invocation:
        invocation = self.in_flight.get(request_id)
        if invocation is not None:
            return invocation
        if not self.in_flight:
            return _json_response(
                403,
                {
                    "errorType": "InvalidStateTransition",
                    "errorMessage": "State transition from Ready to InvocationResponse failed for runtime. "
                    "Error: State transition is not allowed",
                },
            )
        return _json_response(400, {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"})

    async def _response(self, request: web.BaseRequest, request_id: str) -> web.Response:
        checked = self._check_id(request_id)
        if isinstance(checked, web.Response):
            await request.content.read()
            return checked
        body, size = await _read_capped(request)
        del self.in_flight[request_id]
        if body is None:
            checked.settle(
                RuntimeOutcome.error(
                    "Function.ResponseSizeTooLarge",
                    f"Response payload size ({size} bytes) exceeded maximum allowed payload size "
                    f"({MAX_PAYLOAD_BYTES} bytes).",
                )
            )
            return _json_response(
                413,
                {
                    "errorMessage": f"Exceeded maximum allowed payload size ({MAX_PAYLOAD_BYTES} bytes).",
                    "errorType": "RequestEntityTooLarge",
                },
            )
        checked.settle(RuntimeOutcome(True, body))
        return web.Response(status=202, body=_ACCEPTED, content_type=_JSON)

    async def _error(self, request: web.BaseRequest, request_id: str) -> web.Response:
        checked = self._check_id(request_id)
        if isinstance(checked, web.Response):
            await request.content.read()
            return checked
        body = await request.content.read()
        del self.in_flight[request_id]
        error_type = request.headers.get("Lambda-Runtime-Function-Error-Type") or "Unhandled"
        checked.settle(RuntimeOutcome(False, body, error_type))
        return web.Response(status=202, body=_ACCEPTED, content_type=_JSON)

    async def _init_error(self, request: web.BaseRequest) -> web.Response:
        body = await request.content.read()
        error_type = request.headers.get("Lambda-Runtime-Function-Error-Type") or "Runtime.Unknown"
        self.init_error = RuntimeOutcome(False, body, error_type)
        self.init_failed.set()
        return web.Response(status=202, body=_ACCEPTED, content_type=_JSON)


async def _read_capped(request: web.BaseRequest) -> tuple[bytes | None, int]:
    """The body, or None (and its full size) when it exceeds MAX_PAYLOAD_BYTES; always drains the stream."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size <= MAX_PAYLOAD_BYTES:
            chunks.append(chunk)
        else:
            chunks.clear()
    if size > MAX_PAYLOAD_BYTES:
        return None, size
    return b"".join(chunks), size
