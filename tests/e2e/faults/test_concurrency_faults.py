"""Reliability under concurrency and failure, through the local cloud (or a deployed stage, where marked).

Each test asserts counts (charges, versions, posts), not just the absence of errors. Sizes are short in
`./inv test`; `./inv test --faults --long` (FAULTS_LONG=1) runs the long version.
"""

from __future__ import annotations

import os
import signal
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.e2e.conftest import Stack
from tests.e2e.helpers import new_account

LONG = os.environ.get("FAULTS_LONG", "") not in ("", "0")
PAYMENTS = 100
EDITS = 1000 if LONG else 200
WORKERS = 32 if LONG else 16


def test_100_concurrent_identical_payments_charge_exactly_once(stack: Stack, http: requests.Session) -> None:
    owner = new_account(stack, http, "fault-payer")
    lines = [{"description": "Consulting (hours)", "quantity": 3, "unit_price": 12500, "tax_rate_bps": 1900}]
    invoice = http.post(f"{stack.api}/invoices", json={"currency": "EUR", "lines": lines}, headers=owner.bearer,
                        timeout=30).json()  # fmt: skip
    key = str(uuid.uuid4())
    body = {"invoice_id": invoice["id"], "amount": 10000, "currency": "EUR"}
    headers = {**owner.bearer, "Idempotency-Key": key}

    def pay(_: int) -> requests.Response:
        return requests.post(f"{stack.api}/payments", json=body, headers=headers, timeout=60)

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        replies = list(pool.map(pay, range(PAYMENTS)))
    statuses = [r.status_code for r in replies]
    assert set(statuses) <= {201, 409}, statuses  # 409: the same key still in flight (documented)
    created = {r.json()["id"] for r in replies if r.status_code == 201}
    assert len(created) == 1, f"{statuses.count(201)} successes name {len(created)} payments"
    after = http.get(f"{stack.api}/invoices/{invoice['id']}", headers=owner.bearer, timeout=30).json()
    assert after["amount_paid"] == 10000, "charged exactly once"
    listed = http.get(f"{stack.api}/payments", headers=owner.bearer, timeout=30).json()["items"]
    assert [p["id"] for p in listed if p["invoice_id"] == invoice["id"]] == list(created)


def test_concurrent_blog_edits_lose_no_update(stack: Stack, http: requests.Session) -> None:
    author = new_account(stack, http, "fault-editor")
    post = http.post(f"{stack.api}/posts", json={"title": "v1", "body": "Body."}, headers=author.bearer,
                     timeout=30).json()  # fmt: skip
    url = f"{stack.api}/posts/{post['id']}"

    def edit(i: int) -> int:
        with requests.Session() as session:
            current = session.get(url, timeout=60).json()["version"]
            change = {"title": f"edit {i}", "body": "Body."}
            headers = {**author.bearer, "If-Match": f'"{current}"'}
            return session.put(url, json=change, headers=headers, timeout=60).status_code

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        statuses = list(pool.map(edit, range(EDITS)))
    assert set(statuses) <= {200, 412}, sorted(set(statuses))
    accepted = statuses.count(200)
    assert accepted >= 1
    final = http.get(url, timeout=30).json()
    assert final["version"] == 1 + accepted, f"{accepted} edits accepted, version {final['version']}: a lost update"


@pytest.mark.local_only
def test_killed_environments_fail_their_requests_and_are_replaced(stack: Stack, http: requests.Session) -> None:
    """SIGKILL every BlogManager environment while posts are being created: requests in flight get the gateway's
    500, the next ones run on fresh environments, and every acknowledged post exists."""
    assert stack.control is not None
    status_url = f"{stack.control['lambda_endpoint']}/_localcloud/status"
    author = new_account(stack, http, "fault-killed")
    tag = uuid.uuid4().hex[:8]

    def create(i: int) -> tuple[int, str | None]:
        reply = requests.post(f"{stack.api}/posts", json={"title": f"{tag}-{i}", "body": "Body."},
                              headers=author.bearer, timeout=60)  # fmt: skip
        return reply.status_code, reply.json().get("id") if reply.status_code == 201 else None

    warm = [create(i) for i in range(3)]
    assert [s for s, _ in warm] == [201, 201, 201]
    before = requests.get(status_url, timeout=30).json()["functions"]["BlogManager"]
    pids = [int(pid) for pid in before["rss_kb"]]
    assert pids, "BlogManager has warm environments"
    with ThreadPoolExecutor(max_workers=8) as pool:
        batch = [pool.submit(create, 3 + i) for i in range(40)]
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        results = warm + [f.result() for f in batch]
    statuses = [s for s, _ in results]
    assert set(statuses) <= {201, 500}, statuses  # 500: {"message":"Internal Server Error"} for a killed one
    after = [create(100 + i) for i in range(10)]
    assert [s for s, _ in after] == [201] * 10, "fresh environments serve the next requests"
    now = requests.get(status_url, timeout=30).json()["functions"]["BlogManager"]
    assert now["cold_starts"] > before["cold_starts"], "the killed environments were replaced"
    assert not set(pids) & {int(p) for p in now["rss_kb"]}, "no killed process is still counted"
    for _, post_id in results + after:
        if post_id is not None:
            assert http.get(f"{stack.api}/posts/{post_id}", timeout=30).status_code == 200, post_id
