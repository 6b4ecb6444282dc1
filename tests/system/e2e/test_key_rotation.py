"""Key rotation takes effect without a deploy: after `./inv keys rotate` the new key is published at once and warm
environments sign with it once it is KEY_REFRESH_SECONDS old (so no verifier meets a key it has not fetched), while
tokens signed with the old one keep working; after `./inv keys retire-previous` every service refuses those tokens
within KEY_REFRESH_SECONDS.

Runs on a stack of its own (KeyRefreshSeconds=10, the template's minimum), so that retiring a key cannot touch the
tokens other tests hold.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from devkit import targets
from devkit.targets import signing
from tests.support import PASSWORD, Stack, jwt_header, local_stack, unique_email, wait_for

pytestmark = pytest.mark.local_only

REFRESH_S = 10
DEADLINE_S = 2 * REFRESH_S + 15  # the signer's refresh, then each verifier's, plus margin for a loaded machine


@pytest.fixture(scope="module")
def rotating(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A second local stack with a short refresh bound (the session's `stack` has built the bootstraps)."""
    state_dir = tmp_path_factory.mktemp("keys")
    cmd = [sys.executable, "-m", "devkit.stack", "--port", "0", "--state-dir", str(state_dir), "--quiet"]
    cmd += ["--no-build", "--parameter", f"KeyRefreshSeconds={REFRESH_S}"]
    with local_stack(cmd, state_dir) as running:
        yield running


def _kid(token: str) -> str:
    return jwt_header(token)["kid"]


def _login(http: requests.Session, stack: Stack, email: str) -> str:
    login = http.post(f"{stack.auth}/login", json={"email": email, "password": PASSWORD}, timeout=30)
    assert login.status_code == 200, login.text
    return login.json()["access_token"]


def _keys(state_dir: Path | None, action: str) -> None:
    assert state_dir is not None
    signing.run(targets.local(state_dir), action, force=True)


def test_rotate_then_retire_previous(
    rotating: Stack, http: requests.Session, capsys: pytest.CaptureFixture[str]
) -> None:
    email = unique_email("keys")
    created = http.post(f"{rotating.auth}/register", json={"email": email, "password": PASSWORD}, timeout=30)
    assert created.status_code == 201, created.text
    old = _login(http, rotating, email)

    def statuses(token: str) -> tuple[int, int]:
        """(identity API's GET /me, billing's GET /invoices) with this token."""
        bearer = {"Authorization": f"Bearer {token}"}
        me = http.get(f"{rotating.auth}/me", headers=bearer, timeout=10).status_code
        invoices = http.get(f"{rotating.api}/invoices", headers=bearer, timeout=10).status_code
        assert me in (200, 401) and invoices in (200, 401), (me, invoices)
        return me, invoices

    def works(token: str) -> bool:
        return statuses(token) == (200, 200)

    assert works(old)

    _keys(rotating.state_dir, "rotate")
    assert "retire-previous" in capsys.readouterr().out
    assert _kid(_login(http, rotating, email)) == _kid(old), "a new key is published before it signs"
    wait_for("logins to sign with the new key", lambda: _kid(_login(http, rotating, email)) != _kid(old), DEADLINE_S)
    new = _login(http, rotating, email)
    assert works(new), "a token signed with the new key is accepted everywhere"
    assert works(old), "a token signed with the previous key keeps working until it is retired"

    _keys(rotating.state_dir, "retire-previous")
    assert _kid(old) in capsys.readouterr().out
    wait_for("every service to refuse the retired key", lambda: statuses(old) == (401, 401), DEADLINE_S)
    assert works(new), "retiring the previous key leaves the current one working"
