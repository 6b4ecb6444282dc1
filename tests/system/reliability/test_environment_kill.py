"""An execution environment dies mid-request (SIGKILL of its bootstrap): only its in-flight requests fail.

`POST /register` is the slow request (argon2id on a worker thread), so a kill lands mid-request. The environments
are frozen (SIGSTOP) once requests are in flight and then killed, so at least one request is always caught; every
caught request gets the gateway's documented 500 `{"message":"Internal Server Error"}` (HTTP APIs answer a
function crash with 500, see devkit/localcloud/apigw/gateway.py), the next requests run on fresh environments, and each
account is either fully registered (login works, both user items exist) or not at all.
"""

from __future__ import annotations

import signal
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from devkit import targets
from devkit.targets import admin
from tests.support import PASSWORD, Stack, unique_email
from tests.system.reliability.helpers import freeze_busy_environments, function_status, signal_all, size

AUTH = "AuthManager"


def register(stack: Stack, email: str) -> int:
    reply = requests.post(f"{stack.auth}/register", json={"email": email, "password": PASSWORD}, timeout=60)
    return reply.status_code


def user_items(dynamodb: Any, table: str, email: str) -> tuple[bool, bool]:
    """(the EMAIL# item exists, the USER# item it names exists): a half-registered account has one without the other."""
    by_email = dynamodb.get_item(TableName=table, Key={"pk": {"S": f"EMAIL#{email}"}}, ConsistentRead=True)
    if "Item" not in by_email:
        return False, False
    user_id = admin.user_id_for(dynamodb, table, email)
    user = dynamodb.get_item(TableName=table, Key={"pk": {"S": f"USER#{user_id}"}}, ConsistentRead=True)
    return True, "Item" in user


def test_killed_environment_fails_only_its_requests_and_leaves_no_half_account(stack: Stack) -> None:
    assert stack.state_dir is not None
    local = targets.local(stack.state_dir)
    dynamodb, users = local.client("dynamodb"), local.output("UsersTableName")
    assert register(stack, unique_email("faults-warm")) == 201  # at least one warm environment
    before = function_status(stack, AUTH)
    in_flight = size(short=4, long=16)
    emails = [unique_email(f"faults-kill-{i}") for i in range(in_flight)]

    with ThreadPoolExecutor(max_workers=in_flight) as pool:
        replies = [pool.submit(register, stack, email) for email in emails]
        frozen = freeze_busy_environments(stack, AUTH)  # at least one register is caught mid-request
        signal_all(frozen, signal.SIGKILL)
        statuses = [reply.result() for reply in replies]

    assert set(statuses) <= {201, 500}, statuses
    after = function_status(stack, AUTH)
    crashed = after["errors"] - before["errors"]
    assert statuses.count(500) == crashed >= 1, f"every crashed invocation is one 500: {statuses}, {crashed} errors"
    assert not set(frozen) & set(int(pid) for pid in after["rss_kb"]), "no killed environment is still counted"

    # The next requests run on fresh environments.
    fresh = [register(stack, unique_email(f"faults-next-{i}")) for i in range(size(short=3, long=10))]
    assert fresh == [201] * len(fresh)
    now = function_status(stack, AUTH)
    assert now["cold_starts"] > after["cold_starts"], "the killed environments were replaced"

    # Registered or not, never half: both items or neither, and login agrees; a lost account can register again.
    registered = 0
    for email, status in zip(emails, statuses, strict=True):
        items = user_items(dynamodb, users, email)
        assert items in {(True, True), (False, False)}, f"{email}: half an account {items}"
        login = requests.post(f"{stack.auth}/login", json={"email": email, "password": PASSWORD}, timeout=60)
        assert login.status_code == (200 if items[0] else 401), f"{email}: {login.status_code} with items {items}"
        if status == 201:
            assert items == (True, True), f"{email}: acknowledged (201) but not stored"
        if items[0]:
            registered += 1
        else:
            assert register(stack, email) == 201, f"{email}: the failed registration blocks a retry"
    assert registered >= statuses.count(201)
