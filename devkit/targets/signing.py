"""`./inv keys rotate|retire-previous`: the auth service's signing keys on the local cloud or a deployed stage.

The keys live in the secret the stack names in its `AuthSigningKeySecret` output (devkit/deploy/keys.py holds the
document format). A rotation takes effect in warm environments within `KEY_REFRESH_SECONDS`; retiring the previous
key too early would refuse tokens that are still within their lifetime, so `retire-previous` waits for
:data:`RETIRE_AFTER` after the rotation unless told `--force`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from devkit.errors import TaskFailure

if TYPE_CHECKING:
    from devkit.targets import Target

ACTIONS = ("rotate", "retire-previous")
# Default access-token lifetime (ACCESS_TOKEN_TTL_SECONDS, 900 s) plus the default key refresh bound (300 s): until
# then a token signed with the previous key may still be presented.
RETIRE_AFTER = timedelta(seconds=900 + 300)
SECRET_OUTPUT = "AuthSigningKeySecret"


def _created(stamp: str | None) -> datetime | None:
    try:
        return datetime.strptime(stamp or "", "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def too_early(current_created_at: str | None, now: datetime, after: timedelta = RETIRE_AFTER) -> timedelta | None:
    """How long to wait before retiring (None when it is safe: old enough, or the age is unknown)."""
    created = _created(current_created_at)
    if created is None or now - created >= after:
        return None
    return after - (now - created)


def keys_task(action: str, stage: str = "", force: bool = False) -> None:
    """`./inv keys`: one key action against the local cloud (no stage) or a deployed stage."""
    from devkit import targets

    if action not in ACTIONS:
        raise TaskFailure(f"unknown action {action!r}: use one of {', '.join(ACTIONS)}", code=2)
    run(targets.resolve(stage), action, force=force)


def run(target: Target, action: str, *, force: bool = False) -> None:
    """Rotate or retire on `target`'s signing-key secret; prints what changed."""
    from devkit.deploy import keys

    secret = target.output(SECRET_OUTPUT)
    client = target.client("secretsmanager")
    if action == "rotate":
        kid = keys.rotate(client, secret)
        print(f"keys: {target.name} publishes {kid} now and signs with it once it is KEY_REFRESH_SECONDS old")
        print("keys: retire it with `./inv keys retire-previous` once tokens signed with it have expired")
        return
    wait = too_early(keys.key_ages(client, secret)["current"], datetime.now(UTC))
    if wait is not None and not force:
        minutes = int(wait.total_seconds() // 60) + 1
        raise TaskFailure(
            f"the current key is younger than {int(RETIRE_AFTER.total_seconds() // 60)} min: tokens signed with the "
            f"previous key may still be valid; retry in {minutes} min, or pass --force to refuse them now"
        )
    try:
        retired = keys.retire_previous(client, secret)
    except ValueError as err:
        raise TaskFailure(str(err)) from None
    if retired is None:
        print(f"keys: {target.name} has no previous key; nothing to retire")
    else:
        print(f"keys: retired {retired} on {target.name}; every service refuses its tokens within KEY_REFRESH_SECONDS")
