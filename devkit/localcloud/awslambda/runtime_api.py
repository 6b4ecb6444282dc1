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
import collections
import json
import os
import random
import time
from dataclasses import dataclass, field

from devkit.localcloud.server.http1 import Request, Response, Server

API_PREFIX = "/2018-06-01/runtime"
MAX_PAYLOAD_BYTES = 6_291_556  # interop.MaxPayloadSize in aws-lambda-rie: 6 MiB + 100 bytes of envelope
_JSON = ("Content-Type", "application/json")


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
    timed_out: bool = False  # settled by the Timeout timer (pool), not by the runtime
    future: asyncio.Future[RuntimeOutcome] = field(default_factory=lambda: asyncio.get_running_loop().create_future())

    def settle(self, outcome: RuntimeOutcome) -> None:
        if not self.future.done():
            self.future.set_result(outcome)


# Ids only need to be unique, not unguessable: a PRNG seeded once from the OS, not a getrandom syscall per id.
_ids = random.Random(os.urandom(32))
_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)  # version 4, RFC 4122 variant


def random_bits(bits: int) -> int:
    return _ids.getrandbits(bits)


def new_request_id() -> str:
    """A random (version 4) UUID in its canonical form, as Lambda's request ids are."""
    h = f"{(_ids.getrandbits(128) & _UUID4_CLEAR) | _UUID4_SET:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def new_trace_id() -> str:
    """An X-Ray trace header as Lambda passes it: `Root=1-<epoch hex>-<96-bit hex>;Parent=<64-bit hex>;Sampled=0`."""
    return f"Root=1-{int(time.time()):08x}-{_ids.getrandbits(96):024x};Parent={_ids.getrandbits(64):016x};Sampled=0"


def _json_response(status: int, payload: dict[str, str]) -> Response:
    return Response(status, json.dumps(payload).encode() + b"\n", [_JSON])


_ACCEPTED = b'{"status":"OK"}\n'
_NOT_FOUND = {"errorType": "NotFound", "errorMessage": "Not Found"}


class RuntimeApi:
    """Runtime API server of one execution environment.

    Every answer is synchronous except a `/next` that finds nothing queued: it parks a future that `deliver()`
    resolves, so an invocation costs no task and no queue hop (see `http1`)."""

    def __init__(self) -> None:
        self._queue: collections.deque[Invocation] = collections.deque()
        self._waiters: collections.deque[asyncio.Future[Response]] = collections.deque()
        self.in_flight: dict[str, Invocation] = {}
        self.first_next = asyncio.Event()
        self.first_next_at: float | None = None  # time.monotonic() of the first /next: end of init
        self.init_error: RuntimeOutcome | None = None
        self.init_failed = asyncio.Event()
        self._server = Server(self._handle, max_body=MAX_PAYLOAD_BYTES)
        self.port = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.port = await self._server.start("127.0.0.1", 0)

    async def stop(self) -> None:
        for waiter in self._waiters:
            waiter.cancel()
        self._waiters.clear()
        await self._server.stop(0.5)

    def deliver(self, invocation: Invocation) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():  # a cancelled waiter: its connection went away
                self.in_flight[invocation.request_id] = invocation
                waiter.set_result(_next_response(invocation))
                return
        self._queue.append(invocation)

    @property
    def polling(self) -> bool:
        """The runtime is parked in `/next`: an invocation delivered now reaches it at once."""
        return any(not waiter.done() for waiter in self._waiters)

    def pending(self) -> int:
        return len(self._queue)

    def queued(self) -> list[Invocation]:
        return list(self._queue)

    def fail_all(self, outcome_for: dict[str, RuntimeOutcome] | RuntimeOutcome) -> None:
        """Settles every queued and in-flight invocation (process died or was killed)."""
        while self._queue:
            invocation = self._queue.popleft()
            self.in_flight[invocation.request_id] = invocation
        for request_id, invocation in list(self.in_flight.items()):
            outcome = outcome_for if isinstance(outcome_for, RuntimeOutcome) else outcome_for.get(request_id)
            if outcome is not None:
                invocation.settle(outcome)
        self.in_flight.clear()

    def forget(self, request_id: str) -> None:
        self.in_flight.pop(request_id, None)

    def _handle(self, request: Request) -> Response | asyncio.Future[Response]:
        path = request.target.partition("?")[0]
        if not path.startswith(API_PREFIX):
            return _json_response(404, _NOT_FOUND)
        tail = path[len(API_PREFIX) :]
        if tail == "/invocation/next" and request.method == "GET":
            return self._next()
        if tail == "/init/error" and request.method == "POST":
            return self._init_error(request)
        if tail.startswith("/invocation/") and request.method == "POST":
            request_id, _, kind = tail[len("/invocation/") :].partition("/")
            if kind == "response":
                return self._response(request, request_id)
            if kind == "error":
                return self._error(request, request_id)
        return _json_response(404, _NOT_FOUND)

    def _next(self) -> Response | asyncio.Future[Response]:
        if self.first_next_at is None:
            self.first_next_at = time.monotonic()
            self.first_next.set()
        if self._queue:
            invocation = self._queue.popleft()
            self.in_flight[invocation.request_id] = invocation
            return _next_response(invocation)
        waiter: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        return waiter

    def _check_id(self, request_id: str) -> Response | Invocation:
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

    def _response(self, request: Request, request_id: str) -> Response:
        checked = self._check_id(request_id)
        if isinstance(checked, Response):
            return checked
        del self.in_flight[request_id]
        if request.body is None:
            checked.settle(
                RuntimeOutcome.error(
                    "Function.ResponseSizeTooLarge",
                    f"Response payload size ({request.body_size} bytes) exceeded maximum allowed payload size "
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
        checked.settle(RuntimeOutcome(True, request.body))
        return Response(202, _ACCEPTED, [_JSON])

    def _error(self, request: Request, request_id: str) -> Response:
        checked = self._check_id(request_id)
        if isinstance(checked, Response):
            return checked
        del self.in_flight[request_id]
        error_type = request.header("Lambda-Runtime-Function-Error-Type") or "Unhandled"
        checked.settle(RuntimeOutcome(False, request.body or b"", error_type))
        return Response(202, _ACCEPTED, [_JSON])

    def _init_error(self, request: Request) -> Response:
        error_type = request.header("Lambda-Runtime-Function-Error-Type") or "Runtime.Unknown"
        self.init_error = RuntimeOutcome(False, request.body or b"", error_type)
        self.init_failed.set()
        return Response(202, _ACCEPTED, [_JSON])


def _next_response(invocation: Invocation) -> Response:
    headers = [
        _JSON,
        ("Lambda-Runtime-Aws-Request-Id", invocation.request_id),
        ("Lambda-Runtime-Deadline-Ms", str(invocation.deadline_ms)),
        ("Lambda-Runtime-Invoked-Function-Arn", invocation.function_arn),
        ("Lambda-Runtime-Trace-Id", invocation.trace_id),
    ]
    if invocation.client_context is not None:
        headers.append(("Lambda-Runtime-Client-Context", invocation.client_context))
    if invocation.cognito_identity is not None:
        headers.append(("Lambda-Runtime-Cognito-Identity", invocation.cognito_identity))
    return Response(200, invocation.payload, headers)
