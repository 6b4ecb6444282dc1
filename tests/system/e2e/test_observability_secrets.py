"""No secret used in this run reaches any function's log output.

Its own module with its own actions (the scan also covers whatever modules collected before it logged): it
registers and logs in with a distinctive password, tries a wrong one, uses the access token on several services,
pays with an `Idempotency-Key`, logs out, then scans everything every function printed (`stack.logs()`: app
lines, EMF lines, runtime lines) for those values.

Not covered by design: the currency write's `Idempotency-Key` *is* the public command id (it is the `Location`
of the 202), so it appears in logs as `command_id`; billing's payment key is a client secret and must not.
"""

from __future__ import annotations

import time
import uuid

import pytest
import requests

from tests.support import Stack, unique_email

pytestmark = pytest.mark.local_only
DEADLINE_S = 30.0


def secret_fragments(token: str) -> list[str]:
    """A JWT leaks as a whole or by its signature (header and claims are only base64 of public data)."""
    parts = token.split(".")
    return [token, parts[-1]] if len(parts) == 3 else [token]


def leaked(logs: str, secrets: dict[str, str]) -> list[str]:
    return [name for name, value in secrets.items() if value in logs]


def test_the_scan_finds_a_planted_secret() -> None:
    secrets = {"password": "pw-123456", "token signature": "sig-abcdef"}
    clean = '{"message":"request","route":"/login","status":200}\n'
    assert leaked(clean, secrets) == []
    dirty = clean + '{"message":"headers","authorization":"Bearer x.y.sig-abcdef"}\n'
    assert leaked(dirty, secrets) == ["token signature"]


def test_no_password_token_or_idempotency_key_reaches_the_logs(stack: Stack) -> None:
    run = uuid.uuid4().hex
    password = f"obs-password-{run}"
    wrong_password = f"obs-wrong-password-{run}"
    idempotency_key = f"obs-idempotency-{run}"
    email = unique_email("secrets")
    with requests.Session() as http:
        created = http.post(f"{stack.auth}/register", json={"email": email, "password": password}, timeout=30)
        assert created.status_code == 201, created.text
        bad = http.post(f"{stack.auth}/login", json={"email": email, "password": wrong_password}, timeout=30)
        assert bad.status_code == 401, bad.text
        login = http.post(f"{stack.auth}/login", json={"email": email, "password": password}, timeout=30)
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        bearer = {"Authorization": f"Bearer {token}", "Cookie": f"session=obs-cookie-{run}"}
        assert http.get(f"{stack.auth}/me", headers=bearer, timeout=30).status_code == 200
        lines = [{"description": "Secret audit", "quantity": 1, "unit_price": 700, "tax_rate_bps": 0}]
        invoice = http.post(
            f"{stack.api}/invoices", json={"currency": "EUR", "lines": lines}, headers=bearer, timeout=30
        )
        assert invoice.status_code == 201, invoice.text
        pay = {"invoice_id": invoice.json()["id"], "amount": 700, "currency": "EUR"}
        headers = {**bearer, "Idempotency-Key": idempotency_key}
        for _ in range(2):  # the first pays, the second replays
            paid = http.post(f"{stack.api}/payments", json=pay, headers=headers, timeout=30)
            assert paid.status_code == 201, paid.text
        posts = http.post(f"{stack.api}/posts", json={"title": "t", "body": "b"}, headers=bearer, timeout=30)
        assert posts.status_code < 500, posts.text
        assert http.post(f"{stack.auth}/logout", headers=bearer, timeout=30).status_code in (200, 204)
        refused = http.get(f"{stack.auth}/me", headers=bearer, timeout=30)  # a revoked token: logged as refused
        assert refused.status_code == 401

    # The scan is only meaningful once these requests' own log lines are on disk: wait for the logout's.
    deadline = time.monotonic() + DEADLINE_S
    while '"route":"/logout"' not in stack.logs() or '"route":"/payments"' not in stack.logs():
        assert time.monotonic() < deadline, "the access-log lines of this test never reached the log files"
        time.sleep(0.2)  # polling interval of a deadline-bound wait
    logs = stack.logs()

    secrets = {
        "password": password,
        "wrong password": wrong_password,
        "Idempotency-Key": idempotency_key,
        "cookie": f"obs-cookie-{run}",
        "access token": secret_fragments(token)[0],
        "access token signature": secret_fragments(token)[-1],
    }
    assert leaked(logs, secrets) == []
    assert "Bearer " not in logs
