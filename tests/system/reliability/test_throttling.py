"""Throttling at the concurrency limit, and recovery once the load is gone.

`Convert` runs with ReservedConcurrentExecutions 1 in this stack. Its one environment is frozen (SIGSTOP) with a
request in flight, so the limit is held for exactly as long as the test wants: every other request is throttled,
through the gateway (API Gateway answers a Lambda throttle with 500 `{"message":"Internal Server Error"}`:
https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html) and through
the Lambda Invoke API (429 `TooManyRequestsException`, reason ReservedFunctionConcurrentInvocationLimitExceeded).
Once the environment runs again, the held request completes and every later request succeeds.
"""

from __future__ import annotations

import json
import signal
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.support import Stack
from tests.system.reliability.helpers import (
    LIMITED_FUNCTION,
    environment_pids,
    function_status,
    signal_all,
    size,
    wait_in_flight,
)


def invoke(stack: Stack, function: str) -> requests.Response:
    """The Lambda Invoke API (what boto3's `lambda.invoke` calls) with an HTTP API event for the health route."""
    assert stack.control is not None
    event = {
        "version": "2.0",
        "routeKey": "GET /health/convert",
        "rawPath": "/health/convert",
        "rawQueryString": "",
        "headers": {"host": "localhost"},
        "requestContext": {"http": {"method": "GET", "path": "/health/convert", "sourceIp": "127.0.0.1"}},
        "isBase64Encoded": False,
    }
    url = f"{stack.control['lambda_endpoint']}/2015-03-31/functions/{function}/invocations"
    return requests.post(url, data=json.dumps(event), timeout=60)


def test_requests_over_the_reserved_concurrency_are_throttled_then_served(stack: Stack) -> None:
    health = f"{stack.urls['ConvertStandardApi']}/health/convert"
    assert requests.get(health, timeout=60).status_code == 200  # one warm environment
    before = function_status(stack, LIMITED_FUNCTION)
    assert before["concurrency_limit"] == 1, before
    over = size(short=20, long=200)

    frozen = environment_pids(stack, LIMITED_FUNCTION)
    signal_all(frozen, signal.SIGSTOP)  # the warm environment takes the next request and cannot finish it
    with ThreadPoolExecutor(max_workers=1) as pool:
        held = pool.submit(requests.get, health, timeout=60)
        try:
            wait_in_flight(stack, LIMITED_FUNCTION)  # the only slot is taken
            gateway = [requests.get(health, timeout=60) for _ in range(over)]
            direct = [invoke(stack, LIMITED_FUNCTION) for _ in range(over)]
        finally:
            signal_all(frozen, signal.SIGCONT)
        assert held.result().status_code == 200, "the request holding the slot completes"

    assert [r.status_code for r in gateway] == [500] * over
    assert all(r.json() == {"message": "Internal Server Error"} for r in gateway)
    assert [r.status_code for r in direct] == [429] * over
    assert {r.headers["x-amzn-ErrorType"] for r in direct} == {"TooManyRequestsException"}
    assert {r.json()["Reason"] for r in direct} == {"ReservedFunctionConcurrentInvocationLimitExceeded"}
    throttled = function_status(stack, LIMITED_FUNCTION)
    assert throttled["throttles"] - before["throttles"] == 2 * over, "every refused request is one throttle"

    # Recovery: with the load gone, every request is served (and none is throttled).
    recovered = size(short=20, long=200)
    served = [requests.get(health, timeout=60).status_code for _ in range(recovered)]
    invoked = [invoke(stack, LIMITED_FUNCTION) for _ in range(recovered)]
    assert served == [200] * recovered
    assert [(r.status_code, r.headers.get("X-Amz-Function-Error")) for r in invoked] == [(200, None)] * recovered
    assert all(json.loads(r.content)["statusCode"] == 200 for r in invoked)
    after = function_status(stack, LIMITED_FUNCTION)
    assert after["throttles"] == throttled["throttles"]
    assert after["invocations"] - throttled["invocations"] == 2 * recovered
