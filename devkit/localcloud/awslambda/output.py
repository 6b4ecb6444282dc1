"""A bootstrap's stdout and stderr, read in the pipe's own callbacks and passed on line by line.

Functions log a line per request (ours do), so this is on the hot path: asyncio's StreamReader with a task per
pipe costs a task wake-up and an interpreted `readline` per line. Here a pipe's data is split into lines in its
`data_received`: no task, no stream reader. Lines keep their newline; a line longer than MAX_LINE is passed on
in MAX_LINE pieces (the stream reader's default limit), and an unterminated last line at EOF is passed on too.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

MAX_LINE = 65_536


class OutputPipe(asyncio.Protocol):
    def __init__(self, on_line: Callable[[bytes], None]) -> None:
        self._on_line = on_line
        self._partial = b""
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        if self._partial:
            data = self._partial + data
        start = 0
        while True:
            end = data.find(b"\n", start, start + MAX_LINE)
            if end >= 0:
                self._on_line(data[start : end + 1])
                start = end + 1
            elif len(data) - start >= MAX_LINE:  # no newline within the limit: a piece of a long line
                self._on_line(data[start : start + MAX_LINE])
                start += MAX_LINE
            else:
                break
        self._partial = data[start:]

    def eof_received(self) -> bool | None:
        self._flush()
        return None  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._flush()
        if not self.closed.done():
            self.closed.set_result(None)

    def _flush(self) -> None:
        if self._partial:
            partial, self._partial = self._partial, b""
            self._on_line(partial)


async def read_lines(fd: int, on_line: Callable[[bytes], None]) -> OutputPipe:
    """Reads pipe `fd` (which it owns from now on) until EOF, calling `on_line` per line; `.closed` settles at
    EOF."""
    loop: Any = asyncio.get_running_loop()
    _, protocol = await loop.connect_read_pipe(lambda: OutputPipe(on_line), os.fdopen(fd, "rb", buffering=0))
    return protocol
