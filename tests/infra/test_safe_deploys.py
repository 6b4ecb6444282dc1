"""Gradual deploys on the template as CloudFormation receives it (SAM-expanded offline, per stage).

Every standard function is published behind its `live` alias and deployed through CodeDeploy: canary/linear in
prod, all at once elsewhere, rolled back by its own errors/throttles alarms and the HTTP APIs' 5xx-rate and p99
alarms, after the DeployCheck pre-traffic hook has probed the new version. The LMI function keeps its alias
without CodeDeploy, and the hook is not deployed through itself.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from devkit import paths
from devkit.deploy.template import condition
from devkit.localcloud import expand
from devkit.scaffold import registry

HOOK = "DeployCheck"
NOT_SHIFTED = {HOOK, "ConvertLmi"}  # no CodeDeploy deployment (see their comments in the template)
API_ALARMS = {"ApiErrorRateAlarm", "ApiLatencyP99Alarm"}


def _expanded(stage: str) -> dict[str, Any]:
    return expand(Path(paths.TEMPLATE), region="us-east-1", parameters={"Stage": stage})["template"]


@pytest.fixture(scope="module")
def prod() -> dict[str, Any]:
    return _expanded("prod")


def _of_type(cfn: dict[str, Any], rtype: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in cfn["Resources"].items() if r["Type"] == rtype}


def standard_functions(cfn: dict[str, Any]) -> set[str]:
    return set(_of_type(cfn, "AWS::Lambda::Function")) - NOT_SHIFTED


def _deployment_config(cfn: dict[str, Any], stage: str) -> str:
    """DeploymentConfigName of a group, its Fn::If / Fn::Sub evaluated for `stage`."""
    parameters = {"Stage": stage}

    def value(node: Any) -> Any:
        if isinstance(node, dict) and "Fn::If" in node:
            name, yes, no = node["Fn::If"]
            return value(yes if condition(cfn["Conditions"], name, parameters) else no)
        if isinstance(node, dict) and "Fn::Sub" in node:
            text, names = node["Fn::Sub"]
            return re.sub(r"\$\{(\w+)\}", lambda m: str(value(names[m.group(1)])), text)
        return node

    groups = _of_type(cfn, "AWS::CodeDeploy::DeploymentGroup")
    configs = {value(g["Properties"]["DeploymentConfigName"]) for g in groups.values()}
    assert len(configs) == 1, configs
    return configs.pop()


def _operations(path_item: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The operations of an OpenAPI path item (not its `parameters`)."""
    return {k: v for k, v in path_item.items() if isinstance(v, dict) and "x-amazon-apigateway-integration" in v}


