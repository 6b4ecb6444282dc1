"""schemathesis hooks for `./inv contract` (loaded through SCHEMATHESIS_HOOKS=devkit.contract.hooks).

The run's settings come from the JSON file named by CONTRACT_CONFIG (written by `devkit.contract.run`):
`{"topology", "api", "auth", "user": {...}, "admin": {...}}`.

- Authentication: every secured operation gets a bearer token of the tagged test user; currency writes and
  command reads get the admin's; `POST /logout` gets a token of its own (logging out revokes it, and must not
  revoke the token the rest of the run uses).
- Tagging: valid `POST /register` bodies get a tagged email, so `./inv clean-test-data` finds the accounts.
"""

from __future__ import annotations

import json
import os
import uuid
from decimal import Decimal
from functools import cache
from typing import Any

import requests
import schemathesis

from devkit.contract.accounts import Account, login
from devkit.contract.lambda_descriptions import tolerate_ast_recursion_bug
from devkit.targets.safety import TEST_PASSWORD, tagged_email

tolerate_ast_recursion_bug()  # see there: a CPython 3.11 bug that crashed whole operations

AUTH_PATHS = frozenset(
    {
        "/register",
        "/login",
        "/logout",
        "/me",
        "/.well-known/jwks.json",
        "/.well-known/openid-configuration",
        "/health/auth",
    }
)
ADMIN_OPERATIONS = frozenset({"create_currency", "replace_currency", "delete_currency", "get_command"})


@cache
def settings() -> dict[str, Any]:
    with open(os.environ["CONTRACT_CONFIG"]) as file:
        return json.load(file)


def _account(role: str) -> Account:
    data = settings()[role]
    return Account(data["email"], data["password"])


def operation_id(case: Any) -> str:
    return str(case.operation.definition.raw.get("operationId", ""))


@schemathesis.auth(refresh_interval=240)
class TaggedAccounts:
    """Tokens of the tagged user and admin (refreshed every 4 minutes, well inside their lifetime)."""

    def get(self, case: Any, ctx: Any) -> dict[str, str]:
        auth = settings()["auth"]
        return {"user": login(auth, _account("user")), "admin": login(auth, _account("admin"))}

    def set(self, case: Any, data: dict[str, str], ctx: Any) -> None:
        if case.operation.path == "/logout":
            token = login(settings()["auth"], _account("user"))
        else:
            token = data["admin" if operation_id(case) in ADMIN_OPERATIONS else "user"]
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}


def _positive(case: Any) -> bool:
    meta = getattr(case, "meta", None)
    mode = getattr(getattr(meta, "generation", None), "mode", None)
    return mode is None or str(getattr(mode, "value", mode)) == "positive"


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    if _positive(case):
        apply_rules(case.operation.schema.raw_schema, case)
        sent = kwargs.get("headers") or {}
        fit_conversion(case.operation.schema.raw_schema, case, sent)
        fit_payment(case.operation.schema.raw_schema, case, sent)
        fit_version(case.operation.schema.raw_schema, case, sent)
    body = case.body
    email = body.get("email") if isinstance(body, dict) else None
    if case.operation.path == "/register" and isinstance(email, str) and _positive(case):
        body["email"] = tagged_email(settings()["tag"])


# Rules the document cannot state in JSON Schema: its `x-rules` extension names them (see the services'
# `platform::schema`), and positive cases are brought within them here, so schema-valid data is valid data.
RULES = "x-rules"


def deref(root: dict[str, Any], node: Any) -> Any:
    """`node` with `$ref`s to `#/components/...` followed."""
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        target: Any = root
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def body_rules(root: dict[str, Any], operation: dict[str, Any]) -> dict[str, tuple[list[str], dict[str, Any]]]:
    """Property name → (rule names, property schema) of the operation's JSON request body."""
    content = deref(root, operation.get("requestBody", {})).get("content", {})
    schema = deref(root, content.get("application/json", {}).get("schema", {}))
    for option in schema.get("oneOf", schema.get("anyOf", [])):  # Option<Body>: the non-null branch
        if deref(root, option).get("type") == "object":
            schema = deref(root, option)
    found = {}
    for name, prop in schema.get("properties", {}).items():
        prop = deref(root, prop)
        found[name] = (list(prop.get(RULES, [])), prop)
    return found


