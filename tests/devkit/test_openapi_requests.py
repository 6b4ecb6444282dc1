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

# (what the services answered, method, path, request that was schema-valid, the same request made valid)
CASES: list[tuple[str, str, str, dict[str, Any], dict[str, Any]]] = [
    (
        "422 currency must be an active ISO 4217 code",
        "POST",
        "/invoices",
        {"body": {**VALID_INVOICE, "currency": ""}},
        {"body": VALID_INVOICE},
    ),
    (
        "422 title must not contain control characters",
        "POST",
        "/posts",
        {"body": {"title": "Hello\u0007", "body": "text"}},
        {"body": {"title": "Hello", "body": "text"}},
    ),
    (
        "422 title must not contain control characters",
        "PUT",
        f"/posts/{POST_ID}",
        {"body": {"title": "Tab\there", "body": "text", "version": 1}},
        {"body": {"title": "Tab here", "body": "text", "version": 1}},
    ),
    (
        "422 comment body must not be blank",
        "POST",
        f"/posts/{POST_ID}/comments",
        {"body": {"body": ""}},
        {"body": {"body": "Nice post!"}},
    ),
    (
        "422 password must not be a single repeated character",
        "POST",
        "/register",
        {"body": {"email": "ada@example.com", "password": "aaaaaaaaaaaa"}},
        {"body": {"email": "ada@example.com", "password": "correct horse battery staple"}},
    ),
    (
        "422 amount must be positive",
        "POST",
        "/payments",
        {"body": {**VALID_PAYMENT, "amount": 0}, "headers": PAY},
        {"body": VALID_PAYMENT, "headers": PAY},
    ),
    (
        "400 Idempotency-Key must be 1-255 visible ASCII characters",
        "POST",
        "/payments",
        {"body": VALID_PAYMENT, "headers": {"Idempotency-Key": "two words"}},
        {"body": VALID_PAYMENT, "headers": PAY},
    ),
    (
        "400 next_token is not a token",
        "GET",
        "/posts",
        {"query": {"next_token": "x"}},
        {"query": {"next_token": TOKEN}},
    ),
    (
        "400 next_token is not a token",
        "GET",
        f"/posts/{POST_ID}/comments",
        {"query": {"next_token": "x"}},
        {"query": {"next_token": TOKEN}},
    ),
    ("400 next_token is not a token", "GET", "/invoices", {"query": {"next_token": "x"}}, {"query": {}}),
    ("400 next_token is not a token", "GET", "/payments", {"query": {"next_token": "é.x"}}, {"query": {}}),
    (
        "422 unknown field (the currency commands refuse them)",
        "PUT",
        "/currencies/EUR",
        {"body": {"name": "Euro", "minor_units": 2, "rate_to_base": "1.08", "colour": "blue"}},
        {"body": {"name": "Euro", "minor_units": 2, "rate_to_base": "1.08"}},
    ),
    (
        "428 an edit needs If-Match or version",
        "PUT",
        f"/posts/{POST_ID}",
        {"body": {"title": "Hello again", "body": "Edited."}},
        {"body": {"title": "Hello again", "body": "Edited."}, "headers": {"If-Match": '"3"'}},
    ),
]


@pytest.mark.parametrize(
    ("answer", "method", "path", "refused", "valid"), CASES, ids=[c[0] + " " + c[2] for c in CASES]
)
def test_the_client_refuses_what_the_service_refuses(
    answer: str, method: str, path: str, refused: dict[str, Any], valid: dict[str, Any]
) -> None:
    assert refusals(method, path, **refused), f"{method} {path} would be sent, and answered {answer}"
    assert refusals(method, path, **valid) == []


def test_there_are_thirteen_cases_as_the_services_answered_them() -> None:
    assert len(CASES) == 13
