"""The micro-Lambda topology (BlogMicroApi): the blog flow through one function per route, same table as the lith.

Local cloud only (it counts invocations per function); on a deployed stage, run the blog suite against the micro
API instead: `pytest tests/system/e2e/test_blog_flow.py --base-url <BlogMicroApiUrl> --auth-url <AuthApiUrl>`.
"""

from __future__ import annotations

import pytest
import requests

from devkit.stack import local_status
from tests.support import Stack, new_account


def _status(stack: Stack) -> dict:
    assert stack.control is not None
    return local_status(stack.control)["functions"]


def _invocations(stack: Stack) -> dict[str, int]:
    return {name: f["invocations"] for name, f in _status(stack).items() if name.startswith("BlogMicro")}


@pytest.mark.local_only
def test_the_blog_flow_runs_on_one_function_per_route(stack: Stack, http: requests.Session) -> None:
    micro = stack.urls["BlogMicroApi"]
    author = new_account(stack, http, "micro")
    before = _invocations(stack)

    created = http.post(f"{micro}/posts", json={"title": "Micro", "body": "Body."}, headers=author.bearer, timeout=30)
    assert created.status_code == 201, created.text
    post = created.json()
    url = f"{micro}/posts/{post['id']}"
    assert http.get(url, timeout=30).json()["title"] == "Micro"
    edit = {"title": "Edited", "body": "New body."}
    updated = http.put(url, json=edit, headers={**author.bearer, "If-Match": '"1"'}, timeout=30)
    assert updated.status_code == 200, updated.text
    comment = http.post(f"{url}/comments", json={"body": "First!"}, headers=author.bearer, timeout=30)
    assert comment.status_code == 201, comment.text
    listed = http.get(f"{url}/comments", timeout=30).json()
    assert [c["id"] for c in listed["items"]] == [comment.json()["id"]]
    assert http.get(f"{micro}/posts", params={"limit": 50}, timeout=30).status_code == 200
    deleted = http.delete(f"{micro}/comments/{comment.json()['id']}", headers=author.bearer, timeout=30)
    assert deleted.status_code == 204, deleted.text
    # The lith reads what the micro functions wrote (one table, two topologies).
    assert http.get(f"{stack.api}/posts/{post['id']}", timeout=30).json()["version"] == 2
    assert http.delete(url, headers=author.bearer, timeout=30).status_code == 204
    assert http.get(url, timeout=30).status_code == 404

    after = _invocations(stack)
    served = {name: after[name] - before.get(name, 0) for name in after}
    assert served == {
        "BlogMicroCreatePost": 1,
        "BlogMicroGetPost": 2,
        "BlogMicroUpdatePost": 1,
        "BlogMicroCreateComment": 1,
        "BlogMicroListComments": 1,
        "BlogMicroListPosts": 1,
        "BlogMicroDeleteComment": 1,
        "BlogMicroDeletePost": 1,
    }, served


@pytest.mark.local_only
def test_the_micro_api_has_the_edge_authorizer(stack: Stack, http: requests.Session) -> None:
    reply = http.post(f"{stack.urls['BlogMicroApi']}/posts", json={"title": "t", "body": "b"}, timeout=30)
    assert reply.status_code == 401 and reply.json() == {"message": "Unauthorized"}
    assert http.get(f"{stack.urls['BlogMicroApi']}/health/blog", timeout=30).status_code == 404, "no such route"
