"""`./inv up --watch`: rebuild when Rust sources change and hot-swap the functions whose bootstrap changed.

Polling (one stat pass a second over the workspace's sources) keeps it dependency-free and works the same on
every filesystem. A failed build is reported and the running code stays in place.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from devkit import paths

WATCHED_DIRS = ("services", "shared")
WATCHED_FILES = ("Cargo.toml", "Cargo.lock")


def source_fingerprint(root: Path = paths.ROOT) -> tuple[float, int]:
    """(newest mtime, file count) over the Rust sources and manifests: changes when any is edited/added/removed."""
    newest, count = 0.0, 0
    candidates: list[Path] = [root / name for name in WATCHED_FILES]
    for directory in WATCHED_DIRS:
        base = root / directory
        if base.is_dir():
            candidates += [p for p in base.rglob("*") if p.suffix == ".rs" or p.name == "Cargo.toml"]
    for path in candidates:
        try:
            newest = max(newest, path.stat().st_mtime)
            count += 1
        except FileNotFoundError:
            continue
    return newest, count


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Watcher:
    """Calls `rebuild()` when the fingerprint changes, then `swap(function)` for each changed bootstrap."""

    fingerprint: Callable[[], object]
    rebuild: Callable[[], dict[str, Path]]  # function logical id → freshly built bootstrap
    swap: Callable[[str, Path], Awaitable[None]]
    report: Callable[[str], None] = print
    interval_s: float = 1.0
    _last: object = None
    _digests: dict[str, str] = field(default_factory=dict)

    def prime(self, current: dict[str, Path]) -> None:
        self._last = self.fingerprint()
        self._digests = {name: file_digest(path) for name, path in current.items()}

    async def check_once(self) -> list[str]:
        """One poll: returns the functions swapped (empty when nothing changed or the build failed)."""
        now = self.fingerprint()
        if now == self._last:
            return []
        self._last = now
        self.report("watch: sources changed, rebuilding…")
        try:
            built = await asyncio.to_thread(self.rebuild)
        except Exception as err:  # keep serving the previous build
            self.report(f"watch: build failed, still running the previous code: {err}")
            return []
        swapped = []
        for name, path in sorted(built.items()):
            digest = file_digest(path)
            if self._digests.get(name) != digest:
                await self.swap(name, path)
                self._digests[name] = digest
                swapped.append(name)
        self.report(f"watch: swapped {', '.join(swapped)}" if swapped else "watch: no bootstrap changed")
        return swapped

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.check_once()
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.interval_s)
            except TimeoutError:
                continue
