"""The data backend stalls (SIGSTOP: a frozen node, connections accepted but never answered) and comes back.

Requests during the stall get a clear 503 problem+json inside the function timeout (not a 500 from a killed
invocation, not a hang), requests after it succeed, and every write acknowledged before or after is there.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid

import pytest
import requests

from tests.support import Stack, new_account

FUNCTION_TIMEOUT_S = 10  # Globals.Function.Timeout


def _dynamodb_pid(stack: Stack) -> int:
    assert stack.state_dir is not None
    for name in ("dynamodb-local", "moto"):  # the process that serves DynamoDB for this backend
        pid_file = stack.state_dir / f"{name}.pid"
        if pid_file.exists():
            return int(pid_file.read_text().strip())
    raise AssertionError(f"no backend pid file in {stack.state_dir}")


@pytest.mark.local_only
def test_a_stalled_backend_is_a_503_and_nothing_acknowledged_is_lost(stack: Stack, http: requests.Session) -> None:
    author = new_account(stack, http, "fault-outage")
    tag = uuid.uuid4().hex[:8]

    def create(title: str) -> requests.Response:
        body = {"title": f"{tag} {title}", "body": "Body."}
        return requests.post(f"{stack.api}/posts", json=body, headers=author.bearer, timeout=60)

    before = create("before")
    assert before.status_code == 201, before.text
    pid = _dynamodb_pid(stack)
    os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        during = create("during")
        elapsed = time.monotonic() - started
    finally:
        os.kill(pid, signal.SIGCONT)
    assert during.status_code == 503, during.text
    assert during.headers["content-type"] == "application/problem+json"
    assert elapsed < FUNCTION_TIMEOUT_S, f"answered after {elapsed:.1f} s: the SDK timeouts did not apply"

    after = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the backend works through what queued up while it was frozen
        after = create("after")
        if after.status_code == 201:
            break
        with contextlib.suppress(ValueError):
            assert after.status_code == 503, after.text
    assert after is not None and after.status_code == 201, after.text if after is not None else "no reply"
    for acknowledged in (before, after):
        post = acknowledged.json()
        assert http.get(f"{stack.api}/posts/{post['id']}", timeout=30).status_code == 200, post