def parameter_rules(root: dict[str, Any], operation: dict[str, Any], where: str) -> dict[str, list[str]]:
    """Name → rule names of the operation's parameters in `where` (query, header, …), named on the parameter
    or on its schema."""
    found = {}
    for parameter in operation.get("parameters", []):
        parameter = deref(root, parameter)
        rules = list(parameter.get(RULES, [])) + list(deref(root, parameter.get("schema", {})).get(RULES, []))
        if parameter.get("in") == where and rules:
            found[parameter["name"]] = rules
    return found


def query_rules(root: dict[str, Any], operation: dict[str, Any]) -> dict[str, list[str]]:
    """Query parameter name → rule names."""
    return parameter_rules(root, operation, "query")


def _header(case: Any, name: str) -> str | None:
    for key, value in (case.headers or {}).items():
        if key.lower() == name.lower():
            return str(value)
    return None


def _set_header(case: Any, name: str, value: str) -> None:
    headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != name.lower()}
    case.headers = {**headers, name: value}


def fresh_key() -> str:
    """A key no earlier request used (fits every key pattern of the document: hex digits)."""
    return uuid.uuid4().hex


def _minor_units(root: dict[str, Any], operation: dict[str, Any], code: Any) -> int | None:
    """ISO 4217 minor units of `code`, from the `x-minor-units` extension of the operation's code schema."""
    schemas = [deref(root, deref(root, p).get("schema", {})) for p in operation.get("parameters", [])]
    schemas += [prop for _, prop in body_rules(root, operation).values()]
    for schema in schemas:
        table = schema.get("x-minor-units")
        if isinstance(table, dict) and isinstance(code, str) and code.upper() in table:
            return int(table[code.upper()])
    return None


def _integer(value: Any) -> int | None:
    """An integer, also when spelled as a float with an integral value (`6951.0`), as JSON Schema counts it."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _truncate_utf8(value: str, limit: int) -> str:
    while len(value.encode()) > limit:
        value = value[: len(value) - max(1, (len(value.encode()) - limit) // 4)]
    return value


def apply_rules(root: dict[str, Any], case: Any) -> None:
    """Brings a positive case within the rules its operation's `x-rules` name."""
    operation = case.operation.definition.raw
    for name, rules in query_rules(root, operation).items():
        if "signed-token" in rules and isinstance(case.query, dict):
            case.query.pop(name, None)  # only a token the listing returned is valid; the links pass those
    for name, rules in parameter_rules(root, operation, "header").items():
        if "one-request-per-key" in rules and _header(case, name) is not None:
            _set_header(case, name, fresh_key())  # a new request: a key an earlier case used would be a 409
    body = case.body
    if not isinstance(body, dict):
        return
    for name, (rules, _schema) in body_rules(root, operation).items():
        for rule in rules:
            if rule == "password-policy" and name in body:
                body[name] = TEST_PASSWORD
            elif rule == "version-or-if-match" and body.get(name) is None and _header(case, "If-Match") is None:
                body[name] = 1  # a stale version is a 409, which is an answer to valid data
            elif rule == "iso-4217-minor-units":
                code = body.get("code", (case.path_parameters or {}).get("code"))
                units = _minor_units(root, operation, code)
                if units is not None:
                    body[name] = units
            elif rule == "one-request-per-key" and body.get(name) is not None:
                body[name] = _header(case, "Idempotency-Key") or fresh_key()
            elif rule == "command-id-equals-idempotency-key":
                key = _header(case, "Idempotency-Key")
                if key is not None and body.get(name) is not None:
                    body[name] = key
            elif rule.startswith("max-utf8-bytes:") and isinstance(body.get(name), str):
                body[name] = _truncate_utf8(body[name], int(rule.split(":", 1)[1]))


# `GET /convert`: the result must fit in 64-bit minor units, which depends on the stored rates. A positive case's
# amount is capped (with a factor of two to spare) using the rates the read API answers at that moment.
INT64_MAX = 2**63 - 1
RULE_CONVERTED_FITS = "converted-amount-fits-int64"


