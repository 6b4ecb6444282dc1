"""template.py: SAM template → StackSpec, on infra/template.yaml and on fixtures covering every construct."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from devkit import paths
from devkit.localcloud.model import StackSpec
from devkit.localcloud.template import loader as template
from devkit.localcloud.template.loader import load_stack

FIXTURES = Path(__file__).parent / "fixtures"
FULL = FIXTURES / "full.yaml"
LOCAL_API = "http://127.0.0.1:3999"
ACCOUNT = "123456789012"


def local_queue_url(name: str) -> str:
    return f"http://127.0.0.1:4566/{ACCOUNT}/{name}"


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sam-expansions")


@pytest.fixture(scope="module")
def full(cache: Path) -> StackSpec:
    return load_stack(
        FULL,
        stack_name="demo",
        region="eu-west-1",
        parameters={"Architecture": "x86_64"},
        api_urls={"HttpApi": LOCAL_API},
        queue_url=local_queue_url,
        cache_dir=cache,
    )


def test_infra_template_expands_to_the_auth_function_and_its_route(cache: Path) -> None:
    auth_api = "http://127.0.0.1:3999"
    stack = load_stack(
        paths.TEMPLATE, parameters={"Architecture": "x86_64"}, api_urls={"HttpApi": LOCAL_API, "AuthApi": auth_api}
    )
    auth = stack.functions["AuthManager"]
    assert auth.code_uri == paths.ROOT / "services" / "auth"
    assert auth.binary == "auth-lambda"
    assert (auth.runtime, auth.handler, auth.architecture) == ("provided.al2023", "bootstrap", "x86_64")
    assert auth.environment["STAGE"] == "dev"
    routes = {r.route_key: r.function for r in stack.http_apis["AuthApi"].routes}
    assert routes["GET /health/auth"] == "AuthManager"
    assert stack.outputs["HttpApiUrl"] == LOCAL_API
    # The identity API is the issuer every other function pins and the HttpApi authorizer trusts.
    assert auth.environment.get("JWT_ISSUER", "") == ""
    assert stack.functions["BlogManager"].environment["JWT_ISSUER"] == auth_api
    assert {a.issuer for a in stack.http_apis["HttpApi"].authorizers.values()} == {auth_api}
    assert stack.warnings == ()


def test_architecture_parameter_defaults_and_overrides(cache: Path) -> None:
    default = load_stack(FULL, cache_dir=cache)
    assert {f.architecture for f in default.functions.values()} == {"arm64"}
    assert default.functions["Api"].environment["STAGE"] == "dev"
    prod = load_stack(FULL, parameters={"Stage": "prod", "Architecture": "x86_64"}, cache_dir=cache)
    assert {f.architecture for f in prod.functions.values()} == {"x86_64"}
    assert prod.functions["Api"].environment["CHOSEN"] == "prod-value"
    assert "ProdOnlyQueue" in prod.queues and "ProdOnly" in prod.outputs
    assert "ProdOnlyQueue" not in default.queues and "ProdOnly" not in default.outputs


def test_function_settings(full: StackSpec) -> None:
    api = full.functions["Api"]
    assert api.physical_name == "demo-Api"
    assert api.code_uri == (FIXTURES / ".." / "services" / "api").resolve()
    assert api.binary == "api-lambda"
    assert (api.memory_mb, api.timeout_s, api.reserved_concurrency) == (512, 15.0, 5)
    worker = full.functions["Worker"]
    assert (worker.memory_mb, worker.timeout_s, worker.reserved_concurrency) == (256, 30.0, None)
    assert not worker.is_managed_instances


def test_environment_intrinsics_resolve_to_local_names_and_urls(full: StackSpec) -> None:
    env = full.functions["Api"].environment
    assert env["TABLE_NAME"] == "demo-Table"
    assert env["TABLE_ARN"] == f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/demo-Table"
    assert env["QUEUE_URL"] == local_queue_url("demo-Commands.fifo")
    assert env["QUEUE_ARN"] == f"arn:aws:sqs:eu-west-1:{ACCOUNT}:demo-Commands.fifo"
    assert env["QUEUE_NAME"] == "demo-Commands.fifo"
    assert env["WORKER_NAME"] == "demo-Worker"
    assert env["WORKER_ARN"] == f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:demo-Worker"
    assert env["WHERE"] == f"demo/{ACCOUNT}/aws/dev"
    assert env["JOINED"] == "dev-demo-Table"
    assert env["PICKED"] == "b"
    assert env["CHOSEN"] == "other-value"
    assert env["FANCY"] == "not-fancy"
    assert env["SUBMAP"] == "dev-x"
    assert env["LITERAL"] == "${NotASubstitution}"
    assert env["STAGE"] == "dev"  # from Globals
    assert env["SECRET_ID"] == "demo-SigningKey"


def test_execute_api_urls_are_rewritten_to_the_local_gateway(full: StackSpec) -> None:
    env = full.functions["Api"].environment
    assert env["API_URL"] == LOCAL_API
    assert env["JWKS_URL"] == f"{LOCAL_API}/.well-known/jwks.json"
    assert full.http_apis["HttpApi"].authorizers["Jwt"].issuer == LOCAL_API
    assert full.outputs["ApiUrl"] == LOCAL_API


def test_without_api_urls_execute_api_urls_keep_the_aws_form(cache: Path) -> None:
    stack = load_stack(FULL, stack_name="demo", region="eu-west-1", cache_dir=cache)
    api_id = stack.http_apis["HttpApi"].api_id
    assert len(api_id) == 10 and api_id.isalnum()
    assert stack.outputs["ApiUrl"] == f"https://{api_id}.execute-api.eu-west-1.amazonaws.com"


def test_routes_methods_proxy_default_and_integrations(full: StackSpec) -> None:
    routes = {r.route_key: r for r in full.http_apis["HttpApi"].routes}
    assert set(routes) == {"GET /items/{id}", "POST /items", "ANY /files/{proxy+}", "$default", "GET /convert"}
    assert routes["$default"].method == "ANY" and routes["$default"].path == "$default"
    assert routes["GET /convert"].function == "Convert"
    assert {routes[k].function for k in routes if k != "GET /convert"} == {"Api"}
    assert routes["ANY /files/{proxy+}"].timeout_ms == 5000
    assert routes["GET /items/{id}"].timeout_ms == 30_000
    assert {r.payload_format_version for r in routes.values()} == {"2.0"}


def test_jwt_authorizer_default_none_and_scopes(full: StackSpec) -> None:
    api = full.http_apis["HttpApi"]
    jwt = api.authorizers["Jwt"]
    assert jwt.audience == ("blog", "billing")
    assert jwt.identity_source == "$request.header.Authorization"
    routes = {r.route_key: r for r in api.routes}
    assert routes["GET /items/{id}"].authorizer is None  # Auth.Authorizer: NONE
    assert routes["$default"].authorizer is None
    assert routes["POST /items"].authorizer == "Jwt"
    assert routes["POST /items"].authorization_scopes == ("write",)
    assert routes["GET /convert"].authorizer == "Jwt"  # DefaultAuthorizer
    assert routes["ANY /files/{proxy+}"].authorizer == "Jwt"


def test_cors(full: StackSpec) -> None:
    cors = full.http_apis["HttpApi"].cors
    assert cors is not None
    assert cors.allow_origins == ("https://example.com",)
    assert cors.allow_methods == ("GET", "POST")
    assert cors.allow_headers == ("authorization", "content-type")
    assert cors.expose_headers == ("location",)
    assert cors.allow_credentials is True
    assert cors.max_age == 600


def test_tables_keys_indexes_ttl_billing_streams(full: StackSpec) -> None:
    table = full.tables["Table"]
    assert table.physical_name == "demo-Table"
    assert [k["AttributeName"] for k in table.key_schema] == ["pk", "sk"]
    assert {a["AttributeName"] for a in table.attribute_definitions} == {"pk", "sk", "author", "created"}
    (gsi,) = table.global_secondary_indexes
    assert gsi["IndexName"] == "by-author" and gsi["Projection"] == {"ProjectionType": "ALL"}
    (lsi,) = table.local_secondary_indexes
    assert lsi["Projection"]["NonKeyAttributes"] == ["title"]
    assert table.ttl_attribute == "expires_at"
    assert table.billing_mode == "PAY_PER_REQUEST"
    assert table.stream_view_type == "NEW_AND_OLD_IMAGES"
    named = full.tables["NamedTable"]
    assert named.physical_name == "dev-named"  # explicit TableName, resolved
    assert named.billing_mode == "PROVISIONED"
    assert named.provisioned_throughput == {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    assert full.tables["Simple"].physical_name == "demo-Simple"  # AWS::Serverless::SimpleTable


def test_fifo_queue_with_dlq_and_named_queue(full: StackSpec) -> None:
    commands = full.queues["Commands"]
    assert commands.physical_name == "demo-Commands.fifo"
    assert commands.fifo and commands.content_based_deduplication
    assert (commands.visibility_timeout_s, commands.message_retention_s, commands.receive_wait_time_s) == (60, 86400, 5)
    assert (commands.dead_letter_queue, commands.max_receive_count) == ("CommandsDlq", 3)
    dlq = full.queues["CommandsDlq"]
    assert dlq.physical_name == "demo-CommandsDlq.fifo" and dlq.fifo and dlq.message_retention_s == 1209600
    assert full.queues["Plain"].physical_name == "demo-plain-dev"
    assert full.queues["Plain"].visibility_timeout_s == 30


def test_a_stack_cut_down_to_some_functions_keeps_their_routes_and_every_resource(full: StackSpec) -> None:
    convert = full.only({"Convert"})
    assert set(convert.functions) == {"Convert"}
    assert set(convert.http_apis) == {"HttpApi"}
    assert [r.route_key for r in convert.http_apis["HttpApi"].routes] == ["GET /convert"]
    assert convert.event_source_mappings == ()
    assert (convert.tables, convert.queues, convert.secrets) == (full.tables, full.queues, full.secrets)
    assert full.only({"Worker"}).http_apis == {}, "an API without a route to a kept function goes"


def test_sqs_event_source_mappings(full: StackSpec) -> None:
    by_queue = {m.queue: m for m in full.event_source_mappings}
    commands = by_queue["Commands"]
    assert commands.function == "Worker"
    assert (commands.batch_size, commands.maximum_batching_window_s) == (5, 2)
    assert commands.report_batch_item_failures and commands.enabled
    assert commands.maximum_concurrency == 3
    plain = by_queue["Plain"]
    assert (plain.batch_size, plain.maximum_batching_window_s, plain.enabled) == (10, 0, False)
    assert not plain.report_batch_item_failures and plain.maximum_concurrency is None


def test_lambda_managed_instances_function(full: StackSpec) -> None:
    convert = full.functions["Convert"]
    assert convert.is_managed_instances
    assert convert.max_concurrency_per_env == 64
    assert (convert.min_environments, convert.max_environments) == (2, 4)
    assert convert.memory_mb == 2048


def test_secrets(full: StackSpec) -> None:
    signing = full.secrets["SigningKey"]
    assert (signing.physical_name, signing.secret_string, signing.generate) == ("demo-SigningKey", "{}", None)
    generated = full.secrets["DbPassword"]
    assert generated.physical_name == "dev/db-password" and generated.secret_string is None
    assert generated.generate is not None and generated.generate["GenerateStringKey"] == "password"


def test_unsupported_resource_warned_once_and_ignored_ones_silent(full: StackSpec) -> None:
    assert full.warnings == (
        "Notifications (AWS::Kinesis::Stream): resource type not supported by the local cloud (not created)",
    )


def test_plain_cloudformation_template_without_transform(cache: Path) -> None:
    stack = load_stack(
        FIXTURES / "plain_cfn.yaml", parameters={"Stage": "x"}, queue_url=local_queue_url, cache_dir=cache
    )
    assert stack.tables["Items"].physical_name == "items-x"
    assert stack.queues["Jobs"].visibility_timeout_s == 45
    assert stack.outputs == {
        "ItemsTable": "items-x",
        "JobsQueueUrl": local_queue_url("jobs-x"),
        "JobsQueueArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:jobs-x",
    }


def test_physical_names_override(cache: Path) -> None:
    stack = load_stack(FULL, physical_names={"Table": "demo-Table-1A2B3C"}, cache_dir=cache)
    assert stack.tables["Table"].physical_name == "demo-Table-1A2B3C"
    assert stack.functions["Worker"].environment["TABLE_NAME"] == "demo-Table-1A2B3C"


def test_expansion_is_cached_on_disk_and_fast(tmp_path: Path) -> None:
    template._memory_cache.clear()
    started = time.perf_counter()
    cold = load_stack(FULL, cache_dir=tmp_path)
    cold_s = time.perf_counter() - started
    assert len(list(tmp_path.glob("*.json"))) == 1
    template._memory_cache.clear()
    started = time.perf_counter()
    warm = load_stack(FULL, cache_dir=tmp_path)
    warm_s = time.perf_counter() - started
    assert warm == cold
    load_stack(FULL, parameters={"Stage": "other"}, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.json"))) == 2  # parameters are part of the key
    print(f"load_stack(full.yaml): cold {cold_s * 1000:.0f} ms, warm {warm_s * 1000:.0f} ms")
    assert warm_s < 0.5, f"warm load_stack took {warm_s:.3f} s"
