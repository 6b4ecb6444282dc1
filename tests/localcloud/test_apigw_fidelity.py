"""The HTTP API gateway against AWS's documented behaviour: errors of the Lambda integration, stage and route
throttling, access logs and the requestContext details. Each test names the AWS page it follows."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from devkit.localcloud.apigw.access_log import AccessEntry, AccessLogFormat
from devkit.localcloud.apigw.authorizer import JwksCache, JwtAuthorizer, claim_to_string
from devkit.localcloud.apigw.gateway import Gateway
from devkit.localcloud.apigw.throttling import TokenBucket, effective
from devkit.localcloud.awslambda.runtime_api import RuntimeOutcome
from devkit.localcloud.model import AccessLogSpec, HttpApiSpec, InvokeResult, RouteSpec, ThrottleSpec
from devkit.localcloud.template import load_stack
from tests.localcloud.support import ACCOUNT, run
from tests.localcloud.support import serve_gateway as serve

# https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging.html: the JSON example's keys, with
# the integration error and the latencies (http-api-logging-variables.html) added.
AWS_JSON_FORMAT = (
    '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime",'
    '"httpMethod":"$context.httpMethod","routeKey":"$context.routeKey","status":"$context.status",'
    '"protocol":"$context.protocol","responseLength":"$context.responseLength",'
    '"integrationErrorMessage":"$context.integrationErrorMessage","responseLatency":"$context.responseLatency",'
    '"integrationLatency":"$context.integrationLatency"}'
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def ok(body: str = "ok") -> InvokeResult:
    return InvokeResult("rid", RuntimeOutcome(True, json.dumps({"statusCode": 200, "body": body}).encode()), "success")


class Functions:
    def __init__(self, result: Callable[[str], InvokeResult] = lambda fn: ok(fn)) -> None:
        self.calls: list[str] = []
        self.result = result

    async def __call__(self, function: str, payload: bytes) -> InvokeResult:
        self.calls.append(function)
        return self.result(function)


# Lambda integration errors ---------------------------------------------------------------------------------------


def test_a_throttled_invocation_is_500_internal_server_error_and_a_function_error_too() -> None:
    # https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html: "If the Lambda API rejects the
    # invocation request, API Gateway returns a 500 error code" (a throttle is such a rejection);
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-lambda.html: an HTTP API
    # answers a function error with 500 {"message":"Internal Server Error"}.
    throttled = InvokeResult("rid", RuntimeOutcome.error("TooManyRequestsException", "Rate Exceeded."), "throttled")
    failed = InvokeResult("rid", RuntimeOutcome.error("Handler", "boom"), "error")
    api = HttpApiSpec("Api", routes=(RouteSpec("GET", "/throttled", "T"), RouteSpec("GET", "/failed", "F")))

    async def body(http: aiohttp.ClientSession, _: Gateway) -> None:
        for path in ("/throttled", "/failed"):
            response = await http.get(path)
            assert response.status == 500, path
            assert await response.json() == {"message": "Internal Server Error"}, path
            assert response.headers["apigw-requestid"], path

    run(serve(api, Functions(lambda fn: throttled if fn == "T" else failed), body))


# stage and route throttling --------------------------------------------------------------------------------------


def test_token_bucket_holds_burst_tokens_and_refills_at_the_rate() -> None:
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html: token bucket, the burst
    # is the bucket's size, the rate its refill per second.
    clock = FakeClock()
    bucket = TokenBucket(burst=3, rate=2.0, clock=clock)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    clock.now += 0.25  # half a token
    assert not bucket.take()
    clock.now += 0.25  # one token
    assert bucket.take() and not bucket.take()
    clock.now += 100  # refills to the burst, no further
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    zero = TokenBucket(burst=0, rate=0.0, clock=clock)
    assert not zero.take(), "limits of 0 let nothing through"


def test_route_settings_override_the_stage_default_limit_by_limit() -> None:
    # http-api-throttling.html: "route-level throttling ... override[s] stage-level" settings; a limit set at no
    # level is the account quota (10,000 rps, burst 5,000).
    stage = ThrottleSpec(burst=10, rate=5.0)
    assert effective(stage, None) == ThrottleSpec(10, 5.0)
    assert effective(stage, ThrottleSpec(burst=2)) == ThrottleSpec(2, 5.0)
    assert effective(None, ThrottleSpec(rate=1.0)) == ThrottleSpec(5_000, 1.0)
    assert effective(None, None) is None


def test_throttled_routes_answer_429_too_many_requests_before_any_function_runs() -> None:
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html: a request over the
    # limits gets 429 Too Many Requests; RouteSettings are keyed by route key (`POST /login`).
    clock = FakeClock()
    api = HttpApiSpec(
        "Api",
        routes=(
            RouteSpec("POST", "/login", "Login"),
            RouteSpec("GET", "/posts", "Posts"),
            RouteSpec("ANY", "$default", "D"),
        ),
        default_throttle=ThrottleSpec(burst=3, rate=1.0),
        route_throttles={"POST /login": ThrottleSpec(burst=1, rate=0.5)},
    )  # fmt: skip
    functions = Functions()

    async def body(http: aiohttp.ClientSession, _: Gateway) -> None:
        first, second = await http.post("/login"), await http.post("/login")
        assert first.status == 200
        assert second.status == 429 and await second.json() == {"message": "Too Many Requests"}
        assert second.headers["apigw-requestid"]
        assert [(await http.get("/posts")).status for _ in range(4)] == [200, 200, 200, 429], "the stage default"
        assert (await http.get("/elsewhere")).status == 200, "each route has its own bucket"
        clock.now += 2.0  # the login route's rate: one token per 2 s
        assert [(await http.post("/login")).status for _ in range(2)] == [200, 429]

    run(serve(api, functions, body, clock=clock))
    assert functions.calls.count("Login") == 2 and functions.calls.count("Posts") == 3, "a 429 runs no function"


def test_the_template_passes_route_settings_to_the_gateway(tmp_path: Path) -> None:
    # SAM copies AWS::Serverless::HttpApi's DefaultRouteSettings/RouteSettings/AccessLogSettings to the stage it
    # generates (aws-sam-translator, model/api/http_api_generator.py _construct_stage).
    (tmp_path / "fn").mkdir()
    template = tmp_path / "template.yaml"
    template.write_text(
        """
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      DefaultRouteSettings: {ThrottlingBurstLimit: 100, ThrottlingRateLimit: 50}
      RouteSettings:
        "POST /login": {ThrottlingBurstLimit: 5, ThrottlingRateLimit: 2}
      AccessLogSettings:
        DestinationArn: !GetAtt ApiAccessLogs.Arn
        Format: '{"requestId":"$context.requestId","status":"$context.status"}'
  ApiAccessLogs:
    Type: AWS::Logs::LogGroup
    Properties: {RetentionInDays: 7}
  Login:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn
      Handler: bootstrap
      Runtime: provided.al2023
      Events:
        Login: {Type: HttpApi, Properties: {ApiId: !Ref Api, Method: POST, Path: /login}}
