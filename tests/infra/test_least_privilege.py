"""Least privilege, per function role, on the template as CloudFormation receives it (SAM-expanded offline).

EXPECTED lists every (action, resource) a role's inline policies grant and the managed policies SAM attaches.
A template change that widens (or narrows) a policy fails here until this table is updated in the same change.
Managed policies SAM attaches, and what they grant:
- AWSLambdaBasicExecutionRole: logs:CreateLogGroup/CreateLogStream/PutLogEvents on `*` (AWS-managed; every function).
- AWSLambdaSQSQueueExecutionRole: what a SAM `Type: SQS` event attaches (the poller's actions on `*`); the
  template uses an explicit EventSourceMapping and an inline statement on CommandsQueue instead, so it must not
  appear (it is not in ALLOWED_MANAGED).
- AWSXrayWriteOnlyAccess: attached when Tracing: Active (xray:PutTraceSegments/PutTelemetryRecords need `*`).
- AWSLambdaManagedEC2ResourceOperator: the LMI capacity provider's operator role (not a function role).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from devkit import paths
from devkit.localcloud import expand
from devkit.scaffold import registry

BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
XRAY = "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"
# Managed policies allowed on a function role (anything else fails the test).
ALLOWED_MANAGED = {BASIC, XRAY}

_DDB_BLOG = ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem", "BatchWriteItem", "Query"]
_DDB_BILLING = ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"]


def _ddb(actions: list[str], *resources: str) -> set[tuple[str, str]]:
    return {(f"dynamodb:{a}", r) for a in actions for r in resources}


EXPECTED: dict[str, tuple[set[str], set[tuple[str, str]]]] = {
    "AuthManagerRole": (
        {BASIC},
        _ddb(["GetItem", "PutItem"], "UsersTable.Arn", "RevokedTokensTable.Arn")
        | _ddb(["GetItem", "UpdateItem"], "LoginAttemptsTable.Arn")
        | {("secretsmanager:GetSecretValue", "AuthSigningKey")}
        | {
            (
                "secretsmanager:GetSecretValue",
                "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${AWS::StackName}-jwt-issuer-??????",
            )
        },
    ),
    "BlogManagerRole": (
        {BASIC},
        _ddb(_DDB_BLOG, "BlogTable.Arn", "${BlogTable.Arn}/index/*")
        | _ddb(["GetItem"], "RevokedTokensTable.Arn")
        | {("secretsmanager:GetSecretValue", "PaginationKeySecret")},
    ),
    "BillingManagerRole": (
        {BASIC},
        _ddb(_DDB_BILLING, "BillingTable.Arn")
        | _ddb(["GetItem"], "CurrenciesTable.Arn", "RevokedTokensTable.Arn")
        | {("secretsmanager:GetSecretValue", "PaginationKeySecret")},
    ),
    "CurrencyReadRole": ({BASIC}, _ddb(["GetItem", "Query", "Scan"], "CurrenciesTable.Arn")),
    "CurrencyWriteRole": (
        {BASIC},
        _ddb(["PutItem", "GetItem"], "CommandsTable.Arn")
        | _ddb(["GetItem"], "RevokedTokensTable.Arn")
        | {("sqs:SendMessage", "CommandsQueue.Arn")},
    ),
    "CurrencyProjectorRole": (
        {BASIC},
        _ddb(["PutItem", "UpdateItem", "GetItem"], "CurrenciesTable.Arn", "CommandsTable.Arn")
        | {(f"sqs:{a}", "CommandsQueue.Arn") for a in ("ReceiveMessage", "DeleteMessage", "GetQueueAttributes")},
    ),
    "ConvertLmiRole": ({BASIC}, _ddb(["GetItem"], "CurrenciesTable.Arn")),
    "ConvertRole": ({BASIC}, _ddb(["GetItem"], "CurrenciesTable.Arn")),
    "FatRole": (
        {BASIC},
        _ddb(["GetItem", "PutItem"], "UsersTable.Arn", "RevokedTokensTable.Arn")
        | _ddb(["GetItem", "UpdateItem"], "LoginAttemptsTable.Arn")
        | _ddb(_DDB_BLOG, "BlogTable.Arn", "${BlogTable.Arn}/index/author-index", "${BlogTable.Arn}/index/feed-index")
        | _ddb(_DDB_BILLING, "BillingTable.Arn")
        | _ddb(["GetItem", "Query", "Scan"], "CurrenciesTable.Arn")
        | _ddb(["PutItem", "GetItem"], "CommandsTable.Arn")
        | {("sqs:SendMessage", "CommandsQueue.Arn")}
        | {("secretsmanager:GetSecretValue", s) for s in ("AuthSigningKey", "PaginationKeySecret")},
    ),
}
# The micro-Lambda blog: each function holds only its operation's actions (a read function cannot write).
_MICRO_BLOG = {
    "ListPosts": (["Query"], "${BlogTable.Arn}/index/*", False),
    "CreatePost": (["PutItem"], "BlogTable.Arn", True),
    "GetPost": (["GetItem"], "BlogTable.Arn", False),
    "UpdatePost": (["GetItem", "UpdateItem"], "BlogTable.Arn", True),
    "DeletePost": (["GetItem", "DeleteItem", "Query", "BatchWriteItem"], "BlogTable.Arn", True),
    "ListComments": (["GetItem", "Query"], "BlogTable.Arn", False),
    "CreateComment": (["GetItem", "ConditionCheckItem", "PutItem"], "BlogTable.Arn", True),
    "DeleteComment": (["GetItem", "DeleteItem"], "BlogTable.Arn", True),
}
for _op, (_actions, _resource_name, _authenticated) in _MICRO_BLOG.items():
    EXPECTED[f"BlogMicro{_op}Role"] = (
        {BASIC},
        _ddb(_actions, _resource_name)
        | (_ddb(["GetItem"], "RevokedTokensTable.Arn") if _authenticated else set())
        | {("secretsmanager:GetSecretValue", "PaginationKeySecret")},
    )

# Services generated by `./inv new-service` (devkit.scaffold.registry): their own role, and their part of Fat's.
for _generated in registry.generated():
    EXPECTED[f"{_generated.function}Role"] = ({BASIC}, _generated.lith_grants())
    EXPECTED["FatRole"] = (EXPECTED["FatRole"][0], EXPECTED["FatRole"][1] | _generated.table_grants())

# Actions AWS only grants on "*" (no resource-level permissions).
STAR_RESOURCE_OK = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "cloudwatch:PutMetricData"}

# The pre-traffic hook: reads its deployment and reports the verdict (this stack's CodeDeploy application only),
# invokes the versions under test (qualified ARNs of the functions CodeDeploy deploys, never another function),
# reads the probe account. tests/infra/test_safe_deploys.py checks the invoke list against the deployment groups.
DEPLOYED_THROUGH_CODEDEPLOY = [
    "AuthManager", "BlogManager", "BillingManager", "CurrencyRead", "CurrencyWrite", "CurrencyProjector",
    "Convert", "Fat", *(f"BlogMicro{op}" for op in _MICRO_BLOG), *(g.function for g in registry.generated()),
]  # fmt: skip
_APP = "${ServerlessDeploymentApplication}"
_CODEDEPLOY_APP_GROUPS = (
    f"arn:${{AWS::Partition}}:codedeploy:${{AWS::Region}}:${{AWS::AccountId}}:deploymentgroup:{_APP}/*"
)
EXPECTED["DeployCheckRole"] = (
    {BASIC},
    {(f"codedeploy:{a}", _CODEDEPLOY_APP_GROUPS) for a in ("GetDeployment", "PutLifecycleEventHookExecutionStatus")}
    | {("lambda:InvokeFunction", f"${{{fn}.Arn}}:*") for fn in DEPLOYED_THROUGH_CODEDEPLOY}
    | {("secretsmanager:GetSecretValue", "DeployProbeAccount")},
)
# The one grant on qualified ARNs (`function:name:*` = that function's versions and aliases, nothing else).
QUALIFIED_INVOKE_OK = {("DeployCheckRole", "lambda:InvokeFunction")}


def _resource(node: Any) -> str:
    if isinstance(node, str):
        return node
    if isinstance(node, dict) and len(node) == 1:
        ((key, value),) = node.items()
        if key == "Ref":
            return str(value)
        if key == "Fn::GetAtt":
            return ".".join(value) if isinstance(value, list) else str(value)
        if key == "Fn::Sub" and isinstance(value, str):
            return value
    raise AssertionError(f"unexpected resource expression {node!r}")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_grants(role: dict[str, Any]) -> tuple[set[str], set[tuple[str, str]]]:
    props = role["Properties"]
    managed = {m if isinstance(m, str) else repr(m) for m in props.get("ManagedPolicyArns", [])}
    grants: set[tuple[str, str]] = set()
    for policy in props.get("Policies", []):
        for statement in _as_list(policy["PolicyDocument"]["Statement"]):
            assert statement["Effect"] == "Allow", statement
            assert "NotAction" not in statement and "NotResource" not in statement, statement
            for action in _as_list(statement["Action"]):
                for resource in _as_list(statement["Resource"]):
                    grants.add((action, _resource(resource)))
    return managed, grants


@pytest.fixture(scope="module", params=["prod", "dev"])
def expanded(request: pytest.FixtureRequest) -> dict[str, Any]:
    return expand(Path(paths.TEMPLATE), region="us-east-1", parameters={"Stage": request.param})["template"]


def function_roles(cfn: dict[str, Any]) -> dict[str, dict[str, Any]]:
    roles = {}
    for lid, res in cfn["Resources"].items():
        if res["Type"] == "AWS::Lambda::Function":
            role = res["Properties"]["Role"]
            assert role == {"Fn::GetAtt": [f"{lid}Role", "Arn"]}, f"{lid}: role {role!r} is not its own SAM role"
            roles[f"{lid}Role"] = cfn["Resources"][f"{lid}Role"]
    return roles


def test_every_function_role_is_in_the_table(expanded: dict[str, Any]) -> None:
    assert set(function_roles(expanded)) == set(EXPECTED)


@pytest.mark.parametrize("role_name", sorted(EXPECTED))
def test_role_holds_exactly_the_expected_grants(expanded: dict[str, Any], role_name: str) -> None:
    managed, grants = role_grants(function_roles(expanded)[role_name])
    want_managed, want_grants = EXPECTED[role_name]
    assert managed - {XRAY} == want_managed, f"{role_name}: managed policies changed"
    assert managed <= ALLOWED_MANAGED
    assert grants == want_grants, (
        f"{role_name}: widened {sorted(grants - want_grants)}; narrowed {sorted(want_grants - grants)}"
    )


def test_no_wildcard_actions_or_resources(expanded: dict[str, Any]) -> None:
    for role_name, role in function_roles(expanded).items():
        _, grants = role_grants(role)
        for action, resource in grants:
            assert "*" not in action, f"{role_name}: wildcard action {action}"
            if resource == "*":
                assert action in STAR_RESOURCE_OK, f"{role_name}: {action} on '*'"
            if (role_name, action) in QUALIFIED_INVOKE_OK and re.fullmatch(r"\$\{\w+\.Arn\}:\*", resource):
                continue
            assert not resource.endswith(":*"), f"{role_name}: {action} on {resource}"


def test_the_check_catches_a_widened_policy() -> None:
    role = {
        "Properties": {
            "ManagedPolicyArns": [BASIC],
            "Policies": [
                {
                    "PolicyDocument": {
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": ["dynamodb:GetItem", "dynamodb:Scan"],
                                "Resource": {"Fn::GetAtt": ["CurrenciesTable", "Arn"]},
                            }
                        ]
                    }
                }
            ],
        }
    }
    _, grants = role_grants(role)
    assert grants != EXPECTED["ConvertRole"][1]
    assert grants - EXPECTED["ConvertRole"][1] == {("dynamodb:Scan", "CurrenciesTable.Arn")}


def test_every_function_builds_with_cargo_lambda() -> None:
    from devkit.localcloud import parse_yaml

    template = parse_yaml(paths.TEMPLATE.read_bytes(), paths.TEMPLATE)
    functions = {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}
    assert functions
    for lid, res in functions.items():
        assert res["Metadata"]["BuildMethod"] == "rust-cargolambda", lid
        assert res["Metadata"]["BuildProperties"]["Binary"].endswith("-lambda"), lid
    assert template["Globals"]["Function"]["Runtime"] == "provided.al2023"
    assert template["Globals"]["Function"]["Architectures"] == [{"Ref": "Architecture"}]
    assert template["Parameters"]["Architecture"]["Default"] == "arm64"


def test_micro_functions_hold_a_subset_of_the_lith_and_reads_cannot_write(expanded: dict[str, Any]) -> None:
    roles = function_roles(expanded)
    _, lith = role_grants(roles["BlogManagerRole"])
    writes = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "ConditionCheckItem"}
    micro = {name: role for name, role in roles.items() if name.startswith("BlogMicro")}
    assert len(micro) == len(_MICRO_BLOG)
    for name, role in micro.items():
        _, grants = role_grants(role)
        blog = {(a, r) for a, r in grants if "BlogTable" in r}
        assert {(a, "${BlogTable.Arn}/index/*" if "index" in r else r) for a, r in blog} <= lith, name
        if name in ("BlogMicroListPostsRole", "BlogMicroGetPostRole", "BlogMicroListCommentsRole"):
            assert not {a.split(":")[1] for a, _ in blog} & writes, f"{name} is a read function"
