"""`./inv init --name NAME`: the project's name replaced by a fork's own, everywhere a fork should own it.

The current name is `[project] name` in pyproject.toml. It prefixes the stacks (`<name>-<stage>`, samconfig and the
local cloud), the SAM artifact prefixes, the JWT audience (`<name>-<stage>`), the metrics namespace, the
dashboard and alarm topic names, the cache directory, and the Python project itself; every text file that holds
it is rewritten (FORKING.md, which describes the upstream, is left alone). README's title becomes the name.
Running it again with the same name changes nothing.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from devkit.scaffold.names import ScaffoldError

NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
MAX_CHARS = 40  # the longest stack name is <name>-<16-character stage>; audience and secret names grow from it
SKIP_DIRS = {".git", ".venv", "target", ".localcloud", "reports", ".cache", "__pycache__", ".pytest_cache"}
SKIP_FILES = {"FORKING.md"}
MAX_BYTES = 2 * 1024 * 1024


@dataclass
class Renamed:
    old: str
    new: str
    changed: list[str] = field(default_factory=list)


def check_name(name: str) -> str:
    if not NAME.fullmatch(name or ""):
        raise ScaffoldError(
            f"{name!r} is not a valid project name: lowercase letters and digits, words joined by single '-', "
            "starting with a letter (it prefixes stack, table and secret names), e.g. acme-services"
        )
    if len(name) > MAX_CHARS:
        raise ScaffoldError(f"{name!r} is {len(name)} characters long; at most {MAX_CHARS} (stack names grow from it)")
    return name


def current_name(root: Path) -> str:
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        raise ScaffoldError(f"{root} is not a checkout of this project (no pyproject.toml)")
    return str(tomllib.loads(pyproject.read_text())["project"]["name"])


def _text_files(root: Path) -> list[Path]:
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for file in sorted(files):
            path = Path(folder) / file
            if file in SKIP_FILES or path.is_symlink() or path.stat().st_size > MAX_BYTES:
                continue
            found.append(path)
    return found


def _retitle(readme: str, name: str) -> str:
    lines = readme.split("\n", 1)
    if lines[0].startswith("# ") and lines[0] != f"# {name}":
        return f"# {name}\n" + (lines[1] if len(lines) > 1 else "")
    return readme


def rename(root: Path, name: str) -> Renamed:
    """Rewrites every text file holding the current name; returns what changed (nothing on a second run)."""
    new = check_name(name)
    old = current_name(root)
    result = Renamed(old, new)
    for path in _text_files(root):
        try:
            text = path.read_text()
        except (UnicodeDecodeError, OSError):
            continue
        updated = text.replace(old, new) if old != new else text
        if path == root / "README.md":
            updated = _retitle(updated, new)
        if updated != text:
            path.write_text(updated)
            result.changed.append(path.relative_to(root).as_posix())
    return result


def summary(result: Renamed) -> str:
    if not result.changed:
        return f"init: already named {result.new}; nothing changed"
    lines = [f"init: {result.old} → {result.new} in {len(result.changed)} file(s)"]
    lines += [f"  {path}" for path in result.changed]
    lines.append("next: read FORKING.md (AWS account, GitHub settings), then ./inv test")
    return "\n".join(lines)
