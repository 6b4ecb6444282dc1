"""Blog through the gateway: ownership, optimistic concurrency, pagination, cascade delete, edge authorizer."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.support import Stack, new_account


def _post(stack: Stack, http: requests.Session, bearer: dict, title: str = "Hello") -> dict:
    created = http.post(f"{stack.api}/posts", json={"title": title, "body": "Body."}, headers=bearer, timeout=30)
    assert created.status_code == 201, created.text
    return created.json()


def test_edge_authorizer_refuses_writes_without_a_token(stack: Stack, http: requests.Session) -> None:
    reply = http.post(f"{stack.api}/posts", json={"title": "t", "body": "b"}, timeout=30)
    assert reply.status_code == 401
    assert reply.json() == {"message": "Unauthorized"}  # the gateway's, not the function's


@pytest.mark.local_only  # a deployed stage has one host name; nothing to normalise
def test_a_token_from_localhost_is_accepted_at_the_edge(stack: Stack, http: requests.Session) -> None:
    # The README's walk-through uses localhost: the issuer must not depend on which loopback name was typed.
    alias = Stack({**stack.urls, "AuthApi": stack.auth.replace("127.0.0.1", "localhost")}, stack.control, None)
    account = new_account(alias, http, "localhost")
    created = http.post(f"{stack.api}/posts", json={"title": "t", "body": "b"}, headers=account.bearer, timeout=30)
    assert created.status_code == 201, created.text


def test_only_the_author_edits_and_stale_versions_lose(stack: Stack, http: requests.Session) -> None:
    alice, bob = new_account(stack, http, "alice"), new_account(stack, http, "bob")
    post = _post(stack, http, alice.bearer)
    url = f"{stack.api}/posts/{post['id']}"
    edit = {"title": "Edited", "body": "New body."}

    assert http.put(url, json=edit, headers={**bob.bearer, "If-Match": '"1"'}, timeout=30).status_code == 403

    def update(_: int) -> int:
        return http.put(url, json=edit, headers={**alice.bearer, "If-Match": '"1"'}, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = sorted(pool.map(update, range(6)))
    assert statuses.count(200) == 1 and statuses.count(412) == 5, statuses  # never a lost update
    assert http.get(url, timeout=30).json()["version"] == 2


def test_pagination_is_complete_and_tokens_are_tamper_checked(stack: Stack, http: requests.Session) -> None:
    author = new_account(stack, http, "pager")
    made = {_post(stack, http, author.bearer, f"p{i}")["id"] for i in range(5)}
    seen: list[str] = []
    token = None
    while True:
        params = {"author": _author_id(stack, http, author.bearer), "limit": 2}
        if token:
            params["next_token"] = token
        page = http.get(f"{stack.api}/posts", params=params, timeout=30).json()
        seen += [p["id"] for p in page["items"]]
        token = page.get("next_token")
        if not token:
            break
    assert set(seen) == made and len(seen) == len(made)
    tampered = http.get(f"{stack.api}/posts", params={"limit": 2, "next_token": "AAAA" + uuid.uuid4().hex}, timeout=30)
    assert tampered.status_code == 400


def _author_id(stack: Stack, http: requests.Session, bearer: dict) -> str:
    return http.get(f"{stack.auth}/me", headers=bearer, timeout=30).json()["id"]


def test_deleting_a_post_deletes_its_comments(stack: Stack, http: requests.Session) -> None:
    author, reader = new_account(stack, http, "owner"), new_account(stack, http, "reader")
    post = _post(stack, http, author.bearer)
    comments = f"{stack.api}/posts/{post['id']}/comments"
    assert http.post(comments, json={"body": "Nice"}, headers=reader.bearer, timeout=30).status_code == 201
    assert len(http.get(comments, timeout=30).json()["items"]) == 1
    assert http.delete(f"{stack.api}/posts/{post['id']}", headers=author.bearer, timeout=30).status_code == 204
    assert http.get(f"{stack.api}/posts/{post['id']}", timeout=30).status_code == 404
    assert http.get(comments, timeout=30).status_code == 404


def test_revoked_token_passes_the_edge_but_the_service_refuses_it(stack: Stack, http: requests.Session) -> None:
    account = new_account(stack, http, "revoked")
    assert http.post(f"{stack.auth}/logout", headers=account.bearer, timeout=30).status_code == 204
    reply = http.post(f"{stack.api}/posts", json={"title": "t", "body": "b"}, headers=account.bearer, timeout=30)
    assert reply.status_code == 401
    assert reply.headers["content-type"].startswith("application/problem+json")
