"""Function log sink: console lines prefixed `[FunctionName]` and one parseable file per function.

File format (one record per line, tab-separated): `<iso8601 UTC>\t<function logical id>\t<request id or ->\t<text>`.
`read_records` parses it back for `./inv logs --function X --request-id Y`. Writes are buffered and flushed
by a timer so the invocation hot path never waits on the disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TextIO

NO_REQUEST = "-"
# Called for every line, for tests and `logs -f`: (function, request id or "-", text).
LogListener = Callable[[str, str, str], None]


@dataclass(frozen=True)
class LogRecord:
    timestamp: str
    function: str
    request_id: str
    text: str


def iso_now() -> str:
    """UTC now as Lambda prints it: 2026-11-24T00:00:00.000Z."""
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"


class LogSink:
    """Collects every line a function (or the runtime on its behalf) prints."""

    def __init__(
        self,
        directory: Path | None,
        *,
        console: TextIO | None = sys.stderr,
        flush_interval_s: float = 0.2,
    ) -> None:
        self.directory = directory
        self.console = console
        self.flush_interval_s = flush_interval_s
        self._files: dict[str, IO[str]] = {}
        self._flusher: asyncio.Task[None] | None = None
        self._dirty = False
        self.listeners: list[LogListener] = []
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)

    def path_for(self, function: str) -> Path | None:
        return None if self.directory is None else self.directory / f"{function}.log"

    def emit(self, function: str, request_id: str | None, text: str, *, console: bool = True) -> None:
        text = text.rstrip("\r\n")
        rid = request_id or NO_REQUEST
        if console and self.console is not None:
            self.console.write(f"[{function}] {text}\n")
        if self.directory is not None:
            handle = self._files.get(function)
            if handle is None:
                handle = self._open(function)
            handle.write(f"{iso_now()}\t{function}\t{rid}\t{text}\n")
            self._dirty = True
            self._ensure_flusher()
        for listener in self.listeners:
            listener(function, rid, text)

    def _open(self, function: str) -> IO[str]:
        path = self.path_for(function)
        assert path is not None
        handle = path.open("a", encoding="utf-8", buffering=64 * 1024)
        self._files[function] = handle
        return handle

    def _ensure_flusher(self) -> None:
        if self._flusher is not None:
            return
        with contextlib.suppress(RuntimeError):  # no running loop: flush() on close is enough
            self._flusher = asyncio.get_running_loop().create_task(self._flush_periodically())

    async def _flush_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.flush_interval_s)
            if self._dirty:
                self.flush()

    def flush(self) -> None:
        self._dirty = False
        for handle in self._files.values():
            handle.flush()
        if self.console is not None:
            self.console.flush()

    def close(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            self._flusher = None
        self.flush()
        for handle in self._files.values():
            handle.close()
        self._files.clear()


def parse_line(line: str) -> LogRecord | None:
    parts = line.rstrip("\n").split("\t", 3)
    if len(parts) != 4:
        return None
    return LogRecord(*parts)


def _log_files(directory: Path, function: str | None) -> list[Path]:
    return [directory / f"{function}.log"] if function else sorted(directory.glob("*.log"))


def _matching(lines: Iterable[str], request_id: str | None) -> Iterator[LogRecord]:
    """The records of `lines`; with `request_id`, only those of that request or mentioning it."""
    for line in lines:
        record = parse_line(line)
        if record is None:
            continue
        if request_id and record.request_id != request_id and request_id not in record.text:
            continue
        yield record


def _whole_lines(handle: TextIO, offsets: dict[Path, int], path: Path) -> Iterator[str]:
    """The complete lines from the current position; `offsets[path]` follows each one (a partial line is read
    whole next time)."""
    while True:
        line = handle.readline()
        if not line.endswith("\n"):
            return
        offsets[path] = handle.tell()
        yield line


def read_records(
    directory: Path,
    *,
    function: str | None = None,
    request_id: str | None = None,
) -> Iterator[LogRecord]:
    """Records from the state dir's log files, filtered by function and/or request id, file by file."""
    for path in _log_files(directory, function):
        if not path.is_file():
            continue
        with path.open(encoding="utf-8") as handle:
            yield from _matching(handle, request_id)


def follow_records(
    directory: Path,
    *,
    function: str | None = None,
    request_id: str | None = None,
    poll_s: float = 0.2,
    from_start: bool = False,
    stop: Callable[[], bool] = lambda: False,
) -> Iterator[LogRecord]:
    """`logs -f`: yields records written after this call (all of them with `from_start`), files appearing later
    included, until `stop()` returns True."""

    def files() -> list[Path]:
        return _log_files(directory, function)

    offsets = {p: 0 if from_start else p.stat().st_size for p in files() if p.is_file()}  # taken now, not lazily
    return _follow(files, offsets, request_id, poll_s, stop)


def _follow(
    files: Callable[[], list[Path]],
    offsets: dict[Path, int],
    request_id: str | None,
    poll_s: float,
    stop: Callable[[], bool],
) -> Iterator[LogRecord]:
    while not stop():
        for path in files():
            if not path.is_file():
                continue
            with path.open(encoding="utf-8") as handle:
                handle.seek(offsets.get(path, 0))
                yield from _matching(_whole_lines(handle, offsets, path), request_id)
        time.sleep(poll_s)
