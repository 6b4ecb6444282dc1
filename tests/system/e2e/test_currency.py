"""Currency read/write split through the local cloud: write → queue → projector → read.

Writes go through the gateway to CurrencyWrite (202 + Location), the local cloud's SQS poller feeds CurrencyProjector,
reads come from CurrencyRead. Every wait polls a condition with a deadline (no bare sleeps). The admin comes from
`devkit.targets.admin.grant_admin` on the local users table, so the write tests are local-only; the 401/403 and
read tests also run against a deployed stage (`--base-url`).

Each test owns its currency codes (versions only grow, so tests never depend on a code's history).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from devkit import targets
from tests.support import Admin, Stack, make_admin, wait_for
from tests.system.e2e.test_auth_flow import register_and_login

# Poison needs maxReceiveCount (3 locally) receives, each after the 18 s visibility timeout, then one more receive.
DLQ_DEADLINE_S = 150.0


def command_key(tag: str) -> str:
    return f"e2e-{tag}-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def local(stack: Stack) -> targets.Target:
    if stack.state_dir is None:
        pytest.fail("local-only test ran against a deployed stage")  # deselected by the local_only marker
    return targets.local(stack.state_dir)


@pytest.fixture(scope="module")
def admin_user(stack: Stack, local: targets.Target) -> Admin:
    """A fresh account made admin in the users table, logged in again so the token carries the role."""
    with requests.Session() as http:
        return make_admin(stack, http, "currency-admin")


@pytest.fixture(scope="module")
def sqs(local: targets.Target) -> Any:
    return local.client("sqs")


def post_currency(
    http: requests.Session, stack: Stack, who: Admin, body: dict, key: str | None = None
) -> requests.Response:
    headers = dict(who.headers)
    if key:
        headers["Idempotency-Key"] = key
    return http.post(f"{stack.api}/currencies", json=body, headers=headers, timeout=30)


def command_status(http: requests.Session, stack: Stack, who: Admin, command_id: str) -> dict:
    reply = http.get(f"{stack.api}/commands/{command_id}", headers=who.headers, timeout=30)
    assert reply.status_code == 200, reply.text
    return reply.json()


def wait_status(http: requests.Session, stack: Stack, who: Admin, command_id: str, status: str, **kw: Any) -> dict:
    def probe() -> dict | None:
        current = command_status(http, stack, who, command_id)
        return current if current["status"] == status else None

    return wait_for(f"command {command_id} to be {status}", probe, **kw)


def wait_readable(http: requests.Session, stack: Stack, code: str, version: int) -> requests.Response:
    def probe() -> requests.Response | None:
        reply = http.get(f"{stack.api}/currencies/{code}", timeout=30)
        return reply if reply.status_code == 200 and reply.json()["version"] >= version else None

    return wait_for(f"{code} at version {version} through GET /currencies/{code}", probe)


def log_records(stack: Stack) -> Iterator[dict]:
    """The functions' JSON log lines (local cloud)."""
    for line in stack.logs().splitlines():
        start = line.find("{")
        if start < 0:
            continue
        try:
            record = json.loads(line[start:])
        except ValueError:
            continue
        if isinstance(record, dict):
            yield record


def projector_lines(stack: Stack, command_id: str) -> list[dict]:
    return [r for r in log_records(stack) if r.get("command_id") == command_id and "outcome" in r]


# ---------------------------------------------------------------------------------------------------- everywhere


def test_writes_need_a_token_and_the_admin_role(stack: Stack, http: requests.Session) -> None:
    body = {"code": "NZD", "name": "New Zealand Dollar", "minor_units": 2, "rate_to_base": "0.6"}
    anonymous = http.post(f"{stack.api}/currencies", json=body, timeout=30)
    assert anonymous.status_code == 401, anonymous.text
    _, token = register_and_login(stack, http, "currency-user")
    bearer = {"Authorization": f"Bearer {token}"}
    for method, path in [("POST", "/currencies"), ("PUT", "/currencies/NZD"), ("DELETE", "/currencies/NZD")]:
        reply = http.request(method, f"{stack.api}{path}", json=body, headers=bearer, timeout=30)
        assert reply.status_code == 403, f"{method} {path}: {reply.text}"
        assert reply.headers["content-type"].startswith("application/problem+json")
    assert http.get(f"{stack.api}/commands/anything", headers=bearer, timeout=30).status_code == 403


def test_reads_are_public_with_validators(stack: Stack, http: requests.Session) -> None:
    listing = http.get(f"{stack.api}/currencies", timeout=30)
    assert listing.status_code == 200, listing.text
    assert isinstance(listing.json()["items"], list)
    etag = listing.headers["ETag"]
    assert etag.startswith('"') and "Cache-Control" in listing.headers
    unknown = http.get(f"{stack.api}/currencies/XYZ", timeout=30)
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")


# ---------------------------------------------------------------------------------------------------- local cloud


