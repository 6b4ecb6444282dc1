"""Both topologies, same paths: the lith API (HttpApi, one function per module) and the fat API (FatApi, one
function for everything) answer the same requests the same way, over the same tables and queue.

Local-only: FatApi's URL comes from the local cloud (a deployed stage is reached with --base-url, HttpApi only).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
import requests

from devkit import paths, targets
from devkit.targets import admin
from tests.support import Stack, currency_item, unique_email, wait_for

pytestmark = pytest.mark.local_only

T = TypeVar("T")
PASSWORD = "correct horse battery staple"
FAT_ONLY = {"GET /openapi.json", "GET /docs", "GET /docs/{asset}"}
GATEWAY_404 = {"message": "Not Found"}
# Codes no other suite seeds (2 and 0 minor-unit digits).
SEED = {"MUR": ("Mauritius Rupee", 2, "0.02"), "UGX": ("Uganda Shilling", 0, "0.00024")}


# The lith topology serves auth on the identity API (AuthApi) and every other module on HttpApi.
AUTH_PATHS = ("/register", "/login", "/logout", "/me", "/.well-known/", "/health/auth")
# Routes the JWT authorizer guards at the edge (on HttpApi and FatApi): refused before any function runs.
EDGE_UNAUTHORIZED = {"message": "Unauthorized"}


@dataclass(frozen=True)
class Apis:
    api: str
    auth: str
    fat: str

    def lith(self, path: str) -> str:
        return self.auth if path.startswith(AUTH_PATHS) else self.api


@pytest.fixture(scope="module")
def apis(stack: Stack) -> Apis:
    assert "FatApi" in stack.urls, f"the local cloud serves no FatApi (APIs: {sorted(stack.urls)})"
    return Apis(stack.api, stack.auth, stack.urls["FatApi"])


@pytest.fixture(scope="module")
def local(stack: Stack) -> targets.Target:
    assert stack.state_dir is not None, "local-only test ran against a deployed stage"
    return targets.local(stack.state_dir)


@pytest.fixture(scope="module")
def seeded(local: targets.Target) -> None:
    client = local.client("dynamodb")
    for code, (name, minor_units, rate) in SEED.items():
        client.put_item(
            TableName=local.output("CurrenciesTableName"), Item=currency_item(code, name, minor_units, rate)
        )


def _body(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def _same(http: requests.Session, apis: Apis, method: str, path: str, **kw: Any) -> requests.Response:
    """Sends one request to both APIs and asserts status, content type and body are equal."""
    lith = http.request(method, apis.lith(path) + path, timeout=30, **kw)
    fat = http.request(method, apis.fat + path, timeout=30, **kw)
    where = f"{method} {path}"
    assert lith.status_code == fat.status_code, f"{where}: lith {lith.text} / fat {fat.text}"
    assert lith.headers.get("content-type") == fat.headers.get("content-type"), where
    assert _body(lith) == _body(fat), f"{where}: lith {lith.text} != fat {fat.text}"
    return fat


NO_TOKEN_401 = [
    ("GET", "/me"),
    ("POST", "/logout"),
    ("GET", "/invoices"),
    ("POST", "/invoices"),
    ("GET", "/payments/some-id"),
    ("POST", "/posts"),
    ("PUT", "/posts/some-id"),
    ("DELETE", "/comments/some-id"),
    ("POST", "/currencies"),
    ("PUT", "/currencies/MUR"),
    ("DELETE", "/currencies/MUR"),
    ("GET", "/commands/some-id"),
]


@pytest.mark.parametrize(("method", "path"), NO_TOKEN_401)
def test_protected_routes_refuse_anonymous_callers_alike(
    apis: Apis, http: requests.Session, method: str, path: str
) -> None:
    reply = _same(http, apis, method, path, json={})
    assert reply.status_code == 401
    if path.startswith(AUTH_PATHS):  # the identity API has no edge authorizer: auth itself refuses
        assert reply.headers["content-type"].startswith("application/problem+json")
    else:
        assert reply.json() == EDGE_UNAUTHORIZED


@pytest.mark.parametrize(
    ("method", "path", "kw", "status"),
    [
        ("GET", "/health/auth", {}, 200),
        ("GET", "/health/blog", {}, 200),
        ("GET", "/health/billing", {}, 200),
        ("GET", "/health/currency-read", {}, 200),
        ("GET", "/health/currency-write", {}, 200),
        ("GET", "/health/convert", {}, 200),
        ("GET", "/posts/00000000-0000-7000-8000-000000000000", {}, 404),
        ("GET", "/currencies/XXX", {}, 404),
        ("GET", "/convert?from=MUR&to=UGX&amount=-1", {}, 400),
        ("POST", "/register", {"json": {"email": "not-an-email", "password": "short"}}, 422),
        ("POST", "/login", {"json": {"email": "nobody@example.test", "password": "x" * 20}}, 401),
        ("GET", "/definitely/not/a/route", {}, 404),
    ],
)
def test_public_answers_are_identical(
    apis: Apis, http: requests.Session, method: str, path: str, kw: dict, status: int
) -> None:
    assert _same(http, apis, method, path, **kw).status_code == status


def test_conversion_is_identical(apis: Apis, http: requests.Session, seeded: None) -> None:
    reply = _same(http, apis, "GET", "/convert?from=MUR&to=UGX&amount=12345")
    assert reply.status_code == 200
    assert reply.json()["converted"] == 10288  # 123.45 MUR * 0.02 / 0.00024 = 10287.5 UGX, half to even


def test_currency_reads_are_identical(apis: Apis, http: requests.Session, seeded: None) -> None:
    one = _same(http, apis, "GET", "/currencies/MUR")
    assert one.status_code == 200 and one.json()["code"] == "MUR"
    for api in (apis.api, apis.fat):
        listed = http.get(f"{api}/currencies", timeout=30)
        assert listed.status_code == 200
        assert {"MUR", "UGX"} <= {c["code"] for c in listed.json()["items"]}, api


def test_every_documented_route_is_routed_on_both_apis(apis: Apis, http: requests.Session) -> None:
    document = json.loads((paths.ROOT / "openapi.json").read_text())
    for path, item in document["paths"].items():
        concrete = path.replace("{id}", "some-id").replace("{code}", "MUR").replace("{asset}", "swagger-ui.css")
        for method in item:
            key = f"{method.upper()} {path}"
            for name, base in (("lith", apis.lith(path)), ("fat", apis.fat)):
                reply = http.request(method.upper(), base + concrete, json={}, timeout=30)
                gateway_404 = reply.status_code == 404 and _body(reply) == GATEWAY_404
                if name == "lith" and key in FAT_ONLY:
                    assert gateway_404, f"{key} is fat-only but the lith API routes it"
                else:
                    assert not gateway_404, f"{key} is documented but {name} API does not route it"


def test_data_written_through_fat_reads_the_same_through_the_liths(apis: Apis, http: requests.Session) -> None:
    email = unique_email("fat")
    assert http.post(f"{apis.fat}/register", json={"email": email, "password": PASSWORD}, timeout=30).status_code == 201
    login = http.post(f"{apis.fat}/login", json={"email": email, "password": PASSWORD}, timeout=30)
    assert login.status_code == 200, login.text
    bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
    me = http.get(f"{apis.fat}/me", headers=bearer, timeout=30)
    assert me.status_code == 200 and me.json()["email"] == email

    title = f"fat-{uuid.uuid4().hex[:8]}"
    created = http.post(f"{apis.fat}/posts", json={"title": title, "body": "one function"}, headers=bearer, timeout=30)
    assert created.status_code == 201, created.text
    reply = _same(http, apis, "GET", f"/posts/{created.json()['id']}")
    assert reply.status_code == 200 and reply.json()["title"] == title


def test_admin_command_through_fat_is_projected_and_read_on_both(
    apis: Apis, http: requests.Session, local: targets.Target
) -> None:
    email = unique_email("fat-admin")
    assert http.post(f"{apis.fat}/register", json={"email": email, "password": PASSWORD}, timeout=30).status_code == 201
    assert admin.grant_admin(local.client("dynamodb"), local.output("UsersTableName"), email)
    login = http.post(f"{apis.fat}/login", json={"email": email, "password": PASSWORD}, timeout=30)
    bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}

    body = {"code": "GYD", "name": "Guyana Dollar", "minor_units": 2, "rate_to_base": "0.0044"}
    accepted = http.post(f"{apis.fat}/currencies", json=body, headers=bearer, timeout=30)
    assert accepted.status_code == 202, accepted.text
    location = accepted.headers["location"]
    assert location.startswith("/commands/")

    def applied() -> dict | None:
        status = http.get(f"{apis.fat}{location}", headers=bearer, timeout=30).json()
        return status if status["status"] in {"applied", "rejected"} else None

    assert wait_for(f"{location} to be projected", applied)["status"] == "applied"

    def readable_on_both() -> bool | None:
        codes = [http.get(f"{api}/currencies/GYD", timeout=30).status_code for api in (apis.api, apis.fat)]
        return True if codes == [200, 200] else None

    wait_for("GYD readable on both APIs", readable_on_both)  # each side caches reads for up to 250 ms
    assert _same(http, apis, "GET", "/currencies/GYD").json()["rate_to_base"] == "0.0044"


def test_fat_serves_the_committed_document(apis: Apis, http: requests.Session) -> None:
    served = http.get(f"{apis.fat}/openapi.json", timeout=30)
    assert served.status_code == 200
    assert served.headers["content-type"] == "application/json"
    assert served.json() == json.loads((paths.ROOT / "openapi.json").read_text()), "run `./inv openapi`"
    assert http.get(f"{apis.api}/openapi.json", timeout=30).json() == GATEWAY_404, "the liths serve no document"
