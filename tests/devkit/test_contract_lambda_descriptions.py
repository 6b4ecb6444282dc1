"""devkit.contract.lambda_descriptions: a lambda whose source cannot be parsed (CPython 3.11's "AST constructor
recursion depth mismatch") is described generically instead of crashing the strategy's repr."""

from __future__ import annotations

import pytest
from hypothesis.internal import lambda_sources, reflection

from devkit.contract import lambda_descriptions


def test_a_failing_description_falls_back_instead_of_raising(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(f: object) -> str:
        raise SystemError("AST constructor recursion depth mismatch (before=255, after=175)")

    monkeypatch.setattr(lambda_sources, "lambda_description", broken)
    with pytest.raises(SystemError):
        reflection.get_pretty_function_description(lambda x: x + 1)
    lambda_descriptions.tolerate_ast_recursion_bug()
    lambda_descriptions.tolerate_ast_recursion_bug()  # idempotent: one wrapper
    described = reflection.get_pretty_function_description(lambda x: x + 2)
    assert described == lambda_descriptions.UNAVAILABLE


def test_a_healthy_description_is_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lambda_sources, "lambda_description", lambda_sources.lambda_description)
    lambda_descriptions.tolerate_ast_recursion_bug()
    assert "x * 3" in reflection.get_pretty_function_description(lambda x: x * 3)
