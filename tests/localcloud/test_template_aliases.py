"""Functions published behind aliases (AutoPublishAlias + DeploymentPreference): the local cloud runs the function.

SAM points routes at `${FnAliaslive}`, permissions at `!Ref FnAliaslive`, and a template's own event source
mapping may name the alias (`!Ref Fn.Alias`) or a qualified ARN (`arn:…:function:name:live`). Each resolves to the
function; CodeDeploy's resources (application, groups, service role) and the aliases are recognised and skipped.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from devkit import paths
from devkit.localcloud.model import StackSpec
from devkit.localcloud.template.loader import load_stack
from devkit.localcloud.template.resolver import TemplateError

HEADER = 'AWSTemplateFormatVersion: "2010-09-09"\nTransform: AWS::Serverless-2016-10-31\n'

GLOBALS = """Globals:
  Function:
    Handler: bootstrap
    Runtime: provided.al2023
    AutoPublishAlias: live
    DeploymentPreference:
      Type: Canary10Percent5Minutes
      Alarms: [!Ref ApiAlarm]
      Hooks:
        PreTraffic: !Ref Hook
"""

RESOURCES = """Resources:
  ApiAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/ApiGateway
      MetricName: 5xx
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
  Hook:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ../hook
      FunctionName: !Sub "CodeDeployHook_${AWS::StackName}"
      DeploymentPreference:
        Enabled: false
  Api:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ../api
      DeploymentPreference:
        Alarms: [!Ref ApiAlarm]
      Events:
        Get:
          Type: HttpApi
          Properties: {Method: GET, Path: /x}
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ../worker
  Queue:
    Type: AWS::SQS::Queue
  Mapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: !GetAtt Queue.Arn
      FunctionName: {target}
"""


def load(tmp_path: Path, target: str, **kwargs: object) -> StackSpec:
    path = tmp_path / "template.yaml"
    path.write_text(HEADER + GLOBALS + RESOURCES.replace("{target}", target))
    return load_stack(path, cache_dir=tmp_path / "cache", stack_name="s", **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "target",
    [
        "!Ref Worker.Alias",  # SAM: the alias's ARN (Ref WorkerAliaslive)
        "!Ref WorkerAliaslive",  # the alias SAM generates, by logical id
        '!Sub "${Worker.Arn}:live"',  # a qualified ARN
        '!Sub "${Worker}:live"',  # name:qualifier
        "!Ref Worker",  # unqualified, as before
    ],
)
def test_an_event_source_mapping_on_the_alias_feeds_the_function(tmp_path: Path, target: str) -> None:
    stack = load(tmp_path, target)
    (mapping,) = stack.event_source_mappings
    assert (mapping.function, mapping.queue) == ("Worker", "Queue")
    assert stack.warnings == ()


def test_routes_through_the_alias_reach_the_function_and_codedeploy_is_skipped(tmp_path: Path) -> None:
    stack = load(tmp_path, "!Ref Worker.Alias")
    (route,) = stack.http_apis["ServerlessHttpApi"].routes
    assert (route.route_key, route.function) == ("GET /x", "Api")
    assert set(stack.functions) == {"Hook", "Api", "Worker"}
    assert stack.functions["Hook"].physical_name == "CodeDeployHook_s"
    assert stack.warnings == ()  # CodeDeploy application/groups/role, versions and aliases: no local effect


def test_a_qualified_arn_of_another_function_is_refused(tmp_path: Path) -> None:
    other = '"arn:aws:lambda:us-east-1:123456789012:function:not-in-this-template:live"'
    with pytest.raises(TemplateError, match="not a function of this template"):
        load(tmp_path, other)


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_the_project_template_runs_every_function_through_its_alias(stage: str) -> None:
    stack = load_stack(paths.TEMPLATE, parameters={"Stage": stage, "Architecture": "x86_64"})
    assert stack.warnings == ()
    routed = {r.function for api in stack.http_apis.values() for r in api.routes}
    # Every function but the projector (queue) and the pre-traffic hook (invoked by CodeDeploy) has routes.
    assert routed == set(stack.functions) - {"CurrencyProjector", "DeployCheck"}
    assert [(m.function, m.queue) for m in stack.event_source_mappings] == [("CurrencyProjector", "CommandsQueue")]
