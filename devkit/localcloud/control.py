"""Control endpoint of a running local cloud (127.0.0.1, URL in `<state dir>/state.json` as `control_url`).

- the Lambda Invoke API, so `aws lambda invoke --endpoint-url`, boto3 and the SDKs can call functions:
  `POST /2015-03-31/functions/{name|arn}/invocations` with X-Amz-Invocation-Type RequestResponse (default), Event
  (202, runs in the background) or DryRun (204); X-Amz-Log-Type Tail returns the invocation's last 4 KB of log in
  X-Amz-Log-Result; a function error is a 200 with X-Amz-Function-Error; throttling is 429
  TooManyRequestsException; an unknown function 404 ResourceNotFoundException; over 6 MB 413
  RequestTooLargeException;
- `GET /_localcloud/status`: the cloud's status (`LocalCloud.status()`) as JSON, for `./inv status` from another
  terminal;
- fault injection (faults.py, `./inv fault`): `PUT /_localcloud/faults/{function}` with
  `{"seed": 1, "faults": [...]}` installs (400 with the reason for a bad spec), `DELETE` clears,
  `GET /_localcloud/faults` lists what is installed and what it injected.

It serves the stack's function pools; the cloud that owns them hands it the pools, its status and its log sink.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import unquote

from devkit.localcloud.awslambda.faults import FaultError, FunctionFaults
from devkit.localcloud.awslambda.logs import LogSink
from devkit.localcloud.awslambda.pool import FunctionPool
from devkit.localcloud.awslambda.runtime_api import new_request_id
from devkit.localcloud.model import StackSpec
from devkit.localcloud.server.http1 import Request, Response, Server

MAX_SYNC_PAYLOAD = 6_291_456
MAX_ASYNC_PAYLOAD = 1_048_576
TAIL_BYTES = 4096
_PREFIX = "/2015-03-31/functions/"
_FAULTS = "/_localcloud/faults"


def _error(status: int, error_type: str, message: str, **extra: str) -> Response:
    body = json.dumps({"Type": "User", "message": message, **extra}).encode()
    return Response(status, body, [("Content-Type", "application/json"), ("x-amzn-ErrorType", error_type)])


def _json(status: int, value: Any) -> Response:
    return Response(status, json.dumps(value).encode(), [("Content-Type", "application/json")])


class ControlServer:
    def __init__(
        self,
        stack: StackSpec,
        pools: Mapping[str, FunctionPool],
        *,
        status: Callable[[], Awaitable[dict[str, Any]]],
        sink: LogSink,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.stack = stack
        self.pools = pools
        self._cloud_status = status
        self.host = host
        self.port = port
        self._server = Server(self._handle, max_body=MAX_SYNC_PAYLOAD)
        self._tails: dict[str, list[str]] = {}
        self._background: set[asyncio.Task[Any]] = set()
        sink.listeners.append(self._collect)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self.port = await self._server.start(self.host, self.port)

    async def stop(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await self._server.stop(1.0)

    def _collect(self, function: str, request_id: str, text: str) -> None:
        lines = self._tails.get(request_id)
        if lines is not None:
            lines.append(text)

    def _resolve(self, name: str) -> str | None:
        """Logical id, physical name, or (qualified) ARN → logical id."""
        name = unquote(name)
        if name.startswith("arn:"):
            parts = name.split(":")
            name = parts[6] if len(parts) > 6 else name
        functions = self.stack.functions
        if name in functions:
            return name
        return next((lid for lid, fn in functions.items() if fn.physical_name == name), None)

    def _handle(self, request: Request) -> Response | Awaitable[Response]:
        path = request.target.partition("?")[0]
        if path == "/_localcloud/status" and request.method == "GET":
            return self._status()
        if path.startswith(_PREFIX) and path.endswith("/invocations") and request.method == "POST":
            return self._invoke(request, path[len(_PREFIX) : -len("/invocations")])
        if path == _FAULTS and request.method == "GET":
            return _json(200, self._faults())
        if path.startswith(_FAULTS + "/") and request.method in ("PUT", "DELETE"):
            return self._set_faults(request, path[len(_FAULTS) + 1 :])
        return _error(404, "UnknownOperationException", f"no route for {request.method} {path}")

    def _faults(self) -> dict[str, Any]:
        return {name: pool.faults.status() for name, pool in self.pools.items() if pool.faults is not None}

    def _set_faults(self, request: Request, name: str) -> Response:
        function = self._resolve(name)
        if function is None:
            return _error(404, "ResourceNotFoundException", f"Function not found: {unquote(name)}")
        pool = self.pools[function]
        if request.method == "DELETE":
            pool.faults = None
            return Response(204)
        try:
            pool.faults = FunctionFaults.parse(json.loads(request.body or b"null"))
        except (ValueError, FaultError) as err:  # JSONDecodeError is a ValueError
            return _error(400, "InvalidParameterValueException", str(err))
        return _json(200, {function: pool.faults.status()})

    async def _status(self) -> Response:
        return _json(200, await self._cloud_status())

    async def _invoke(self, request: Request, name: str) -> Response:
        function = self._resolve(name)
        region, account = self.stack.region, self.stack.account_id
        if function is None:
            arn = f"arn:aws:lambda:{region}:{account}:function:{unquote(name)}"
            return _error(404, "ResourceNotFoundException", f"Function not found: {arn}")
        payload = request.body
        kind = request.header("X-Amz-Invocation-Type") or "RequestResponse"
        if kind == "DryRun":
            return Response(204)
        limit = MAX_ASYNC_PAYLOAD if kind == "Event" else MAX_SYNC_PAYLOAD
        if payload is None or len(payload) > limit:
            return _error(
                413,
                "RequestTooLargeException",
                f"Request must be smaller than {limit} bytes for the InvokeFunction operation",
            )
        pool = self.pools[function]
        if kind == "Event":
            task = asyncio.create_task(pool.invoke(payload or b"{}"))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            return Response(202, headers=[("X-Amzn-RequestId", new_request_id())])
        tail = request.header("X-Amz-Log-Type") == "Tail"
        request_id = new_request_id()
        if tail:
            self._tails[request_id] = []
        try:
            # without a log tail to return, the answer goes out before the END/REPORT lines
            result = await pool.invoke(payload or b"{}", request_id=request_id, report_after_caller=not tail)
        finally:
            lines = self._tails.pop(request_id, [])
        headers = {"X-Amzn-RequestId": request_id, "X-Amz-Executed-Version": "$LATEST"}
        if result.status == "throttled":
            return _error(
                429,
                "TooManyRequestsException",
                "Rate Exceeded.",
                Reason="ReservedFunctionConcurrentInvocationLimitExceeded",
            )
        if tail:
            log = ("\n".join(lines) + "\n").encode()[-TAIL_BYTES:]
            headers["X-Amz-Log-Result"] = base64.b64encode(log).decode()
        if not result.ok:
            headers["X-Amz-Function-Error"] = "Unhandled"
        headers["Content-Type"] = "application/json"
        return Response(200, result.outcome.body, list(headers.items()))
