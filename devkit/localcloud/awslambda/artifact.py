"""A function's deployment artifact, staged as Lambda stages it: the whole package becomes the task root.

Lambda unpacks the whole .zip into /var/task (LAMBDA_TASK_ROOT) and runs `bootstrap` from there
(https://docs.aws.amazon.com/lambda/latest/dg/runtimes-custom.html, "the runtime ... bootstrap file in your
deployment package"; https://docs.aws.amazon.com/lambda/latest/dg/configuration-function-zip.html, file
permissions as the package records them). A function may ship data files, certificates or templates beside its
bootstrap and open them relative to the task root, so the local cloud copies everything, not just `bootstrap`.

`stage_artifact` takes what the caller built: a .zip (unpacked whole, Unix modes kept; an entry without a
recorded mode gets 0644, `bootstrap` 0755), a directory (the package's contents, copied whole, symlinks kept),
or a single executable (copied as it is). It returns the staged bootstrap.
"""

from __future__ import annotations

import os
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

BOOTSTRAP = "bootstrap"
_UNIX = 3  # ZipInfo.create_system of an archive made on Unix (its external_attr holds st_mode)


class ArtifactError(ValueError):
    """The artifact cannot be staged; the message says why."""


def is_artifact(path: Path) -> bool:
    """True for something `stage_artifact` can stage: a file (a bootstrap or a .zip) or a directory."""
    return path.is_file() or path.is_dir()


def stage_artifact(source: Path, task_root: Path) -> Path:
    """Stages `source` into the (new, empty) `task_root`; returns the bootstrap to execute."""
    task_root.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, task_root, symlinks=True, dirs_exist_ok=True)
        return _bootstrap_in(task_root, source)
    if zipfile.is_zipfile(source):
        _unzip(source, task_root)
        return _bootstrap_in(task_root, source)
    target = task_root / source.name
    shutil.copy2(source, target)
    return target


def _bootstrap_in(task_root: Path, source: Path) -> Path:
    bootstrap = task_root / BOOTSTRAP
    if not bootstrap.is_file():
        raise ArtifactError(f"{source} has no {BOOTSTRAP} at its root (Lambda runs <task root>/{BOOTSTRAP})")
    return bootstrap


def _unzip(source: Path, task_root: Path) -> None:
    root = task_root.resolve()
    with zipfile.ZipFile(source) as archive:
        for info in archive.infolist():
            name = PurePosixPath(info.filename)
            if name.is_absolute() or ".." in name.parts:
                raise ArtifactError(f"{source}: entry {info.filename!r} points outside the package")
            target = root.joinpath(*name.parts)
            mode = info.external_attr >> 16 if info.create_system == _UNIX else 0  # made elsewhere: no Unix mode
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if stat.S_ISLNK(mode):
                link = archive.read(info).decode()
                if os.path.isabs(link) or not (target.parent / link).resolve().is_relative_to(root):
                    raise ArtifactError(f"{source}: symlink {info.filename!r} points outside the package")
                target.symlink_to(link)
                continue
            with archive.open(info) as data, target.open("wb") as out:
                shutil.copyfileobj(data, out)
            permissions = stat.S_IMODE(mode)
            if not permissions:
                permissions = 0o755 if name.parts == (BOOTSTRAP,) else 0o644
            target.chmod(permissions)
