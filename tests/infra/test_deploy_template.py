"""The templates ./inv deploy generates: prebuilt zips as code, stage-resolved retention policies."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from devkit import build, paths
from devkit.deploy.template import DeployTemplateError, condition, resolve_policies, with_prebuilt_code
from devkit.localcloud import expand

TABLES = ["UsersTable", "RevokedTokensTable", "BlogTable", "BillingTable", "CurrenciesTable", "CommandsTable"]


def _expanded(stage: str) -> dict:
    cfn = expand(Path(paths.TEMPLATE), region="us-east-1", parameters={"Stage": stage})["template"]
    resolve_policies(cfn, {"Stage": stage})
    return cfn


def test_prod_retains_and_protects_every_table() -> None:
    cfn = _expanded("prod")
    conditions = cfn["Conditions"]
    assert condition(conditions, "IsProd", {"Stage": "prod"})
    for name in TABLES:
        table = cfn["Resources"][name]
        assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Retain", "Retain"), name
        props = table["Properties"]
        assert props["DeletionProtectionEnabled"] == {"Fn::If": ["IsProd", True, False]}, name
        pitr = props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"]
        assert pitr is True or pitr == {"Fn::If": ["IsProd", True, False]}, name


def test_other_stages_are_disposable() -> None:
    cfn = _expanded("staging")
    assert {cfn["Resources"][n]["DeletionPolicy"] for n in TABLES} == {"Delete"}
    assert not condition(cfn["Conditions"], "IsProd", {"Stage": "staging"})


def test_every_function_has_a_log_group_with_retention() -> None:
    cfn = _expanded("dev")
    functions = [k for k, v in cfn["Resources"].items() if v["Type"] == "AWS::Lambda::Function"]
    for fn in functions:
        group = cfn["Resources"][f"{fn}LogGroup"]["Properties"]
        assert group["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/${{{fn}}}"}
        assert group["RetentionInDays"] == {"Fn::If": ["IsProd", 90, {"Fn::If": ["IsStaging", 30, 7]}]}


def test_unsupported_policy_expression_is_refused() -> None:
    cfn = {"Conditions": {}, "Resources": {"T": {"DeletionPolicy": {"Fn::Sub": "x"}}}}
    with pytest.raises(DeployTemplateError, match="only a literal or Fn::If"):
        resolve_policies(cfn, {})


def test_functions_deploy_the_prebuilt_zips(tmp_path: Path) -> None:
    build.build_bootstraps(build.workspace_binaries(), profile="ci", quiet=True)  # no-op when up to date
    out = tmp_path / "template.yaml"
    zips = with_prebuilt_code(paths.TEMPLATE, out, profile="ci", arch="x86_64")
    text = out.read_text()
    generated = yaml.safe_load(text)
    assert set(zips) == {k for k, v in generated["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}
    for lid, zip_path in zips.items():
        res = generated["Resources"][lid]
        assert res["Properties"]["CodeUri"] == str(zip_path) and zip_path.name == "bootstrap.zip"
        assert "BuildMethod" not in res.get("Metadata", {})
    with pytest.raises(DeployTemplateError, match="build it first"):
        with_prebuilt_code(paths.TEMPLATE, out, profile="no-such-profile", arch="x86_64")
