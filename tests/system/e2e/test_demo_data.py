"""Demo data: a stack started as `./inv up` starts it (`--demo-data`) converts at once, on the lith and the fat API,
and seeding a second time changes nothing (no command, no account, no new version)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from devkit import demo, targets
from tests.support import Stack, local_stack

pytestmark = pytest.mark.local_only


@pytest.fixture(scope="module")
def seeded(stack: Stack, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A second local stack with demo data (the session's `stack` has built the bootstraps)."""
    state_dir = tmp_path_factory.mktemp("demo")
    cmd = [sys.executable, "-m", "devkit.stack", "--port", "0", "--state-dir", str(state_dir), "--quiet"]
    cmd += ["--no-build", "--demo-data", "--backend", request.config.getoption("--backend")]
    with local_stack(cmd, state_dir) as running:
        yield running


def _tables(stack: Stack) -> demo.Tables:
    assert stack.state_dir is not None
    local = targets.local(stack.state_dir)
    return demo.Tables(local.client("dynamodb"), local.output("UsersTableName"), local.output("CurrenciesTableName"))


def _snapshot(stack: Stack) -> dict[str, list[dict[str, Any]]]:
    assert stack.state_dir is not None
    local = targets.local(stack.state_dir)
    client = local.client("dynamodb")
    names = ("UsersTableName", "CurrenciesTableName", "CommandsTableName")
    pages = {name: client.get_paginator("scan").paginate(TableName=local.output(name)) for name in names}
    return {name: sorted((item for page in found for item in page["Items"]), key=repr) for name, found in pages.items()}


@pytest.mark.parametrize("api", ["HttpApi", "FatApi"])
def test_a_fresh_stack_converts_at_once(seeded: Stack, http: requests.Session, api: str) -> None:
    reply = http.get(f"{seeded.urls[api]}/convert", params={"from": "EUR", "to": "USD", "amount": 1000}, timeout=30)

    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert (body["from"], body["to"], body["amount"]) == ("EUR", "USD", 1000)
    assert body["converted"] == 1082  # 1000 cents * 1.0825 = 1082.5 → half-even
    assert body["rates"]["from"]["rate_to_base"] == "1.0825"


def test_every_demo_currency_is_listed(seeded: Stack, http: requests.Session) -> None:
    for currency in demo.DEMO_CURRENCIES:
        reply = http.get(f"{seeded.api}/currencies/{currency.code}", timeout=30)
        assert reply.status_code == 200, reply.text
        assert (reply.json()["name"], reply.json()["minor_units"]) == (currency.name, currency.minor_units)


def test_seeding_twice_changes_nothing(seeded: Stack) -> None:
    before = _snapshot(seeded)

    again = demo.seed(seeded.api, seeded.auth, _tables(seeded))

    assert again == []
    assert _snapshot(seeded) == before
