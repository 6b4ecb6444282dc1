"""The stack answers through the gateway: every service's health route reaches its real bootstrap."""

from __future__ import annotations

import requests

from tests.support import Stack


def test_auth_health_through_the_gateway(stack: Stack, http: requests.Session) -> None:
    response = http.get(f"{stack.auth}/health/auth", timeout=10)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["service"] == "auth"
    assert "apigw-requestid" in {k.lower() for k in response.headers}  # HTTP API sets it on every response


def test_unknown_route_is_api_gateway_404(stack: Stack, http: requests.Session) -> None:
    response = http.get(f"{stack.api}/definitely/not/a/route", timeout=10)
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}
