"""A CPython 3.11 bug that can crash a contract run, worked around where it bites.

`ast.parse` called deep in a recursion can raise `SystemError: AST constructor recursion depth mismatch` on
CPython 3.11 (python/cpython#106905, fixed in 3.12). Hypothesis parses a lambda's source only to describe the
lambda in a strategy's `repr`, and schemathesis' coverage phase builds such reprs while validating deeply
recursive strategies: now and then a whole operation ended as "Runtime Error" (seen on `POST /invoices`). A
description is not worth a crashed run, so a failed one falls back to a generic text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

UNAVAILABLE = "lambda: <source unavailable>"


def tolerate_ast_recursion_bug() -> None:
    """Make Hypothesis' lambda descriptions survive the bug (idempotent)."""
    from hypothesis.internal import lambda_sources

    original: Callable[[Any], str] = lambda_sources.lambda_description
    if getattr(original, "tolerates_ast_recursion_bug", False):
        return

    def lambda_description(f: Any) -> str:
        try:
            return original(f)
        except SystemError:
            return UNAVAILABLE

    lambda_description.tolerates_ast_recursion_bug = True  # type: ignore[attr-defined]
    lambda_sources.lambda_description = lambda_description
