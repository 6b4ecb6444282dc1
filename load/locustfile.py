"""Locust scenarios for `./inv load` (run headless by devkit/load/run.py; one scenario per run).

Settings come from the environment (set by devkit/load/run.py): LOAD_SCENARIO, LOAD_API (HttpApi or FatApi),
LOAD_AUTH (identity API), LOAD_USER_EMAIL / LOAD_ADMIN_EMAIL and LOAD_PASSWORD (tagged test accounts).
Requests are named by route (`/posts/{id}`), so the statistics are per route.

Scenarios (weights say how real traffic mixes):
- browse:   readers paging the feed, opening posts and their comments;
- write:    authors posting, editing with If-Match, commenting;
- billing:  invoice, then pay it with an Idempotency-Key (and one retry with the same key, which must replay);
- currency: reads heavy (list, one code), admin writes light (202 + command poll);
- convert:  GET /convert at high concurrency (the LMI function);
- mixed:    all of the above at once.
"""

from __future__ import annotations

import os
import random
import time
import uuid

from gevent.lock import Semaphore
from locust import HttpUser, between, constant, task

API = os.environ.get("LOAD_API", "")
AUTH = os.environ.get("LOAD_AUTH", API)
PASSWORD = os.environ.get("LOAD_PASSWORD", "")
SCENARIO = os.environ.get("LOAD_SCENARIO", "mixed")
TOKEN_REFRESH_S = 300  # access tokens live 15 minutes

_tokens: dict[str, tuple[float, str]] = {}
_login_lock = Semaphore()


def token(client: object, role: str) -> str:
    """One login per account and process (logins are deliberately slow: argon2id), refreshed every 5 minutes."""
    with _login_lock:  # the first users start together: one of them logs in, the others wait for its token
        cached = _tokens.get(role)
        if cached and cached[1] and time.monotonic() - cached[0] < TOKEN_REFRESH_S:
            return cached[1]
        email = os.environ[f"LOAD_{role.upper()}_EMAIL"]
        response = client.post(f"{AUTH}/login", json={"email": email, "password": PASSWORD}, name="/login")
        value = response.json()["access_token"] if response.status_code == 200 else ""
        _tokens[role] = (time.monotonic(), value)
        return value


class ApiUser(HttpUser):
    abstract = True
    host = API
    wait_time = between(0.05, 0.2)

    def auth(self, role: str = "user") -> dict[str, str]:
        return {"Authorization": f"Bearer {token(self.client, role)}"}


class Reader(ApiUser):
    weight = 6

    def on_start(self) -> None:
        self.post_ids: list[str] = []

    @task(5)
    def feed(self) -> None:
        response = self.client.get("/posts?limit=20", name="/posts")
        if response.status_code == 200:
            self.post_ids = [p["id"] for p in response.json().get("items", [])][:20] or self.post_ids

    @task(4)
    def open_post(self) -> None:
        if self.post_ids:
            post_id = random.choice(self.post_ids)
            self.client.get(f"/posts/{post_id}", name="/posts/{id}")
            self.client.get(f"/posts/{post_id}/comments", name="/posts/{id}/comments")


class Author(ApiUser):
    weight = 1

    @task
    def write(self) -> None:
        created = self.client.post(
            "/posts", json={"title": "load test", "body": "written by ./inv load"}, headers=self.auth(), name="/posts"
        )
        if created.status_code != 201:
            return
        post = created.json()
        etag = created.headers.get("ETag", "")
        self.client.put(
            f"/posts/{post['id']}",
            json={"title": "load test (edited)", "body": "edited"},
            headers={**self.auth(), "If-Match": etag},
            name="/posts/{id}",
        )
        for _ in range(2):
            self.client.post(
                f"/posts/{post['id']}/comments", json={"body": "nice"}, headers=self.auth(), name="/posts/{id}/comments"
            )


class Payer(ApiUser):
    weight = 2

    @task
    def invoice_and_pay(self) -> None:
        lines = [{"description": "hours", "quantity": 2, "unit_price": 5000, "tax_rate_bps": 1900}]
        created = self.client.post(
            "/invoices", json={"currency": "EUR", "lines": lines}, headers=self.auth(), name="/invoices"
        )
        if created.status_code != 201:
            return
        invoice = created.json()
        key = f"load-{uuid.uuid4().hex}"
        body = {"invoice_id": invoice["id"], "amount": invoice["amount_due"], "currency": "EUR"}
        headers = {**self.auth(), "Idempotency-Key": key}
        first = self.client.post("/payments", json=body, headers=headers, name="/payments")
        with self.client.post(
            "/payments", json=body, headers=headers, name="/payments (replay)", catch_response=True
        ) as replay:
            # After a recorded first attempt, the retry must be the same payment, marked as a replay.
            recorded = first.status_code == 201
            if recorded and (replay.status_code != 201 or replay.headers.get("Idempotent-Replayed") != "true"):
                replay.failure(f"retry after a recorded payment: {replay.status_code}, not a replay")
            elif recorded and replay.json().get("id") != first.json().get("id"):
                replay.failure("the replay names another payment")
        self.client.get(f"/invoices/{invoice['id']}", headers=self.auth(), name="/invoices/{id}")


class CurrencyReader(ApiUser):
    weight = 8

    @task(3)
    def list_all(self) -> None:
        self.client.get("/currencies", name="/currencies")

    @task(5)
    def one(self) -> None:
        self.client.get(f"/currencies/{random.choice(['EUR', 'USD'])}", name="/currencies/{code}")


class CurrencyAdmin(ApiUser):
    """Light admin writes: re-sets USD to the values it already has (real commands, queue and projector work,
    but a shared stage's rates stay as they were)."""

    weight = 1
    wait_time = constant(1)

    @task
    def set_rate(self) -> None:
        current = self.client.get("/currencies/USD", name="/currencies/{code}")
        if current.status_code != 200:
            return
        view = current.json()
        body = {key: view[key] for key in ("name", "minor_units", "rate_to_base")}
        response = self.client.put("/currencies/USD", json=body, headers=self.auth("admin"), name="/currencies/{code}")
        if response.status_code == 202:
            self.client.get(f"/commands/{response.json()['id']}", headers=self.auth("admin"), name="/commands/{id}")


class Converter(ApiUser):
    weight = 10
    wait_time = between(0.0, 0.02)

    @task
    def convert(self) -> None:
        pair = random.choice([("EUR", "USD"), ("USD", "EUR")])
        amount = random.randint(1, 10_000_000)
        self.client.get(f"/convert?from={pair[0]}&to={pair[1]}&amount={amount}", name="/convert")


SCENARIOS: dict[str, list[type[ApiUser]]] = {
    "browse": [Reader],
    "write": [Author, Reader],
    "billing": [Payer],
    "currency": [CurrencyReader, CurrencyAdmin],
    "convert": [Converter],
    "mixed": [Reader, Author, Payer, CurrencyReader, CurrencyAdmin, Converter],
}

for _user_class in (Reader, Author, Payer, CurrencyReader, CurrencyAdmin, Converter):
    _user_class.abstract = _user_class not in SCENARIOS[SCENARIO]
del _user_class  # locust collects every module-level user class, aliases included
