"""template.py: broken templates raise TemplateError naming the resource; unsupported things warn once each."""

from __future__ import annotations

from pathlib import Path

import pytest

from devkit.localcloud.template.loader import TemplateError, load_stack

FIXTURES = Path(__file__).parent / "fixtures"
HEADER = 'AWSTemplateFormatVersion: "2010-09-09"\nTransform: AWS::Serverless-2016-10-31\n'
FUNCTION = """  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ../fn
      Handler: bootstrap
      Runtime: provided.al2023
"""


def write(tmp_path: Path, body: str, *, header: str = HEADER) -> Path:
    path = tmp_path / "template.yaml"
    path.write_text(header + body)
    return path


def load(path: Path, **kwargs: object) -> object:
    return load_stack(path, cache_dir=path.parent / "cache", **kwargs)


def test_dangling_ref_names_the_resource_and_the_target(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match=r"^Reader.*'MissingTable'"):
        load_stack(FIXTURES / "dangling_ref.yaml", cache_dir=tmp_path)


def test_dangling_getatt_in_an_ignored_resource_is_still_an_error(tmp_path: Path) -> None:
    body = "Resources:\n" + FUNCTION + "  Alarm:\n    Type: AWS::CloudWatch::Alarm\n"
    body += "    Properties:\n      AlarmActions: [!GetAtt Nowhere.Arn]\n"
    with pytest.raises(TemplateError, match=r"^Alarm: Fn::GetAtt on 'Nowhere'"):
        load(write(tmp_path, body))


def test_dangling_sub_variable_in_outputs(tmp_path: Path) -> None:
    body = "Resources:\n" + FUNCTION + 'Outputs:\n  Url:\n    Value: !Sub "https://${Ghost}.example"\n'
    with pytest.raises(TemplateError, match=r"^Outputs\.Url: Fn::Sub to 'Ghost'"):
        load(write(tmp_path, body))


def test_unknown_function_in_an_integration(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match=r"^Api: route 'GET /elsewhere' integrates .*not-in-this-stack"):
        load_stack(FIXTURES / "unknown_integration.yaml", cache_dir=tmp_path)


def test_yaml_error_points_at_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "Resources:\n  Fn:\n    Type: [unclosed\n")
    with pytest.raises(TemplateError, match=r"template\.yaml:\d+:\d+: invalid YAML"):
        load(path)


def test_translator_error_names_the_resource(tmp_path: Path) -> None:
    body = "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: ../fn\n"
    body += "      Handler: bootstrap\n      Runtime: provided.al2023\n      Events:\n        Bad:\n"
    body += "          Type: HttpApi\n          Properties:\n            Method: GET\n            Path: 42\n"
    with pytest.raises(TemplateError, match=r"SAM translation failed: .*\[Fn\]"):
        load(write(tmp_path, body))


def test_not_a_template(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="no Resources mapping"):
        load(write(tmp_path, "just: a mapping\n", header=""))


def test_missing_parameter_value_and_allowed_values(tmp_path: Path) -> None:
    body = "Parameters:\n  Needed:\n    Type: String\n  Arch:\n    Type: String\n    Default: arm64\n"
    body += "    AllowedValues: [arm64, x86_64]\nResources:\n" + FUNCTION
    path = write(tmp_path, body)
    with pytest.raises(TemplateError, match=r"^Parameters\.Needed: no value"):
        load(path)
    with pytest.raises(TemplateError, match=r"^Parameters\.Arch: 'sparc' is not one of AllowedValues"):
        load(path, parameters={"Needed": "x", "Arch": "sparc"})
    assert load(path, parameters={"Needed": "x"}).functions["Fn"].architecture == "x86_64"  # type: ignore[attr-defined]


def test_ref_to_a_resource_whose_condition_is_false(tmp_path: Path) -> None:
    body = "Conditions:\n  Never: !Equals [a, b]\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n    Condition: Never\n"
    body += FUNCTION + "      Environment:\n        Variables:\n          Q: !Ref Q\n"
    with pytest.raises(TemplateError, match=r"^Fn\.Environment\.Variables\.Q: refers to 'Q', which is not created"):
        load(write(tmp_path, body))


def test_fifo_queue_name_must_end_in_fifo(tmp_path: Path) -> None:
    body = (
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      FifoQueue: true\n      QueueName: plain\n"
    )
    with pytest.raises(TemplateError, match=r"^Q: QueueName 'plain' must end in \.fifo"):
        load(write(tmp_path, body))


def test_unsupported_properties_and_constructs_warn_once_each(tmp_path: Path) -> None:
    body = "Resources:\n" + FUNCTION
    body += "      Layers: [arn:aws:lambda:us-east-1:123456789012:layer:x:1]\n"
    body += "      Environment:\n        Variables:\n          IMPORTED: !ImportValue shared-thing\n"
    body += "  Topic:\n    Type: AWS::Kinesis::Stream\n  Topic2:\n    Type: AWS::Kinesis::Stream\n"
    body += "  Q:\n    Type: AWS::SQS::Queue\n"
    body += "  Esm:\n    Type: AWS::Lambda::EventSourceMapping\n    Properties:\n"
    body += "      FunctionName: !Ref Fn\n      EventSourceArn: !GetAtt Q.Arn\n"
    body += "      FilterCriteria: {Filters: [{Pattern: '{}'}]}\n"
    body += "  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument: {}\n"
    body += "  Logs:\n    Type: AWS::Logs::LogGroup\n"
    stack = load(write(tmp_path, body))
    warnings = stack.warnings  # type: ignore[attr-defined]
    assert len(warnings) == len(set(warnings))
    joined = "\n".join(warnings)
    assert "Fn (AWS::Lambda::Function): property Layers is not supported" in joined
    assert "Fn.Environment.Variables.IMPORTED: Fn::ImportValue can't be resolved without AWS" in joined
    assert "Topic (AWS::Kinesis::Stream): resource type not supported" in joined
    assert "Topic2 (AWS::Kinesis::Stream)" in joined
    assert "Esm: FilterCriteria are not applied" in joined
    assert "Role" not in joined and "Logs" not in joined
    assert len(warnings) == 5
    assert stack.functions["Fn"].environment["IMPORTED"] == ""  # type: ignore[attr-defined]
    assert stack.event_source_mappings[0].queue == "Q"  # type: ignore[attr-defined]


def test_lambda_authorizer_route_warns_and_is_open(tmp_path: Path) -> None:
    body = "Resources:\n  Api:\n    Type: AWS::Serverless::HttpApi\n    Properties:\n      Auth:\n"
    body += "        DefaultAuthorizer: Custom\n        Authorizers:\n          Custom:\n"
    body += "            FunctionArn: !GetAtt Fn.Arn\n            AuthorizerPayloadFormatVersion: '2.0'\n"
    body += FUNCTION + "      Events:\n        Get:\n          Type: HttpApi\n          Properties:\n"
    body += "            ApiId: !Ref Api\n            Method: GET\n            Path: /x\n"
    stack = load(write(tmp_path, body))
    (route,) = stack.http_apis["Api"].routes  # type: ignore[attr-defined]
    assert route.authorizer is None
    assert any("authorizer 'Custom'" in w for w in stack.warnings)  # type: ignore[attr-defined]
