"""`./inv grant-admin`: the role lands in the users table and rides in the next login's token."""

from __future__ import annotations

import pytest
import requests

from devkit import targets
from devkit.targets import admin
from tests.support import PASSWORD, Stack, jwt_claims, unique_email


def _claims(token: str) -> dict:
    return jwt_claims(token)


pytestmark = pytest.mark.local_only  # reads the local backend directly; deployed stages use the task


def test_grant_admin_is_in_the_next_token(stack: Stack, http: requests.Session) -> None:
    email = unique_email("admin")
    assert http.post(f"{stack.auth}/register", json={"email": email, "password": PASSWORD}, timeout=30).ok
    before = http.post(f"{stack.auth}/login", json={"email": email, "password": PASSWORD}, timeout=30).json()
    assert "admin" not in _claims(before["access_token"]).get("roles", [])

    target = targets.local(stack.state_dir)
    table = target.output("UsersTableName")
    assert admin.grant_role(target.client("dynamodb"), table, email, admin.ADMIN) is True
    assert admin.grant_role(target.client("dynamodb"), table, email, admin.ADMIN) is False  # idempotent

    after = http.post(f"{stack.auth}/login", json={"email": email, "password": PASSWORD}, timeout=30).json()
    assert "admin" in _claims(after["access_token"])["roles"]


def test_grant_admin_for_an_unknown_email_is_a_clear_error(stack: Stack) -> None:
    target = targets.local(stack.state_dir)
    with pytest.raises(admin.UnknownUser):
        admin.grant_role(target.client("dynamodb"), target.output("UsersTableName"), unique_email("ghost"), "admin")
