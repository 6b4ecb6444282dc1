"""HTTP API (API Gateway v2, payload format 2.0) in front of the function pools.

Routing as API Gateway does it: per path segment a literal beats `{param}` beats `{proxy+}`, a method beats
`ANY`, and `$default` catches the rest. The gateway answers by itself, as API Gateway does: CORS preflights,
404 `{"message":"Not Found"}`, 413 `{"message":"Request Entity Too Large"}` (10 MB), 429 `{"message":"Too Many
Requests"}` when the route's stage/route throttling has no token left (throttling.py; no function runs), 401 from
the JWT authorizer (the function is never invoked), 500 `{"message":"Internal Server Error"}` on a function error,
a response it cannot use or an invocation Lambda rejects (a throttle: "If the Lambda API rejects the invocation
request, API Gateway returns a 500 error code", Lambda developer guide, services-apigateway-errors), and 503
`{"message":"Service Unavailable"}` when the integration times out (HTTP APIs answer 503, not REST's 504). With
AccessLogSettings on the stage, one line per request in the configured format (access_log.py).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from devkit.localcloud.apigw.access_log import AccessEntry, AccessLogFormat
from devkit.localcloud.apigw.authorizer import Denial, JwtAuthorizer
from devkit.localcloud.apigw.payload_v2 import (
    cors_headers,
    is_text,
    joined_headers,
    preflight,
    query_parameters,
    v2_response,
)
from devkit.localcloud.apigw.routing import Router
from devkit.localcloud.apigw.throttling import Clock, RouteThrottle
from devkit.localcloud.awslambda.runtime_api import random_bits
from devkit.localcloud.model import CorsSpec, HttpApiSpec, InvokeResult, RouteSpec
from devkit.localcloud.server.http1 import Request, Response, Server

MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway payload quota
MAX_INVOKE_BYTES = 6_291_456  # Lambda synchronous invocation request payload

Invoker = Callable[[str, bytes], Awaitable[InvokeResult]]  # (function logical id, event) -> result
AccessLogWriter = Callable[[str, str, str], None]  # (destination, gateway request id, line)


def _message(status: int, message: str, request_id: str | None = None) -> Response:
    body = json.dumps({"message": message}, separators=(",", ":")).encode()
    response = Response(status, body, [("Content-Type", "application/json")])
    if request_id is not None:
        response.add("apigw-requestid", request_id)
    return response


def api_id_for(stack_name: str, logical_id: str) -> str:
    """Stable, API-Gateway-looking id (10 lowercase alphanumerics)."""
    digest = hashlib.sha256(f"{stack_name}/{logical_id}".encode()).digest()
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(alphabet[b % 36] for b in digest[:10])


def _gateway_request_id() -> str:
    """API Gateway's shape: 11 random bytes, base64 (e.g. `JTHoQgr2oAMEPMg=`)."""
    return base64.b64encode(random_bits(88).to_bytes(11, "big")).decode()


# the server --------------------------------------------------------------------------------------------------


