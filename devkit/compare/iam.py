"""IAM breadth: the distinct actions each function's role grants (inline policies), from the SAM-expanded template."""

from __future__ import annotations

from typing import Any


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def actions_per_function(expanded: dict[str, Any]) -> dict[str, list[str]]:
    """Function logical id → sorted distinct actions of its role's inline policies (managed policies aside)."""
    resources = expanded["Resources"]
    out: dict[str, list[str]] = {}
    for lid, res in resources.items():
        if res.get("Type") != "AWS::Lambda::Function":
            continue
        role = resources.get(f"{lid}Role", {}).get("Properties", {})
        actions: set[str] = set()
        for policy in role.get("Policies", []):
            for statement in _as_list(policy.get("PolicyDocument", {}).get("Statement", [])):
                if statement.get("Effect") == "Allow":
                    actions.update(a for a in _as_list(statement.get("Action", [])) if isinstance(a, str))
        out[lid] = sorted(actions)
    return out
