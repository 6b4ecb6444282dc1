"""Insertions into files the services share, each at a marked anchor (a comment line such as
`# (./inv new-service adds a service's routes above this line.)`) or at a line found by its exact start, so every
change is a block of added lines in review. A missing or repeated anchor is an error naming the file."""

from __future__ import annotations

import re

from devkit.scaffold.names import ScaffoldError, ServiceName
from devkit.scaffold.render import render_file

MARK = "(./inv new-service adds a service's {what} above this line.)"


def insert_above_marker(text: str, what: str, block: str, *, path: str) -> str:
    """``block`` inserted above the one line holding the ``what`` marker."""
    marker = MARK.format(what=what)
    lines = text.splitlines(keepends=True)
    found = [i for i, line in enumerate(lines) if marker in line]
    if len(found) != 1:
        raise ScaffoldError(f"{path}: expected one line with {marker!r}, found {len(found)}; restore it and retry")
    if block and not block.endswith("\n"):
        block += "\n"
    return "".join([*lines[: found[0]], block, *lines[found[0] :]])


def insert_above_line(text: str, starts_with: str, block: str, *, path: str) -> str:
    """``block`` inserted above the one line that starts with ``starts_with``."""
    lines = text.splitlines(keepends=True)
    found = [i for i, line in enumerate(lines) if line.startswith(starts_with)]
    if len(found) != 1:
        raise ScaffoldError(f"{path}: expected one line starting with {starts_with!r}, found {len(found)}")
    return "".join([*lines[: found[0]], block if block.endswith("\n") else block + "\n", *lines[found[0] :]])


# The dashboard's three AWS/Lambda widgets end their metric list with `["...", "${Fn}"]]}}`.
_DASHBOARD_LAST = re.compile(r'(\["\.\.\.", "\$\{[A-Za-z0-9]+\}"\])(\]\}\},?)$', re.MULTILINE)


def template(text: str, service: ServiceName, table: bool) -> str:
    """infra/template.yaml with the service's resources, its part of the Fat function, dashboard lines, output."""
    path = "infra/template.yaml"
    values, flags = service.placeholders(), {"table": table}

    def part(name: str) -> str:
        return render_file(f"infra/{name}.yaml", values, flags)

    text = insert_above_marker(text, "function, table, log group and alarms", part("resources"), path=path)
    text = insert_above_marker(text, "variables", part("fat-environment"), path=path)
    text = insert_above_marker(text, "statement", part("fat-policy"), path=path)
    text = insert_above_marker(text, "routes", part("fat-events"), path=path)
    # The pre-traffic hook probes the new version (its health and one authenticated read) and may invoke it.
    fn, name = service.function, service.name
    probe = '            "${' + fn + '}":{"health":"GET /health/' + name + '","authenticated":"GET /' + name + '"},'
    text = insert_above_line(text, '            "${AuthManager}":{', probe, path=path)
    grant = '                - !Sub "${' + fn + '.Arn}:*"'
    text = insert_above_line(text, '                - !Sub "${AuthManager.Arn}:*"', grant, path=path)
    text, widgets = _DASHBOARD_LAST.subn(rf'\1, ["...", "${{{service.function}}}"]\2', text)
    if widgets != 3:
        raise ScaffoldError(f"{path}: expected the dashboard's three AWS/Lambda widgets, found {widgets}")
    outputs = part("outputs")
    if outputs:
        if not re.search(r"^Outputs:\n(?:(?:  .*|)\n)*\Z", text, flags=re.MULTILINE):
            raise ScaffoldError(f"{path}: Outputs is no longer the last section; add {service.table}Name by hand")
        text = text.rstrip("\n") + "\n" + outputs
    return text


def fat(files: dict[str, str], service: ServiceName) -> dict[str, str]:
    """The fat Lambda's files (relative path → text) with the service merged in."""
    n, c = service.name, service.crate
    blocks = {
        "services/fat/Cargo.toml": [("crate", f'{n} = {{ path = "../{n}" }}\n')],
        "services/fat/src/lib.rs": [("router", f"        .merge({c}::app(state.{c}))\n")],
        "services/fat/src/state.rs": [
            ("state", f"    pub {c}: {c}::AppState,\n"),
            (
                "from_env",
                f"            {c}: {c}::AppState::from_env(env, sdk)\n"
                f"                .await\n"
                f'                .map_err(config("{n}"))?,\n',
            ),
            ("verifier", f"        self.{c}.verifier = verifier.clone();\n"),
        ],
        "services/fat/src/openapi.rs": [
            (
                "fragment",
                f'        Fragment {{\n            service: "{n}",\n            api: {c}::openapi(),\n        }},\n',
            ),
            ("health route", f'    "{n}",\n'),
        ],
        # A placeholder verifier, as for the others: `sharing_auth_verifier` puts auth's in its place.
        "services/fat/tests/api/helpers.rs": [
            ("state", f"        {c}: {c}::AppState::in_memory(pages(), TestIssuer::new().verifier()),\n")
        ],
    }
    out = {}
    for path, inserts in blocks.items():
        text = files[path]
        for what, block in inserts:
            text = insert_above_marker(text, what, block, path=path)
        out[path] = text
    return out


def readme(text: str, service: ServiceName, table: bool) -> str:
    """The services table of README.md gains the service's row (above the fat Lambda's `all` row)."""
    n, where = service.name, "" if table else "; no table: items live in memory per environment"
    routes = f"`POST/GET /{n}`, `GET/PUT/DELETE /{n}/{{id}}` (the caller's own items{where})"
    row = f"| {n} | {routes} | {service.function} |\n"
    return insert_above_line(text, "| all | every route above", row, path="README.md")


def architecture(text: str, service: ServiceName, table: bool) -> str:
    """ARCHITECTURE.md's code map gains the service's paragraph (above the test fixtures)."""
    n = service.name
    stores = f"in-memory and DynamoDB (`{service.table}`) stores" if table else "an in-memory store (no table)"
    line = (
        f"- `services/{n}` — items at `/{n}` owned by their creator: optimistic concurrency (`If-Match`),\n"
        f"  cursor pagination, {stores}; generated by `./inv new-service`.\n"
    )
    return insert_above_line(text, "- `tests/fixtures/probe`", line, path="ARCHITECTURE.md")
