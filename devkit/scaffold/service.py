"""`./inv new-service NAME [--no-table]`: a working service crate, its template resources, its place in the fat
Lambda and in the docs, and its end-to-end test.

Everything is planned in memory first (every check, every render, every anchor found); only then are files
written, so a refused name or a missing anchor leaves the checkout untouched. Afterwards `cargo fmt` formats the
new crate (line widths depend on the name) and `./inv openapi`'s generation runs unless told not to.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from devkit.scaffold import edits, names
from devkit.scaffold.render import TEMPLATES, render_file

SERVICE_TEMPLATES = TEMPLATES / "service"
SHARED = (
    "infra/template.yaml",
    "services/fat/Cargo.toml",
    "services/fat/src/lib.rs",
    "services/fat/src/state.rs",
    "services/fat/src/openapi.rs",
    "services/fat/tests/api/helpers.rs",
    "README.md",
    "ARCHITECTURE.md",
)
# Files of the crate only a service with a table has.
TABLE_ONLY = {"src/store/dynamo.rs", "tests/dynamo/main.rs", "tests/dynamo/helpers.rs", "tests/dynamo/store.rs"}


@dataclass
class Plan:
    service: names.ServiceName
    table: bool
    created: dict[str, str] = field(default_factory=dict)  # relative path → text (new files)
    changed: dict[str, str] = field(default_factory=dict)  # relative path → text (shared files)

    def summary(self) -> str:
        lines = [f"new-service: {self.service.name} ({'with' if self.table else 'without'} a table)"]
        lines += [f"  created  {path}" for path in sorted(self.created)]
        lines += [f"  changed  {path}" for path in sorted(self.changed)]
        return "\n".join(lines)


def _crate_files(service: names.ServiceName, table: bool) -> dict[str, str]:
    values, flags = {**service.placeholders(), "table": str(table).lower()}, {"table": table}
    files = {}
    for template in sorted(SERVICE_TEMPLATES.rglob("*.tmpl")):
        relative = template.relative_to(SERVICE_TEMPLATES).as_posix().removesuffix(".tmpl")
        if relative in TABLE_ONLY and not table:
            continue
        target = f"src/bin/{service.binary}.rs" if relative == "src/bin/lambda.rs" else relative
        files[f"services/{service.name}/{target}"] = render_file(f"service/{relative}", values, flags)
    return files


def plan(root: Path, name: str, *, table: bool = True) -> Plan:
    """What generating ``name`` in ``root`` writes; raises `ScaffoldError` (nothing written) when it cannot."""
    service = names.validate(name, root)
    missing = [path for path in SHARED if not (root / path).is_file()]
    if missing:
        raise names.ScaffoldError(f"not a checkout of this project (missing {', '.join(missing)})")
    shared = {path: (root / path).read_text() for path in SHARED}
    result = Plan(service, table)
    result.created = _crate_files(service, table)
    e2e = f"tests/system/e2e/test_{service.crate}_flow.py"
    if (root / e2e).exists():
        raise names.ScaffoldError(f"{e2e} already exists")
    result.created[e2e] = render_file("e2e/test_flow.py", service.placeholders(), {"table": table})
    result.changed["infra/template.yaml"] = edits.template(shared["infra/template.yaml"], service, table)
    result.changed.update(edits.fat(shared, service))
    result.changed["README.md"] = edits.readme(shared["README.md"], service, table)
    result.changed["ARCHITECTURE.md"] = edits.architecture(shared["ARCHITECTURE.md"], service, table)
    return result


def write(root: Path, result: Plan) -> None:
    for path, text in {**result.created, **result.changed}.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def generate(root: Path, name: str, *, table: bool = True, openapi: bool = True) -> Plan:
    """Plans, writes, formats the Rust it wrote and (``openapi``) regenerates openapi.json."""
    result = plan(root, name, table=table)
    write(root, result)
    subprocess.run(["cargo", "fmt", "-p", result.service.name, "-p", "fat"], cwd=root, check=True)
    if openapi:
        from devkit.build import commands

        commands.openapi(root)
    return result
