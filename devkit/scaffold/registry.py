"""The generated services of a checkout: every `services/*/Cargo.toml` with a `[package.metadata.scaffold]` table
(`./inv new-service` writes it). The least-privilege, OpenAPI/template and contract suites read this list, so a
generated service is covered by them without editing them; a service that outgrows its generated shape drops
the table and gets its own entries there."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from devkit import paths
from devkit.scaffold.names import ServiceName

# What a generated function may do with its own table (services/<name>/src/store/dynamo.rs).
TABLE_ACTIONS = ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query")


@dataclass(frozen=True)
class Generated:
    service: ServiceName
    table: bool

    @property
    def function(self) -> str:
        return self.service.function

    def lith_grants(self) -> set[tuple[str, str]]:
        """(action, resource) of the lith function's role, resources as the least-privilege test spells them."""
        revocations = ("dynamodb:GetItem", "RevokedTokensTable.Arn")
        return {revocations, ("secretsmanager:GetSecretValue", "PaginationKeySecret")} | self.table_grants()

    def table_grants(self) -> set[tuple[str, str]]:
        """What the service adds to the Fat function's role."""
        if not self.table:
            return set()
        return {(f"dynamodb:{action}", f"{self.service.table}.Arn") for action in TABLE_ACTIONS}

    def contract_links(self) -> list[tuple[str, str, str, str, dict[str, str], None]]:
        """schemathesis links: create → get/update/delete, get → update (operation ids from the fragment)."""
        c, pascal = self.service.crate, self.service.pascal
        by_id = {"path.id": "$response.body#/id"}
        if_match = {**by_id, "header.If-Match": "$response.header.ETag"}
        return [
            (f"create_{c}_item", "201", f"Get{pascal}Item", f"get_{c}_item", by_id, None),
            (f"create_{c}_item", "201", f"Update{pascal}Item", f"update_{c}_item", if_match, None),
            (f"create_{c}_item", "201", f"Delete{pascal}Item", f"delete_{c}_item", by_id, None),
            (f"get_{c}_item", "200", f"UpdateFetched{pascal}Item", f"update_{c}_item", if_match, None),
        ]


def generated(root: Path = paths.ROOT) -> list[Generated]:
    found = []
    for manifest in sorted((root / "services").glob("*/Cargo.toml")):
        package = tomllib.loads(manifest.read_text()).get("package", {})
        scaffold = package.get("metadata", {}).get("scaffold")
        if scaffold is not None:
            found.append(Generated(ServiceName(package["name"]), bool(scaffold.get("table", True))))
    return found
