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
from functools import cache
from typing import Any

import schemathesis

from devkit.contract.accounts import Account, login
from devkit.targets.safety import tagged_email

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
    body = case.body
    email = body.get("email") if isinstance(body, dict) else None
    if case.operation.path == "/register" and isinstance(email, str) and _positive(case):
        body["email"] = tagged_email(settings()["tag"])
