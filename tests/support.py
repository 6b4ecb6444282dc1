"""What the system suites share: the stack under test, a way to start one, and black-box helpers (accounts and
bearer headers). The suites' conftests build their fixtures from these; tests import them from here."""

from __future__ import annotations

import time
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
