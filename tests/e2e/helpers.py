"""Small black-box helpers shared by the e2e suites: accounts and bearer headers."""

from __future__ import annotations

from dataclasses import dataclass

import requests

from tests.e2e.conftest import Stack, unique_email

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Account:
    email: str
    token: str

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def new_account(stack: Stack, http: requests.Session, tag: str) -> Account:
    email = unique_email(tag)
    created = http.post(f"{stack.auth}/register", json={"email": email, "password": PASSWORD}, timeout=30)
    assert created.status_code == 201, created.text
    login = http.post(f"{stack.auth}/login", json={"email": email, "password": PASSWORD}, timeout=30)
    assert login.status_code == 200, login.text
    return Account(email, login.json()["access_token"])
