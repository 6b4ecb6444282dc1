"""OutputPipe: a bootstrap's output split into lines in the pipe's callbacks, however the bytes arrive."""

from __future__ import annotations

import asyncio
import os

from devkit.localcloud.awslambda.output import MAX_LINE, OutputPipe, read_lines


def _feed(chunks: list[bytes], *, eof: bool = True) -> list[bytes]:
    async def body() -> list[bytes]:
        lines: list[bytes] = []
        pipe = OutputPipe(lines.append)
        for chunk in chunks:
            pipe.data_received(chunk)
        if eof:
            pipe.eof_received()
            pipe.connection_lost(None)
            assert pipe.closed.done()
        return lines

    return asyncio.run(body())


def test_lines_split_across_and_within_chunks() -> None:
    lines = _feed([b"one\ntw", b"o\nthr", b"ee\n", b"four\nfive\n"])
    assert lines == [b"one\n", b"two\n", b"three\n", b"four\n", b"five\n"]


def test_an_unterminated_last_line_is_passed_on_at_eof_only() -> None:
    assert _feed([b"done\npartial"], eof=False) == [b"done\n"]
    assert _feed([b"done\npartial"]) == [b"done\n", b"partial"]


def test_a_line_over_the_limit_comes_in_pieces() -> None:
    long = b"x" * (2 * MAX_LINE + 10)
    lines = _feed([long[: MAX_LINE // 2], long[MAX_LINE // 2 :] + b"\nnext\n"])
    assert lines == [b"x" * MAX_LINE, b"x" * MAX_LINE, b"x" * 10 + b"\n", b"next\n"]


def test_read_lines_reads_a_real_pipe_to_eof() -> None:
    async def body() -> list[bytes]:
        lines: list[bytes] = []
        read_end, write_end = os.pipe()
        pipe = await read_lines(read_end, lines.append)
        os.write(write_end, b"a\nb\n" + b"c" * 10)
        os.close(write_end)
        await asyncio.wait_for(pipe.closed, 5)
        return lines

    assert asyncio.run(body()) == [b"a\n", b"b\n", b"c" * 10]
