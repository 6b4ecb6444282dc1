"""Run a sequence of named steps (commands or callables), stream their output, and summarise.

Used by `./inv test` and `./inv lint`: every step runs even after a failure, then one summary table is
printed and the caller exits non-zero if any step failed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from devkit.progress import format_seconds, format_summary

# Closing lines of the test runners we drive, e.g. cargo's "test result: ok. 12 passed; 0 failed; ..." and
# pytest's "==== 40 passed, 1 failed, 2 skipped in 3.1s ====".
_COUNTS = re.compile(r"(\d+) (passed|failed|skipped|errors?)\b")


@dataclass
class StepResult:
    name: str
    ok: bool
    seconds: float
    detail: str = ""
    counts: dict[str, int] = field(default_factory=dict)


def _count_tests(line: str, counts: dict[str, int]) -> None:
    if line.startswith("test result:") or (line.startswith("=") and " in " in line):
        for number, kind in _COUNTS.findall(line):
            key = "failed" if kind.startswith("error") else kind
            counts[key] = counts.get(key, 0) + int(number)


@dataclass
class Steps:
    results: list[StepResult] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def run(self, name: str, cmd: Sequence[str] | Callable[[], str | None], *, env: dict | None = None) -> bool:
        print(f"\n━━ {name} ━━ (step {len(self.results) + 1}, +{format_seconds(self.elapsed())})", flush=True)
        started = time.monotonic()
        detail = ""
        counts: dict[str, int] = {}
        try:
            if callable(cmd):
                detail = cmd() or ""
                ok = True
            else:
                ok = _stream(cmd, {**os.environ, **(env or {})}, counts)
        except Exception as exc:  # a step's own failure is reported, the remaining steps still run
            ok, detail = False, f"{type(exc).__name__}: {exc}"
            print(detail, flush=True)
        if counts:
            detail = ", ".join(f"{n} {k}" for k, n in counts.items())
        self.results.append(StepResult(name, ok, time.monotonic() - started, detail, counts))
        print(f"━━ {name}: {'ok' if ok else 'FAILED'} in {format_seconds(self.results[-1].seconds)}", flush=True)
        return ok

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def test_counts(self) -> dict[str, int]:
        total: dict[str, int] = {"passed": 0, "failed": 0, "skipped": 0}
        for result in self.results:
            for kind, number in result.counts.items():
                total[kind] = total.get(kind, 0) + number
        return total

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def summary(self) -> str:
        width = max((len(r.name) for r in self.results), default=4)
        lines = ["", "━━ summary ━━"]
        for r in self.results:
            mark = "ok  " if r.ok else "FAIL"
            lines.append(f"{mark}  {r.name.ljust(width)}  {r.seconds:7.1f} s  {r.detail}".rstrip())
        passed = sum(r.ok for r in self.results)
        lines.append("time: " + format_summary([(r.name, r.seconds) for r in self.results], self.elapsed()))
        lines.append(f"steps: {passed} of {len(self.results)} ok")
        tests = self.test_counts()
        failed = tests["failed"] + (len(self.results) - passed if not tests["failed"] else 0)
        closing = f"tests: {tests['passed']} passed, {failed} failed"
        lines.append(closing + (f", {tests['skipped']} skipped" if tests["skipped"] else ""))
        return "\n".join(lines)


def _stream(cmd: Sequence[str], env: dict[str, str], counts: dict[str, int]) -> bool:
    """Runs cmd, echoing its output live while counting test results from runners' closing lines."""
    proc = subprocess.Popen(list(cmd), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    assert proc.stdout is not None
    for line in proc.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        _count_tests(line.strip(), counts)
    return proc.wait() == 0
