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
    assert _applied(case).body == {"name": "Yen", "minor_units": 0, "rate_to_base": "1", "command_id": "y"}
    new = {"code": "kwd", "name": "Dinar", "minor_units": 4, "rate_to_base": "3.25"}
    assert _applied(_case("post", "/currencies", body=new)).body["minor_units"] == 3


def test_invoice_lines_are_scaled_so_the_totals_fit() -> None:
    lines = [{"description": "d", "quantity": 1000, "unit_price": hooks.MAX_SAFE_INTEGER, "tax_rate_bps": 10_000}] * 3
    body = _applied(_case("post", "/invoices", body={"currency": "EUR", "lines": [dict(x) for x in lines]})).body
    assert sum(2 * line["quantity"] * line["unit_price"] for line in body["lines"]) <= hooks.MAX_SAFE_INTEGER


def test_a_post_body_is_cut_to_its_byte_limit() -> None:
    body = _applied(_case("post", "/posts", body={"title": "t", "body": "é" * 40_000})).body
    assert len(body["body"].encode()) <= 64 * 1024
