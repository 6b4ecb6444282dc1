"""`./inv new-service inventory` in a copy of the checkout, then what a fork would run: the new crate's tests,
cfn-lint on the template, `./inv openapi`'s generation, and the suites that derive from the template (least
privilege; OpenAPI ↔ template; Fat = union of the liths). Slow-ish (cargo): ~2 minutes with a warm target dir."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devkit.localcloud import parse_yaml
from devkit.quality.lint import tool
from devkit.scaffold import registry, service
from tests.devkit.scaffold_support import cargo_env, copy_checkout

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]
NAME = "inventory"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    copy = copy_checkout(tmp_path_factory.mktemp("scaffold") / "repo")
    with pytest.MonkeyPatch.context() as patch:
        # The generator's cargo runs (fmt, openapi) share the checkout's target dir.
        patch.setenv("CARGO_TARGET_DIR", cargo_env()["CARGO_TARGET_DIR"])
        service.generate(copy, NAME, openapi=True)
    yield copy


def run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, cwd=cwd, env=cargo_env(), capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(cmd)} failed:\n{done.stdout[-6000:]}\n{done.stderr[-6000:]}"
    return done


def test_openapi_json_holds_the_new_routes(generated: Path) -> None:
    document = json.loads((generated / "openapi.json").read_text())
    assert set(document["paths"]["/inventory"]) == {"get", "post"}
    assert set(document["paths"]["/inventory/{id}"]) == {"get", "put", "delete"}
    assert "/health/inventory" in document["paths"]
    assert document["paths"]["/inventory/{id}"]["put"]["operationId"] == "update_inventory_item"


def test_the_new_crates_router_and_store_tests_pass(generated: Path) -> None:
    done = run(["cargo", "test", "-p", NAME], generated)
    out = done.stdout
    assert "Running tests/api/main.rs" in done.stderr and "Running tests/dynamo/main.rs" in done.stderr
    passed = sum(int(line.split()[3]) for line in out.splitlines() if line.startswith("test result: ok."))
    assert passed >= 20, out[-3000:]


def test_cfn_lint_accepts_the_template(generated: Path) -> None:
    run([tool("cfn-lint"), "infra/template.yaml"], generated)


def test_the_template_suites_cover_the_new_service(generated: Path) -> None:
    assert [g.function for g in registry.generated(generated)] == ["InventoryManager"]
    suites = ["tests/infra/test_least_privilege.py", "tests/infra/test_safe_deploys.py"]
    suites += ["tests/system/e2e/test_fat_openapi.py"]
    cmd = [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", *suites]
    out = subprocess.run(cmd, cwd=generated, capture_output=True, text=True).stdout
    for stage in ("prod", "dev"):
        for role in ("InventoryManagerRole", "FatRole"):
            assert f"test_role_holds_exactly_the_expected_grants[{stage}-{role}] PASSED" in out, out[-3000:]
    for check in (
        "test_every_function_role_is_in_the_table",
        "test_no_wildcard_actions_or_resources",
        "test_every_lith_route_is_documented_and_vice_versa",
        "test_fat_api_serves_exactly_the_documented_routes",
        "test_every_operation_documents_its_errors_and_parameters",
        "test_prod_deploys_every_standard_function_through_codedeploy_with_its_alarms",
        "test_function_alarms_watch_the_live_alias",
        "test_the_hook_probes_exactly_the_functions_codedeploy_deploys",
        "test_routes_probed_are_routes_of_that_function",
    ):
        assert re.search(rf"::{check}(\[\w+\])? PASSED", out), (check, out[-3000:])
    # Fat's environment and IAM are the union of the liths' (checked here for the new function alone, so another
    # lith's drift cannot hide it).
    failures = out.partition("= FAILURES =")[2]
    assert "Inventory" not in failures and "INVENTORY" not in failures, failures[-3000:]
    resources = parse_yaml((generated / "infra/template.yaml").read_bytes(), generated / "infra/template.yaml")
    lith, fat = resources["Resources"]["InventoryManager"], resources["Resources"]["Fat"]
    lith_env = lith["Properties"]["Environment"]["Variables"]
    assert lith_env.items() <= fat["Properties"]["Environment"]["Variables"].items()
    assert lith_env["INVENTORY_TABLE"] == {"Ref": "InventoryTable"}

    def grants(function: dict) -> set[tuple[str, str]]:
        statements = [s for policy in function["Properties"]["Policies"] for s in policy["Statement"]]
        as_list = lambda value: value if isinstance(value, list) else [value]  # noqa: E731
        return {
            (a, json.dumps(r, sort_keys=True))
            for s in statements
            for a in as_list(s["Action"])
            for r in as_list(s["Resource"])
        }

    assert grants(lith) <= grants(fat)


def test_the_fat_lambda_serves_it(generated: Path) -> None:
    out = run(["cargo", "test", "-p", "fat", "--test", "api"], generated).stdout
    assert "FAILED" not in out
