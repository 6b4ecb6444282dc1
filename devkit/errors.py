"""The failure every task may end with: what went wrong and what to do, and the exit code to end with."""

from __future__ import annotations


class TaskFailure(RuntimeError):
    """An expected failure of a task (bad options, nothing running, thresholds broken); `code` is the exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code
