"""`up --watch`: a source change rebuilds and swaps only the functions whose bootstrap changed."""

from __future__ import annotations

import asyncio
from pathlib import Path

from devkit.build.watch import Watcher, source_fingerprint


def _watcher(tmp_path: Path, builds: list[dict[str, bytes]], swaps: list[str], fingerprint: list[int]) -> Watcher:
    def rebuild() -> dict[str, Path]:
        outputs = builds.pop(0)
        if isinstance(outputs, Exception):
            raise outputs
        result = {}
        for name, content in outputs.items():
            path = tmp_path / f"{name}-{len(builds)}"
            path.write_bytes(content)
            result[name] = path
        return result

    async def swap(name: str, path: Path) -> None:
        swaps.append(name)

    return Watcher(fingerprint=lambda: fingerprint[0], rebuild=rebuild, swap=swap, report=lambda _: None)


def test_only_changed_bootstraps_are_swapped(tmp_path: Path) -> None:
    swaps: list[str] = []
    fingerprint = [1]
    (tmp_path / "a0").write_bytes(b"A")
    (tmp_path / "b0").write_bytes(b"B")
    watcher = _watcher(tmp_path, [{"A": b"A", "B": b"B2"}], swaps, fingerprint)
    watcher.prime({"A": tmp_path / "a0", "B": tmp_path / "b0"})

    assert asyncio.run(watcher.check_once()) == []  # nothing changed: no build at all
    fingerprint[0] = 2
    assert asyncio.run(watcher.check_once()) == ["B"]
    assert swaps == ["B"]


def test_a_failed_build_keeps_the_running_code(tmp_path: Path) -> None:
    swaps: list[str] = []
    fingerprint = [1]
    (tmp_path / "a0").write_bytes(b"A")
    watcher = _watcher(tmp_path, [RuntimeError("does not compile"), {"A": b"A3"}], swaps, fingerprint)  # type: ignore[list-item]
    watcher.prime({"A": tmp_path / "a0"})
    fingerprint[0] = 2
    assert asyncio.run(watcher.check_once()) == []
    assert swaps == []
    fingerprint[0] = 3  # the next edit fixes it
    assert asyncio.run(watcher.check_once()) == ["A"]


def test_fingerprint_changes_when_a_source_file_changes(tmp_path: Path) -> None:
    (tmp_path / "services" / "x" / "src").mkdir(parents=True)
    source = tmp_path / "services" / "x" / "src" / "lib.rs"
    source.write_text("fn a() {}")
    before = source_fingerprint(tmp_path)
    (tmp_path / "services" / "x" / "src" / "new.rs").write_text("fn b() {}")
    assert source_fingerprint(tmp_path) != before
