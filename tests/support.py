"""What the system suites share: the stack under test, a way to start one, and black-box helpers (accounts and
bearer headers). The suites' conftests build their fixtures from these; tests import them from here."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from devkit.stack import started

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
