"""The log sink's file format, filters and follow mode (what `./inv logs [-f] [--function]` reads)."""

from __future__ import annotations

import io
import threading
from pathlib import Path

from devkit.localcloud.awslambda.logs import LogSink, follow_records, parse_line, read_records


def test_console_prefix_and_parseable_files(tmp_path: Path) -> None:
    console = io.StringIO()
    sink = LogSink(tmp_path, console=console)
    sink.emit("Api", "r-1", "START RequestId: r-1 Version: $LATEST\n")
    sink.emit("Api", None, "a line\twith a tab")
    sink.emit("Worker", "r-2", "worker line", console=False)
    sink.close()
    assert console.getvalue() == "[Api] START RequestId: r-1 Version: $LATEST\n[Api] a line\twith a tab\n"
    api = list(read_records(tmp_path, function="Api"))
    assert [(r.function, r.request_id, r.text) for r in api] == [
        ("Api", "r-1", "START RequestId: r-1 Version: $LATEST"),
        ("Api", "-", "a line\twith a tab"),
    ]
    assert [r.text for r in read_records(tmp_path, request_id="r-2")] == ["worker line"]
    assert len(list(read_records(tmp_path))) == 3
    assert parse_line("garbage") is None
    assert api[0].timestamp.endswith("Z")


def test_follow_yields_new_lines_only(tmp_path: Path) -> None:
    sink = LogSink(tmp_path, console=None)
    sink.emit("Api", "old", "before follow")
    sink.flush()
    seen: list[str] = []
    done = threading.Event()

    records = follow_records(tmp_path, function="Api", poll_s=0.01, stop=done.is_set)

    def reader() -> None:
        for record in records:
            seen.append(record.text)
            if record.text == "last":
                done.set()

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        sink.emit("Api", "r", "new one")
        sink.emit("Api", "r", "last")
        sink.flush()
        assert done.wait(5), f"follow did not see the new lines: {seen}"
    finally:
        done.set()
        thread.join(5)
        sink.close()
    assert seen == ["new one", "last"]
