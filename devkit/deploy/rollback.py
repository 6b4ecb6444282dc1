"""`./inv rollback --stage S`: the `live` aliases the last deploy moved go back to the version they served before.

CodeDeploy rolls a deployment back by itself while it runs (an alarm, a failed pre-traffic check). This is for
afterwards: a bad release found once traffic has fully shifted. Only functions whose live version was published by
the stack's last update move (the others did not change in that deploy). Only the aliases move (seconds, no build, no
stack update); the stack still describes the newer code, so the next `./inv deploy` publishes it again unless
the code was fixed. LMI functions roll back the same way (their alias serves published versions too).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

ALIAS = "live"


class RollbackError(RuntimeError):
    """Nothing to roll back to, or the stack has no aliased functions; the message says which."""


@dataclass(frozen=True)
class Moved:
    function: str
    from_version: str
    to_version: str


def stack_functions(cfn: Any, stack: str) -> list[str]:
    """Physical names of the stack's Lambda functions."""
    names, token = [], None
    while True:
        page = cfn.list_stack_resources(StackName=stack, **({"NextToken": token} if token else {}))
        names += [
            r["PhysicalResourceId"]
            for r in page["StackResourceSummaries"]
            if r["ResourceType"] == "AWS::Lambda::Function" and r.get("PhysicalResourceId")
        ]
        token = page.get("NextToken")
        if not token:
            return names


def previous_version(versions: list[str], current: str) -> str | None:
    """The highest published version below `current` (`$LATEST` and non-numbers ignored)."""
    older = [int(v) for v in versions if v.isdigit() and int(v) < int(current)]
    return str(max(older)) if older else None


def _versions(lam: Any, function: str) -> list[str]:
    versions, marker = [], None
    while True:
        page = lam.list_versions_by_function(FunctionName=function, **({"Marker": marker} if marker else {}))
        versions += [v["Version"] for v in page["Versions"]]
        marker = page.get("NextMarker")
        if not marker:
            return versions


_TIMESTAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:?\d\d)")


def published_at(config: dict[str, Any]) -> datetime:
    """A version's LastModified (`2026-12-07T02:35:19.000+0000`; fractions and `Z` accepted), to the second."""
    match = _TIMESTAMP.fullmatch(config["LastModified"])
    if match is None:
        raise RollbackError(f"unreadable LastModified {config['LastModified']!r}")
    zone = "+00:00" if match.group(2) == "Z" else match.group(2)
    return datetime.fromisoformat(match.group(1) + (zone if ":" in zone else f"{zone[:3]}:{zone[3:]}"))


def plan(lam: Any, functions: list[str], *, since: datetime | None, alias: str = ALIAS) -> list[Moved]:
    """Where each alias would go: functions without the alias, or whose live version was published before
    `since` (the last stack update), stay where they are."""
    moves = []
    for function in functions:
        try:
            current = lam.get_alias(FunctionName=function, Name=alias)["FunctionVersion"]
        except lam.exceptions.ResourceNotFoundException:
            continue  # not published behind the alias
        config = lam.get_function_configuration(FunctionName=function, Qualifier=current)
        if since is not None and published_at(config) < since:
            continue  # unchanged by the last deploy
        previous = previous_version(_versions(lam, function), current)
        if previous is not None:  # None: its first version (new in this release), nothing older to serve
            moves.append(Moved(function, current, previous))
    if not moves:
        raise RollbackError(f"no {alias!r} alias was moved by the last deploy: nothing to roll back")
    return moves


def rollback(cfn: Any, lam: Any, stack: str, *, alias: str = ALIAS, say: Callable[[str], None] = print) -> list[Moved]:
    """Point the aliases the last update moved at their previous version (weights cleared); returns what moved."""
    described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    if "LastUpdatedTime" not in described:
        raise RollbackError(f"{stack} was created and never updated: there is no previous release")
    moves = plan(lam, stack_functions(cfn, stack), since=described["LastUpdatedTime"], alias=alias)
    for move in moves:
        lam.update_alias(FunctionName=move.function, Name=alias, FunctionVersion=move.to_version, RoutingConfig={})
        say(f"rollback: {move.function}:{alias} {move.from_version} -> {move.to_version}")
    return moves
