"""Phase timing for long runs (`./inv up`, `./inv test`): a line as each phase starts, with the time so far, and a
one-line summary of where the time went at the end."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


def format_seconds(seconds: float) -> str:
    """`0.4 s`, `12.3 s`, `2 min 05 s`: tenths below a minute, whole seconds above."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def format_summary(phases: list[tuple[str, float]], total: float) -> str:
    """`backend 0.4 s, build 0.9 s, … (total 2.1 s)`: every phase in the order it ran."""
    parts = ", ".join(f"{name} {format_seconds(seconds)}" for name, seconds in phases)
    return f"{parts} (total {format_seconds(total)})" if parts else f"total {format_seconds(total)}"


@dataclass
class Phases:
    """Named phases of one run. `with phases.phase("build"):` says `<prefix>: build… (+3.2 s)` as it starts and
    records how long it took; `summary()` lists them all."""

    prefix: str
    say: Callable[[str], None] = print
    clock: Callable[[], float] = time.monotonic
    started: float = field(default=-1.0)
    done: list[tuple[str, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.started < 0:
            self.started = self.clock()

    def elapsed(self) -> float:
        return self.clock() - self.started

    @contextmanager
    def phase(self, name: str, detail: str = "") -> Iterator[None]:
        self.say(f"{self.prefix}: {name}{f' ({detail})' if detail else ''}… (+{format_seconds(self.elapsed())})")
        begun = self.clock()
        try:
            yield
        finally:
            self.done.append((name, self.clock() - begun))

    def summary(self) -> str:
        return format_summary(self.done, self.elapsed())
