"""A stage's change set: created, shown (added / modified / removed, replacements highlighted), checked, executed.

`./inv deploy` never applies a template blind. It creates a CloudFormation change set, prints what it would do,
refuses what must not happen on production (replacing a table or a queue loses its data or its messages), and
executes only after a yes: `--yes`, or an answer on a terminal. Without `--yes`, CI (no terminal) stops there.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from devkit.targets.safety import looks_like_prod

# Replacing one of these loses data or queued messages (a new, empty resource takes its place).
STATEFUL_TYPES = {"AWS::DynamoDB::Table", "AWS::SQS::Queue"}
_SYMBOL = {"Add": "+", "Modify": "~", "Remove": "-", "Import": ">", "Dynamic": "?"}


class ChangeSetRefused(RuntimeError):
    """The change set was not executed (refused on production, or not confirmed); the message says why."""


@dataclass(frozen=True)
class Change:
    action: str  # Add | Modify | Remove | Import | Dynamic
    logical_id: str
    resource_type: str
    replacement: str = ""  # True | False | Conditional ("" for Add/Remove)
    physical_id: str = ""

    @property
    def replaces(self) -> bool:
        """CloudFormation will (or may: Conditional) create a new resource and delete the old one."""
        return self.action == "Modify" and self.replacement in ("True", "Conditional")


def parse(pages: list[dict[str, Any]]) -> list[Change]:
    """The resource changes of DescribeChangeSet responses (every page)."""
    changes = []
    for page in pages:
        for item in page.get("Changes", []):
            rc = item.get("ResourceChange") or {}
            changes.append(
                Change(
                    action=rc.get("Action", "Dynamic"),
                    logical_id=rc.get("LogicalResourceId", "?"),
                    resource_type=rc.get("ResourceType", "?"),
                    replacement=rc.get("Replacement", "") or "",
                    physical_id=rc.get("PhysicalResourceId", "") or "",
                )
            )
    return changes


def render(changes: list[Change], *, color: bool = False) -> str:
    """One line per change, grouped added / modified / removed; replacements are marked `REPLACE`."""
    if not changes:
        return "no changes"
    order = {"Add": 0, "Modify": 1, "Remove": 2}
    lines = []
    for c in sorted(changes, key=lambda c: (order.get(c.action, 3), c.logical_id)):
        line = f"{_SYMBOL.get(c.action, '?')} {c.action:<7} {c.logical_id:<40} {c.resource_type}"
        if c.replaces:
            mark = "REPLACE" if c.replacement == "True" else "MAY REPLACE"
            if c.resource_type in STATEFUL_TYPES:
                mark += " (data or messages are lost)"
            line += f"  <<< {mark}"
            if color:
                line = f"\033[1;31m{line}\033[0m"
        lines.append(line)
    counts = {a: sum(c.action == a for c in changes) for a in ("Add", "Modify", "Remove")}
    replaced = sum(c.replaces for c in changes)
    lines.append(
        f"{counts['Add']} to add, {counts['Modify']} to modify ({replaced} replaced), {counts['Remove']} to remove"
    )
    return "\n".join(lines)


def refusals(stage: str, changes: list[Change], *, allow_replacement: bool) -> list[str]:
    """Why this change set must not run on `stage`: replacements of tables or queues on a production stage."""
    if allow_replacement or not looks_like_prod(stage):
        return []
    return [
        f"{c.logical_id} ({c.resource_type}) would be replaced (Replacement: {c.replacement})"
        for c in changes
        if c.replaces and c.resource_type in STATEFUL_TYPES
    ]


def confirm(*, yes: bool, ask: Callable[[str], str] = input) -> None:
    """Go on only with `yes`, or a `y` typed on a terminal; CI (no terminal) must pass --yes."""
    if yes:
        return
    if os.environ.get("CI") or not sys.stdin.isatty():
        raise ChangeSetRefused("not executed: not on a terminal (CI); pass --yes to execute without a prompt")
    if ask("execute this change set? [y/N] ").strip().lower() not in ("y", "yes"):
        raise ChangeSetRefused("not executed: not confirmed (the change set was deleted)")


def _wait_created(cfn: Any, stack: str, name: str, deadline_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + deadline_s
    while True:
        described = cfn.describe_change_set(StackName=stack, ChangeSetName=name)
        if described["Status"] in ("CREATE_COMPLETE", "FAILED"):
            return described
        if time.monotonic() > deadline:
            raise ChangeSetRefused(f"change set {name} still {described['Status']} after {deadline_s:.0f} s")
        time.sleep(1)


def describe(cfn: Any, stack: str, name: str) -> list[dict[str, Any]]:
    """Every page of DescribeChangeSet."""
    pages, token = [], None
    while True:
        page = cfn.describe_change_set(StackName=stack, ChangeSetName=name, **({"NextToken": token} if token else {}))
        pages.append(page)
        token = page.get("NextToken")
        if not token:
            return pages


def preview_and_execute(
    cfn: Any,
    *,
    stage: str,
    stack: str,
    template_url: str,
    parameters: dict[str, str],
    yes: bool,
    allow_replacement: bool,
    say: Callable[[str], None] = print,
    ask: Callable[[str], str] = input,
    deadline_s: float = 600,
) -> list[Change]:
    """Create the change set, show it, refuse or ask, execute and wait. Returns the changes (none: nothing ran)."""
    try:
        status = cfn.describe_stacks(StackName=stack)["Stacks"][0].get("StackStatus", "")
        # A first change set that was never executed leaves the stack in REVIEW_IN_PROGRESS: still a CREATE.
        kind = "CREATE" if status == "REVIEW_IN_PROGRESS" else "UPDATE"
    except cfn.exceptions.ClientError:
        kind = "CREATE"
    name = f"deploy-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:6]}"
    cfn.create_change_set(
        StackName=stack,
        ChangeSetName=name,
        ChangeSetType=kind,
        TemplateURL=template_url,
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    created = _wait_created(cfn, stack, name, deadline_s)
    if created["Status"] == "FAILED":
        cfn.delete_change_set(StackName=stack, ChangeSetName=name)
        reason = created.get("StatusReason", "")
        if "didn't contain changes" in reason or "No updates" in reason:
            say(f"deploy: {stack} is up to date (no changes)")
            return []
        raise ChangeSetRefused(f"change set {name} failed: {reason}")
    changes = parse(describe(cfn, stack, name))
    say(f"deploy: change set {name} for {stack} ({kind}):")
    say(render(changes, color=sys.stdout.isatty()))
    try:
        refused = refusals(stage, changes, allow_replacement=allow_replacement)
        if refused:
            raise ChangeSetRefused(
                f"refusing to deploy {stage!r} (production): "
                + "; ".join(refused)
                + ". Change the template so the resource keeps its identity, or pass --allow-replacement"
            )
        confirm(yes=yes, ask=ask)
    except ChangeSetRefused:
        cfn.delete_change_set(StackName=stack, ChangeSetName=name)
        raise
    cfn.execute_change_set(StackName=stack, ChangeSetName=name)
    waiter = "stack_create_complete" if kind == "CREATE" else "stack_update_complete"
    cfn.get_waiter(waiter).wait(StackName=stack, WaiterConfig={"Delay": 2, "MaxAttempts": int(deadline_s / 2)})
    return changes
