"""A client that validates its requests against the committed openapi.json refuses what the services refuse.

The validator is what a generated client does: JSON Schema (draft 2020-12, `jsonschema`) on every parameter and
on the JSON body, plus the rules the document names in its `x-rules` extension where JSON Schema cannot state
them. Each refused request below was schema-valid once and answered 4xx by the services; its valid twin shows the
validator does not simply refuse everything.
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from devkit import paths

ROOT_URI = "urn:openapi"
POST_ID = "0193f1a2-7c4e-7a10-9b1d-2f1e0c3d4b5a"
TOKEN = "eyJwayI6IlBPU1QjMSJ9.c2lnbmF0dXJlLW9mLWV4YWN0bHktdGhpcnR5LXR3by1"


@cache
def document() -> dict[str, Any]:
    return json.loads((paths.ROOT / "openapi.json").read_text())


def _absolute(node: Any) -> Any:
    """`#/components/...` refs made absolute, so a fragment of the document validates on its own."""
    if isinstance(node, dict):
        return {k: (f"{ROOT_URI}{v}" if k == "$ref" and isinstance(v, str) else _absolute(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_absolute(v) for v in node]
    return node


@cache
def registry() -> Registry:
    resource = Resource.from_contents(_absolute(document()), default_specification=DRAFT202012)
    return Registry().with_resource(ROOT_URI, resource)


def _errors(schema: dict[str, Any], instance: Any) -> list[str]:
    validator = Draft202012Validator(_absolute(copy.deepcopy(schema)), registry=registry())
    return [error.message for error in validator.iter_errors(instance)]


def _deref(node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = document()
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def _operation(method: str, path: str) -> tuple[str, dict[str, Any], dict[str, str]]:
    """(template, operation, path parameters) for a concrete path."""
    for template, item in document()["paths"].items():
        pattern = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
        found = re.match(pattern, path)
        if found and method.lower() in item:
            return template, item[method.lower()], found.groupdict()
    raise AssertionError(f"{method} {path} is not in the document")


def refusals(
    method: str,
    path: str,
    *,
    query: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    body: Any = None,
) -> list[str]:
    """Why a client validating against the document refuses this request (empty: it would send it)."""
    _, operation, path_values = _operation(method, path)
    given = {"path": path_values, "query": query or {}, "header": {k.lower(): v for k, v in (headers or {}).items()}}
    problems = []
    for parameter in map(_deref, operation.get("parameters", [])):
        where, name = parameter["in"], parameter["name"]
        value = given[where].get(name.lower() if where == "header" else name)
        if value is None:
            if parameter.get("required"):
                problems.append(f"{where} {name}: required")
            continue
        problems += [f"{where} {name}: {m}" for m in _errors(parameter.get("schema", {}), value)]
    request_body = _deref(operation.get("requestBody", {}))
    schema = request_body.get("content", {}).get("application/json", {}).get("schema")
    if schema is not None and (body is not None or request_body.get("required")):
        problems += [f"body: {m}" for m in _errors(schema, body)]
        problems += _named_rules(schema, body, given["header"])
    return problems


def _named_rules(schema: dict[str, Any], body: Any, headers: dict[str, str]) -> list[str]:
    """The `x-rules` a client can check before sending (the rest need the server's state or keys)."""
    if not isinstance(body, dict):
        return []
    problems = []
    for name, prop in _deref(schema).get("properties", {}).items():
        rules = _deref(prop).get("x-rules", [])
        if "version-or-if-match" in rules and body.get(name) is None and "if-match" not in headers:
            problems.append(f"body {name}: `{name}` or the If-Match header is required (version-or-if-match)")
    return problems


VALID_INVOICE = {"currency": "EUR", "lines": [{"description": "Consulting", "quantity": 3, "unit_price": 12500}]}
VALID_PAYMENT = {"invoice_id": POST_ID, "amount": 100, "currency": "EUR"}
PAY = {"Idempotency-Key": "order-42"}

POST = {"title": "Hello", "body": "text"}
EDIT = {**POST, "version": 1}
COMMENT = {"body": "Nice post!"}
REGISTER = {"email": "ada@example.com", "password": "correct horse battery staple"}
CURRENCY = {"name": "Euro", "minor_units": 2, "rate_to_base": "1.08"}
PAYMENT = {"body": VALID_PAYMENT, "headers": PAY}
EDIT_IF_MATCH = {"body": POST, "headers": {"If-Match": '"3"'}}
NOT_A_TOKEN = {"query": {"next_token": "x"}}


def body(**fields: Any) -> dict[str, Any]:
    return {"body": fields}


# (what the services answered, "METHOD path", a valid request, what the schema-valid refused one changed in it:
# per part, the fields replaced; a field set to None is left out)
CASES: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    ("422 currency: an active ISO 4217 code", "POST /invoices", {"body": VALID_INVOICE}, body(currency="")),
    ("422 title: no control characters", "POST /posts", {"body": POST}, body(title="Hello\u0007")),
    ("422 title: no control characters", f"PUT /posts/{POST_ID}", {"body": EDIT}, body(title="a\tb")),
    ("422 comment body: not blank", f"POST /posts/{POST_ID}/comments", {"body": COMMENT}, body(body="")),
    ("422 password: not one repeated character", "POST /register", {"body": REGISTER}, body(password="a" * 12)),
    ("422 amount: positive", "POST /payments", PAYMENT, body(amount=0)),
    ("400 Idempotency-Key: 1-255 visible ASCII", "POST /payments", PAYMENT, {"headers": {"Idempotency-Key": "a b"}}),
    ("400 next_token is not a token", "GET /posts", {"query": {"next_token": TOKEN}}, NOT_A_TOKEN),
    ("400 next_token is not a token", f"GET /posts/{POST_ID}/comments", {"query": {"next_token": TOKEN}}, NOT_A_TOKEN),
    ("400 next_token is not a token", "GET /invoices", {"query": {}}, NOT_A_TOKEN),
    ("400 next_token is not a token", "GET /payments", {"query": {}}, {"query": {"next_token": "é.x"}}),
    ("422 unknown field (currency commands)", "PUT /currencies/EUR", {"body": CURRENCY}, body(colour="blue")),
    ("428 an edit needs If-Match or version", f"PUT /posts/{POST_ID}", EDIT_IF_MATCH, {"headers": {"If-Match": None}}),
]  # fmt: skip


def changed(valid: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """`valid` with each part's fields replaced by `change`'s (None: left out)."""
    merged = {part: dict(fields) for part, fields in valid.items()}
    for part, fields in change.items():
        merged[part] = {**merged.get(part, {}), **fields}
        merged[part] = {name: value for name, value in merged[part].items() if value is not None}
    return merged


@pytest.mark.parametrize(("answer", "request_line", "valid", "change"), CASES, ids=[c[0] + " " + c[1] for c in CASES])
def test_the_client_refuses_what_the_service_refuses(
    answer: str, request_line: str, valid: dict[str, Any], change: dict[str, Any]
) -> None:
    method, path = request_line.split(" ", 1)
    assert refusals(method, path, **changed(valid, change)), f"{request_line} would be sent, and answered {answer}"
    assert refusals(method, path, **valid) == []


def test_there_are_thirteen_cases_as_the_services_answered_them() -> None:
    assert len(CASES) == 13
