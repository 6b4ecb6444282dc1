"""Tagged test accounts for contract and load tests: register, log in, optionally promote to admin."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from devkit.targets import admin
from devkit.targets.safety import TEST_PASSWORD, tagged_email

TIMEOUT_S = 30


class AccountError(RuntimeError):
    """Registering or logging in a test account failed; the message carries the API's answer."""


@dataclass(frozen=True)
class Account:
    email: str
    password: str = TEST_PASSWORD


def register(auth_url: str, account: Account, session: requests.Session | None = None) -> None:
    _post_credentials(auth_url, "register", 201, account, session)


def login(auth_url: str, account: Account, session: requests.Session | None = None) -> str:
    """A fresh access token for the account."""
    return _post_credentials(auth_url, "login", 200, account, session).json()["access_token"]


def _post_credentials(
    auth_url: str, path: str, expected: int, account: Account, session: requests.Session | None
) -> requests.Response:
    response = (session or requests).post(
        f"{auth_url}/{path}", json={"email": account.email, "password": account.password}, timeout=TIMEOUT_S
    )
    if response.status_code != expected:
        raise AccountError(f"POST {auth_url}/{path} → {response.status_code}: {response.text[:300]}")
    return response


def create(auth_url: str, tag: str, *, admin_target: Any | None = None) -> Account:
    """Register a tagged account; with ``admin_target`` (a devkit.targets.Target) also grant it `admin`."""
    account = Account(tagged_email(tag))
    register(auth_url, account)
    if admin_target is not None:
        admin.grant_role(
            admin_target.client("dynamodb"), admin_target.output("UsersTableName"), account.email, admin.ADMIN
        )
    return account
