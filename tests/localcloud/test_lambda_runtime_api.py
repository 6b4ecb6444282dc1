"""The Runtime API of one environment, driven by hand as a runtime would (status codes and bodies of rie)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

import aiohttp

from devkit.localcloud.awslambda.pool import FunctionPool
from devkit.localcloud.awslambda.runtime_api import MAX_PAYLOAD_BYTES, Invocation, RuntimeApi, new_trace_id
from tests.localcloud.support import REGION, CapturedLogs, function_spec, run, with_pool

ARN = "arn:aws:lambda:eu-west-1:123456789012:function:localtest-Probe"
TRACE = re.compile(r"^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$")


def _invocation(request_id: str = "req-1", **kw: object) -> Invocation:
    return Invocation(
        request_id=request_id,
        payload=b'{"hello":"world"}',
        deadline_ms=int(time.time() * 1000) + 3000,
        function_arn=ARN,
        trace_id=new_trace_id(),
        **kw,  # type: ignore[arg-type]
    )


async def _with_api(body):  # noqa: ANN001
    api = RuntimeApi()
    await api.start()
    try:
        async with aiohttp.ClientSession(f"http://{api.address}") as http:
            await body(api, http)
    finally:
        await api.stop()


async def _taken(api: RuntimeApi, http: aiohttp.ClientSession, request_id: str) -> Invocation:
    """An invocation delivered to `api` and taken by the runtime's `/next`."""
    inv = _invocation(request_id)
    api.deliver(inv)
    await (await http.get("/2018-06-01/runtime/invocation/next")).read()
    return inv


def test_next_long_polls_and_carries_aws_headers() -> None:
    async def body(api: RuntimeApi, http: aiohttp.ClientSession) -> None:
        poll = asyncio.create_task(http.get("/2018-06-01/runtime/invocation/next"))
        await asyncio.wait_for(api.first_next.wait(), 5)
        assert not poll.done(), "/next must block until an invocation arrives"
        inv = _invocation(client_context='{"client":{}}', cognito_identity='{"cognitoIdentityId":"x"}')
        api.deliver(inv)
        response = await asyncio.wait_for(poll, 5)
        assert response.status == 200
        assert await response.read() == b'{"hello":"world"}'
        h = response.headers
        assert h["Lambda-Runtime-Aws-Request-Id"] == "req-1"
        assert h["Lambda-Runtime-Invoked-Function-Arn"] == ARN
        assert int(h["Lambda-Runtime-Deadline-Ms"]) == inv.deadline_ms
        assert TRACE.match(h["Lambda-Runtime-Trace-Id"]), h["Lambda-Runtime-Trace-Id"]
        assert h["Lambda-Runtime-Client-Context"] == '{"client":{}}'
        assert h["Lambda-Runtime-Cognito-Identity"] == '{"cognitoIdentityId":"x"}'
        assert "req-1" in api.in_flight

        accepted = await http.post("/2018-06-01/runtime/invocation/req-1/response", data=b'"done"')
        assert accepted.status == 202
        assert await accepted.json() == {"status": "OK"}
        outcome = await inv.future
        assert outcome.ok and outcome.body == b'"done"'

    run(_with_api(body))


