"""The committed openapi.json is a valid OpenAPI 3.1 document and agrees with infra/template.yaml.

Static checks (no stack): every route of the lith API (HttpApi) is documented and every documented route is on
it, except the fat-only documentation routes; the fat API (FatApi) serves exactly the documented routes; the Fat
function's environment and IAM are the union of the liths'. The Rust test `committed_openapi_json_matches_the_code`
(services/fat/tests/api/openapi.rs) keeps openapi.json equal to what the code generates.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from devkit import paths
from devkit.localcloud import StackSpec, load_stack, parse_yaml

OPENAPI = paths.ROOT / "openapi.json"
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
# Served only by the fat function (the liths have no single document to serve).
FAT_ONLY = {"GET /openapi.json", "GET /docs", "GET /docs/{asset}"}
# The lith functions the fat one merges (the projector has no HTTP surface; ConvertLmi is convert's lith on HttpApi).
LITHS = ("AuthManager", "BlogManager", "BillingManager", "CurrencyRead", "CurrencyWrite", "ConvertLmi")
# Convert's SIGTERM drain budget: the fat function runs plain `lambda_http::run`, without the drain layer.
LITH_ONLY_ENV = {"SHUTDOWN_DRAIN_MS"}
# AuthManager alone reads its issuer from the AuthIssuer secret (JWT_ISSUER="", JWT_ISSUER_SECRET_ID): its own API's
# URL in its own environment would be a cycle. Fat pins the identity API in JWT_ISSUER like every verifier, so it
# mints tokens with the same `iss` and needs neither the secret's name nor the right to read it.
ISSUER_ENV = {"JWT_ISSUER", "JWT_ISSUER_SECRET_ID"}
ISSUER_SECRET = "-jwt-issuer-"


@cache
def document() -> dict[str, Any]:
    return json.loads(OPENAPI.read_text())


@cache
def stack() -> StackSpec:
    return load_stack(paths.TEMPLATE, parameters={"Stage": "local", "Architecture": "x86_64"})


@cache
def raw_template() -> dict[str, Any]:
    return parse_yaml(paths.TEMPLATE.read_bytes(), paths.TEMPLATE)


def documented_routes() -> set[str]:
    return {
        f"{method.upper()} {path}" for path, item in document()["paths"].items() for method in item if method in METHODS
    }


def api_routes(api: str) -> set[str]:
    return {route.route_key for route in stack().http_apis[api].routes}


def test_openapi_json_is_a_valid_openapi_3_1_document() -> None:
    doc = document()
    assert doc["openapi"].startswith("3.1")
    validate(doc, cls=OpenAPIV31SpecValidator)  # raises with the offending path on any violation
    assert "servers" not in doc, "servers stay relative to the document's own URL"


def test_validation_is_able_to_fail() -> None:
    broken = json.loads(OPENAPI.read_text())
    broken["paths"]["/convert"]["get"]["responses"] = "not a responses object"
    try:
        validate(broken, cls=OpenAPIV31SpecValidator)
    except Exception as err:  # the validator's own error types
        assert "responses" in str(err) or "not a responses object" in str(err)
    else:
        raise AssertionError("an invalid document passed validation")


def test_every_lith_route_is_documented_and_vice_versa() -> None:
    # The lith topology is two APIs: the identity API (auth) and HttpApi (every other module).
    lith = api_routes("AuthApi") | api_routes("HttpApi")
    documented = documented_routes() - FAT_ONLY
    assert sorted(lith - documented) == [], "lith routes missing from openapi.json"
    assert sorted(documented - lith) == [], "documented routes the liths do not serve"


def test_fat_api_serves_exactly_the_documented_routes() -> None:
    fat, documented = api_routes("FatApi"), documented_routes()
    assert fat == documented, f"only in FatApi: {fat - documented}; only documented: {documented - fat}"
    assert {route.function for route in stack().http_apis["FatApi"].routes} == {"Fat"}


def test_every_operation_documents_its_errors_and_parameters() -> None:
    for path, item in document()["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            statuses = set(operation["responses"])
            assert any(s.startswith("2") for s in statuses), f"{method} {path}: no success response"
            if "security" in operation:
                assert "401" in statuses, f"{method} {path} needs a token but does not document 401"
            params = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            expected = {segment[1:-1] for segment in path.split("/") if segment.startswith("{")}
            assert params == expected, f"{method} {path}: path parameters {params} != {expected}"


def test_fat_environment_is_the_union_of_the_liths() -> None:
    fat = stack().functions["Fat"].environment
    for lith in LITHS:
        for name, value in stack().functions[lith].environment.items():
            if name in LITH_ONLY_ENV or (lith == "AuthManager" and name in ISSUER_ENV):
                continue
            assert fat.get(name) == value, f"{lith}'s {name}={value!r}, Fat has {fat.get(name)!r}"


def _grants(function: str) -> set[tuple[str, str]]:
    """(action, resource) pairs of a function's inline policy statements, resources as canonical JSON."""
    out: set[tuple[str, str]] = set()
    for policy in raw_template()["Resources"][function]["Properties"].get("Policies", []):
        for statement in policy.get("Statement", []):
            assert statement["Effect"] == "Allow"
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            out |= {(a, json.dumps(r, sort_keys=True)) for a in actions for r in resources}
    return out


def test_fat_permissions_are_the_union_of_the_liths_without_wildcards() -> None:
    fat = _grants("Fat")
    for action, resource in fat:
        assert "*" not in action and "*" not in resource, f"wildcard in Fat's policy: {action} on {resource}"
    for lith in LITHS:
        for action, resource in _grants(lith):
            if resource.endswith('/index/*"}'):  # the lith's GSI wildcard: Fat names each index instead
                prefix = resource[: -len('*"}')]
                assert any(a == action and r.startswith(prefix) for a, r in fat), f"{lith}: {action} on {resource}"
            elif not (lith == "AuthManager" and ISSUER_SECRET in resource):
                assert (action, resource) in fat, f"{lith} may {action} on {resource}; Fat may not"
    lith_grants = set().union(*(_grants(lith) for lith in LITHS))
    lith_actions = {action for action, _ in lith_grants}
    assert {action for action, _ in fat} <= lith_actions, "Fat may do something no lith may"