def _probes(cfn: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """PROBES by logical id: the JSON the hook reads once `${Function}` names are substituted."""
    text = cfn["Resources"][HOOK]["Properties"]["Environment"]["Variables"]["PROBES"]["Fn::Sub"]
    return json.loads(re.sub(r"\$\{(\w+)\}", r"\1", text))


def test_prod_deploys_every_standard_function_through_codedeploy_with_its_alarms(prod: dict[str, Any]) -> None:
    assert list(_of_type(prod, "AWS::CodeDeploy::Application")) == ["ServerlessDeploymentApplication"]
    functions = standard_functions(prod)
    assert len(functions) == 16 + len(registry.generated())  # 8, the 8 BlogMicro*, and ./inv new-service's
    groups = _of_type(prod, "AWS::CodeDeploy::DeploymentGroup")
    assert set(groups) == {f"{fn}DeploymentGroup" for fn in functions}
    for fn in functions:
        props = groups[f"{fn}DeploymentGroup"]["Properties"]
        alarms = {a["Name"]["Ref"] for a in props["AlarmConfiguration"]["Alarms"]}
        assert props["AlarmConfiguration"]["Enabled"] is True
        assert alarms == {f"{fn}ErrorsAlarm", f"{fn}ThrottlesAlarm"} | API_ALARMS, fn
        rollback = props["AutoRollbackConfiguration"]
        assert rollback["Enabled"] and "DEPLOYMENT_STOP_ON_ALARM" in rollback["Events"], fn
        alias = prod["Resources"][f"{fn}Aliaslive"]
        update = alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
        assert update["DeploymentGroupName"] == {"Ref": f"{fn}DeploymentGroup"}, fn
        assert update["BeforeAllowTrafficHook"] == {"Ref": HOOK}, fn


def test_prod_shifts_gradually_and_other_stages_all_at_once(prod: dict[str, Any]) -> None:
    assert _deployment_config(prod, "prod") == "CodeDeployDefault.LambdaCanary10Percent5Minutes"
    allowed = prod["Parameters"]["ProdDeploymentType"]["AllowedValues"]
    assert allowed and all(v.startswith(("Canary", "Linear")) for v in allowed)
    for stage in ("staging", "dev", "pr-42"):
        assert _deployment_config(_expanded(stage), stage) == "CodeDeployDefault.LambdaAllAtOnce", stage


def test_function_alarms_watch_the_live_alias(prod: dict[str, Any]) -> None:
    alarms = _of_type(prod, "AWS::CloudWatch::Alarm")
    for fn in standard_functions(prod):
        for metric in ("Errors", "Throttles"):
            props = alarms[f"{fn}{metric}Alarm"]["Properties"]
            assert (props["Namespace"], props["MetricName"]) == ("AWS/Lambda", metric)
            dims = {d["Name"]: d["Value"] for d in props["Dimensions"]}
            assert dims == {"FunctionName": {"Ref": fn}, "Resource": {"Fn::Sub": f"${{{fn}}}:live"}}
            assert props["Threshold"] == 1 and props["TreatMissingData"] == "notBreaching"


def test_api_alarms_cover_every_http_api(prod: dict[str, Any]) -> None:
    apis = set(_of_type(prod, "AWS::ApiGatewayV2::Api"))
    alarms = _of_type(prod, "AWS::CloudWatch::Alarm")
    for name, metrics in (("ApiErrorRateAlarm", {"5xx", "Count"}), ("ApiLatencyP99Alarm", {"Latency"})):
        queries = alarms[name]["Properties"]["Metrics"]
        for metric in metrics:
            watched = {
                d["Value"]["Ref"]
                for q in queries
                if q.get("MetricStat", {}).get("Metric", {}).get("MetricName") == metric
                for d in q["MetricStat"]["Metric"]["Dimensions"]
                if d["Name"] == "ApiId"
            }
            assert watched == apis, (name, metric)
        assert [q["Id"] for q in queries if q.get("ReturnData")] == [queries[0]["Id"]], name


def test_routes_permissions_and_the_queue_target_the_alias(prod: dict[str, Any]) -> None:
    functions = standard_functions(prod)
    for api, res in _of_type(prod, "AWS::ApiGatewayV2::Api").items():
        for path, item in res["Properties"]["Body"]["paths"].items():
            for op in _operations(item).values():
                uri = op["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
                target = re.search(r"functions/\$\{(\w+)\}/invocations", uri)
                assert target and target.group(1).endswith("Aliaslive"), (api, path, uri)
    for lid, perm in _of_type(prod, "AWS::Lambda::Permission").items():
        assert perm["Properties"]["FunctionName"]["Ref"].endswith("Aliaslive"), lid
    mapping = prod["Resources"]["CurrencyProjectorCommands"]["Properties"]
    assert mapping["FunctionName"] == {"Ref": "CurrencyProjectorAliaslive"}
    assert {f"{fn}Aliaslive" for fn in functions} <= set(_of_type(prod, "AWS::Lambda::Alias"))


def test_the_hook_probes_exactly_the_functions_codedeploy_deploys(prod: dict[str, Any]) -> None:
    hook = prod["Resources"][HOOK]["Properties"]
    # AWSCodeDeployRoleForLambda (SAM's CodeDeployServiceRole) invokes only functions named CodeDeployHook_*.
    assert hook["FunctionName"] == {"Fn::Sub": "CodeDeployHook_${AWS::StackName}"}
    named = _probes(prod)
    assert set(named) == standard_functions(prod)
    for fn, probe in named.items():
        assert probe.get("health") or probe.get("authenticated") or probe.get("queue"), fn
        for route in (probe.get("health"), probe.get("authenticated")):
            assert route is None or re.fullmatch(r"(GET|POST|PUT|DELETE) /\S*", route), (fn, route)
    assert named["CurrencyProjector"] == {"queue": True}
    assert hook["Environment"]["Variables"]["AUTH_FUNCTION"] == {"Ref": "AuthManager"}


def test_routes_probed_are_routes_of_that_function(prod: dict[str, Any]) -> None:
    named = _probes(prod)
    served: dict[str, set[str]] = {}
    for res in _of_type(prod, "AWS::ApiGatewayV2::Api").values():
        for path, item in res["Properties"]["Body"]["paths"].items():
            for method, op in _operations(item).items():
                uri = op["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
                fn = re.search(r"\$\{(\w+)Aliaslive\}", uri)
                if fn:
                    served.setdefault(fn.group(1), set()).add(f"{method.upper()} {path}")
    for fn, probe in named.items():
        for route in filter(None, (probe.get("health"), probe.get("authenticated"))):
            assert route in served.get(fn, set()), f"{fn} does not serve {route}"


def test_lmi_and_the_hook_have_no_deployment(prod: dict[str, Any]) -> None:
    groups = _of_type(prod, "AWS::CodeDeploy::DeploymentGroup")
    for fn in NOT_SHIFTED:
        assert f"{fn}DeploymentGroup" not in groups
    assert "UpdatePolicy" not in prod["Resources"]["ConvertLmiAliaslive"]  # LMI: the alias moves on each update