def conversion_factor(source: dict[str, Any], target: dict[str, Any]) -> Decimal:
    """Minor units of `target` per minor unit of `source`, from two currency views."""
    major = Decimal(str(source["rate_to_base"])) / Decimal(str(target["rate_to_base"]))
    return major * Decimal(10) ** (int(target["minor_units"]) - int(source["minor_units"]))


def largest_fitting_amount(factor: Decimal) -> int:
    return int(Decimal(INT64_MAX) / (2 * max(factor, Decimal(1))))


def _authorization(case: Any, sent_headers: dict[str, Any]) -> dict[str, str]:
    sent = {k.lower(): str(v) for k, v in sent_headers.items()}
    return {"Authorization": sent.get("authorization") or _header(case, "Authorization") or ""}


def _read(path: str, headers: dict[str, str]) -> requests.Response:
    return requests.get(f"{settings()['api']}{path}", headers=headers, timeout=10)


def _currency(code: Any, headers: dict[str, str]) -> dict[str, Any] | None:
    if not isinstance(code, str) or not code.isascii() or not code.isalpha():
        return None
    response = _read(f"/currencies/{code.upper()}", headers)
    return response.json() if response.status_code == 200 else None


def fit_conversion(root: dict[str, Any], case: Any, sent_headers: dict[str, Any]) -> None:
    operation = case.operation.definition.raw
    fits = [name for name, rules in query_rules(root, operation).items() if RULE_CONVERTED_FITS in rules]
    query = case.query if isinstance(case.query, dict) else {}
    for name in fits:
        amount = query.get(name)
        if not isinstance(amount, int):
            continue
        auth = _authorization(case, sent_headers)
        source, target = _currency(query.get("from"), auth), _currency(query.get("to"), auth)
        if source and target:
            query[name] = min(amount, largest_fitting_amount(conversion_factor(source, target)))


# `POST /payments`: a payment settles at most what its invoice still owes. A positive case that names an open
# invoice of the caller pays it in the invoice's currency, at most the amount due.
RULE_WITHIN_AMOUNT_DUE = "within-the-amount-due"


def pay_within(body: dict[str, Any], invoice: dict[str, Any]) -> None:
    """`body` brought within what `invoice` (as `GET /invoices/{id}` answers it) still owes."""
    due = invoice.get("amount_due")
    if not isinstance(due, int) or due < 1:
        return  # paid: no payment is valid (a 409, which is an answer to valid data)
    amount = _integer(body.get("amount"))
    body["currency"] = invoice.get("currency", body.get("currency"))
    body["amount"] = min(max(amount if amount is not None else due, 1), due)


def fit_payment(root: dict[str, Any], case: Any, sent_headers: dict[str, Any]) -> None:
    body = case.body
    if not isinstance(body, dict) or not isinstance(body.get("invoice_id"), str):
        return
    rules = body_rules(root, case.operation.definition.raw)
    if not any(RULE_WITHIN_AMOUNT_DUE in named for named, _ in rules.values()):
        return
    invoice_id = body["invoice_id"]
    if not invoice_id or "/" in invoice_id or not invoice_id.isascii():
        return
    response = _read(f"/invoices/{invoice_id}", _authorization(case, sent_headers))
    if response.status_code == 200:
        pay_within(body, response.json())


# `PUT /posts/{id}`: `If-Match` (or the body's `version`) must name the current version. A positive case that
# names a post of the caller gets its current ETag (a stale one is a 412/409: an answer to a changed post).
def fit_version(root: dict[str, Any], case: Any, sent_headers: dict[str, Any]) -> None:
    operation = case.operation.definition.raw
    rules = body_rules(root, operation)
    if not any("version-or-if-match" in named for named, _ in rules.values()):
        return
    post_id = (case.path_parameters or {}).get("id")
    if not isinstance(post_id, str) or "/" in post_id or not post_id.isascii():
        return
    response = _read(case.operation.path.replace("{id}", post_id), _authorization(case, sent_headers))
    etag = response.headers.get("ETag")
    if response.status_code != 200 or not etag:
        return
    if _header(case, "If-Match") not in (None, "*"):
        _set_header(case, "If-Match", etag)
    if isinstance(case.body, dict) and case.body.get("version") is not None:
        case.body["version"] = response.json().get("version", case.body["version"])
