"""Demo data for a local stack: a handful of currencies with rates, so `GET /convert` answers at once.

Written through the real write path, not into the read model: a demo admin account (registered on the identity
API, granted `admin` in the users table, as `./inv grant-admin` does) sends `PUT /currencies/{code}` with a fixed
command id, and the step waits until the projector has applied each command. So the currencies carry the same
versions, sequence counters and command statuses as any admin write, and a later admin write to them behaves as
it would on a deployed stage (a row written behind the write path's back would have no sequence counter, and the
first real write would be ignored as older).

Idempotent: a currency whose read-model item exists (live or deleted) is left alone, so a second run on the same
tables sends nothing and creates nothing; a run interrupted half-way is finished by the next one (the command ids
are fixed, the account's password too). Never on a deployed stage's tables (`./inv up --backend aws`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import requests

from devkit.targets import admin

TIMEOUT_S = 30
APPLY_DEADLINE_S = 120.0
# A local-only account (the stack runs on loopback); it can also be used to try admin writes by hand.
DEMO_ADMIN_EMAIL = "demo-admin@example.test"
DEMO_ADMIN_PASSWORD = "local demo data only"


@dataclass(frozen=True)
class DemoCurrency:
    code: str
    name: str
    minor_units: int
    rate_to_base: str  # one unit in the base currency (USD), as the write API takes it

    @property
    def command_id(self) -> str:
        return f"demo-data-{self.code.lower()}"

    def body(self) -> dict[str, Any]:
        return {"name": self.name, "minor_units": self.minor_units, "rate_to_base": self.rate_to_base}


# The codes the OpenAPI document's examples use (USD, EUR, JPY) and a few more minor-unit cases (KWD: 3 digits).
DEMO_CURRENCIES = (
    DemoCurrency("USD", "US Dollar", 2, "1"),
    DemoCurrency("EUR", "Euro", 2, "1.0825"),
    DemoCurrency("GBP", "Pound Sterling", 2, "1.2710"),
    DemoCurrency("CHF", "Swiss Franc", 2, "1.1320"),
    DemoCurrency("JPY", "Yen", 0, "0.0067"),
    DemoCurrency("KWD", "Kuwaiti Dinar", 3, "3.2540"),
)


class DemoDataError(RuntimeError):
    """Seeding failed; the message carries the API's answer."""


@dataclass(frozen=True)
class Tables:
    dynamodb: Any  # a boto3 DynamoDB client of the stack's backend
    users: str
    currencies: str


def missing(tables: Tables) -> list[DemoCurrency]:
    """Demo currencies with no read-model item (a deleted one keeps its tombstone, so it is not revived)."""
    return [
        currency
        for currency in DEMO_CURRENCIES
        if "Item"
        not in tables.dynamodb.get_item(
            TableName=tables.currencies, Key={"code": {"S": currency.code}}, ConsistentRead=True
        )
    ]


def _check(response: requests.Response, what: str, *expected: int) -> requests.Response:
    if response.status_code not in expected:
        raise DemoDataError(f"{what} → {response.status_code}: {response.text[:300]}")
    return response


def admin_token(http: requests.Session, auth_url: str, tables: Tables) -> str:
    """The demo admin's access token (registering the account and granting `admin` when needed)."""
    credentials = {"email": DEMO_ADMIN_EMAIL, "password": DEMO_ADMIN_PASSWORD}
    _check(http.post(f"{auth_url}/register", json=credentials, timeout=TIMEOUT_S), "POST /register", 201, 409)
    admin.grant_admin(tables.dynamodb, tables.users, DEMO_ADMIN_EMAIL)
    login = _check(http.post(f"{auth_url}/login", json=credentials, timeout=TIMEOUT_S), "POST /login", 200)
    return str(login.json()["access_token"])


def _wait_applied(http: requests.Session, api_url: str, bearer: dict[str, str], command_ids: list[str]) -> None:
    deadline, pending = time.monotonic() + APPLY_DEADLINE_S, list(command_ids)
    while pending:
        reply = _check(
            http.get(f"{api_url}/commands/{pending[0]}", headers=bearer, timeout=TIMEOUT_S), "GET /commands", 200
        )
        status = reply.json()["status"]
        if status == "applied":
            pending.pop(0)
            continue
        if status == "rejected":
            raise DemoDataError(f"command {pending[0]} was rejected: {reply.json().get('reason')}")
        if time.monotonic() > deadline:
            raise DemoDataError(f"command {pending[0]} not applied within {APPLY_DEADLINE_S:.0f} s")
        time.sleep(0.2)  # poll interval, bounded by the deadline above


def seed(api_url: str, auth_url: str, tables: Tables) -> list[str]:
    """Writes the demo currencies that are missing and waits until they are readable; returns their codes."""
    todo = missing(tables)
    if not todo:
        return []
    with requests.Session() as http:
        bearer = {"Authorization": f"Bearer {admin_token(http, auth_url, tables)}"}
        for currency in todo:
            _check(
                http.put(
                    f"{api_url}/currencies/{currency.code}",
                    json=currency.body(),
                    headers={**bearer, "Idempotency-Key": currency.command_id},
                    timeout=TIMEOUT_S,
                ),
                f"PUT /currencies/{currency.code}",
                202,
            )
        _wait_applied(http, api_url, bearer, [currency.command_id for currency in todo])
    return [currency.code for currency in todo]
