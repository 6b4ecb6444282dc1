"""What a generated service may be called, and the names derived from it.

A name is a crate name: lowercase ASCII letters and digits, words joined by single `-` or `_`, starting with a
letter, at most 32 characters. It must clash with nothing: not a Rust keyword or a standard crate, not a package of
the workspace or of Cargo.lock (cargo treats `-` and `_` alike), not a directory under services/, shared/ or
tests/fixtures/, and none of the names it derives (functions, table, environment variable, routes) may exist in the
template or the OpenAPI document already.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from devkit.errors import TaskFailure

MAX_CHARS = 32
PATTERN = re.compile(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*")
# Strict and reserved keywords of every edition, and the names `extern crate` reserves.
_KEYWORDS = """as async await break const continue crate dyn else enum extern false fn for if impl in let loop match
mod move mut pub ref return self static struct super trait true type unsafe use where while abstract become box do
final gen macro override priv try typeof unsized virtual yield union"""
KEYWORDS = frozenset(_KEYWORDS.split())
RESERVED_CRATES = frozenset({"std", "core", "alloc", "proc_macro", "test", "build", "main", "lib", "src", "tests"})
# Paths the APIs already route or reserve (beside what the template and openapi.json show).
RESERVED_PATHS = frozenset({"health", "docs", "openapi.json", "well-known"})


class ScaffoldError(TaskFailure):
    """A name or a checkout the generator refuses; nothing has been written."""


def _derived(template: str) -> property:
    """A read-only attribute: `template` filled with the name's placeholders (see `ServiceName.placeholders`)."""
    return property(lambda service: template.format(**service.placeholders()))


@dataclass(frozen=True)
class ServiceName:
    """`stock-levels` → crate `stock-levels`, ident `stock_levels`, `StockLevels`, `STOCK_LEVELS`."""

    name: str

    @property
    def crate(self) -> str:
        return self.name.replace("-", "_")

    @property
    def pascal(self) -> str:
        return "".join(word.capitalize() for word in re.split(r"[-_]", self.name))

    @property
    def upper(self) -> str:
        return self.crate.upper()

    def placeholders(self) -> dict[str, str]:
        return {"name": self.name, "crate": self.crate, "Pascal": self.pascal, "UPPER": self.upper}

    # Names made from the placeholders: `StockLevelsManager`, `StockLevelsTable`, `STOCK_LEVELS_TABLE`, ...
    function = _derived("{Pascal}Manager")
    table = _derived("{Pascal}Table")
    table_env = _derived("{UPPER}_TABLE")
    binary = _derived("{name}-lambda")


def check_syntax(name: str) -> ServiceName:
    """The name's own rules (no checkout needed)."""
    if not name:
        raise ScaffoldError("a service name is required, e.g. `./inv new-service inventory`")
    if len(name) > MAX_CHARS:
        raise ScaffoldError(f"{name!r} is {len(name)} characters long; at most {MAX_CHARS}")
    if not PATTERN.fullmatch(name):
        raise ScaffoldError(
            f"{name!r} is not a valid service name: use lowercase letters and digits, words joined by single '-' or "
            "'_', starting with a letter (e.g. inventory, stock-levels)"
        )
    if name.replace("-", "_") in KEYWORDS or name in KEYWORDS:
        raise ScaffoldError(f"{name!r} is a Rust keyword; it cannot name a crate")
    if name.replace("-", "_") in RESERVED_CRATES:
        raise ScaffoldError(f"{name!r} is reserved (a standard crate or a cargo target name); choose another")
    if name in RESERVED_PATHS:
        raise ScaffoldError(f"/{name} is reserved by the APIs; choose another name")
    return ServiceName(name)


def _normal(name: str) -> str:
    return name.replace("-", "_").lower()


def _workspace_crates(root: Path) -> set[str]:
    crates = set()
    for manifest in root.glob("*/*/Cargo.toml"):
        package = tomllib.loads(manifest.read_text()).get("package", {})
        if "name" in package:
            crates.add(_normal(package["name"]))
    lock = root / "Cargo.lock"
    if lock.exists():
        crates |= {_normal(p["name"]) for p in tomllib.loads(lock.read_text()).get("package", [])}
    return crates


def _routed_segments(template: str, openapi: dict) -> set[str]:
    paths = set(re.findall(r"^\s*Path:\s*(/\S*)", template, flags=re.MULTILINE)) | set(openapi.get("paths", {}))
    return {path.strip("/").split("/")[0].lstrip(".") for path in paths} | {
        path.strip("/").split("/")[1] for path in paths if path.startswith("/health/")
    }


def check_free(service: ServiceName, root: Path) -> None:
    """Refuses a name something in the checkout already uses (crate, directory, template name, route)."""
    for folder in ("services", "shared", "tests/fixtures"):
        if (root / folder / service.name).exists():
            raise ScaffoldError(f"{folder}/{service.name} already exists")
    if _normal(service.name) in _workspace_crates(root):
        raise ScaffoldError(f"a crate named {service.name!r} already exists in the workspace or its dependencies")
    template = (root / "infra" / "template.yaml").read_text()
    logical_ids = set(re.findall(r"^  ([A-Za-z0-9]+):", template, flags=re.MULTILINE))
    for taken in (service.function, service.table, f"{service.function}LogGroup", f"{service.table}Name"):
        if taken in logical_ids:
            raise ScaffoldError(f"the template already has a resource or output named {taken}")
    if re.search(rf"^\s*{service.table_env}:", template, flags=re.MULTILINE):
        raise ScaffoldError(f"the template already sets {service.table_env}; choose another name")
    openapi_file = root / "openapi.json"
    openapi = json.loads(openapi_file.read_text()) if openapi_file.exists() else {}
    if service.name in _routed_segments(template, openapi):
        raise ScaffoldError(f"/{service.name} (or /health/{service.name}) is already routed; choose another name")
    events = set(re.findall(r"^        ([A-Za-z0-9]+):\n          Type: HttpApi", template, flags=re.MULTILINE))
    for verb in ("Health", "List", "Create", "Get", "Update", "Delete"):
        if f"{verb}{service.pascal}" in events:
            raise ScaffoldError(f"the template already has a route event named {verb}{service.pascal}; choose another")


def validate(name: str, root: Path) -> ServiceName:
    service = check_syntax(name)
    check_free(service, root)
    return service