@pytest.mark.local_only
def test_write_queue_project_read(stack: Stack, http: requests.Session, admin_user: Admin) -> None:
    key = command_key("sgd")
    body = {"code": "SGD", "name": "Singapore Dollar", "minor_units": 2, "rate_to_base": "0.7450"}
    accepted = post_currency(http, stack, admin_user, body, key)
    assert accepted.status_code == 202, accepted.text
    assert accepted.headers["Location"] == f"/commands/{key}"
    command = accepted.json()
    assert command["status"] in ("accepted", "applied")  # the projector may already have run
    assert command["operation"] == "create"

    # Same key + same body → the same 202; same key + another body → 422.
    again = post_currency(http, stack, admin_user, body, key)
    assert again.status_code == 202 and again.json()["sequence"] == command["sequence"]
    changed = post_currency(http, stack, admin_user, {**body, "rate_to_base": "0.75"}, key)
    assert changed.status_code == 409, changed.text  # the id is bound to its first body

    applied = wait_status(http, stack, admin_user, key, "applied")
    assert applied["outcome"] == "written"
    read = wait_readable(http, stack, "SGD", command["sequence"])
    assert read.json()["rate_to_base"] == "0.745"
    assert read.json()["minor_units"] == 2
    etag = read.headers["ETag"]
    assert etag == f'"SGD-{read.json()["version"]}"'
    not_modified = http.get(f"{stack.api}/currencies/SGD", headers={"If-None-Match": etag}, timeout=30)
    assert not_modified.status_code == 304
    assert not_modified.content == b""

    # PUT replaces, DELETE removes (and the list follows).
    put = http.put(
        f"{stack.api}/currencies/SGD",
        json={"name": "Singapore Dollar", "minor_units": 2, "rate_to_base": "0.76"},
        headers=admin_user.headers,
        timeout=30,
    )
    assert put.status_code == 202, put.text
    wait_status(http, stack, admin_user, put.json()["id"], "applied")
    assert wait_readable(http, stack, "SGD", put.json()["sequence"]).json()["rate_to_base"] == "0.76"
    deleted = http.delete(f"{stack.api}/currencies/SGD", headers=admin_user.headers, timeout=30)
    assert deleted.status_code == 202, deleted.text
    wait_status(http, stack, admin_user, deleted.json()["id"], "applied")
    wait_for("SGD to be gone", lambda: http.get(f"{stack.api}/currencies/SGD", timeout=30).status_code == 404)
    codes = [c["code"] for c in http.get(f"{stack.api}/currencies", timeout=30).json()["items"]]
    assert "SGD" not in codes


@pytest.mark.local_only
def test_invalid_commands_are_4xx_and_nothing_is_queued(
    stack: Stack, http: requests.Session, admin_user: Admin
) -> None:
    invalid = [
        {"code": "XYZ", "name": "Nope", "minor_units": 2, "rate_to_base": "1"},
        {"code": "CZK", "name": "Czech Koruna", "minor_units": 3, "rate_to_base": "0.043"},
        {"code": "CZK", "name": "Czech Koruna", "minor_units": 2, "rate_to_base": 0.043},
        {"code": "CZK", "name": "Czech Koruna", "minor_units": 2, "rate_to_base": "-1"},
        {"code": "CZK", "name": "", "minor_units": 2, "rate_to_base": "0.043"},
    ]
    keys = []
    for body in invalid:
        key = command_key("invalid")
        keys.append(key)
        reply = post_currency(http, stack, admin_user, body, key)
        assert reply.status_code == 422, f"{body}: {reply.text}"
        assert reply.json()["errors"], reply.text
    malformed = http.post(
        f"{stack.api}/currencies",
        data="{nope",
        headers={**admin_user.headers, "Content-Type": "application/json"},
        timeout=30,
    )
    assert malformed.status_code == 400
    for key in keys:
        assert http.get(f"{stack.api}/commands/{key}", headers=admin_user.headers, timeout=30).status_code == 404
    # Nothing was stored, so nothing was sent: no function ever logged these ids.
    logged = {r.get("command_id") for r in log_records(stack)}
    assert not logged.intersection(keys)
    assert http.get(f"{stack.api}/currencies/CZK", timeout=30).status_code == 404


