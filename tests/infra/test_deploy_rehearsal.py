"""The deploy path rehearsed against a moto server standing in for AWS (AWS_ENDPOINT_URL), then destroyed.

Same code as `./inv deploy`: prebuilt zips → `sam package` (real SAM CLI, uploads to the stand-in's S3) →
offline SAM translation → the stack. Differences, all forced by moto and listed in README "Deploy to your account":
- step 4 is CreateStack (`via="cloudformation"`), not `sam deploy`'s change set: moto's executed change sets have
  no Outputs (and SAM's managed bucket stack fails for the same reason, so an explicit bucket is used);
- `EnableLmi=false`: moto has no AWS::Lambda::CapacityProvider;
- moto's CloudFormation skips AWS::SecretsManager::Secret, AWS::ApiGatewayV2::*, AWS::Lambda::Alias,
  AWS::CodeDeploy::* and AWS::CloudWatch::Alarm, so their outputs (AuthSigningKeySecret, the API URLs) are missing
  and the signing-key step stops with a clear error — asserted below, not papered over;
- since moto creates no aliases, a reference to one (`!Ref FnAliaslive`: the API permissions, the queue's event
  source mapping) stays unresolved and moto fails the resource. The translated template is therefore rewritten
  to name the function itself (`without_aliases`, below) before moto sees it; on AWS they name the `live` alias
  (tests/infra/test_safe_deploys.py).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devkit.deploy import stage as deploy
from devkit.deploy.template import condition, deploy_dir, translate
from devkit.localcloud import Backend, create_backend, stack_name_for
from devkit.stack import stop_child, wait_for_control
from tests.conftest import ROOT

STAGE = "rehearsal"
REGION = "us-east-1"
BUCKET = "rehearsal-artifacts"
OVERRIDES = {"Architecture": "x86_64", "EnableLmi": "false"}
ISSUER_STAND_IN = "https://rehearsal-auth.execute-api.us-east-1.amazonaws.com"
# Types in the translated template that moto's CloudFormation skips (it warns and creates nothing).
NOT_CREATED_BY_MOTO = {
    "AWS::SecretsManager::Secret",
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Stage",
    "AWS::CloudWatch::Alarm",
    "AWS::Lambda::Alias",
    "AWS::CodeDeploy::Application",
    "AWS::CodeDeploy::DeploymentGroup",
}


def without_aliases(cfn: dict[str, Any]) -> dict[str, Any]:
    """Every `{"Ref": "<Fn>Aliaslive"}` → `{"Ref": "<Fn>"}` (moto creates no aliases; see the module docstring)."""
    aliases = {
        lid: r["Properties"]["FunctionName"]["Ref"]
        for lid, r in cfn["Resources"].items()
        if r["Type"] == "AWS::Lambda::Alias"
    }

    def swap(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Ref"} and node["Ref"] in aliases:
                return {"Ref": aliases[node["Ref"]]}
            return {k: swap(v) for k, v in node.items()}
        if isinstance(node, list):
            return [swap(v) for v in node]
        return node

    return {**cfn, "Resources": {lid: swap(r) for lid, r in cfn["Resources"].items()}}


def test_without_aliases_names_the_function() -> None:
    cfn = {
        "Resources": {
            "FnAliaslive": {"Type": "AWS::Lambda::Alias", "Properties": {"FunctionName": {"Ref": "Fn"}}},
            "Perm": {"Type": "AWS::Lambda::Permission", "Properties": {"FunctionName": {"Ref": "FnAliaslive"}}},
            "Other": {"Type": "X", "Properties": {"A": [{"Ref": "Fn"}, {"Ref": "FnAliaslive"}]}},
        }
    }
    out = without_aliases(cfn)["Resources"]
    assert out["Perm"]["Properties"]["FunctionName"] == {"Ref": "Fn"}
    assert out["Other"]["Properties"]["A"] == [{"Ref": "Fn"}, {"Ref": "Fn"}]
    assert out["FnAliaslive"] == cfn["Resources"]["FnAliaslive"]


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    tmp = tmp_path_factory.mktemp("rehearsal")
    saved = dict(os.environ)
    moto = create_backend("moto", state_dir=tmp / "moto", cache_dir=tmp, region=REGION)
    moto.start()
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    os.environ |= {
        "AWS_ENDPOINT_URL": moto.endpoint_url or "",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(tmp / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "no-credentials"),
    }
    try:
        moto.boto3_client("s3").create_bucket(Bucket=BUCKET)  # the account's artifact bucket
        yield moto
    finally:
        os.environ.clear()
        os.environ.update(saved)
        moto.stop()


@pytest.fixture(scope="module")
def deployed(stand_in: Backend) -> dict[str, Any]:
    def translate_for_moto(packaged: Path, out: Path, **kwargs: Any) -> dict[str, Any]:
        cfn = without_aliases(translate(packaged, out, **kwargs))
        out.write_text(json.dumps(cfn, indent=1))
        return cfn

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(deploy, "translate", translate_for_moto)
        with pytest.raises(deploy.DeployError, match="no AuthSigningKeySecret output"):
            deploy.deploy(STAGE, profile="ci", overrides=OVERRIDES, s3_bucket=BUCKET, via="cloudformation")
    cfn = stand_in.boto3_client("cloudformation")
    resources = cfn.list_stack_resources(StackName=stack_name_for(STAGE))["StackResourceSummaries"]
    translated = json.loads((deploy_dir(STAGE) / "cloudformation.json").read_text())
    return {"resources": resources, "translated": translated, "outputs": deploy.outputs(STAGE)}


def test_the_stack_is_created_from_the_translated_template(deployed: dict[str, Any]) -> None:
    created = {r["ResourceType"] for r in deployed["resources"] if r["ResourceType"]}
    assert created == {
        "AWS::DynamoDB::Table",
        "AWS::SQS::Queue",
        "AWS::IAM::Role",
        "AWS::Lambda::Function",
        "AWS::Lambda::Version",
        "AWS::Lambda::Permission",
        "AWS::Lambda::EventSourceMapping",
        "AWS::Logs::LogGroup",
        "AWS::SNS::Topic",
        "AWS::CloudWatch::Dashboard",
    }
    cfn = deployed["translated"]
    values = {"Stage": STAGE, **OVERRIDES}
    values |= {k: str(v["Default"]) for k, v in cfn["Parameters"].items() if "Default" in v and k not in values}
    # Resources whose Condition is false for these parameters (EnableLmi=false, no alarm e-mail) exist nowhere.
    active = [
        r
        for r in cfn["Resources"].values()
        if "Condition" not in r or condition(cfn["Conditions"], r["Condition"], values)
    ]
    translated = {r["Type"] for r in active}
    assert translated - created == NOT_CREATED_BY_MOTO
    assert all(r["ResourceStatus"] == "CREATE_COMPLETE" for r in deployed["resources"])
    assert "Transform" not in deployed["translated"]
    table = deployed["translated"]["Resources"]["UsersTable"]
    assert table["DeletionPolicy"] == "Delete"  # resolved for a non-prod stage
    assert table["Properties"]["DeletionProtectionEnabled"] == {"Fn::If": ["IsProd", True, False]}


def test_outputs_name_the_real_tables_and_queues(stand_in: Backend, deployed: dict[str, Any]) -> None:
    outputs = deployed["outputs"]
    tables = set(stand_in.boto3_client("dynamodb").list_tables()["TableNames"])
    for key in ("UsersTableName", "RevokedTokensTableName", "BlogTableName", "BillingTableName"):
        assert outputs[key] in tables, key
    for key in ("CurrenciesTableName", "CommandsTableName"):
        assert outputs[key] in tables, key
    sqs = stand_in.boto3_client("sqs")
    attributes = sqs.get_queue_attributes(QueueUrl=outputs["CommandsQueueUrl"], AttributeNames=["All"])["Attributes"]
    assert json.loads(attributes["RedrivePolicy"])["maxReceiveCount"] == 5
    assert outputs["CommandsDLQName"] in json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"]
    # moto does not create secrets or HTTP APIs from a template: those outputs are absent, not faked.
    assert "AuthSigningKeySecret" not in outputs
    assert outputs["HttpApiUrl"].startswith("https://${HttpApi}.")  # moto leaves the skipped API's Ref unresolved


def test_functions_run_the_built_zips_with_their_own_roles(stand_in: Backend, deployed: dict[str, Any]) -> None:
    lam = stand_in.boto3_client("lambda")
    functions = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in deployed["resources"]}
    resources = deployed["translated"]["Resources"]
    names = [lid for lid, r in resources.items() if r["Type"] == "AWS::Lambda::Function" and "Condition" not in r]
    assert "ConvertLmi" not in names and len(names) == 17  # 8 + the 8 BlogMicro* functions + DeployCheck
    assert "ConvertLmi" not in functions  # its condition (EnableLmi=false) is honoured
    for lid in names:
        config = lam.get_function_configuration(FunctionName=functions[lid])
        assert config["Runtime"] == "provided.al2023" and config["Handler"] == "bootstrap"
        assert config["Architectures"] == ["x86_64"]
        assert config["Role"].endswith(functions[f"{lid}Role"])
        assert config["CodeSize"] > 1_000_000  # the uploaded bootstrap.zip, not a placeholder
    mappings = lam.list_event_source_mappings(FunctionName=functions["CurrencyProjector"])["EventSourceMappings"]
    assert len(mappings) == 1 and mappings[0]["BatchSize"] == 10
    iam = stand_in.boto3_client("iam")
    policies = iam.list_role_policies(RoleName=functions["CurrencyWriteRole"])["PolicyNames"]
    document = iam.get_role_policy(RoleName=functions["CurrencyWriteRole"], PolicyName=policies[0])["PolicyDocument"]
    # moto hands the document back in its own string form: read the granted actions out of it.
    actions = set(re.findall(r"\b(?:dynamodb|sqs|secretsmanager|s3|iam|lambda):[A-Z*][A-Za-z*]*", str(document)))
    assert actions == {"dynamodb:PutItem", "dynamodb:GetItem", "sqs:SendMessage"}


def test_e2e_smoke_on_the_local_cloud_with_the_aws_backend(
    stand_in: Backend, deployed: dict[str, Any], tmp_path: Path
) -> None:
    """`python -m devkit.stack --backend aws --stage rehearsal`: local functions on the deployed tables (in moto)."""
    # moto's CloudFormation skipped the AuthIssuer secret (see above): create it as the template would, by name,
    # holding the identity API's URL (moto leaves that API uncreated, so a stand-in URL).
    secrets = stand_in.boto3_client("secretsmanager")
    secrets.create_secret(Name=f"{stack_name_for(STAGE)}-jwt-issuer", SecretString=ISSUER_STAND_IN)
    state_dir = tmp_path / "localcloud"
    cmd = [sys.executable, "-m", "devkit.stack", "--backend", "aws", "--stage", STAGE, "--no-build"]
    cmd += ["--port", "0", "--state-dir", str(state_dir), "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        control = wait_for_control(state_dir, proc, deadline_s=120)
        assert control["backend"] == "aws"
        assert control["tables"]["UsersTable"] == deployed["outputs"]["UsersTableName"]  # the deployed table
        tests = ["tests/system/e2e/test_health.py::test_auth_health_through_the_gateway"]
        tests += ["tests/system/e2e/test_auth_flow.py::test_register_login_me_logout"]
        urls = control["urls"]
        smoke = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests]
        smoke += ["--base-url", urls["HttpApi"], "--auth-url", urls["AuthApi"]]
        result = subprocess.run(smoke, cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=240)
        logs = "".join(path.read_text(errors="replace")[-3000:] for path in sorted((state_dir / "logs").glob("*")))
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:] + "\nlocal cloud logs:\n" + logs
        assert "2 passed" in result.stdout
    finally:
        stop_child(proc)
    users = stand_in.boto3_client("dynamodb").scan(TableName=deployed["outputs"]["UsersTableName"])["Items"]
    assert any(item["pk"]["S"].startswith("EMAIL#e2e-") for item in users)  # the smoke wrote to the deployed table


def test_destroy_deletes_the_stack(stand_in: Backend, deployed: dict[str, Any]) -> None:
    deploy.destroy(STAGE)
    cfn = stand_in.boto3_client("cloudformation")
    stacks = {s["StackName"]: s["StackStatus"] for s in cfn.list_stacks()["StackSummaries"]}
    assert stacks[stack_name_for(STAGE)] == "DELETE_COMPLETE"
    assert stand_in.boto3_client("dynamodb").list_tables()["TableNames"] == []


def test_destroy_refuses_prod_and_needs_yes_without_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(deploy.DeployError, match="--i-know"):
        deploy.confirm_destroy("prod", i_know=False, yes=True)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(deploy.DeployError, match="--yes"):
        deploy.confirm_destroy("dev", i_know=False, yes=False)
    deploy.confirm_destroy("dev", i_know=False, yes=True)
    monkeypatch.delenv("CI")
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    with pytest.raises(deploy.DeployError, match="not confirmed"):
        deploy.confirm_destroy("dev", i_know=False, yes=False, ask=lambda _: "prod")
    deploy.confirm_destroy("dev", i_know=False, yes=False, ask=lambda _: "dev")


def test_stage_config_reads_samconfig(tmp_path: Path) -> None:
    cfg = deploy.stage_config("staging", region="eu-west-1")
    assert (cfg.config_env, cfg.stack_name, cfg.region) == ("staging", "lambda-rust-reference-staging", "eu-west-1")
    assert cfg.parameters == {"Stage": "staging", "Architecture": "arm64"}
    personal = deploy.stage_config("alice", overrides={"EnableLmi": "false"})
    assert personal.config_env == "default" and personal.parameters["Stage"] == "alice"
    with pytest.raises(deploy.DeployError):
        deploy.check_stage_name("Prod!")
