"""The backend is briefly unavailable: DynamoDB Local is stopped, then started again on the same port.

While it is down every request that needs it gets a clear, retryable answer: 503 `application/problem+json` with
`Retry-After` (the services map an unreachable backend, an SDK dispatch failure, to 503 — see
shared/platform/src/dynamo.rs and problem.rs). Once it is back, writes succeed at once and nothing acknowledged
is lost: exactly the posts answered 201, before and after the outage, exist; none of the refused ones does.
"""

from __future__ import annotations

import uuid

import requests

from tests.support import PASSWORD, Stack, new_account
from tests.system.reliability.helpers import Backend, size


def create_post(stack: Stack, bearer: dict[str, str], title: str) -> requests.Response:
    return requests.post(f"{stack.api}/posts", json={"title": title, "body": "Body."}, headers=bearer, timeout=60)


def posts_by(stack: Stack, author_id: str) -> list[str]:
    """Ids of every post of `author_id` (all pages of GET /posts?author=)."""
    ids: list[str] = []
    params = {"author": author_id, "limit": "100"}
    while True:
        page = requests.get(f"{stack.api}/posts", params=params, timeout=60)
        assert page.status_code == 200, page.text
        body = page.json()
        ids += [post["id"] for post in body["items"]]
        if not body.get("next_token"):
            return ids
        params["next_token"] = body["next_token"]


def test_backend_outage_is_a_retryable_503_and_loses_nothing(
    stack: Stack, http: requests.Session, backend: Backend
) -> None:
    author = new_account(stack, http, "faults-outage")
    tag = f"outage-{uuid.uuid4().hex[:8]}"
    before = [create_post(stack, author.bearer, f"{tag} before {i}") for i in range(size(short=5, long=50))]
    assert [r.status_code for r in before] == [201] * len(before)
    some_post = before[0].json()["id"]

    backend.stop("dynamodb-local")
    refused: list[requests.Response] = []
    try:
        for i in range(size(short=3, long=20)):
            refused.append(create_post(stack, author.bearer, f"{tag} during {i}"))
            refused.append(requests.get(f"{stack.api}/posts/{some_post}", timeout=60))
            login = {"email": author.email, "password": PASSWORD}
            refused.append(requests.post(f"{stack.auth}/login", json=login, timeout=60))
    finally:
        backend.start("dynamodb-local")

    for reply in refused:
        where = f"{reply.request.method} {reply.request.path_url}"
        assert reply.status_code == 503, f"{where}: {reply.status_code} {reply.text}"
        assert reply.headers["content-type"] == "application/problem+json", where
        assert reply.json()["status"] == 503, where
        assert int(reply.headers["retry-after"]) >= 1, f"{where}: no Retry-After"

    after = [create_post(stack, author.bearer, f"{tag} after {i}") for i in range(size(short=5, long=50))]
    assert [r.status_code for r in after] == [201] * len(after), "writes succeed as soon as the backend is back"
    acknowledged = {r.json()["id"] for r in before + after}
    stored = posts_by(stack, before[0].json()["author_id"])
    assert len(stored) == len(set(stored)) == len(acknowledged), "exactly the acknowledged posts exist"
    assert set(stored) == acknowledged
    login = http.post(f"{stack.auth}/login", json={"email": author.email, "password": PASSWORD}, timeout=60)
    assert login.status_code == 200, "the account made before the outage survived it"
