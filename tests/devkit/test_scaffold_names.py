"""`./inv new-service`'s refusals and its template language: fast, no cargo (the generation itself is tested in
test_scaffold_generate.py)."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest

from devkit import paths
from devkit.contract.cleanup import owned_keys
from devkit.errors import TaskFailure
from devkit.scaffold import names, registry, service
from devkit.scaffold.edits import insert_above_marker
from devkit.scaffold.render import render
from tests.devkit.scaffold_support import copy_checkout, tree_digest


@pytest.mark.parametrize("name", ["inventory", "stock-levels", "stock_levels", "a1", "orders2-v2"])
def test_valid_crate_names_are_accepted(name: str) -> None:
    assert names.check_syntax(name).name == name


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("", "required"),
        ("Inventory", "not a valid service name"),
        ("2fast", "not a valid service name"),
        ("-inventory", "not a valid service name"),
        ("inventory-", "not a valid service name"),
        ("stock--levels", "not a valid service name"),
        ("stock.levels", "not a valid service name"),
        ("über", "not a valid service name"),
        ("x" * 33, "at most 32"),
        ("async", "Rust keyword"),
        ("self", "Rust keyword"),
        ("type", "Rust keyword"),
        ("std", "reserved"),
        ("proc-macro", "reserved"),
        ("test", "reserved"),
        ("health", "reserved by the APIs"),
        ("docs", "reserved by the APIs"),
    ],
)
def test_invalid_names_are_refused_with_the_reason(name: str, why: str) -> None:
    with pytest.raises(names.ScaffoldError, match=why):
        names.check_syntax(name)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("blog", "services/blog already exists"),
        ("fat", "services/fat already exists"),
        ("platform", "shared/platform already exists"),
        ("probe", "tests/fixtures/probe already exists"),
        ("tokio", "crate named 'tokio' already exists"),
        ("aws-sdk-dynamodb", "crate named 'aws-sdk-dynamodb' already exists"),
        ("serde-json", "crate named 'serde-json' already exists"),  # cargo treats - and _ alike
        ("users", "resource or output named UsersTable"),
        ("posts", "/posts (or /health/posts) is already routed"),
        ("currencies", "resource or output named CurrenciesTable"),
        ("login-attempts", "resource or output named LoginAttemptsTable"),
        ("convert", "services/convert already exists"),
        ("currency-read", "already routed"),
        ("login", "already routed"),
        ("invoice", "route event named CreateInvoice"),  # the Fat function's events are named <Verb><Service>
    ],
)
def test_names_the_checkout_already_uses_are_refused(name: str, why: str) -> None:
    with pytest.raises(names.ScaffoldError, match=re.escape(why)):
        names.validate(name, paths.ROOT)


def test_a_free_name_passes_and_derives_every_name_from_it() -> None:
    derived = names.validate("stock-levels", paths.ROOT)
    assert (derived.crate, derived.pascal, derived.upper) == ("stock_levels", "StockLevels", "STOCK_LEVELS")
    assert (derived.function, derived.table, derived.table_env) == (
        "StockLevelsManager",
        "StockLevelsTable",
        "STOCK_LEVELS_TABLE",
    )
    assert derived.binary == "stock-levels-lambda"


def test_a_refused_name_writes_nothing(tmp_path: Path) -> None:
    copy = copy_checkout(tmp_path / "repo")
    before = tree_digest(copy)
    for name in ("blog", "Bad Name", "async"):
        with pytest.raises(names.ScaffoldError):
            service.generate(copy, name, openapi=False)
    assert tree_digest(copy) == before


def test_a_missing_anchor_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    copy = copy_checkout(tmp_path / "repo")
    lib = copy / "services/fat/src/lib.rs"
    lib.write_text("\n".join(line for line in lib.read_text().splitlines() if "new-service" not in line) + "\n")
    before = tree_digest(copy)
    with pytest.raises(names.ScaffoldError, match=re.escape("services/fat/src/lib.rs: expected one line with")):
        service.generate(copy, "inventory", openapi=False)
    assert tree_digest(copy) == before
    assert not (copy / "services/inventory").exists()


def test_without_a_table_there_is_no_table_dynamo_store_or_table_grant() -> None:
    plan = service.plan(paths.ROOT, "gadgets", table=False)
    crate = {path for path in plan.created if path.startswith("services/gadgets/")}
    assert "services/gadgets/src/store/memory.rs" in crate
    assert not {p for p in crate if "dynamo" in p}, crate
    template = plan.changed["infra/template.yaml"]
    assert "GadgetsManager:" in template and "GadgetsTable" not in template and "GADGETS_TABLE" not in template
    assert "aws-sdk-dynamodb" not in plan.created["services/gadgets/Cargo.toml"]
    assert "table = false" in plan.created["services/gadgets/Cargo.toml"]


def test_with_a_table_every_shared_file_gains_only_added_lines() -> None:
    plan = service.plan(paths.ROOT, "gadgets")
    for path, text in plan.changed.items():
        before = (paths.ROOT / path).read_text().splitlines()
        matcher = difflib.SequenceMatcher(a=before, b=text.splitlines(), autojunk=False)
        for op, i1, i2, _, _ in matcher.get_opcodes():
            # Pure insertions, except the dashboard's three widened metric lines.
            assert op in ("equal", "insert") or all('"${Fat}"' in line for line in before[i1:i2]), (path, op)
    template = plan.changed["infra/template.yaml"]
    for resource in ("GadgetsManager:", "GadgetsTable:", "GadgetsManagerLogGroup:", "GadgetsManagerErrorsAlarm:"):
        assert f"\n  {resource}" in template, resource
    assert template.count('["...", "${GadgetsManager}"]') == 3  # the dashboard's three AWS/Lambda widgets
    assert template.rstrip().endswith("Value: !Ref GadgetsTable")


def test_the_template_language_substitutes_and_drops_blocks() -> None:
    text = (
        "a {{name}}\n{{#if table}}\nwith {{UPPER}}\n{{/if}}\n{{#if !table}}\nwithout\n{{/if}}\nx{{#if table}}!{{/if}}\n"
    )
    assert render(text, {"name": "n", "UPPER": "N"}, {"table": True}) == "a n\nwith N\nx!\n"
    assert render(text, {"name": "n", "UPPER": "N"}, {"table": False}) == "a n\nwithout\nx\n"
    with pytest.raises(TaskFailure, match="unknown placeholder"):
        render("{{nope}}", {}, {})
    with pytest.raises(TaskFailure, match="unknown flag"):
        render("{{#if nope}}x{{/if}}", {}, {})


def test_an_anchor_must_be_unique() -> None:
    marker = "// (./inv new-service adds a service's router above this line.)\n"
    assert insert_above_marker("a\n" + marker, "router", "b", path="f") == "a\nb\n" + marker
    with pytest.raises(names.ScaffoldError, match="found 2"):
        insert_above_marker(marker + marker, "router", "b", path="f")


def test_the_suites_find_a_generated_service_by_its_manifest(tmp_path: Path) -> None:
    copy = copy_checkout(tmp_path / "repo")
    assert registry.generated(copy) == []
    service.write(copy, service.plan(copy, "gadgets"))
    service.write(copy, service.plan(copy, "widgets", table=False))
    found = {g.service.name: g for g in registry.generated(copy)}
    assert {name: g.table for name, g in found.items()} == {"gadgets": True, "widgets": False}
    gadgets, widgets = found["gadgets"], found["widgets"]
    assert ("dynamodb:Query", "GadgetsTable.Arn") in gadgets.lith_grants()
    assert gadgets.table_grants() <= gadgets.lith_grants()
    assert widgets.table_grants() == set()
    assert ("dynamodb:GetItem", "RevokedTokensTable.Arn") in widgets.lith_grants()
    assert {link[3] for link in gadgets.contract_links()} == {
        "get_gadgets_item",
        "update_gadgets_item",
        "delete_gadgets_item",
    }


def test_cleanup_deletes_only_the_test_accounts_items() -> None:
    items = [
        {"pk": {"S": "OWNER#u1"}, "sk": {"S": "ITEM#a"}, "owner_id": {"S": "u1"}},
        {"pk": {"S": "OWNER#u2"}, "sk": {"S": "ITEM#b"}, "owner_id": {"S": "u2"}},
    ]
    assert owned_keys(items, {"u1": "e2e-x@example.test"}) == [{"pk": {"S": "OWNER#u1"}, "sk": {"S": "ITEM#a"}}]
