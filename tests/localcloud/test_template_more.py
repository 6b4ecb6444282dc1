"""template.py: less common constructs — aliases, stages, OpenAPI files, REST APIs, mappings, list parameters."""

from __future__ import annotations

from pathlib import Path

import pytest

from devkit.localcloud.model import StackSpec, ThrottleSpec
from devkit.localcloud.template.loader import load_stack

HEADER = 'AWSTemplateFormatVersion: "2010-09-09"\nTransform: AWS::Serverless-2016-10-31\n'
FIXTURES = Path(__file__).parent / "fixtures"


def load(tmp_path: Path, body: str, **kwargs: object) -> StackSpec:
    path = tmp_path / "template.yaml"
    path.write_text(HEADER + body)
    return load_stack(path, cache_dir=tmp_path / "cache", **kwargs)  # type: ignore[arg-type]


def test_auto_publish_alias_routes_to_the_function(tmp_path: Path) -> None:
    body = """Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ../fn
      Handler: bootstrap
      Runtime: provided.al2023
      AutoPublishAlias: live
      Events:
        Get:
          Type: HttpApi
          Properties: {Method: GET, Path: /x}
"""
    stack = load(tmp_path, body, stack_name="s")
    (route,) = stack.http_apis["ServerlessHttpApi"].routes  # the implicit API
    assert (route.route_key, route.function) == ("GET /x", "Fn")
    assert stack.warnings == ()


def test_named_stage_and_stage_variables_are_reported_and_throttling_is_applied(tmp_path: Path) -> None:
    body = """Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      StageName: v1
      DefaultRouteSettings: {ThrottlingBurstLimit: 10, ThrottlingRateLimit: 5}
      StageVariables: {colour: blue}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ../fn
      Handler: bootstrap
      Runtime: provided.al2023
      Events:
        Get:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Method: GET, Path: /x}
"""
    stack = load(tmp_path, body)
    warnings = "\n".join(stack.warnings)
    assert "stage 'v1' is served at the root of the local gateway" in warnings
    assert "throttl" not in warnings, "the gateway enforces DefaultRouteSettings (test_apigw_fidelity.py)"
    assert stack.http_apis["Api"].default_throttle == ThrottleSpec(burst=10, rate=5.0)
    assert "StageVariables are not applied" in warnings


def test_definition_uri_file_is_inlined_and_globals_code_uri_is_used(tmp_path: Path) -> None:
    (tmp_path / "openapi").mkdir()
    (tmp_path / "openapi" / "api.yaml").write_text((FIXTURES / "openapi" / "api.yaml").read_text())
    body = """Globals:
  Function:
    CodeUri: ../shared-crate
    Handler: bootstrap
    Runtime: provided.al2023
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      DefinitionUri: openapi/api.yaml
  Hello:
    Type: AWS::Serverless::Function
"""
    stack = load(tmp_path, body)
    (route,) = stack.http_apis["Api"].routes
    assert (route.route_key, route.function) == ("GET /hello", "Hello")
    assert stack.functions["Hello"].code_uri == (tmp_path / ".." / "shared-crate").resolve()


def test_rest_api_is_reported_not_served(tmp_path: Path) -> None:
    body = """Resources:
  Rest:
    Type: AWS::Serverless::Api
    Properties: {StageName: prod}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ../fn
      Handler: bootstrap
      Runtime: provided.al2023
      Events:
        Get:
          Type: Api
          Properties: {RestApiId: !Ref Rest, Method: GET, Path: /x}
"""
    stack = load(tmp_path, body)
    assert stack.http_apis == {}
    assert any("(AWS::ApiGateway::RestApi): resource type not supported" in w for w in stack.warnings)


@pytest.mark.parametrize(("region", "expected"), [("us-east-1", "big"), ("eu-west-1", "small")])
def test_mappings_list_parameters_split_select_and_getatt_endpoint(tmp_path: Path, region: str, expected: str) -> None:
    body = """Parameters:
  Origins:
    Type: CommaDelimitedList
    Default: "https://a.example,https://b.example"
Mappings:
  Sizes:
    us-east-1: {Name: big}
    eu-west-1: {Name: small}
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ../fn
      Handler: bootstrap
      Runtime: provided.al2023
      Environment:
        Variables:
          SIZE: !FindInMap [Sizes, !Ref AWS::Region, Name]
          SECOND_ORIGIN: !Select [1, !Ref Origins]
          HOST: !Select [2, !Split ["/", !GetAtt Api.ApiEndpoint]]
          ENDPOINT: !GetAtt Api.ApiEndpoint
          PLAIN: true
          NUMBER: 42
      Events:
        Get:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Method: GET, Path: /x}
"""
    stack = load(tmp_path, body, region=region, api_urls={"Api": "http://127.0.0.1:4000"})
    env = stack.functions["Fn"].environment
    assert env["SIZE"] == expected
    assert env["SECOND_ORIGIN"] == "https://b.example"
    assert env["ENDPOINT"] == "http://127.0.0.1:4000"
    assert env["HOST"] == "127.0.0.1:4000"
    assert (env["PLAIN"], env["NUMBER"]) == ("true", "42")
