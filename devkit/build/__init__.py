"""Lambda bootstraps: built with cargo-lambda (`bootstraps`), checked for the glibc Lambda provides (`glibc`), and
rebuilt when the sources change (`watch`). The names below are the package's public API."""

from devkit.build.bootstraps import (
    Artifact,
    BuildError,
    bootstrap_path,
    build_bootstraps,
    cargo_lambda,
    check_arch_available,
    size_table,
    timed_build,
    workspace_binaries,
)

__all__ = [
    "Artifact",
    "BuildError",
    "bootstrap_path",
    "build_bootstraps",
    "cargo_lambda",
    "check_arch_available",
    "size_table",
    "timed_build",
    "workspace_binaries",
]
