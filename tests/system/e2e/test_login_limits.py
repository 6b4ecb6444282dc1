"""Abuse protection through the gateway, on both login paths (the identity API and the fat API): an account locks
after five consecutive failures (429 problem+json with Retry-After), an unknown email locks exactly like an existing
one, and a forged `Host` changes neither the discovery document nor the issuer of a minted token."""

from __future__ import annotations

import re

import pytest
import requests

from tests.support import PASSWORD, Stack, jwt_claims, unique_email

FAILURES_BEFORE_LOCK = 5  # the template's LoginMaxFailures default


def _login(http: requests.Session, base: str, email: str, password: str) -> requests.Response:
    return http.post(f"{base}/login", json={"email": email, "password": password}, timeout=30)


def _register(http: requests.Session, base: str, tag: str) -> str:
    email = unique_email(tag)
    created = http.post(f"{base}/register", json={"email": email, "password": PASSWORD}, timeout=30)
    assert created.status_code == 201, created.text
    return email


def _wrong_until_locked(http: requests.Session, base: str, email: str) -> requests.Response:
    for attempt in range(FAILURES_BEFORE_LOCK):
        wrong = _login(http, base, email, "wrong password " * 2)
        assert wrong.status_code == 401, (attempt, wrong.text)
    return _login(http, base, email, "wrong password " * 2)


@pytest.mark.parametrize("api", ["AuthApi", "FatApi"])
def test_an_account_locks_after_five_failures_even_for_the_right_password(
    stack: Stack, http: requests.Session, api: str
) -> None:
    base = stack.urls.get(api, stack.auth)
    email = _register(http, base, f"lock-{api.lower()}")
    locked = _wrong_until_locked(http, base, email)
    assert locked.status_code == 429, locked.text
    assert locked.headers["content-type"].startswith("application/problem+json")
    assert int(locked.headers["retry-after"]) > 0
    right = _login(http, base, email, PASSWORD)
    assert right.status_code == 429, "a locked account runs no password check, right or wrong"


def test_an_unknown_email_locks_exactly_like_an_existing_one(stack: Stack, http: requests.Session) -> None:
    known = _wrong_until_locked(http, stack.auth, _register(http, stack.auth, "lock-known"))
    unknown = _wrong_until_locked(http, stack.auth, unique_email("lock-nobody"))
    assert known.status_code == unknown.status_code == 429
    # The same wait, counted from each lock's own second (two locks a clock tick apart differ by one).
    assert abs(int(known.headers["retry-after"]) - int(unknown.headers["retry-after"])) <= 1

    # The same body but for the request's `instance` and the seconds in `detail` (the tick, as above).
    def shape(body: dict) -> dict:
        return {k: re.sub(r"\d+", "N", v) if k == "detail" else v for k, v in body.items() if k != "instance"}

    assert shape(known.json()) == shape(unknown.json())


def test_a_forged_host_changes_neither_discovery_nor_the_issuer(stack: Stack, http: requests.Session) -> None:
    forged = {"Host": "evil.test"}
    discovery = http.get(f"{stack.auth}/.well-known/openid-configuration", headers=forged, timeout=10)
    assert discovery.status_code == 200, discovery.text
    assert "evil.test" not in discovery.text
    assert discovery.json()["issuer"] == stack.auth
    email = _register(http, stack.auth, "host")
    login = http.post(f"{stack.auth}/login", json={"email": email, "password": PASSWORD}, headers=forged, timeout=30)
    assert login.status_code == 200, login.text
    claims = jwt_claims(login.json()["access_token"])
    assert claims["iss"] == stack.auth
