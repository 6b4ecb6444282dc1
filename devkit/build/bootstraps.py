"""Build Lambda bootstraps with cargo-lambda (zig linker → glibc old enough for provided.al2023).

Output layout: `<target>/lambda/<profile>/<arch>/<binary>/bootstrap` and `bootstrap.zip` beside it.
Profiles: `release` (deploys, benchmarks) and `ci` (fast builds for tests and the local cloud).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from devkit import paths

ARCH_TARGETS = {"x86_64": "x86_64-unknown-linux-gnu", "arm64": "aarch64-unknown-linux-gnu"}
FIXTURES_DIR = paths.ROOT / "tests" / "fixtures"


class BuildError(RuntimeError):
    """A build could not run or failed; the message says what to do."""


@dataclass(frozen=True)
class Artifact:
    binary: str
    bootstrap: Path
    zip_path: Path

    @property
    def bootstrap_bytes(self) -> int:
        return self.bootstrap.stat().st_size

    @property
    def zip_bytes(self) -> int:
        return self.zip_path.stat().st_size


def workspace_binaries(*, include_fixtures: bool = False) -> list[str]:
    """Every `[[bin]]` in the workspace; test fixtures (tests/fixtures/*) only when asked."""
    out = subprocess.run(
        ["cargo", "metadata", "--no-deps", "--format-version", "1"],
        cwd=paths.ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    names: list[str] = []
    for package in json.loads(out)["packages"]:
        is_fixture = Path(package["manifest_path"]).resolve().is_relative_to(FIXTURES_DIR)
        if is_fixture and not include_fixtures:
            continue
        names += [t["name"] for t in package["targets"] if "bin" in t["kind"]]
    return sorted(names)


def _tool_env() -> dict[str, str]:
    """PATH with this venv's bin first, so cargo-lambda finds the pip-installed zig."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def check_arch_available(arch: str) -> None:
    if arch not in ARCH_TARGETS:
        raise BuildError(f"unknown arch {arch!r}: choose one of {', '.join(ARCH_TARGETS)}")
    target = ARCH_TARGETS[arch]
    if shutil.which("rustup") is None:
        return  # a non-rustup toolchain: let cargo report what is missing
    installed = subprocess.run(
        ["rustup", "target", "list", "--installed"], capture_output=True, text=True, check=False
    ).stdout.split()
    if target not in installed:
        raise BuildError(f"{arch} needs the Rust standard library for {target}: run `rustup target add {target}`")


def cargo_lambda() -> list[str]:
    exe = Path(sys.executable).parent / "cargo-lambda"
    if not exe.exists():
        found = shutil.which("cargo-lambda")
        if not found:
            raise BuildError("cargo-lambda not found: run `./inv setup` (it installs cargo-lambda and zig from PyPI)")
        exe = Path(found)
    return [str(exe), "lambda"]


# What a bootstrap is built from, beyond the environment and the tools: the workspace's crates (every file, as
# build scripts and include_bytes! read more than .rs files) and the workspace-wide files.
INPUT_DIRS = ("services", "shared", "tests/fixtures")
INPUT_FILES = (
    "Cargo.toml",
    "Cargo.lock",
    "rust-toolchain",
    "rust-toolchain.toml",
    ".cargo/config.toml",
    ".cargo/config",
)
SKIPPED_DIRS = frozenset({"target", "__pycache__", "node_modules", ".pytest_cache"})


def inputs_digest(profile: str, arch: str, binaries: list[str], root: Path = paths.ROOT) -> str:
    """A digest of what the build of `binaries` depends on, from metadata alone (a few ms): every input file's path,
    size and mtime, the CARGO*/RUST* environment, cargo-lambda and the installed toolchains (a toolchain update
    replaces its directory). Equal digests and untouched bootstraps mean cargo would do nothing."""
    digest = hashlib.sha256(f"{profile}|{arch}|{','.join(sorted(binaries))}|{root}".encode())
    files = [root / name for name in INPUT_FILES]
    for directory in INPUT_DIRS:
        for base, dirs, names in os.walk(root / directory):
            dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
            files += [Path(base, name) for name in sorted(names)]
    rustup = Path(os.environ.get("RUSTUP_HOME") or Path.home() / ".rustup") / "toolchains"
    tools = [Path(cargo_lambda()[0]), *(sorted(rustup.iterdir()) if rustup.is_dir() else [])]
    for path in [*files, *tools]:
        try:
            stat = path.stat()
        except OSError:
            continue
        digest.update(f"{path}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    for name in sorted(os.environ):
        if name.startswith(("CARGO", "RUST")):
            digest.update(f"{name}={os.environ[name]}\n".encode())
    return digest.hexdigest()


def _stamp_path(out_dir: Path, binaries: list[str]) -> Path:
    names = hashlib.sha256(",".join(sorted(binaries)).encode()).hexdigest()[:16]
    return out_dir / f".build-stamp-{names}.json"


def _outputs(out_dir: Path, binaries: list[str]) -> dict[str, list[int]]:
    """Size and mtime of each bootstrap and its zip: another build into the same directory changes them."""
    found: dict[str, list[int]] = {}
    for name in binaries:
        for path in (out_dir / name / "bootstrap", out_dir / name / "bootstrap.zip"):
            stat = path.stat()
            found[str(path)] = [stat.st_size, stat.st_mtime_ns]
    return found


def _artifact(out_dir: Path, name: str) -> Artifact:
    return Artifact(name, out_dir / name / "bootstrap", out_dir / name / "bootstrap.zip")


def _up_to_date(stamp: Path, digest: str, out_dir: Path, binaries: list[str]) -> bool:
    try:
        recorded = json.loads(stamp.read_text())
        return bool(recorded.get("inputs") == digest and recorded.get("outputs") == _outputs(out_dir, binaries))
    except (OSError, ValueError):
        return False


def build_bootstraps(
    binaries: list[str] | None = None,
    *,
    profile: str = "ci",
    arch: str = "x86_64",
    quiet: bool = False,
) -> dict[str, Artifact]:
    """Builds the given binaries (default: every service binary) and zips each bootstrap.

    Nothing runs when the inputs (`inputs_digest`) and the bootstraps are those of the last build of the same
    binaries: a no-op `cargo lambda build` still costs one to two seconds of cargo and cargo-lambda start-up."""
    check_arch_available(arch)
    binaries = binaries or workspace_binaries()
    out_dir = paths.lambda_dir(profile, arch)
    digest, stamp = inputs_digest(profile, arch, binaries), _stamp_path(out_dir, binaries)
    if _up_to_date(stamp, digest, out_dir, binaries):
        return {name: _artifact(out_dir, name) for name in binaries}
    stamp.unlink(missing_ok=True)
    cmd = [
        *cargo_lambda(),
        "build",
        "--profile",
        profile,
        "--target",
        ARCH_TARGETS[arch],
        "--lambda-dir",
        str(out_dir),
    ]
    for name in binaries:
        cmd += ["--bin", name]
    if quiet:
        cmd.append("--quiet")
    result = subprocess.run(cmd, cwd=paths.ROOT, env=_tool_env(), check=False)
    if result.returncode != 0:
        raise BuildError(f"cargo lambda build failed (exit {result.returncode}); the compiler output is above")
    artifacts = {name: _zip(name, out_dir / name / "bootstrap") for name in binaries}
    # Inputs as they were when cargo started: an edit during the build leaves a digest no later run matches.
    stamp.write_text(json.dumps({"inputs": digest, "outputs": _outputs(out_dir, binaries)}) + "\n")
    return artifacts


def bootstrap_path(binary: str, *, profile: str = "ci", arch: str = "x86_64") -> Path:
    return paths.lambda_dir(profile, arch) / binary / "bootstrap"


def _zip(binary: str, bootstrap: Path) -> Artifact:
    """Zip the bootstrap for Lambda, unless the zip already holds these exact bytes.

    cargo-lambda refreshes a bootstrap's mtime on every build, changed or not, so the zip is kept when the
    bootstrap's SHA-256 matches the one recorded beside it (deflating every bootstrap again cost ~20 s per no-op
    `./inv up`).
    """
    if not bootstrap.is_file():
        raise BuildError(f"cargo-lambda reported success but {bootstrap} is missing")
    zip_path = bootstrap.with_name("bootstrap.zip")
    digest_path = bootstrap.with_name("bootstrap.zip.sha256")
    if zip_path.exists() and zip_path.stat().st_mtime >= bootstrap.stat().st_mtime:
        return Artifact(binary, bootstrap, zip_path)
    data = bootstrap.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    recorded = digest_path.read_text().strip() if digest_path.exists() else ""
    if zip_path.exists() and recorded == digest:
        os.utime(zip_path)  # up to date: later runs skip even the hash
        return Artifact(binary, bootstrap, zip_path)
    info = zipfile.ZipInfo("bootstrap", date_time=(1980, 1, 1, 0, 0, 0))  # reproducible
    info.external_attr = 0o100755 << 16  # -rwxr-xr-x: Lambda executes it
    info.compress_type = zipfile.ZIP_DEFLATED
    partial = zip_path.with_name("bootstrap.zip.partial")
    with zipfile.ZipFile(partial, "w") as archive:
        archive.writestr(info, data, compresslevel=9)
    partial.replace(zip_path)  # never a half-written zip under the real name
    digest_path.write_text(digest + "\n")
    return Artifact(binary, bootstrap, zip_path)


def timed_build(binaries: list[str] | None, *, profile: str, arch: str) -> tuple[dict[str, Artifact], float]:
    started = time.monotonic()
    artifacts = build_bootstraps(binaries, profile=profile, arch=arch)
    return artifacts, time.monotonic() - started


def size_table(artifacts: dict[str, Artifact], seconds: float) -> str:
    """Markdown table: function, bootstrap size, zip size, plus the build's wall time."""
    lines = ["| binary | bootstrap | zip |", "|---|---:|---:|"]
    for name, art in sorted(artifacts.items()):
        lines.append(f"| {name} | {_human(art.bootstrap_bytes)} | {_human(art.zip_bytes)} |")
    lines.append(f"\nbuild time: {seconds:.1f} s")
    return "\n".join(lines)


def _human(n: int) -> str:
    return f"{n / 1024 / 1024:.2f} MiB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KiB"