@pytest.mark.local_only
def test_duplicates_and_out_of_order_end_in_the_latest_state(
    stack: Stack, http: requests.Session, admin_user: Admin, local: targets.Target, sqs: Any
) -> None:
    rates = ["3.60", "3.61", "3.62", "3.63", "3.64"]
    ids = []
    for rate in rates:
        reply = http.put(
            f"{stack.api}/currencies/PLN",
            json={"name": "Zloty", "minor_units": 2, "rate_to_base": rate},
            headers=admin_user.headers,
            timeout=30,
        )
        assert reply.status_code == 202, reply.text
        ids.append((reply.json()["id"], reply.json()["sequence"]))
    last_id, last_sequence = ids[-1]
    for command_id, _ in ids:
        wait_status(http, stack, admin_user, command_id, "applied")
    assert wait_readable(http, stack, "PLN", last_sequence).json()["rate_to_base"] == "3.64"

    # Re-deliver every command (duplicates), oldest last (reordering): nothing regresses or re-applies.
    dynamodb = local.client("dynamodb")
    table = local.output("CommandsTableName")
    bodies = [
        dynamodb.get_item(TableName=table, Key={"id": {"S": cid}}, ConsistentRead=True)["Item"]["message"]["S"]
        for cid, _ in ids
    ]
    queue_url = local.output("CommandsQueueUrl")
    entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(reversed(bodies))]
    sent = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
    assert not sent.get("Failed"), sent

    def redelivered() -> bool:
        # Each command has one projector line per delivery: the original plus the duplicate.
        return all(len(projector_lines(stack, cid)) >= 2 for cid, _ in ids)

    wait_for("the duplicates to be projected", redelivered)
    final = wait_readable(http, stack, "PLN", last_sequence).json()
    assert final["version"] == last_sequence
    assert final["rate_to_base"] == "3.64"
    for cid, _ in ids:
        outcomes = [line["outcome"] for line in projector_lines(stack, cid)]
        assert outcomes.count("written") <= 1, f"{cid}: written at most once (superseded if late), got {outcomes}"
        assert set(outcomes) <= {"written", "duplicate", "superseded"}, outcomes
        assert command_status(http, stack, admin_user, cid)["status"] == "applied"
    # The newest command is never superseded; its redelivery is a duplicate.
    assert sorted(line["outcome"] for line in projector_lines(stack, last_id)) == ["duplicate", "written"]


def _accepted_record(dynamodb: Any, table: str, command_id: str, code: str) -> None:
    """A command the write side accepted, whose queue message will turn out to be poison."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    dynamodb.put_item(
        TableName=table,
        Item={
            "id": {"S": command_id},
            "status": {"S": "accepted"},
            "operation": {"S": "create"},
            "code": {"S": code},
            "sequence": {"N": "1"},
            "fingerprint": {"S": "0" * 64},
            "message": {"S": "{}"},
            "requested_by": {"S": "e2e"},
            "created_at": {"S": now},
            "updated_at": {"S": now},
            "expires_at": {"N": str(int(time.time()) + 3600)},
        },
    )


@pytest.mark.local_only
@pytest.mark.slow
def test_poison_reaches_the_dlq_and_its_command_is_rejected_while_the_batch_goes_on(
    stack: Stack, http: requests.Session, admin_user: Admin, local: targets.Target, sqs: Any
) -> None:
    poison_id = command_key("poison")
    _accepted_record(local.client("dynamodb"), local.output("CommandsTableName"), poison_id, "THB")
    poison = {
        "command_id": poison_id,
        "operation": "create",
        "code": "THB",
        "sequence": 1,
        "name": "Baht",
        "minor_units": 7,  # THB has 2: invalid, so poison
        "rate_to_base": "0.028",
    }
    garbage = f"not json at all {uuid.uuid4().hex}"
    good_key = command_key("myr")
    good = post_currency(
        http,
        stack,
        admin_user,
        {"code": "MYR", "name": "Malaysian Ringgit", "minor_units": 2, "rate_to_base": "0.21"},
        good_key,
    )
    assert good.status_code == 202, good.text
    queue_url = local.output("CommandsQueueUrl")
    sent = sqs.send_message_batch(
        QueueUrl=queue_url,
        Entries=[{"Id": "poison", "MessageBody": json.dumps(poison)}, {"Id": "garbage", "MessageBody": garbage}],
    )
    assert not sent.get("Failed"), sent

    # The good command is applied once even though poison shares its batches; the poison's command is rejected.
    wait_status(http, stack, admin_user, good_key, "applied")
    rejected = wait_status(http, stack, admin_user, poison_id, "rejected")
    assert "poison" in rejected["reason"] and "minor-unit" in rejected["reason"]

    # Both poison messages land in the DLQ after maxReceiveCount receives.
    dlq_url = local.output("CommandsDLQUrl")
    seen: set[str] = set()

    def in_dlq() -> bool:
        out = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=0)
        for message in out.get("Messages", []):
            body = message["Body"]
            if body == garbage:
                seen.add("garbage")
            elif poison_id in body:
                seen.add("poison")
        return seen == {"garbage", "poison"}

    wait_for("both poison messages in the DLQ", in_dlq, deadline_s=DLQ_DEADLINE_S)

    # Only the failing messages were retried: the good one was projected exactly once, the poison on every receive.
    def poison_logged() -> list[dict] | None:
        lines = projector_lines(stack, poison_id)
        return lines if lines and max(int(line["receives"]) for line in lines) >= 3 else None

    poison_lines = wait_for("the poison's receives in the logs", poison_logged)
    assert all(line["outcome"] == "poison" for line in poison_lines), poison_lines
    good_lines = wait_for("the good command's log line", lambda: projector_lines(stack, good_key) or None)
    assert [line["outcome"] for line in good_lines] == ["written"], good_lines
    assert command_status(http, stack, admin_user, poison_id)["status"] == "rejected"
    assert http.get(f"{stack.api}/currencies/THB", timeout=30).status_code == 404
