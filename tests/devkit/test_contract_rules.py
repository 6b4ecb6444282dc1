"""The contract hooks bring positive cases within the rules the document names in `x-rules` (and only those)."""

from __future__ import annotations

import json
import types
from functools import cache
from typing import Any

from devkit import paths
from devkit.contract import hooks
from devkit.targets.safety import TEST_PASSWORD


@cache
def document() -> dict[str, Any]:
    return json.loads((paths.ROOT / "openapi.json").read_text())


def _case(method: str, path: str, **fields: Any) -> Any:
    operation = document()["paths"][path][method]
    definition = types.SimpleNamespace(raw=operation)
    defaults = {"body": None, "query": None, "headers": None, "path_parameters": None}
    return types.SimpleNamespace(operation=types.SimpleNamespace(definition=definition), **(defaults | fields))


def _applied(case: Any) -> Any:
    hooks.apply_rules(document(), case)
    return case


def test_a_generated_next_token_is_dropped_and_the_rest_of_the_query_kept() -> None:
    for path in ("/posts", "/invoices", "/payments", "/posts/{id}/comments"):
        assert _applied(_case("get", path, query={"next_token": "abc.def", "limit": 3})).query == {"limit": 3}


def test_a_password_is_replaced_by_one_the_policy_accepts() -> None:
    case = _applied(_case("post", "/register", body={"email": "a@b.cc", "password": "abcdefghijkl"}))
    assert case.body == {"email": "a@b.cc", "password": TEST_PASSWORD}


def test_an_edit_without_if_match_or_version_gets_a_version_and_one_with_if_match_is_left_alone() -> None:
    assert _applied(_case("put", "/posts/{id}", body={"title": "t", "body": "b"})).body["version"] == 1
    case = _case("put", "/posts/{id}", body={"title": "t", "body": "b"}, headers={"If-Match": '"2"'})
    assert "version" not in _applied(case).body


def test_minor_units_follow_the_code_and_the_command_id_follows_the_key() -> None:
    body = {"name": "Yen", "minor_units": 4, "rate_to_base": "1", "command_id": "x"}
    case = _case(
        "put", "/currencies/{code}", body=body, headers={"Idempotency-Key": "y"}, path_parameters={"code": "JPY"}
    )
    applied = _applied(case)
    key = applied.headers["Idempotency-Key"]
    assert applied.body == {"name": "Yen", "minor_units": 0, "rate_to_base": "1", "command_id": key}
    new = {"code": "kwd", "name": "Dinar", "minor_units": 4, "rate_to_base": "3.25"}
    assert _applied(_case("post", "/currencies", body=new)).body["minor_units"] == 3


def test_a_post_body_is_cut_to_its_byte_limit() -> None:
    body = _applied(_case("post", "/posts", body={"title": "t", "body": "é" * 40_000})).body
    assert len(body["body"].encode()) <= 64 * 1024


def test_every_positive_request_gets_a_key_of_its_own_and_the_command_id_follows_it() -> None:
    payments = [
        _applied(_case("post", "/payments", body={"amount": 1}, headers={"Idempotency-Key": "0"})) for _ in range(2)
    ]
    keys = [case.headers["Idempotency-Key"] for case in payments]
    assert len(set(keys)) == 2 and "0" not in keys
    body = {"code": "EUR", "name": "Euro", "minor_units": 2, "rate_to_base": "1", "command_id": "0"}
    with_key = _applied(_case("post", "/currencies", body=dict(body), headers={"Idempotency-Key": "0"}))
    assert with_key.body["command_id"] == with_key.headers["Idempotency-Key"] != "0"
    alone = [_applied(_case("post", "/currencies", body=dict(body))).body["command_id"] for _ in range(2)]
    assert len(set(alone)) == 2 and "0" not in alone
    delete = _applied(_case("delete", "/currencies/{code}", body={"command_id": None}, path_parameters={"code": "EUR"}))
    assert delete.body == {"command_id": None}, "an absent id stays absent (the service makes one)"


def test_a_conversion_amount_is_capped_so_the_result_fits_in_64_bits() -> None:
    usd = {"rate_to_base": "1", "minor_units": 2}
    jpy_worth_a_billion = {"rate_to_base": "1000000000", "minor_units": 0}
    factor = hooks.conversion_factor(jpy_worth_a_billion, usd)
    assert factor == 10**11
    amount = hooks.largest_fitting_amount(factor)
    assert 2 * amount * factor <= hooks.INT64_MAX < 2 * (amount + 1) * factor
    assert hooks.largest_fitting_amount(hooks.conversion_factor(usd, jpy_worth_a_billion)) == hooks.INT64_MAX // 2
    convert = document()["paths"]["/convert"]["get"]
    assert hooks.RULE_CONVERTED_FITS in hooks.query_rules(document(), convert)["amount"]


def test_a_payment_on_an_open_invoice_pays_at_most_its_amount_due_in_its_currency() -> None:
    body = {"invoice_id": "i", "amount": 10**15, "currency": "AED"}
    hooks.pay_within(body, {"amount_due": 700, "currency": "EUR", "status": "open"})
    assert body == {"invoice_id": "i", "amount": 700, "currency": "EUR"}
    small = {"invoice_id": "i", "amount": 0.0, "currency": "EUR"}
    hooks.pay_within(small, {"amount_due": 700, "currency": "EUR"})
    assert small["amount"] == 1
    paid = {"invoice_id": "i", "amount": 5, "currency": "AED"}
    hooks.pay_within(paid, {"amount_due": 0, "currency": "EUR", "status": "paid"})
    assert paid == {"invoice_id": "i", "amount": 5, "currency": "AED"}, "nothing is valid for a paid invoice"


def test_integral_floats_count_as_integers() -> None:
    assert hooks._integer(True) is None and hooks._integer(2.5) is None and hooks._integer(3.0) == 3
