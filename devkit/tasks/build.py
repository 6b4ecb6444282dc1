"""Tasks: setup, build, lock, openapi."""

from __future__ import annotations

from invoke import Context, task

from devkit.tasks import calls, exits

setup = calls(
    "setup",
    "devkit.quality.suite:setup",
    "Check and install what the build needs: Python deps (done by ./inv), cargo-lambda + zig, rustfmt, clippy.",
)


@task(
    help={
        "function": "Binary to build (repeatable); default: every service binary",
        "arch": "x86_64 (default; what the local cloud runs) or arm64 (needs the aarch64 Rust std)",
        "debug": "Unoptimised build (cargo's dev profile)",
        "profile": "Cargo profile: release (default; deploys, benchmarks) or ci (fast builds for tests)",
    },
    iterable=["function"],
)
@exits()
def build(
    c: Context, function: list[str] | None = None, arch: str = "x86_64", debug: bool = False, profile: str = "release"
) -> None:
    """Build Lambda bootstraps with cargo-lambda for provided.al2023 and print their sizes."""
    from devkit.build import commands

    commands.build_checked(function or None, profile="dev" if debug else profile, arch=arch)


lock = calls(
    "lock",
    "devkit.build.commands:lock",
    "Re-resolve pyproject.toml's dependencies into requirements.lock (exact transitive pins).",
)
openapi = calls(
    "openapi",
    "devkit.build.commands:openapi",
    "Regenerate openapi.json (repository root): the fat Lambda's OpenAPI 3.1 document, generated from the code.",
)
