"""`devkit.tasks.exits`: the one place where expected failures become a one-line `Exit`."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable

import pytest
from invoke import Context, Exit

from devkit.build import BuildError
from devkit.errors import TaskFailure
from devkit.tasks import calls, exits


def _exit_of(task: Callable[[object], None]) -> tuple[str, int]:
    """The message and code of the `Exit` the task raises."""
    with pytest.raises(Exit) as caught:
        task(None)
    return caught.value.message, caught.value.code


def test_an_expected_failure_is_one_line_named_after_the_task_with_its_code() -> None:
    @exits()
    def bench_fat(c: object) -> None:
        raise TaskFailure("thresholds broken", code=3)

    assert _exit_of(bench_fat) == ("bench-fat: thresholds broken", 3)


def test_a_devkit_error_counts_as_expected_and_exits_with_1() -> None:
    @exits()
    def build(c: object) -> None:
        raise BuildError("cargo-lambda not found")

    assert _exit_of(build) == ("build: cargo-lambda not found", 1)


def test_other_errors_keep_their_traceback_unless_the_task_expects_them() -> None:
    @exits()
    def status(c: object) -> None:
        raise ValueError("a bug")

    @exits(ValueError)
    def compare(c: object) -> None:
        raise ValueError("unknown traffic profile")

    with pytest.raises(ValueError, match="a bug"):
        status(None)
    with pytest.raises(Exit, match="compare: unknown traffic profile"):
        compare(None)


def test_a_task_that_only_calls_one_function_imports_it_when_run_and_exits_on_its_expected_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = types.ModuleType("stand_in_target")
    calls_made: list[str] = []
    target.ok = lambda: calls_made.append("ok")  # type: ignore[attr-defined]

    def refuse() -> None:
        raise TaskFailure("nothing is running", code=2)

    target.refuse = refuse  # type: ignore[attr-defined]
    stop = calls("stop_all", "stand_in_target:refuse", "Stop everything.")
    fine = calls("fine", "stand_in_target:ok", "Fine.")
    assert (stop.name, stop.__doc__) == ("stop_all", "Stop everything.")
    monkeypatch.setitem(sys.modules, "stand_in_target", target)  # imported when the task runs, not before
    fine.body(None)
    assert calls_made == ["ok"]
    assert _exit_of(stop.body) == ("stop-all: nothing is running", 2)


def test_a_target_task_gets_the_five_target_options_as_one_choice_and_keeps_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from devkit.contract import run as contract_run
    from devkit.targets.endpoints import TargetChoice
    from devkit.tasks import verify

    seen: list[tuple[object, object]] = []
    monkeypatch.setattr("devkit.quality.suite.native_local_cloud", lambda: None)
    monkeypatch.setattr(contract_run, "contract_task", lambda options, target: seen.append((options, target)))
    names = [a.name for a in verify.contract.get_arguments()]
    assert names == ["base_url", "auth_url", "stage", "topology", "examples", "seed", "i_know", "backend"]
    verify.contract.body(Context(), base_url="http://127.0.0.1:1", examples=5, i_know=True, backend="dynamodb-local")
    ((options, target),) = seen
    assert target == TargetChoice("http://127.0.0.1:1", "", "", True, "dynamodb-local")
    assert (options.topology, options.examples, options.seed) == ("lith", 5, None)  # type: ignore[attr-defined]
