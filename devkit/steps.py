"""Run a sequence of named steps (commands or callables), stream their output, and summarise.

Used by `./inv test` and `./inv lint`: every step runs even after a failure, then one summary table is
printed and the caller exits non-zero if any step failed.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


@dataclass
class StepResult:
    name: str
    ok: bool
    seconds: float
    detail: str = ""


@dataclass
class Steps:
    results: list[StepResult] = field(default_factory=list)

    def run(self, name: str, cmd: Sequence[str] | Callable[[], str | None], *, env: dict | None = None) -> bool:
        print(f"\n━━ {name} ━━", flush=True)
        started = time.monotonic()
        detail = ""
        try:
            if callable(cmd):
                detail = cmd() or ""
                ok = True
            else:
                merged = {**os.environ, **(env or {})}
                ok = subprocess.run(list(cmd), env=merged, check=False).returncode == 0
        except Exception as exc:  # a step's own failure is reported, the remaining steps still run
            ok, detail = False, f"{type(exc).__name__}: {exc}"
            print(detail, flush=True)
        self.results.append(StepResult(name, ok, time.monotonic() - started, detail))
        return ok

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
        lines.append(f"steps: {passed} passed, {len(self.results) - passed} failed")
        return "\n".join(lines)
