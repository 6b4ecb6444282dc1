"""Billing through the gateway: server-side totals, idempotent payments, overpayment, privacy, paid status."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.support import Stack, new_account

LINES = [{"description": "Consulting (hours)", "quantity": 3, "unit_price": 12500, "tax_rate_bps": 1900}]


def _invoice(stack: Stack, http: requests.Session, bearer: dict) -> dict:
    created = http.post(f"{stack.api}/invoices", json={"currency": "EUR", "lines": LINES}, headers=bearer, timeout=30)
    assert created.status_code == 201, created.text
    return created.json()


def test_totals_are_computed_by_the_server(stack: Stack, http: requests.Session) -> None:
    owner = new_account(stack, http, "invoicer")
    invoice = _invoice(stack, http, owner.bearer)
    assert (invoice["subtotal"], invoice["tax"], invoice["total"]) == (37500, 7125, 44625)
    assert invoice["status"] == "open"


def test_concurrent_identical_payments_charge_once_and_replay(stack: Stack, http: requests.Session) -> None:
    owner = new_account(stack, http, "payer")
    invoice = _invoice(stack, http, owner.bearer)
    key = str(uuid.uuid4())
    body = {"invoice_id": invoice["id"], "amount": 10000, "currency": "EUR"}

    def pay(_: int) -> requests.Response:
        return http.post(
            f"{stack.api}/payments", json=body, headers={**owner.bearer, "Idempotency-Key": key}, timeout=30
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(pay, range(8)))
    created = [r for r in replies if r.status_code == 201]
    assert created, [r.status_code for r in replies]
    assert {r.json()["id"] for r in created} == {created[0].json()["id"]}  # every success is the same payment
    assert {r.status_code for r in replies} <= {201, 409}
    replay = pay(0)
    assert replay.status_code == 201 and replay.json()["id"] == created[0].json()["id"]
    after = http.get(f"{stack.api}/invoices/{invoice['id']}", headers=owner.bearer, timeout=30).json()
    assert after["amount_paid"] == 10000  # charged exactly once

    different = {**body, "amount": 20000}
    mismatch = http.post(
        f"{stack.api}/payments", json=different, headers={**owner.bearer, "Idempotency-Key": key}, timeout=30
    )
    assert mismatch.status_code == 409  # the key is bound to the first body: a conflict with stored state


def test_overpayment_is_refused_and_full_payment_marks_paid(stack: Stack, http: requests.Session) -> None:
    owner = new_account(stack, http, "settler")
    invoice = _invoice(stack, http, owner.bearer)

    def pay(amount: int) -> requests.Response:
        body = {"invoice_id": invoice["id"], "amount": amount, "currency": "EUR"}
        headers = {**owner.bearer, "Idempotency-Key": str(uuid.uuid4())}
        return http.post(f"{stack.api}/payments", json=body, headers=headers, timeout=30)

    assert pay(invoice["total"] + 1).status_code == 422
    assert pay(invoice["total"]).status_code == 201
    paid = http.get(f"{stack.api}/invoices/{invoice['id']}", headers=owner.bearer, timeout=30).json()
    assert paid["status"] == "paid"


def test_other_users_invoices_are_not_found(stack: Stack, http: requests.Session) -> None:
    owner, stranger = new_account(stack, http, "private"), new_account(stack, http, "stranger")
    invoice = _invoice(stack, http, owner.bearer)
    assert http.get(f"{stack.api}/invoices/{invoice['id']}", headers=stranger.bearer, timeout=30).status_code == 404


def test_payment_without_idempotency_key_is_400(stack: Stack, http: requests.Session) -> None:
    owner = new_account(stack, http, "nokey")
    invoice = _invoice(stack, http, owner.bearer)
    body = {"invoice_id": invoice["id"], "amount": 1, "currency": "EUR"}
    assert http.post(f"{stack.api}/payments", json=body, headers=owner.bearer, timeout=30).status_code == 400
