"""The local cloud's hot path, compiled ahead of time with mypyc (the way black and mypy ship themselves).

Every gateway request crosses the HTTP framing (`server.http1`), the Runtime API (`awslambda.runtime_api`), the
gateway with its routing and v2 mapping (`apigw.gateway`, `apigw.routing`, `apigw.payload_v2`), the function pool
(`awslambda.pool`), the log sink (`awslambda.logs`) and, for functions that log per request, the reading of their
output (`awslambda.output`). Interpreted, those cost the local cloud more CPU per request than
`cargo lambda watch` spends; compiled by mypyc from the same typed sources they run about 30% leaner.

The sources stay the truth. `ensure()` (called by the ./inv tasks that run a local cloud) compiles them into a
cache directory keyed by the hash of every source of the package (subpackages included), the interpreter and the
mypy version, so an edited source never runs stale: until it is rebuilt, the key misses and the package imports
the `.py` files. `activate()` (called by the package's `__init__`) puts a complete build in front of the path of
the package and of each subpackage holding a compiled module; those subpackages' `__init__` files import nothing.
No C compiler, a failed build or `LOCALCLOUD_NATIVE=0`: the interpreted sources run, with the same behaviour.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from devkit.localcloud.host import cache_dir

PACKAGE = Path(__file__).resolve().parent
PACKAGE_NAME = "devkit.localcloud"
MODULES = (  # relative to the package
    "server.http1",
    "awslambda.runtime_api",
    "apigw.gateway",
    "apigw.routing",
    "apigw.payload_v2",
    "awslambda.pool",
    "awslambda.logs",
    "awslambda.output",
)
DISABLE = "LOCALCLOUD_NATIVE"  # "0": always the interpreted sources
_COMPLETE = "complete"  # written last: a build directory without it is ignored


def cache_root() -> Path:
    return cache_dir() / "localcloud-native"


def _sources(package: Path) -> list[Path]:
    return sorted(p for p in package.rglob("*.py") if "__pycache__" not in p.parts)


def _relative(name: str) -> Path:
    """ "apigw.gateway" → apigw/gateway (no suffix)."""
    return Path(*name.split("."))


def disabled() -> bool:
    return os.environ.get(DISABLE, "") == "0"


def _mypy_version() -> str:
    try:
        from importlib.metadata import version

        return version("mypy")
    except Exception:  # not installed: no build, and a key that no build matches
        return "none"


def key(package: Path = PACKAGE) -> str:
    """Hash of every source the compiled modules were checked against, the interpreter and mypy."""
    digest = hashlib.sha256()
    digest.update(f"{sys.implementation.cache_tag}|{sysconfig.get_platform()}|{_mypy_version()}".encode())
    digest.update(",".join(MODULES).encode())
    for source in _sources(package):
        digest.update(source.relative_to(package).as_posix().encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()[:20]


def build_dir(package: Path = PACKAGE) -> Path:
    return cache_root() / key(package)


def compiled_dir(package: Path = PACKAGE) -> Path | None:
    """The complete build for the current sources, or None."""
    if disabled():
        return None
    directory = build_dir(package)
    return directory if (directory / _COMPLETE).exists() else None


def activate(package_path: list[str]) -> bool:
    """Puts the compiled modules (when a build matches the sources) in front of `package_path` (the package's
    `__path__`) and of the path of every subpackage holding one (imported here: their `__init__` is empty)."""
    directory = compiled_dir()
    if directory is None:
        return False
    compiled = directory / Path(*PACKAGE_NAME.split("."))
    _prepend(package_path, compiled)
    if str(directory) not in sys.path:
        sys.path.append(str(directory))  # mypyc's shared runtime module (<hash>__mypyc) is a top-level module
    for subpackage in sorted({name.rpartition(".")[0] for name in MODULES if "." in name}):
        module = importlib.import_module(f"{PACKAGE_NAME}.{subpackage}")
        _prepend(module.__path__, compiled / _relative(subpackage))
    return True


def _prepend(package_path: list[str], directory: Path) -> None:
    if str(directory) not in package_path:
        package_path.insert(0, str(directory))


def active() -> bool:
    """Whether this process runs the compiled hot path."""
    module = sys.modules.get(f"{PACKAGE_NAME}.{MODULES[0]}")
    return module is not None and not str(getattr(module, "__file__", "")).endswith(".py")


class NativeBuildError(RuntimeError):
    """mypyc could not compile the hot path; the message has its output's tail."""


def build(package: Path = PACKAGE) -> Path:
    """Compiles MODULES with mypyc into build_dir(); returns it. Idempotent and safe across processes."""
    target = build_dir(package)
    if (target / _COMPLETE).exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another task may be building the same key
        if (target / _COMPLETE).exists():
            return target
        with tempfile.TemporaryDirectory(prefix="localcloud-native-", dir=target.parent) as tmp:
            work = Path(tmp)
            home = Path(*PACKAGE_NAME.split("."))
            sources = work / home
            for parent in reversed(home.parents[:-1]):  # devkit/: a package with nothing else in it
                (work / parent).mkdir(exist_ok=True)
                (work / parent / "__init__.py").write_text("")
            for source in _sources(package):
                copy = sources / source.relative_to(package)
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, copy)
            command = [sys.executable, "-m", "mypyc", "--ignore-missing-imports"]
            command += [(home / _relative(name)).with_suffix(".py").as_posix() for name in MODULES]
            done = subprocess.run(command, cwd=work, capture_output=True, text=True)
            if done.returncode != 0:
                tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
                raise NativeBuildError(f"mypyc exited with {done.returncode}:\n{tail}")
            staged = work / "out"
            staged.mkdir()
            for library in work.glob("*.so"):  # the shared runtime
                shutil.move(str(library), staged / library.name)
            for name in MODULES:
                module = _relative(name)
                found = list((sources / module.parent).glob(f"{module.name}.*.so"))
                if len(found) != 1:
                    raise NativeBuildError(f"mypyc built no extension for {name}")
                (staged / home / module.parent).mkdir(parents=True, exist_ok=True)
                shutil.move(str(found[0]), staged / home / module.parent / found[0].name)
            (staged / _COMPLETE).write_text(f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n")
            with contextlib.suppress(FileNotFoundError):
                shutil.rmtree(target)
            staged.rename(target)
    _prune(keep=target)
    return target


def _prune(keep: Path, builds_to_keep: int = 3) -> None:
    """Drops all but the newest few builds (each is a few MB)."""
    builds = [p for p in keep.parent.iterdir() if p.is_dir() and (p / _COMPLETE).exists() and p != keep]
    builds.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for old in builds[builds_to_keep - 1 :]:
        shutil.rmtree(old, ignore_errors=True)


def ensure(report: Callable[[str], None] = print) -> bool:
    """Builds the hot path for the current sources unless disabled; False (and a one-line reason) when the
    interpreted sources will run instead."""
    if disabled():
        report(f"local cloud: interpreted ({DISABLE}=0)")
        return False
    if compiled_dir() is not None:
        return True
    report("local cloud: compiling the hot path with mypyc (once per source change, about 30 s)...")
    started = time.monotonic()
    try:
        build()
    except (NativeBuildError, OSError) as err:
        report(f"local cloud: running interpreted; the mypyc build failed: {err}")
        return False
    report(f"local cloud: compiled {len(MODULES)} modules in {time.monotonic() - started:.0f} s")
    return True
