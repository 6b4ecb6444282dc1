"""HTTP API gateway: routing precedence, the v2 event, v2 response rules, errors, CORS and the JWT authorizer.

Most tests use a fake invoker (the gateway's only dependency), so they can return any shape; the end-to-end ones
go through the real probe."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from devkit.bench import loopback
from devkit.localcloud.apigw.authorizer import JwksCache, JwtAuthorizer, claim_to_string
from devkit.localcloud.apigw.gateway import Gateway
from devkit.localcloud.apigw.routing import Router
from devkit.localcloud.awslambda.runtime_api import RuntimeOutcome
from devkit.localcloud.model import CorsSpec, HttpApiSpec, InvokeResult, JwtAuthorizerSpec, RouteSpec
from tests.localcloud.support import ACCOUNT, function_spec, make_pool, run
from tests.localcloud.support import serve_gateway as serve

Respond = Callable[[str, dict[str, Any]], Awaitable[InvokeResult] | InvokeResult]


def ok(value: Any) -> InvokeResult:
    return InvokeResult("rid", RuntimeOutcome(True, json.dumps(value).encode()), "success")


class FakeFunctions:
    def __init__(self, respond: Respond | None = None) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.respond = respond or (lambda fn, event: ok({"statusCode": 200, "body": fn}))

    async def __call__(self, function: str, payload: bytes) -> InvokeResult:
        event = json.loads(payload)
        self.calls.append((function, event))
        result = self.respond(function, event)
        return await result if asyncio.iscoroutine(result) else result  # type: ignore[return-value]


# routing -----------------------------------------------------------------------------------------------------

ROUTES = (
    RouteSpec("GET", "/posts/{id}", "Param"),
    RouteSpec("GET", "/posts/latest", "Exact"),
    RouteSpec("ANY", "/posts/{proxy+}", "Greedy"),
    RouteSpec("POST", "/posts/{id}", "PostParam"),
    RouteSpec("ANY", "/things/{id}", "AnyThing"),
    RouteSpec("DELETE", "/things/{id}", "DeleteThing"),
    RouteSpec("GET", "/", "Root"),
    RouteSpec("ANY", "$default", "Default"),
)


@pytest.mark.parametrize(
    ("method", "path", "function", "params"),
    [
        ("GET", "/posts/latest", "Exact", {}),
        ("GET", "/posts/42", "Param", {"id": "42"}),
        ("POST", "/posts/42", "PostParam", {"id": "42"}),
        ("PUT", "/posts/42", "Greedy", {"proxy": "42"}),
        ("GET", "/posts/42/comments/7", "Greedy", {"proxy": "42/comments/7"}),
        ("GET", "/posts/a%20b", "Param", {"id": "a b"}),
        ("DELETE", "/things/1", "DeleteThing", {"id": "1"}),
        ("PATCH", "/things/1", "AnyThing", {"id": "1"}),
        ("GET", "/", "Root", {}),
        ("GET", "/posts", "Default", {}),
        ("GET", "/nowhere/at/all", "Default", {}),
    ],
)
def test_route_precedence(method: str, path: str, function: str, params: dict[str, str]) -> None:
    matched = Router(ROUTES).match(method, path)
    assert matched is not None
    route, found = matched
    assert (route.function, found) == (function, params)


def test_no_route_is_404_not_found_without_invoking() -> None:
    api = HttpApiSpec("Api", routes=(RouteSpec("GET", "/only", "Fn"),))
    functions = FakeFunctions()

    async def body(http: aiohttp.ClientSession, _: Gateway) -> None:
        response = await http.get("/other")
        assert response.status == 404
        assert await response.json() == {"message": "Not Found"}
        wrong_method = await http.post("/only")
        assert wrong_method.status == 404

    run(serve(api, functions, body))
    assert functions.calls == []


# the v2 event ------------------------------------------------------------------------------------------------


def test_v2_event_fields() -> None:
    api = HttpApiSpec("Api", routes=(RouteSpec("POST", "/items/{id}", "Fn"),))
    functions = FakeFunctions()

    async def body(http: aiohttp.ClientSession, gateway: Gateway) -> None:
        before = int(time.time() * 1000)
        response = await http.post(
            "/items/7?a=1&a=2&b=&c=x%20y",
            data=b'{"k":"v"}',
            headers=[
                ("Content-Type", "application/json"),
                ("X-Multi", "one"),
                ("X-Multi", "two"),
                ("Cookie", "c1=v1; c2=v2"),
                ("User-Agent", "probe-test/1"),
            ],
        )
        assert response.status == 200
        _, event = functions.calls[0]
        assert event["version"] == "2.0"
        assert event["routeKey"] == "POST /items/{id}"
        assert event["rawPath"] == "/items/7"
        assert event["rawQueryString"] == "a=1&a=2&b=&c=x%20y"
        assert event["cookies"] == ["c1=v1", "c2=v2"]
        headers = event["headers"]
        assert headers["x-multi"] == "one,two"
        assert "cookie" not in headers
        assert headers["content-type"] == "application/json"
        assert headers["x-forwarded-proto"] == "http"
        assert headers["x-forwarded-for"] == "127.0.0.1"
        assert headers["x-forwarded-port"] == str(gateway.port)
        assert all(k == k.lower() for k in headers)
        assert event["queryStringParameters"] == {"a": "1,2", "b": "", "c": "x y"}
        assert event["pathParameters"] == {"id": "7"}
        assert event["body"] == '{"k":"v"}' and event["isBase64Encoded"] is False
        ctx = event["requestContext"]
        assert ctx["accountId"] == ACCOUNT and ctx["apiId"] == "abcde12345"
        assert ctx["domainName"] == "127.0.0.1" and ctx["domainPrefix"] == "127", "the first label of domainName"
        assert ctx["http"] == {
            "method": "POST",
            "path": "/items/7",
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": "probe-test/1",
        }
        assert ctx["routeKey"] == "POST /items/{id}" and ctx["stage"] == "$default"
        assert ctx["requestId"] and response.headers["apigw-requestid"] == ctx["requestId"]
        assert before <= ctx["timeEpoch"] <= int(time.time() * 1000)
        assert time.strptime(ctx["time"], "%d/%b/%Y:%H:%M:%S +0000")
        assert "authorizer" not in ctx

    run(serve(api, functions, body))


def test_binary_bodies_are_base64_and_empty_requests_have_no_body() -> None:
    api = HttpApiSpec("Api", routes=(RouteSpec("ANY", "$default", "Fn"),))
    functions = FakeFunctions()

    async def body(http: aiohttp.ClientSession, _: Gateway) -> None:
        await http.post("/bin", data=b"\x00\x01\xff", headers={"Content-Type": "application/octet-stream"})
        await http.post("/form", data=b"a=1&b=2", headers={"Content-Type": "application/x-www-form-urlencoded"})
        await http.post("/text", data=b"hi", headers={"Content-Type": "text/plain; charset=utf-8"})
        await http.get("/empty")
        binary, form, text, empty = (e for _, e in functions.calls)
        assert binary["isBase64Encoded"] is True and base64.b64decode(binary["body"]) == b"\x00\x01\xff"
        assert form["isBase64Encoded"] is True and base64.b64decode(form["body"]) == b"a=1&b=2"
        assert text["isBase64Encoded"] is False and text["body"] == "hi"
        assert "body" not in empty and empty["isBase64Encoded"] is False
        assert "queryStringParameters" not in empty and "pathParameters" not in empty and "cookies" not in empty
        assert empty["routeKey"] == "$default"

    run(serve(api, functions, body))


# v2 response rules -------------------------------------------------------------------------------------------


def _respond_by_path(fn: str, event: dict[str, Any]) -> InvokeResult:
    path = event["rawPath"]
    if path == "/cookies":
        return ok({"statusCode": 201, "cookies": ["a=1; Path=/", "b=2"], "headers": {"x-one": "1"}, "body": "made"})
    if path == "/base64":
        return ok(
            {
                "statusCode": 200,
                "isBase64Encoded": True,
                "body": base64.b64encode(b"\x89PNG").decode(),
                "headers": {"content-type": "image/png"},
            }
        )
    if path == "/list":
        return ok([1, 2, 3])
    if path == "/string":
        return ok("hello")
    if path == "/object":
        return ok({"message": "no statusCode"})
    if path == "/multi":
        return ok({"statusCode": 200, "body": "x", "multiValueHeaders": {"x-m": ["1", "2"]}})
    if path == "/bad-status":
        return ok({"statusCode": "teapot", "body": "x"})
    if path == "/not-json":
        return InvokeResult("rid", RuntimeOutcome(True, b"not json"), "success")
    if path == "/error":
        return InvokeResult("rid", RuntimeOutcome.error("Unhandled", "boom"), "error")
    if path == "/crash":
        return InvokeResult("rid", RuntimeOutcome.error("Runtime.ExitError", "exit"), "crash")
    if path == "/timeout":
        return InvokeResult("rid", RuntimeOutcome.error("Sandbox.Timedout", "Task timed out"), "timeout")
    if path == "/throttled":
        return InvokeResult("rid", RuntimeOutcome.error("TooManyRequestsException", "Rate Exceeded."), "throttled")
    return ok({"statusCode": 204})


def test_v2_response_rules() -> None:
    api = HttpApiSpec("Api", routes=(RouteSpec("ANY", "$default", "Fn"),))

    async def body(http: aiohttp.ClientSession, _: Gateway) -> None:
        cookies = await http.get("/cookies")
        assert cookies.status == 201 and await cookies.text() == "made"
        assert cookies.headers.getall("Set-Cookie") == ["a=1; Path=/", "b=2"]
        assert cookies.headers["x-one"] == "1"

        image = await http.get("/base64")
        assert await image.read() == b"\x89PNG" and image.headers["content-type"] == "image/png"

        for path, raw in (
            ("/list", b"[1, 2, 3]"),
            ("/string", b'"hello"'),
            ("/object", b'{"message": "no statusCode"}'),
        ):
            response = await http.get(path)
            assert response.status == 200, path
            assert response.headers["content-type"] == "application/json"
            assert await response.read() == raw, path

        multi = await http.get("/multi")
        assert multi.status == 200 and "x-m" not in multi.headers, "v2 ignores multiValueHeaders"

        for path in ("/bad-status", "/not-json", "/error", "/crash", "/timeout"):
            response = await http.get(path)
            assert response.status == 500, path
            assert await response.json() == {"message": "Internal Server Error"}, path

        # a throttle is Lambda rejecting the invocation: API Gateway answers 500 (see test_apigw_fidelity.py)
        throttled = await http.get("/throttled")
        assert throttled.status == 500 and await throttled.json() == {"message": "Internal Server Error"}

    run(serve(api, FakeFunctions(_respond_by_path), body))


def test_integration_timeout_is_503_and_oversized_requests_are_413() -> None:
    api = HttpApiSpec(
        "Api", routes=(RouteSpec("ANY", "/slow", "Fn", timeout_ms=200), RouteSpec("ANY", "$default", "Fn"))
    )

    async def slow(fn: str, event: dict[str, Any]) -> InvokeResult:
        if event["rawPath"] == "/slow":
            await asyncio.sleep(2)
        return ok({"statusCode": 200})

    functions = FakeFunctions(slow)

    async def body(http: aiohttp.ClientSession, _: Gateway) -> None:
        started = time.monotonic()
        response = await http.get("/slow")
        assert response.status == 503 and await response.json() == {"message": "Service Unavailable"}
        assert time.monotonic() - started < 1.5
        big = await http.post("/upload", data=b"x" * (10 * 1024 * 1024 + 1))
        assert big.status == 413 and await big.json() == {"message": "Request Entity Too Large"}
        lambda_limit = await http.post("/upload", data=b"x" * (7 * 1024 * 1024), headers={"Content-Type": "text/plain"})
        assert lambda_limit.status == 413, "over Lambda's 6 MB invocation payload"

    run(serve(api, functions, body))
    assert [e["rawPath"] for _, e in functions.calls] == ["/slow"]


def test_integration_timer_is_armed_only_when_an_invocation_could_outlast_it() -> None:
    """Both functions answer after 0.6 s against a 0.3 s integration timeout. "Settled" claims its pool settles
    every invocation within 0.1 s, so the gateway arms no timer and passes on what comes (a pool that keeps its
    bound never gets there); "Open" could outlast the route, so its timer fires: 503 at 0.3 s."""
    routes = tuple(RouteSpec("ANY", f"/{fn.lower()}", fn, timeout_ms=300) for fn in ("Settled", "Open"))
    api = HttpApiSpec("Api", routes=routes)
    bounds = {"Settled": 0.1, "Open": 5.0}

    async def slow(fn: str, event: dict[str, Any]) -> InvokeResult:
        await asyncio.sleep(0.6)
        return ok({"statusCode": 200, "body": fn})

    async def main() -> None:
        cache = JwksCache(ttl_s=60)
        gateway = Gateway(api, invoker=FakeFunctions(slow), authorizer=JwtAuthorizer(cache), account_id=ACCOUNT,
                          api_id="abcde12345", settles_within=bounds.get)  # fmt: skip
        await gateway.start()
        try:
            async with aiohttp.ClientSession(gateway.url) as http:
                settled = await http.get("/settled")
                assert settled.status == 200 and await settled.text() == "Settled", "no timer armed"
                started = time.monotonic()
                open_ = await http.get("/open")
                assert open_.status == 503 and time.monotonic() - started < 0.55, "the route's timer fired"
        finally:
            await gateway.stop()
            await cache.close()

    run(main())


# CORS --------------------------------------------------------------------------------------------------------


def test_cors_preflight_is_answered_by_the_gateway_and_responses_carry_headers() -> None:
    cors = CorsSpec(
        allow_origins=("https://app.example",),
        allow_methods=("GET", "POST"),
        allow_headers=("authorization", "content-type"),
        expose_headers=("x-request-id",),
        allow_credentials=True,
        max_age=600,
    )
    api = HttpApiSpec("Api", routes=(RouteSpec("GET", "/things", "Fn"),), cors=cors)
    functions = FakeFunctions()

    async def body(http: aiohttp.ClientSession, _: Gateway) -> None:
        preflight = await http.options(
            "/things", headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"}
        )
        assert preflight.status == 204
        h = preflight.headers
        assert h["access-control-allow-origin"] == "https://app.example"
        assert h["access-control-allow-methods"] == "GET,POST"
        assert h["access-control-allow-headers"] == "authorization,content-type"
        assert h["access-control-allow-credentials"] == "true"
        assert h["access-control-max-age"] == "600"

        foreign = await http.options(
            "/things", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
        )
        assert "access-control-allow-origin" not in foreign.headers

        response = await http.get("/things", headers={"Origin": "https://app.example"})
        assert response.status == 200
        assert response.headers["access-control-allow-origin"] == "https://app.example"
        assert response.headers["access-control-expose-headers"] == "x-request-id"

    run(serve(api, functions, body))
    assert len(functions.calls) == 1, "preflights never reach the function"


# JWT authorizer ----------------------------------------------------------------------------------------------


class Issuer(loopback.Started):
    """An OpenID issuer on loopback with an EC, an RSA and an Ed25519 signing key."""

    def __init__(self) -> None:
        self.keys = {
            "ec": (ec.generate_private_key(ec.SECP256R1()), "ES256"),
            "rsa": (rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256"),
            "ed": (ed25519.Ed25519PrivateKey.generate(), "EdDSA"),
        }
        self.url = ""
        self.discovery_hits = 0
        self._runner: web.AppRunner | None = None

    def jwks(self) -> dict[str, Any]:
        out = []
        for kid, (key, alg) in self.keys.items():
            algo = jwt.get_algorithm_by_name(alg)
            jwk = json.loads(algo.to_jwk(key.public_key()))
            out.append({**jwk, "kid": kid, "alg": alg, "use": "sig"})
        return {"keys": out}

    async def start(self) -> None:
        app = web.Application()

        async def discovery(_: web.Request) -> web.Response:
            self.discovery_hits += 1
            return web.json_response({"issuer": self.url, "jwks_uri": f"{self.url}/jwks.json"})

        app.router.add_get("/.well-known/openid-configuration", discovery)

        async def jwks(_: web.Request) -> web.Response:
            return web.json_response(self.jwks())

        app.router.add_get("/jwks.json", jwks)
        self._runner, self.url = await loopback.serve(app)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def token(self, kid: str = "ec", **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": self.url, "aud": "blog-api", "sub": "user-1", "exp": now + 300, "iat": now, **claims}
        body = {k: v for k, v in body.items() if v is not None}
        key, alg = self.keys[kid]
        return jwt.encode(body, key, algorithm=alg, headers={"kid": kid})


def _jwt_api(issuer: Issuer, scopes: tuple[str, ...] = ()) -> HttpApiSpec:
    spec = JwtAuthorizerSpec(name="Jwt", issuer=issuer.url, audience=("blog-api", "other-client"))
    return HttpApiSpec(
        "Api",
        routes=(
            RouteSpec("GET", "/me", "Fn", authorizer="Jwt", authorization_scopes=scopes),
            RouteSpec("GET", "/public", "Fn"),
        ),
        authorizers={"Jwt": spec},
    )


def _with_jwt_gateway(
    functions: FakeFunctions,
    body: Callable[[aiohttp.ClientSession, Issuer], Awaitable[None]],
    scopes: tuple[str, ...] = (),
) -> Issuer:
    """`body(http, issuer)` against a gateway whose JWT authorizer trusts a fresh loopback issuer; that issuer."""
    issuer = Issuer()

    async def main() -> None:
        async with issuer:
            await serve(_jwt_api(issuer, scopes), functions, lambda http, _: body(http, issuer))

    run(main())
    return issuer


def test_jwt_authorizer_rejects_before_the_function() -> None:
    functions = FakeFunctions()

    async def body(http: aiohttp.ClientSession, issuer: Issuer) -> None:
        other = Issuer()
        hmac = jwt.encode({"iss": issuer.url}, "k" * 32, algorithm="HS256", headers={"kid": "zz"})
        other.url = issuer.url  # same iss, keys the issuer never published
        bad = {
            "missing": None,
            "garbage": "Bearer not.a.jwt",
            "expired": f"Bearer {issuer.token(exp=int(time.time()) - 10)}",
            "not yet": f"Bearer {issuer.token(nbf=int(time.time()) + 600)}",
            "no exp": f"Bearer {issuer.token(exp=None)}",
            "wrong aud": f"Bearer {issuer.token(aud='someone-else')}",
            "wrong iss": f"Bearer {issuer.token(iss='https://evil.example')}",
            "forged": f"Bearer {other.token()}",
            "unknown kid": f"Bearer {hmac}",
        }
        for name, value in bad.items():
            headers = {} if value is None else {"Authorization": value}
            response = await http.get("/me", headers=headers)
            assert response.status == 401, name
            assert await response.json() == {"message": "Unauthorized"}, name
            assert response.headers["www-authenticate"].startswith("Bearer"), name
        wrong = await http.get("/me", headers={"Authorization": f"Bearer {issuer.token(aud='x')}"})
        assert "does not have a valid audience" in wrong.headers["www-authenticate"]
        assert (await http.get("/public")).status == 200

    _with_jwt_gateway(functions, body)
    assert [e["rawPath"] for _, e in functions.calls] == ["/public"], "no rejected request reached the function"


def test_jwt_authorizer_passes_claims_as_strings_for_every_key_type() -> None:
    functions = FakeFunctions()

    async def body(http: aiohttp.ClientSession, issuer: Issuer) -> None:
        for kid in ("ec", "rsa", "ed"):
            token = issuer.token(kid, groups=["admin", "dev"], email_verified=True, n=3)
            response = await http.get("/me", headers={"Authorization": f"Bearer {token}"})
            assert response.status == 200, kid
        client_id_only = issuer.token(aud=None, client_id="other-client")
        assert (await http.get("/me", headers={"Authorization": client_id_only})).status == 200

    issuer = _with_jwt_gateway(functions, body)
    assert len(functions.calls) == 4
    claims = functions.calls[0][1]["requestContext"]["authorizer"]["jwt"]["claims"]
    assert claims["sub"] == "user-1" and claims["aud"] == "blog-api"
    assert claims["groups"] == "[admin dev]" and claims["email_verified"] == "true" and claims["n"] == "3"
    assert all(isinstance(v, str) for v in claims.values())
    assert functions.calls[0][1]["requestContext"]["authorizer"]["jwt"]["scopes"] is None
    assert issuer.discovery_hits == 1, "discovery and JWKS are cached"


def test_jwt_route_scopes() -> None:
    functions = FakeFunctions()

    async def body(http: aiohttp.ClientSession, issuer: Issuer) -> None:
        denied = await http.get("/me", headers={"Authorization": f"Bearer {issuer.token(scope='read')}"})
        assert denied.status == 403 and await denied.json() == {"message": "Forbidden"}
        allowed = await http.get("/me", headers={"Authorization": f"Bearer {issuer.token(scope='read write')}"})
        assert allowed.status == 200

    _with_jwt_gateway(functions, body, scopes=("write",))
    assert len(functions.calls) == 1
    assert functions.calls[0][1]["requestContext"]["authorizer"]["jwt"]["scopes"] == ["read", "write"]


def test_claim_rendering() -> None:
    assert claim_to_string(["a", "b"]) == "[a b]"
    assert claim_to_string(1700000000) == "1700000000"
    assert claim_to_string(False) == "false"
    assert claim_to_string({"x": 1}) == '{"x":1}'


# through the real probe --------------------------------------------------------------------------------------


def test_gateway_to_probe_end_to_end_and_jwt_rejection_never_invokes(probe_bootstrap: Path, tmp_path: Path) -> None:
    issuer = Issuer()

    async def main() -> None:
        await issuer.start()
        pool, _ = make_pool(probe_bootstrap, function_spec(), tmp_path)
        await pool.start()
        spec = JwtAuthorizerSpec(name="Jwt", issuer=issuer.url, audience=("blog-api",))
        api = HttpApiSpec(
            "Api",
            routes=(
                RouteSpec("GET", "/secure/{proxy+}", "Probe", authorizer="Jwt"),
                RouteSpec("ANY", "$default", "Probe"),
            ),
            authorizers={"Jwt": spec},
        )

        async def invoker(fn: str, payload: bytes) -> InvokeResult:
            return await pool.invoke(payload)

        async def body(http: aiohttp.ClientSession, _: Gateway) -> None:
            rejected = await http.get("/secure/echo")
            assert rejected.status == 401
            assert pool.invocations == 0 and pool.envs == [], "the function was never invoked (not even started)"
            echo = await http.get("/echo?x=1", headers={"Cookie": "s=1"})
            assert echo.status == 200
            event = (await echo.json())["event"]
            assert event["rawPath"] == "/echo" and event["cookies"] == ["s=1"]
            status = await http.get("/status/418")
            assert status.status == 418 and status.headers["x-probe"] == "1"
            error = await http.get("/error")
            assert error.status == 500 and await error.json() == {"message": "Internal Server Error"}
            authorized = await http.get("/secure/echo", headers={"Authorization": f"Bearer {issuer.token()}"})
            assert authorized.status == 200
            claims = (await authorized.json())["event"]["requestContext"]["authorizer"]["jwt"]["claims"]
            assert claims["sub"] == "user-1"

        try:
            await serve(api, invoker, body)
        finally:
            await pool.stop()
            await issuer.stop()

    run(main())