def test_unknown_and_repeated_ids_are_rejected_like_rie() -> None:
    async def body(api: RuntimeApi, http: aiohttp.ClientSession) -> None:
        # Nothing in flight: the state transition itself is invalid (403).
        nothing = await http.post("/2018-06-01/runtime/invocation/nope/response", data=b"{}")
        assert nothing.status == 403
        assert (await nothing.json())["errorType"] == "InvalidStateTransition"

        await _taken(api, http, "req-2")
        unknown = await http.post("/2018-06-01/runtime/invocation/other/response", data=b"{}")
        assert unknown.status == 400
        assert await unknown.json() == {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"}

        assert (await http.post("/2018-06-01/runtime/invocation/req-2/response", data=b"{}")).status == 202
        repeated = await http.post("/2018-06-01/runtime/invocation/req-2/response", data=b"{}")
        assert repeated.status == 403
        repeated_error = await http.post("/2018-06-01/runtime/invocation/req-2/error", data=b"{}")
        assert repeated_error.status == 403

    run(_with_api(body))


def test_response_over_6mb_is_413_and_the_invocation_fails() -> None:
    async def body(api: RuntimeApi, http: aiohttp.ClientSession) -> None:
        inv = await _taken(api, http, "big")
        big = b"x" * (MAX_PAYLOAD_BYTES + 1)
        response = await http.post("/2018-06-01/runtime/invocation/big/response", data=big)
        assert response.status == 413
        assert await response.json() == {
            "errorMessage": "Exceeded maximum allowed payload size (6291556 bytes).",
            "errorType": "RequestEntityTooLarge",
        }
        outcome = await inv.future
        assert not outcome.ok and outcome.error_type == "Function.ResponseSizeTooLarge"
        assert json.loads(outcome.body)["errorMessage"] == (
            "Response payload size (6291557 bytes) exceeded maximum allowed payload size (6291556 bytes)."
        )

    run(_with_api(body))


def test_error_body_and_type_are_passed_on_and_init_error_is_recorded() -> None:
    async def body(api: RuntimeApi, http: aiohttp.ClientSession) -> None:
        inv = await _taken(api, http, "err")
        error = b'{"errorType":"MyError","errorMessage":"boom"}'
        response = await http.post(
            "/2018-06-01/runtime/invocation/err/error",
            data=error,
            headers={"Lambda-Runtime-Function-Error-Type": "MyError"},
        )
        assert response.status == 202
        outcome = await inv.future
        assert (outcome.ok, outcome.body, outcome.error_type) == (False, error, "MyError")

        init = await http.post(
            "/2018-06-01/runtime/init/error",
            data=b'{"errorType":"Init","errorMessage":"no config"}',
            headers={"Lambda-Runtime-Function-Error-Type": "Runtime.ConfigError"},
        )
        assert init.status == 202
        assert api.init_failed.is_set()
        assert api.init_error is not None and api.init_error.error_type == "Runtime.ConfigError"

    run(_with_api(body))


def test_function_sees_real_headers_deadline_arn_and_environment(probe_bootstrap: Path, tmp_path: Path) -> None:
    fn = function_spec(timeout_s=7.0, memory_mb=256, environment={"FROM_TEMPLATE": "yes"})

    async def body(pool: FunctionPool, _logs: CapturedLogs) -> None:
        before = time.time() * 1000
        result = await pool.invoke(b'{"action":"env"}', client_context='{"custom":{"k":"v"}}')
        assert result.ok, result.outcome
        seen = json.loads(json.loads(result.outcome.body)["body"])
        assert seen["arn"] == pool.arn
        assert seen["function_name"] == "localtest-Probe"
        assert seen["memory"] == "256"
        assert seen["region"] == REGION
        assert seen["endpoint"] == "http://127.0.0.1:9"
        assert seen["max_concurrency"] is None
        assert seen["request_id"] == result.request_id
        assert seen["client_context"] is True
        assert TRACE.match(seen["trace_id"])
        # The deadline is epoch ms, Timeout seconds after the invocation started.
        assert before + 6000 < seen["deadline_ms"] < time.time() * 1000 + 7000

    with_pool(probe_bootstrap, fn, tmp_path, body)


def test_standard_environment_variables(probe_bootstrap: Path, tmp_path: Path) -> None:
    from devkit.localcloud.awslambda.environment import lambda_environment

    fn = function_spec(environment={"TABLE": "localtest-Posts", "AWS_REGION": "eu-west-1"})
    env = lambda_environment(fn, region=REGION, bootstrap=probe_bootstrap, runtime_api="127.0.0.1:1", endpoint_url="x")
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/localtest-Probe"
    assert re.match(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$", env["AWS_LAMBDA_LOG_STREAM_NAME"])
    assert env["_HANDLER"] == "bootstrap" and env["LAMBDA_TASK_ROOT"] == str(probe_bootstrap.parent)
    assert env["AWS_DEFAULT_REGION"] == REGION and env["AWS_ENDPOINT_URL"] == "x"
    assert env["AWS_ACCESS_KEY_ID"] and env["AWS_SECRET_ACCESS_KEY"] and env["AWS_SESSION_TOKEN"]
    assert env["TABLE"] == "localtest-Posts"
    assert "AWS_LAMBDA_MAX_CONCURRENCY" not in env
