"""A copy of the checkout for the generator's and `init`'s tests: its git-tracked (and new, unignored) files with
their modification times, so cargo reuses the shared target dir's artifacts of every crate the test leaves alone."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from devkit import paths

SKIP_DIRS = {".git", ".venv", "target", ".localcloud", "reports", ".cache", "__pycache__", ".pytest_cache"}


def checkout_files(root: Path = paths.ROOT) -> list[str]:
    """The checkout's files: git's view (tracked and new, unignored), or the tree without build output outside git."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        check=False,
    )
    if listed.returncode == 0 and (root / ".git").exists():
        names = listed.stdout.decode().split("\0")
    else:
        names = []
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
            names += [(Path(folder) / file).relative_to(root).as_posix() for file in files]
    return sorted(name for name in names if name and (root / name).is_file() and not (root / name).is_symlink())


def copy_checkout(target: Path, root: Path = paths.ROOT) -> Path:
    for name in checkout_files(root):
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, destination)
    # The Rust store tests start moto from the checkout's .venv; the copy shares the running one.
    (target / ".venv").symlink_to(Path(sys.prefix))
    return target


def tree_digest(root: Path) -> str:
    """One hash of every file's path and content below ``root`` (symlinks and caches left out)."""
    digest = hashlib.sha256()
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in {".venv", "__pycache__", ".pytest_cache"})
        for file in sorted(files):
            path = Path(folder) / file
            if not path.is_symlink():
                digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def cargo_env() -> dict[str, str]:
    """The shared cargo target dir (dependencies built once for the checkout and its copies)."""
    return {**os.environ, "CARGO_TARGET_DIR": str(paths.cargo_target_dir())}
