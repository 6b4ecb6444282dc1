"""The currency projector under failure: a crash while it holds a batch, duplicate and delayed SQS deliveries.

Commands are accepted by the write API (202) and applied by CurrencyProjector from the commands queue; the
projector logs one line per message it handles, with the command id, the receive count and the outcome
(`written`, `duplicate`, `superseded`, ...), which is what these tests count.
"""

from __future__ import annotations

import signal
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from devkit import targets
from tests.support import Admin, Stack, make_admin, wait_for
from tests.system.e2e.test_currency import command_status, projector_lines, wait_readable, wait_status
from tests.system.reliability.helpers import (
    environment_pids,
    function_status,
    signal_all,
    size,
    status,
    wait_in_flight,
)

PROJECTOR = "CurrencyProjector"
QUEUE = "CommandsQueue"
# Currencies with two minor units, one per command of the crash test (so each command has one outcome).
CRASH_CODES = ["AED", "AFN", "ALL", "AMD", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT"]
CRASH_CODES += ["BGN", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF"]
# The visibility timeout of the commands queue is 18 s locally: a crashed batch comes back after it.
REDELIVERY_DEADLINE_S = 90.0


@pytest.fixture(scope="module")
def commander(stack: Stack) -> Admin:
    with requests.Session() as http:
        return make_admin(stack, http)


def put_currency(stack: Stack, who: Admin, code: str, rate: str) -> dict[str, Any]:
    body = {"name": f"Currency {code}", "minor_units": 2, "rate_to_base": rate}
    reply = requests.put(f"{stack.api}/currencies/{code}", json=body, headers=who.headers, timeout=60)
    assert reply.status_code == 202, reply.text
    return reply.json()


def queue_stats(stack: Stack) -> dict[str, Any]:
    return status(stack)["queues"][QUEUE]


def settled_queue_stats(stack: Stack) -> dict[str, Any]:
    """The queue's counters once nothing is waiting, in flight or in the event source mapping's hands (a message is
    deleted after its command is marked applied, and leaves the queue before the mapping counts the delete)."""

    def probe() -> dict[str, Any] | None:
        stats = queue_stats(stack)
        return stats if stats["visible"] == stats["in_flight"] == stats["in_hand"] == 0 else None

    return wait_for("the commands queue to settle", probe)


def test_projector_crash_with_a_batch_in_hand_retries_that_batch_and_applies_each_command_once(
    stack: Stack, http: requests.Session, commander: Admin
) -> None:
    count = size(short=8, long=len(CRASH_CODES))
    codes = CRASH_CODES[:count]
    warm = put_currency(stack, commander, "ZAR", "0.05")
    wait_status(http, stack, commander, warm["id"], "applied")  # a warm projector environment
    queue_before, projector_before = settled_queue_stats(stack), function_status(stack, PROJECTOR)

    frozen = environment_pids(stack, PROJECTOR)
    assert frozen, "the projector has a warm environment"
    signal_all(frozen, signal.SIGSTOP)  # the next batch lands in a frozen environment and is held there
    try:
        with ThreadPoolExecutor(max_workers=count) as pool:
            commands = list(pool.map(lambda code: put_currency(stack, commander, code, "1.25"), codes))
        wait_in_flight(stack, PROJECTOR)
    finally:
        signal_all(frozen, signal.SIGKILL)  # the crash: the held batch is neither applied nor deleted

    ids = [command["id"] for command in commands]
    for command_id in ids:
        wait_status(http, stack, commander, command_id, "applied", deadline_s=REDELIVERY_DEADLINE_S)
    for code in codes:
        assert wait_readable(http, stack, code, 1).json()["rate_to_base"] == "1.25"

    lines = {command_id: wait_for(f"{command_id}'s line", lambda c=command_id: projector_lines(stack, c) or None)
             for command_id in ids}  # fmt: skip
    outcomes = {command_id: [line["outcome"] for line in found] for command_id, found in lines.items()}
    assert all(found == ["written"] for found in outcomes.values()), f"each command applied exactly once: {outcomes}"
    retried = [c for c, found in lines.items() if int(found[0]["receives"]) >= 2]
    queue_after, projector_after = settled_queue_stats(stack), function_status(stack, PROJECTOR)
    crashed_batches = queue_after["failed_batches"] - queue_before["failed_batches"]
    redelivered = queue_after["received"] - queue_before["received"] - count
    assert crashed_batches >= 1 and projector_after["errors"] - projector_before["errors"] == crashed_batches
    assert len(retried) == redelivered >= 1, "only the messages of the crashed batch came back"
    assert queue_after["deleted"] - queue_before["deleted"] == count, "each message deleted once, when applied"


def test_duplicate_and_delayed_deliveries_change_nothing(
    stack: Stack, http: requests.Session, commander: Admin
) -> None:
    assert stack.state_dir is not None
    local = targets.local(stack.state_dir)
    code = "SEK"
    versions = size(short=4, long=12)
    issued = []
    for i in range(versions):  # applied in order, so each command is `written` exactly once
        command = put_currency(stack, commander, code, f"0.09{i}")
        wait_status(http, stack, commander, command["id"], "applied")
        issued.append(command)
    last = issued[-1]["sequence"]
    assert wait_readable(http, stack, code, last).json()["version"] == last

    # Every command again, `copies` times, straight onto the queue; the older half delayed so it lands last.
    dynamodb, table = local.client("dynamodb"), local.output("CommandsTableName")
    bodies = [
        dynamodb.get_item(TableName=table, Key={"id": {"S": c["id"]}}, ConsistentRead=True)["Item"]["message"]["S"]
        for c in issued
    ]
    copies = size(short=3, long=10)
    entries = [
        {"Id": f"{i}-{n}", "MessageBody": body, "DelaySeconds": 2 if i < versions // 2 else 0}
        for i, body in enumerate(bodies)
        for n in range(copies)
    ]
    deleted_before = settled_queue_stats(stack)["deleted"]
    sqs, queue_url = local.client("sqs"), local.output("CommandsQueueUrl")
    for start in range(0, len(entries), 10):
        sent = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries[start : start + 10])
        assert not sent.get("Failed"), sent
    newest = put_currency(stack, commander, code, "0.1")  # a newer command among the redeliveries

    seen_versions: list[int] = []

    def all_handled() -> bool:
        seen_versions.append(requests.get(f"{stack.api}/currencies/{code}", timeout=60).json()["version"])
        return queue_stats(stack)["deleted"] - deleted_before == len(entries) + 1

    wait_for("every redelivery handled", all_handled, deadline_s=60)
    assert min(seen_versions) >= last and seen_versions == sorted(seen_versions), f"regressed: {seen_versions}"
    final = wait_readable(http, stack, code, newest["sequence"]).json()
    assert (final["version"], final["rate_to_base"]) == (newest["sequence"], "0.1")
    for command in issued:

        def delivered(command_id: str = command["id"]) -> list[dict] | None:
            found = projector_lines(stack, command_id)
            return found if len(found) >= 1 + copies else None

        lines = wait_for(f"{1 + copies} deliveries of {command['id']}", delivered)
        outcomes = [line["outcome"] for line in lines]
        assert len(outcomes) == 1 + copies, outcomes
        assert outcomes.count("written") == 1, f"{command['id']} applied more than once: {outcomes}"
        assert set(outcomes) <= {"written", "duplicate", "superseded"}, outcomes
        assert command_status(http, stack, commander, command["id"])["status"] == "applied"
    assert [line["outcome"] for line in projector_lines(stack, newest["id"])] == ["written"]
