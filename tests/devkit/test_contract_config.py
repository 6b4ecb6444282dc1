"""The contract run's configuration: links fit the committed document, edge 401s, legs and CLI flags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devkit.contract import links as contract_links
from devkit.contract.run import CONFIG_FILE, EXCLUDED_CHECKS, ContractOptions, legs, schemathesis_command
from devkit.targets import TargetError
from devkit.targets.endpoints import Endpoints
from tests.conftest import ROOT

DOCUMENT = json.loads((ROOT / "openapi.json").read_text())


def operations(doc: dict) -> dict[str, dict]:
    return {op["operationId"]: op for item in doc["paths"].values() for op in item.values() if isinstance(op, dict)}


def test_every_link_joins_documented_operations_and_parameters() -> None:
    doc = contract_links.contract_document(DOCUMENT)
    ops = operations(doc)
    count = 0
    for op in ops.values():
        for response in op["responses"].values():
            for name, link in response.get("links", {}).items():
                count += 1
                target = ops[link["operationId"]]
                declared = {f"{p['in']}.{p['name']}" for p in target.get("parameters", [])}
                assert set(link.get("parameters", {})) <= declared, name
    assert count == len(contract_links.all_links())
    assert "links" not in json.dumps(DOCUMENT), "the committed document itself stays the code's output"


def test_the_crud_and_invoice_payment_chains_are_linked() -> None:
    pairs = {(source, target) for source, _, _, target, _, _ in contract_links.LINKS}
    for pair in [
        ("create_post", "get_post"),
        ("create_post", "update_post"),
        ("create_post", "delete_post"),
        ("create_invoice", "create_payment"),
        ("create_payment", "get_payment"),
        ("create_currency", "get_command"),
    ]:
        assert pair in pairs


def test_a_link_to_an_unknown_operation_is_refused() -> None:
    broken = [("create_post", "201", "Nowhere", "no_such_operation", {}, None)]
    original = contract_links.LINKS
    contract_links.LINKS = broken
    try:
        with pytest.raises(KeyError, match="no_such_operation"):
            contract_links.with_links(DOCUMENT)
    finally:
        contract_links.LINKS = original


def test_the_committed_document_has_the_edge_401_on_every_secured_operation() -> None:
    """The edge authorizer's 401 is in openapi.json itself (platform::openapi::EdgeAuthorizerResponses)."""
    secured = 0
    for op_id, op in operations(DOCUMENT).items():
        content = op["responses"].get("401", {}).get("content", {})
        if op.get("security"):
            secured += 1
            assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/EdgeUnauthorized"}, op_id
            assert "application/problem+json" in content, op_id
        else:
            assert "application/json" not in content, op_id
    assert secured >= 15, "every module's writes are secured"
    edge = DOCUMENT["components"]["schemas"]["EdgeUnauthorized"]
    assert edge["required"] == ["message"] and edge["properties"]["message"]["type"] == "string"


def test_the_contract_document_adds_only_links() -> None:
    doc = contract_links.contract_document(DOCUMENT)
    for op_id, op in operations(doc).items():
        original = operations(DOCUMENT)[op_id]
        for status, response in op["responses"].items():
            stripped = {k: v for k, v in response.items() if k != "links"}
            assert stripped == original["responses"][status], (op_id, status)


def test_lith_runs_the_identity_api_and_http_api_fat_one_api() -> None:
    lith = legs("lith", "http://api", "http://auth")
    assert [(name, url) for name, url, _ in lith] == [("identity", "http://auth"), ("services", "http://api")]
    identity_filters, services_filters = lith[0][2], lith[1][2]
    assert "stateful" not in identity_filters[identity_filters.index("--phases") + 1]
    assert services_filters.count("--exclude-path-regex") == 1  # schemathesis keeps only the last one
    assert legs("fat", "http://fat", "http://fat") == [("fat", "http://fat", [])]


def test_the_command_turns_every_check_on_but_the_documented_exclusions() -> None:
    cmd = schemathesis_command(ContractOptions(examples=7, seed=42), Path("s.json"), "http://x", Path("r"), [])
    joined = " ".join(cmd)
    assert "--checks all" in joined and f"--exclude-checks {','.join(EXCLUDED_CHECKS)}" in joined
    assert EXCLUDED_CHECKS == ("unsupported_method",)  # positive_data_acceptance runs: the document states the rules
    assert "--mode all" in joined and "--max-examples 7" in joined and "--seed 42" in joined
    assert "--report junit,html,ndjson" in joined
    assert cmd[cmd.index("--config-file") + 1] == str(CONFIG_FILE) and cmd.index("--config-file") < cmd.index("run")
    assert "stateful" in cmd[cmd.index("--phases") + 1]
    assert "--seed" not in schemathesis_command(ContractOptions(), Path("s"), "http://x", Path("r"), [])


def test_fat_topology_needs_a_fat_api() -> None:
    where = Endpoints("http://api", "http://auth", None, None, "somewhere")
    assert where.base_for("lith") == ("http://api", "http://auth")
    with pytest.raises(TargetError, match="no fat API"):
        where.base_for("fat")


def test_refusals_of_invalid_data_include_412_and_413() -> None:
    from schemathesis.config import SchemathesisConfig

    checks = SchemathesisConfig.from_path(str(CONFIG_FILE)).projects.default.checks
    statuses = checks.negative_data_rejection.expected_statuses
    assert {"412", "413", "400", "422"} <= set(statuses)
    assert checks.positive_data_acceptance.expected_statuses == ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]


def test_only_the_version_or_if_match_rule_widens_what_valid_data_may_get() -> None:
    from schemathesis.config import SchemathesisConfig

    project = SchemathesisConfig.from_path(str(CONFIG_FILE)).projects.default
    widened = [op for op in project.operations.operations if op.checks.positive_data_acceptance.enabled]
    assert len(widened) == 1
    statuses = set(widened[0].checks.positive_data_acceptance.expected_statuses)
    assert statuses - set(project.checks.positive_data_acceptance.expected_statuses) == {"412", "428"}
    assert "422" not in statuses and "400" not in statuses
