"""Control endpoint of a running local cloud (127.0.0.1, URL in `<state dir>/state.json` as `control_url`).

- the Lambda Invoke API, so `aws lambda invoke --endpoint-url`, boto3 and the SDKs can call functions:
  `POST /2015-03-31/functions/{name|arn}/invocations` with X-Amz-Invocation-Type RequestResponse (default), Event
  (202, runs in the background) or DryRun (204); X-Amz-Log-Type Tail returns the invocation's last 4 KB of log in
  X-Amz-Log-Result; a function error is a 200 with X-Amz-Function-Error; throttling is 429
  TooManyRequestsException; an unknown function 404 ResourceNotFoundException; over 6 MB 413
  RequestTooLargeException;
- `GET /_localcloud/status`: `LocalCloud.status()` as JSON, for `./inv status` from another terminal.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aiohttp import web

from devkit.localcloud.runtime_api import new_request_id

if TYPE_CHECKING:
    from devkit.localcloud.cloud import LocalCloud

MAX_SYNC_PAYLOAD = 6_291_456
MAX_ASYNC_PAYLOAD = 1_048_576
TAIL_BYTES = 4096
_PREFIX = "/2015-03-31/functions/"


def _error(status: int, error_type: str, message: str, **extra: str) -> web.Response:
    body = json.dumps({"Type": "User", "message": message, **extra}).encode()
    return web.Response(
        status=status, body=body, content_type="application/json", headers={"x-amzn-ErrorType": error_type}
    )


class ControlServer:
    def __init__(self, cloud: LocalCloud, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.cloud = cloud
        self.host = host
        self.port = port
        self._server: asyncio.AbstractServer | None = None
        self._web: web.Server | None = None
        self._tails: dict[str, list[str]] = {}
        self._background: set[asyncio.Task[Any]] = set()
        cloud.sink.listeners.append(self._collect)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self._web = web.Server(self._handle, access_log=None)
        self._server = await asyncio.get_running_loop().create_server(self._web, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        if self._server is None:
            return
        self._server.close()
        if self._web is not None:
            await self._web.shutdown(1.0)
        await self._server.wait_closed()
        self._server = None

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
        functions = self.cloud.stack.functions
        if name in functions:
            return name
        return next((lid for lid, fn in functions.items() if fn.physical_name == name), None)

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        path = request.path
        if path == "/_localcloud/status" and request.method == "GET":
            return web.json_response(await self.cloud.status())
        if path.startswith(_PREFIX) and path.endswith("/invocations") and request.method == "POST":
            return await self._invoke(request, path[len(_PREFIX) : -len("/invocations")])
        return _error(404, "UnknownOperationException", f"no route for {request.method} {path}")

    async def _invoke(self, request: web.BaseRequest, name: str) -> web.Response:
        function = self._resolve(name)
        region, account = self.cloud.stack.region, self.cloud.stack.account_id
        if function is None:
            arn = f"arn:aws:lambda:{region}:{account}:function:{unquote(name)}"
            return _error(404, "ResourceNotFoundException", f"Function not found: {arn}")
        payload = await request.content.read() if request.body_exists else b""  # our limits, not aiohttp's 1 MB
        kind = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if kind == "DryRun":
            return web.Response(status=204)
        limit = MAX_ASYNC_PAYLOAD if kind == "Event" else MAX_SYNC_PAYLOAD
        if len(payload) > limit:
            return _error(
                413,
                "RequestTooLargeException",
                f"Request must be smaller than {limit} bytes for the InvokeFunction operation",
            )
        pool = self.cloud.pools[function]
        if kind == "Event":
            task = asyncio.create_task(pool.invoke(payload or b"{}"))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            return web.Response(status=202, headers={"X-Amzn-RequestId": new_request_id()})
        tail = request.headers.get("X-Amz-Log-Type") == "Tail"
        request_id = new_request_id()
        if tail:
            self._tails[request_id] = []
        try:
            result = await pool.invoke(payload or b"{}", request_id=request_id)
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
        return web.Response(status=200, body=result.outcome.body, headers=headers, content_type="application/json")
