"""The test-runner summary: every step runs, failures are counted, the closing line is honest."""

from __future__ import annotations

import sys

from devkit.quality.steps import Steps


def test_a_failing_step_fails_the_run_but_later_steps_still_run() -> None:
    steps = Steps()
    steps.run("bad", [sys.executable, "-c", "raise SystemExit(3)"])
    steps.run("good", [sys.executable, "-c", "print('hi')"])
    assert [r.ok for r in steps.results] == [False, True]
    assert not steps.ok
    assert steps.summary().splitlines()[-1] == "tests: 0 passed, 1 failed"


def test_runner_counts_are_summed_from_closing_lines() -> None:
    steps = Steps()
    cargo = "print('test result: ok. 12 passed; 0 failed; 0 ignored'); print('test result: ok. 3 passed; 0 failed')"
    pytest_line = "print('===== 40 passed, 2 skipped in 3.10s =====')"
    steps.run("cargo", [sys.executable, "-c", cargo])
    steps.run("pytest", [sys.executable, "-c", pytest_line])
    assert steps.ok
    assert steps.test_counts() == {"passed": 55, "failed": 0, "skipped": 2}
    assert steps.summary().splitlines()[-1] == "tests: 55 passed, 0 failed, 2 skipped"


def test_a_raising_callable_is_a_failed_step() -> None:
    steps = Steps()

    def boom() -> str:
        raise RuntimeError("nope")

    assert steps.run("callable", boom) is False
    assert "RuntimeError: nope" in steps.results[0].detail


def test_the_summary_says_where_the_time_went() -> None:
    steps = Steps()
    steps.run("fast", lambda: "done")
    steps.run("also fast", lambda: None)
    lines = steps.summary().splitlines()
    time_line = next(line for line in lines if line.startswith("time: "))
    assert time_line.startswith("time: fast 0.0 s, also fast 0.0 s (total ")
    assert lines.index(time_line) == len(lines) - 3  # before "steps:" and the closing "tests:" line