class Gateway:
    def __init__(
        self,
        api: HttpApiSpec,
        *,
        invoker: Invoker,
        authorizer: JwtAuthorizer,
        account_id: str,
        api_id: str,
        port: int = 0,
        host: str = "127.0.0.1",
        settles_within: Callable[[str], float | None] | None = None,
        access_log: AccessLogWriter | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        """`access_log` receives the stage's access log lines (none without AccessLogSettings); `clock` drives the
        throttling buckets (tests inject one)."""
        self.api = api
        # function → the longest an invocation can take before its pool settles it (init timeout + Timeout); when
        # that is under a route's integration timeout, the integration timer can never fire and is not armed
        self.settles_within = settles_within or (lambda function: None)
        self.router = Router(api.routes)
        self.invoker = invoker
        self.authorizer = authorizer
        self.account_id = account_id
        self.api_id = api_id
        self.host = host
        self.port = port
        self.requests = 0
        self._bounds: dict[str, float | None] = {}
        self._server = Server(self._handle, max_body=MAX_REQUEST_BYTES)
        self.throttle = RouteThrottle(api, clock) if api.default_throttle or api.route_throttles else None
        self._access_format = AccessLogFormat(api.access_log.format) if api.access_log and access_log else None
        self._access_log = access_log
        # reported once, at start, by the caller (the local cloud prints them with the template's warnings)
        self.warnings: tuple[str, ...] = tuple(
            f"{api.logical_id}: access log variable $context.{name} is not supported locally (logged as -)"
            for name in (self._access_format.unsupported if self._access_format else ())
        )

    def _settles_within(self, function: str) -> float | None:
        """settles_within(function), asked once per function (it depends on its Timeout and init timeout only)."""
        if function not in self._bounds:
            self._bounds[function] = self.settles_within(function)
        return self._bounds[function]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self.port = await self._server.start(self.host, self.port, reuse_address=True)

    async def stop(self) -> None:
        await self._server.stop(1.0)

    def _handle(self, request: Request) -> Response | Awaitable[Response]:
        self.requests += 1
        if self._access_format is None:
            return self._dispatch(request, None)
        entry = self._new_entry(request)
        answer = self._dispatch(request, entry)
        if isinstance(answer, Response):
            self._log(entry, answer)
            return answer
        return self._logged(answer, entry)

    def _dispatch(self, request: Request, entry: AccessEntry | None) -> Response | Awaitable[Response]:
        cors = self.api.cors
        origin = request.header("Origin") if cors is not None else None
        if origin is None:
            return self._route(request, entry)
        assert cors is not None
        if request.method == "OPTIONS" and request.header("Access-Control-Request-Method") is not None:
            return preflight(cors, origin)
        return self._route_with_cors(request, cors, origin, entry)

    async def _route_with_cors(
        self, request: Request, cors: CorsSpec, origin: str, entry: AccessEntry | None
    ) -> Response:
        response = await self._route(request, entry)
        cors_headers(cors, origin, response)
        return response

    # access logs -------------------------------------------------------------------------------------------------

    def _new_entry(self, request: Request) -> AccessEntry:
        now = time.time()
        return AccessEntry(
            request_id=_gateway_request_id(),
            source_ip=request.peer,
            method=request.method,
            path=request.target.partition("?")[0],
            protocol=f"HTTP/{request.version}",
            user_agent=request.header("User-Agent") or "",
            request_time=time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            request_time_epoch_ms=int(now * 1000),
            started=time.monotonic(),
        )

    async def _logged(self, answer: Awaitable[Response], entry: AccessEntry) -> Response:
        response = await answer
        self._log(entry, response)
        return response

    def _log(self, entry: AccessEntry, response: Response) -> None:
        assert self._access_format is not None and self._access_log is not None and self.api.access_log is not None
        entry.status = response.status
        entry.response_length = len(response.body)
        entry.response_latency_ms = int((time.monotonic() - entry.started) * 1000)
        line = self._access_format.render(entry, api_id=self.api_id, stage="$default", domain=self._domain())
        self._access_log(self.api.access_log.destination, entry.request_id, line)

    def _domain(self) -> str:
        return f"{self.host}:{self.port}".rsplit(":", 1)[0]

    # routing and the integration -----------------------------------------------------------------------------------

    async def _route(self, request: Request, entry: AccessEntry | None) -> Response:
        gw_request_id = entry.request_id if entry is not None else _gateway_request_id()
        body = request.body
        if body is None:
            return _message(413, "Request Entity Too Large")
        raw_path, _, raw_query = request.target.partition("?")
        matched = self.router.match(request.method, raw_path)
        if matched is None:
            return _message(404, "Not Found")
        route, path_params = matched
        if entry is not None:
            entry.route_key = route.route_key
        if self.throttle is not None and not self.throttle.allow(route.route_key):
            return _message(429, "Too Many Requests", gw_request_id)
        headers, cookies = joined_headers(request.headers)
        authorizer_ctx: dict[str, Any] | None = None
        if route.authorizer is not None:
            spec = self.api.authorizers.get(route.authorizer)
            if spec is None:
                return _message(500, "Internal Server Error")
            verdict = await self.authorizer.authorize(spec, headers, route.authorization_scopes)
            if isinstance(verdict, Denial):
                if entry is not None:
                    entry.authorizer_error = verdict.www_authenticate
                return Response(
                    verdict.status,
                    verdict.body,
                    [
                        ("Content-Type", "application/json"),
                        ("www-authenticate", verdict.www_authenticate),
                        ("apigw-requestid", gw_request_id),
                    ],
                )
            authorizer_ctx = {"jwt": {"claims": verdict.claims, "scopes": verdict.scopes}}
        event = self._event(
            request, raw_path, raw_query, route, path_params, headers, cookies, body, authorizer_ctx, gw_request_id
        )
        payload = orjson.dumps(event)  # compact, UTF-8; several times faster than json on the hot path
        if len(payload) > MAX_INVOKE_BYTES:
            return _message(413, "Request Entity Too Large")
        invoked = time.monotonic() if entry is not None else 0.0
        call = self.invoker(route.function, payload)
        bound, integration_s = self._settles_within(route.function), route.timeout_ms / 1000
        if bound is not None and bound < integration_s:
            result: InvokeResult | None = await call  # the warm path: no extra task, no timer
        else:
            result = await _with_integration_timeout(call, integration_s)
        if entry is not None:
            _note_integration(entry, result, invoked)
        if result is None:  # integration timeout: the invocation itself runs on, as in AWS
            return _message(503, "Service Unavailable", gw_request_id)
        if not result.ok:  # a function error, or a throttle: Lambda rejected the invocation
            return _message(500, "Internal Server Error", gw_request_id)
        try:
            response = v2_response(result)
        except (ValueError, TypeError):
            if entry is not None:
                entry.integration_error = "The Lambda function returned a response API Gateway cannot use"
            return _message(500, "Internal Server Error", gw_request_id)
        response.set("apigw-requestid", gw_request_id)
        return response

    def _event(
        self,
        request: Request,
        raw_path: str,
        raw_query: str,
        route: RouteSpec,
        path_params: dict[str, str],
        headers: dict[str, str],
        cookies: list[str],
        body: bytes,
        authorizer_ctx: dict[str, Any] | None,
        gw_request_id: str,
    ) -> dict[str, Any]:
        now = time.time()
        source_ip = request.peer
        host = headers.get("host", f"{self.host}:{self.port}")
        if _is_loopback_alias(host):
            # An API has one domain name, as on AWS: localhost, 127.0.0.1 and [::1] are the same local API, and
            # issuers derived from the request (and the authorizers that check them) must agree on one name.
            host = headers["host"] = f"{self.host}:{self.port}"
        domain = host.rsplit(":", 1)[0] if not host.startswith("[") else host
        prefix = domain.split(".", 1)[0]  # "the first label of the domainName" (payload format 2.0 docs)
        headers.setdefault("x-forwarded-for", source_ip)
        headers.setdefault("x-forwarded-port", str(self.port))
        headers.setdefault("x-forwarded-proto", "http")
        headers.setdefault("x-amzn-trace-id", f"Root=1-{int(now):08x}-{random_bits(96):024x}")
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": route.route_key,
            "rawPath": raw_path,
            "rawQueryString": raw_query,
        }
        if cookies:
            event["cookies"] = cookies
        event["headers"] = headers
        query = query_parameters(raw_query)
        if query is not None:
            event["queryStringParameters"] = query
        request_context: dict[str, Any] = {
            "accountId": self.account_id,
            "apiId": self.api_id,
        }
        if authorizer_ctx is not None:
            request_context["authorizer"] = authorizer_ctx
        request_context.update(
            {
                "domainName": domain,
                "domainPrefix": prefix,
                "http": {
                    "method": request.method,
                    "path": raw_path,
                    "protocol": f"HTTP/{request.version}",
                    "sourceIp": source_ip,
                    "userAgent": headers.get("user-agent", ""),
                },
                "requestId": gw_request_id,
                "routeKey": route.route_key,
                "stage": "$default",
                "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
                "timeEpoch": int(now * 1000),
            }
        )
        event["requestContext"] = request_context
        if path_params:
            event["pathParameters"] = path_params
        if body:
            if is_text(headers.get("content-type")):
                event["body"] = body.decode("utf-8", "replace")
                event["isBase64Encoded"] = False
            else:
                event["body"] = base64.b64encode(body).decode()
                event["isBase64Encoded"] = True
        else:
            event["isBase64Encoded"] = False
        return event