"""
    )
    stack = load_stack(template, stack_name="t", region="eu-west-1")
    api = stack.http_apis["Api"]
    assert api.default_throttle == ThrottleSpec(100, 50.0)
    assert api.route_throttles == {"POST /login": ThrottleSpec(5, 2.0)}
    assert api.access_log == AccessLogSpec(
        "ApiAccessLogs", '{"requestId":"$context.requestId","status":"$context.status"}'
    )
    assert not [w for w in stack.warnings if "Settings" in w or "throttl" in w], stack.warnings


# access logs -----------------------------------------------------------------------------------------------------


def test_access_log_lines_render_awss_json_format_with_dashes_for_missing_values() -> None:
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging.html (JSON format example) and
    # http-api-logging-variables.html; a variable without a value is logged as "-".
    api = HttpApiSpec(
        "Api",
        routes=(RouteSpec("GET", "/ok", "Ok"), RouteSpec("GET", "/failed", "Failed")),
        access_log=AccessLogSpec("ApiAccessLogs", AWS_JSON_FORMAT),
    )
    lines: list[tuple[str, str, str]] = []
    failed = InvokeResult("rid", RuntimeOutcome.error("Handler", "boom"), "error")
    ids: dict[str, str] = {}

    async def body(http: aiohttp.ClientSession, _: Gateway) -> None:
        for path in ("/ok", "/failed", "/missing"):
            response = await http.get(path)
            ids[path] = response.headers.get("apigw-requestid", "")

    run(
        serve(
            api,
            Functions(lambda fn: failed if fn == "Failed" else ok("hello")),
            body,
            access_log=lambda *a: lines.append(a),
        )
    )
    assert [destination for destination, _, _ in lines] == ["ApiAccessLogs"] * 3
    ok_line, failed_line, missing_line = (json.loads(line) for _, _, line in lines)
    assert ok_line["requestId"] == ids["/ok"] == lines[0][1]
    assert ok_line["ip"] == "127.0.0.1" and ok_line["httpMethod"] == "GET" and ok_line["protocol"] == "HTTP/1.1"
    assert ok_line["routeKey"] == "GET /ok" and ok_line["status"] == "200" and ok_line["responseLength"] == "5"
    assert ok_line["integrationErrorMessage"] == "-"
    assert int(ok_line["responseLatency"]) >= int(ok_line["integrationLatency"]) >= 0
    assert ok_line["requestTime"].endswith(" +0000") and "/" in ok_line["requestTime"]
    assert failed_line["status"] == "500" and failed_line["integrationErrorMessage"] != "-"
    assert missing_line["status"] == "404" and missing_line["routeKey"] == "-"
    assert missing_line["integrationLatency"] == "-", "no integration ran"


def test_unsupported_access_log_variables_are_reported_once_and_logged_as_dashes() -> None:
    fmt = AccessLogFormat(
        '$context.requestId $context.customDomain.basePathMatched $context.customDomain.basePathMatched "$context.path"'
    )
    assert fmt.unsupported == ["customDomain.basePathMatched"]
    entry = AccessEntry("id1", "10.0.0.1", "GET", '/a"b', "HTTP/1.1", "", "t", 0, 0.0)
    assert fmt.render(entry, api_id="a", stage="$default", domain="d") == 'id1 - - "/a\\"b"', "escaped for JSON"

    api = HttpApiSpec("Api", routes=(RouteSpec("GET", "/ok", "Ok"),), access_log=AccessLogSpec("Logs", fmt.format))
    gateway = Gateway(api, invoker=Functions(), authorizer=JwtAuthorizer(JwksCache()), account_id=ACCOUNT,
                      api_id="x", access_log=lambda *a: None)  # fmt: skip
    assert gateway.warnings == (
        "Api: access log variable $context.customDomain.basePathMatched is not supported locally (logged as -)",
    )


# requestContext details -------------------------------------------------------------------------------------------


def test_domain_prefix_is_the_first_label_of_the_domain_name() -> None:
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html (payload
    # format 2.0) and http-api-logging-variables.html: domainPrefix is "the first label of the $context.domainName".
    seen: list[dict[str, Any]] = []

    async def record(function: str, payload: bytes) -> InvokeResult:
        seen.append(json.loads(payload)["requestContext"])
        return ok()

    api = HttpApiSpec("Api", routes=(RouteSpec("ANY", "$default", "Fn"),))

    async def body(http: aiohttp.ClientSession, gateway: Gateway) -> None:
        await http.get("/", headers={"Host": f"abcde12345.execute-api.eu-west-1.amazonaws.com:{gateway.port}"})
        await http.get("/", headers={"Host": "api.example.com"})

    run(serve(api, record, body, api_id="x"))
    assert [(c["domainName"], c["domainPrefix"]) for c in seen] == [
        ("abcde12345.execute-api.eu-west-1.amazonaws.com", "abcde12345"),
        ("api.example.com", "api"),
    ]


def test_array_claims_are_formatted_as_api_gateway_formats_them() -> None:
    # AWS documents claims only as strings (http-api-develop-integrations-lambda.html, payload format 2.0:
    # "claims": {"claim1": "value1"}); an array claim arrives as "[a b c]", as observed and reported in
    # https://github.com/aws-solutions-library-samples/guidance-for-claude-code-with-amazon-bedrock/pull/803
    # ("API Gateway HTTP API JWT authorizer serializes array claims as bracketed space-separated strings").
    assert claim_to_string(["admin", "editor", "viewer"]) == "[admin editor viewer]"
    assert claim_to_string([]) == "[]"
    assert claim_to_string("read write") == "read write"


def test_access_logs_land_beside_the_function_logs_where_inv_logs_reads_them(
    probe_bootstrap: Path, tmp_path: Path
) -> None:
    import io
    import urllib.request

    from devkit.localcloud import read_records
    from devkit.localcloud.cloud import LocalCloud
    from tests.localcloud.support import function_spec, stack_spec

    fmt = AWS_JSON_FORMAT[:-1] + ',"unknown":"$context.notAVariable"}'
    api = HttpApiSpec("HttpApi", routes=(RouteSpec("ANY", "$default", "Probe"),), access_log=AccessLogSpec("Logs", fmt))
    console = io.StringIO()

    async def body() -> str:
        async with LocalCloud(
            stack_spec([function_spec()], http_apis=[api]), {"Probe": probe_bootstrap}, state_dir=tmp_path,
            console=console,
        ) as cloud:  # fmt: skip
            url = cloud.urls["HttpApi"] + "/hello"
            loop = asyncio.get_running_loop()
            with await loop.run_in_executor(None, lambda: urllib.request.urlopen(url, timeout=10)) as response:
                return response.headers["apigw-requestid"]

    request_id = run(body())
    (record,) = list(read_records(tmp_path / "logs", function="Logs"))  # the sink is flushed on stop
    line = json.loads(record.text)
    assert record.request_id == line["requestId"] == request_id
    assert line["routeKey"] == "$default" and line["status"] == "200" and line["unknown"] == "-"
    assert console.getvalue().count("$context.notAVariable") == 1, "reported once, at start"
    assert request_id not in console.getvalue(), "access logs are not echoed on the console"
