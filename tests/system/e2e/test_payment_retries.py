"""A payment whose answer was lost to a crash is replayed on retry, never re-judged.

The billing function is SIGKILLed when it answers (`./inv fault BillingManager --action crash`): the payment is
committed but the client sees a 500. Before the client retries, the invoice is paid off by another payment and the
key's idempotency record is left as a crash before its completion leaves it once its lock has expired (no recorded
response, `locked_until` in the past), so the retry takes the record over. The retry must answer the original 201
(`Idempotent-Replayed: true`), not 409 `invoice_paid`, and charge nothing twice.
"""

from __future__ import annotations

import time
import uuid

import pytest
import requests

from devkit import targets
from devkit.stack import set_faults
from tests.support import Account, Stack, jwt_claims, new_account

pytestmark = pytest.mark.local_only

BILLING = "BillingManager"
# Killed when it answers: a crash is drawn within this window (seeded, so the same draw every run), and a drawn crash
# lands at the latest when the function answers. 900 s is a function's longest timeout; the payment takes ~ms.
CRASH_WHEN_ANSWERING = {"action": "crash", "percentage": 100, "within_ms": 900_000}
LINES = [{"description": "Design review", "quantity": 1, "unit_price": 10000, "tax_rate_bps": 0}]


def _subject(token: str) -> str:
    return jwt_claims(token)["sub"]


def _pay(stack: Stack, http: requests.Session, owner: Account, body: dict, key: str) -> requests.Response:
    headers = {**owner.bearer, "Idempotency-Key": key}
    return http.post(f"{stack.api}/payments", json=body, headers=headers, timeout=30)


def _as_after_a_crash_before_completion(stack: Stack, owner: Account, key: str) -> None:
    """The record a crashed first attempt leaves once its lock has expired: fingerprint kept, no response."""
    assert stack.state_dir is not None
    local = targets.local(stack.state_dir)
    scope = _subject(owner.token)
    local.client("dynamodb").update_item(
        TableName=local.output("BillingTableName"),
        Key={"pk": {"S": f"IDEMPOTENCY#{len(scope)}:{scope}#{key}"}, "sk": {"S": "IDEMPOTENCY"}},
        UpdateExpression="REMOVE #response SET locked_until = :past",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeNames={"#response": "response"},
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 1)}},
    )


def test_a_retry_after_a_crash_replays_the_committed_payment_though_the_invoice_is_paid_since(
    stack: Stack, http: requests.Session
) -> None:
    owner = new_account(stack, http, "crash-payer")
    created = http.post(f"{stack.api}/invoices", json={"currency": "EUR", "lines": LINES}, headers=owner.bearer,
                        timeout=30)  # fmt: skip
    assert created.status_code == 201, created.text
    invoice = created.json()
    key = str(uuid.uuid4())
    first = {"invoice_id": invoice["id"], "amount": 4000, "currency": "EUR"}

    set_faults(stack.control, BILLING, {"seed": 1, "faults": [CRASH_WHEN_ANSWERING]})
    try:
        lost = _pay(stack, http, owner, first, key)
    finally:
        set_faults(stack.control, BILLING, None)
    assert lost.status_code == 500, f"the crash should have cost the client its answer: {lost.status_code} {lost.text}"
    committed = http.get(f"{stack.api}/payments", headers=owner.bearer, timeout=30).json()["items"]
    assert [p["amount"] for p in committed] == [4000], "the crashed attempt committed its payment"

    rest = _pay(stack, http, owner, {**first, "amount": invoice["total"] - 4000}, str(uuid.uuid4()))
    assert rest.status_code == 201, rest.text
    _as_after_a_crash_before_completion(stack, owner, key)

    retry = _pay(stack, http, owner, first, key)
    assert retry.status_code == 201, f"the retry must replay the committed payment: {retry.status_code} {retry.text}"
    assert retry.json()["id"] == committed[0]["id"]
    assert retry.headers.get("idempotent-replayed") == "true"
    after = http.get(f"{stack.api}/invoices/{invoice['id']}", headers=owner.bearer, timeout=30).json()
    assert (after["amount_paid"], after["status"]) == (invoice["total"], "paid"), "nothing charged twice"
    again = _pay(stack, http, owner, first, key)
    assert (again.status_code, again.json()["id"]) == (201, committed[0]["id"]), "the replay is recorded for good"