def _note_integration(entry: AccessEntry, result: InvokeResult | None, invoked: float) -> None:
    entry.integration_latency_ms = int((time.monotonic() - invoked) * 1000)
    if result is None:
        entry.integration_error = "The integration timed out"
    elif result.status == "throttled":
        entry.integration_status = 429
        entry.integration_error = "Lambda rejected the invocation: Rate Exceeded. (TooManyRequestsException)"
    else:
        entry.integration_status = 200
        if not result.ok:
            entry.integration_error = f"The Lambda function returned an error ({result.status})"


async def _with_integration_timeout(call: Awaitable[InvokeResult], timeout_s: float) -> InvokeResult | None:
    """The result, or None after `timeout_s`; the call keeps running either way (one task, one timer)."""
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[asyncio.Future[InvokeResult] | None] = loop.create_future()
    task = asyncio.ensure_future(call)

    def finish(value: asyncio.Future[InvokeResult] | None) -> None:
        if not waiter.done():
            waiter.set_result(value)

    task.add_done_callback(finish)
    timer = loop.call_later(timeout_s, finish, None)
    done = await waiter
    timer.cancel()
    return None if done is None else done.result()


_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]", "::1", "0.0.0.0"})


def _is_loopback_alias(host: str) -> bool:
    """True for a Host header naming this machine's loopback (with or without a port)."""
    name = host.rsplit("]", 1)[0] + "]" if host.startswith("[") else host.rsplit(":", 1)[0]
    return name.lower() in _LOOPBACK_NAMES
