"""What the system suites share: the stack under test, a way to start one, and black-box helpers (accounts and
bearer headers). The suites' conftests build their fixtures from these; tests import them from here."""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import requests

from devkit.stack import started

if TYPE_CHECKING:
    import pytest

START_DEADLINE_S = 300  # the first start may build bootstraps
PASSWORD = "correct horse battery staple"


@dataclass
class Stack:
    urls: dict[str, str]  # API logical id → base URL
    control: dict | None  # the local cloud's control file; None against a deployed stage
    state_dir: Path | None

    @property
    def api(self) -> str:
        return self.urls["HttpApi"]

    @property
    def auth(self) -> str:
        return self.urls.get("AuthApi", self.api)

    def logs(self) -> str:
        """Everything the functions printed so far (local cloud only)."""
        assert self.state_dir is not None, "logs are only readable from the local cloud"
        log_dir = self.state_dir / "logs"
        return "".join(p.read_text(errors="replace") for p in sorted(log_dir.glob("*.log")))


@contextmanager
def local_stack(
    cmd: list[str], state_dir: Path, *, env: dict[str, str] | None = None, deadline_s: float = START_DEADLINE_S
) -> Iterator[Stack]:
    """Runs a stack (`python -m devkit.stack …` or a suite's own runner) until the block ends."""
    with started(cmd, state_dir, deadline_s=deadline_s, env=env) as (_, control):
        yield Stack(control["urls"], control, state_dir)


def unique_email(tag: str = "user") -> str:
    """Test data is tagged so `./inv clean-test-data` can find it on a shared stage."""
    return f"e2e-{tag}-{uuid.uuid4().hex[:12]}@example.test"


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


def build_probe() -> Path:
    """The probe's ci bootstrap (built by cargo-lambda like any bootstrap), for tests that run a real runtime.

    cargo-lambda copies the bootstrap into place and fails with "Text file busy" while another test session (a
    parallel run, another checkout's suite) executes it; the build itself is a no-op then, so retry a little.
    """
    from devkit.build import BuildError, build_bootstraps

    for attempt in range(5):
        try:
            return build_bootstraps(["probe"], profile="ci", quiet=True)["probe"].bootstrap
        except BuildError:
            if attempt == 4:
                raise
            time.sleep(2 * (attempt + 1))
    raise AssertionError("unreachable")


T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T | None], deadline_s: float = 60.0) -> T:
    """Poll `probe` until it returns something other than None or False, or fail after the deadline."""
    deadline = time.monotonic() + deadline_s
    delay = 0.05
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last is not None and last is not False:
            return last
        time.sleep(delay)  # polling interval of a deadline-bound wait
        delay = min(delay * 1.5, 1.0)
    raise AssertionError(f"timed out after {deadline_s:.0f} s waiting for {what} (last: {last!r})")


@dataclass
class Admin:
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_admin(stack: Stack, http: requests.Session, tag: str = "admin") -> Admin:
    """A fresh account with the admin role (granted in the local users table), logged in again to carry it."""
    from devkit import targets
    from devkit.targets import admin

    assert stack.state_dir is not None, "granting a role reads the local cloud's tables"
    local = targets.local(stack.state_dir)
    email = unique_email(tag)
    created = http.post(f"{stack.auth}/register", json={"email": email, "password": PASSWORD}, timeout=30)
    assert created.status_code == 201, created.text
    assert admin.grant_admin(local.client("dynamodb"), local.output("UsersTableName"), email)
    login = http.post(f"{stack.auth}/login", json={"email": email, "password": PASSWORD}, timeout=30)
    assert login.status_code == 200, login.text
    return Admin(login.json()["access_token"])


def currency_item(code: str, name: str, minor_units: int, rate: str) -> dict:
    """A currencies read-model item as the projector writes it (for seeding a local table directly)."""
    return {
        "code": {"S": code},
        "name": {"S": name},
        "minor_units": {"N": str(minor_units)},
        "rate_to_base": {"S": rate},
        "version": {"N": "1"},
        "updated_at": {"S": "2026-01-01T00:00:00Z"},
    }


def jwt_header(token: str) -> dict:
    """A JWT's header, unverified (tests read `kid`)."""
    return _segment(token, 0)


def jwt_claims(token: str) -> dict:
    """A JWT's claims, unverified (tests read `iss`, `sub`, `roles`)."""
    return _segment(token, 1)


def _segment(token: str, index: int) -> dict:
    part = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


@contextmanager
def moto_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto's in-process AWS with dummy credentials: no profile, session token or endpoint URL from the environment
    reaches boto3 meanwhile."""
    from moto import mock_aws

    leaking = [name for name in os.environ if name.startswith("AWS_ENDPOINT_URL")]
    for name in [*leaking, "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield
