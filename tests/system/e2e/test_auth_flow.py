"""Auth through the gateway: register → login → me → logout → the token is refused everywhere."""

from __future__ import annotations

import requests

from tests.support import PASSWORD, Stack, unique_email


def register_and_login(stack: Stack, http: requests.Session, tag: str = "auth") -> tuple[str, str]:
    email = unique_email(tag)
    created = http.post(f"{stack.auth}/register", json={"email": email, "password": PASSWORD}, timeout=30)
    assert created.status_code == 201, created.text
    login = http.post(f"{stack.auth}/login", json={"email": email, "password": PASSWORD}, timeout=30)
    assert login.status_code == 200, login.text
    return email, login.json()["access_token"]


def test_register_login_me_logout(stack: Stack, http: requests.Session) -> None:
    email, token = register_and_login(stack, http)
    bearer = {"Authorization": f"Bearer {token}"}

    me = http.get(f"{stack.auth}/me", headers=bearer, timeout=10)
    assert me.status_code == 200, me.text
    assert me.json()["email"] == email

    out = http.post(f"{stack.auth}/logout", headers=bearer, timeout=10)
    assert out.status_code == 204, out.text

    again = http.get(f"{stack.auth}/me", headers=bearer, timeout=10)
    assert again.status_code == 401
    assert again.headers["content-type"].startswith("application/problem+json")


def test_bad_credentials_are_one_generic_401(stack: Stack, http: requests.Session) -> None:
    email, _ = register_and_login(stack, http, "generic")
    wrong_password = http.post(f"{stack.auth}/login", json={"email": email, "password": "x" * 20}, timeout=30)
    unknown_user = http.post(
        f"{stack.auth}/login", json={"email": unique_email("nobody"), "password": "x" * 20}, timeout=30
    )
    assert wrong_password.status_code == unknown_user.status_code == 401
    assert wrong_password.json() == unknown_user.json()


def test_duplicate_registration_is_409(stack: Stack, http: requests.Session) -> None:
    email, _ = register_and_login(stack, http, "dup")
    again = http.post(f"{stack.auth}/register", json={"email": email.upper(), "password": PASSWORD}, timeout=30)
    assert again.status_code == 409, again.text


def test_jwks_and_discovery_documents(stack: Stack, http: requests.Session) -> None:
    discovery = http.get(f"{stack.auth}/.well-known/openid-configuration", timeout=10)
    assert discovery.status_code == 200
    jwks_uri = discovery.json()["jwks_uri"]
    assert discovery.json()["issuer"] == stack.auth
    keys = http.get(jwks_uri, timeout=10).json()["keys"]
    assert keys and all(k["kty"] == "EC" and k["kid"] for k in keys)
