"""The local cloud's value types: what it knows about a stack, and what it hands back.

`template/` produces a `StackSpec`; every other module consumes these plain, frozen dataclasses and never
touches raw CloudFormation. Names (`physical_name`) are stable across runs: `<stack>-<LogicalId>`.
`InvokeResult` (one invocation's outcome), `PoolSettings` (how the function pools behave) and the dummy
credentials functions get are shared by the pools, the gateway, the SQS pollers and the callers.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from devkit.localcloud.awslambda.runtime_api import RuntimeOutcome


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    physical_name: str
    code_uri: Path  # directory named by CodeUri (the crate for rust-cargolambda builds)
    binary: str | None  # Metadata.BuildProperties.Binary: the cargo bin whose bootstrap runs this function
    handler: str
    runtime: str
    architecture: str  # "x86_64" | "arm64"
    memory_mb: int
    timeout_s: float
    environment: dict[str, str]  # Ref/GetAtt/Sub already resolved to local names and URLs
    reserved_concurrency: int | None = None
    # Lambda Managed Instances: PerExecutionEnvironmentMaxConcurrency. None → standard (one invocation per env).
    max_concurrency_per_env: int | None = None
    # LMI: environments started ahead of traffic.
    min_environments: int = 0
    # LMI: FunctionScalingConfig.MaxExecutionEnvironments (None → no template limit).
    max_environments: int | None = None

    @property
    def is_managed_instances(self) -> bool:
        return self.max_concurrency_per_env is not None


@dataclass(frozen=True)
class JwtAuthorizerSpec:
    name: str
    issuer: str  # resolved; may point at the local gateway (e.g. http://127.0.0.1:PORT)
    audience: tuple[str, ...]
    identity_source: str = "$request.header.Authorization"


@dataclass(frozen=True)
class CorsSpec:
    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    allow_credentials: bool = False
    max_age: int | None = None


@dataclass(frozen=True)
class RouteSpec:
    method: str  # "GET", ..., or "ANY"; "$default" routes use method "ANY" and path "$default"
    path: str  # "/posts/{id}", "/files/{proxy+}", or "$default"
    function: str  # logical id of the integrated function
    authorizer: str | None = None  # name in HttpApiSpec.authorizers; None → open route
    authorization_scopes: tuple[str, ...] = ()
    payload_format_version: str = "2.0"
    timeout_ms: int = 30_000

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"


@dataclass(frozen=True)
class ThrottleSpec:
    """A stage's or a route's ThrottlingBurstLimit / ThrottlingRateLimit (None: not set at that level)."""

    burst: int | None = None
    rate: float | None = None


@dataclass(frozen=True)
class AccessLogSpec:
    """A stage's AccessLogSettings: where lines go (the log group's logical id names the local file) and the
    `$context` format of each line."""

    destination: str  # logical id of the AWS::Logs::LogGroup (or "<Api>AccessLogs" when it names none of ours)
    format: str


@dataclass(frozen=True)
class HttpApiSpec:
    logical_id: str
    routes: tuple[RouteSpec, ...]
    authorizers: dict[str, JwtAuthorizerSpec] = field(default_factory=dict)
    cors: CorsSpec | None = None
    api_id: str = ""  # stable fake API Gateway id (requestContext.apiId, execute-api URLs in the template)
    default_throttle: ThrottleSpec | None = None  # the stage's DefaultRouteSettings
    route_throttles: dict[str, ThrottleSpec] = field(default_factory=dict)  # RouteSettings, by route key
    access_log: AccessLogSpec | None = None


@dataclass(frozen=True)
class TableSpec:
    logical_id: str
    physical_name: str
    key_schema: tuple[dict, ...]  # CloudFormation KeySchema entries, as-is
    attribute_definitions: tuple[dict, ...]
    global_secondary_indexes: tuple[dict, ...] = ()
    local_secondary_indexes: tuple[dict, ...] = ()
    ttl_attribute: str | None = None
    billing_mode: str = "PAY_PER_REQUEST"
    stream_view_type: str | None = None
    provisioned_throughput: dict | None = None  # CloudFormation ProvisionedThroughput (BillingMode PROVISIONED)


@dataclass(frozen=True)
class QueueSpec:
    logical_id: str
    physical_name: str  # FIFO queues end in ".fifo"
    fifo: bool = False
    content_based_deduplication: bool = False
    visibility_timeout_s: int = 30
    message_retention_s: int = 345_600
    receive_wait_time_s: int = 0
    dead_letter_queue: str | None = None  # logical id of the DLQ
    max_receive_count: int | None = None
    delay_s: int = 0
    max_message_size: int | None = None  # None → the backend's default


@dataclass(frozen=True)
class SecretSpec:
    logical_id: str
    physical_name: str  # `Ref` resolves to this name locally (GetSecretValue accepts a name or an ARN)
    secret_string: str | None = None  # SecretString as the template gives it
    generate: dict | None = None  # GenerateSecretString, as-is


@dataclass(frozen=True)
class EventSourceMappingSpec:
    function: str  # logical id
    queue: str  # logical id
    batch_size: int = 10
    maximum_batching_window_s: int = 0
    report_batch_item_failures: bool = False
    enabled: bool = True
    maximum_concurrency: int | None = None
    logical_id: str = ""  # the AWS::Lambda::EventSourceMapping resource


@dataclass(frozen=True)
class StackSpec:
    stack_name: str
    region: str
    account_id: str
    functions: dict[str, FunctionSpec]
    http_apis: dict[str, HttpApiSpec]
    tables: dict[str, TableSpec]
    queues: dict[str, QueueSpec]
    event_source_mappings: tuple[EventSourceMappingSpec, ...]
    outputs: dict[str, str] = field(default_factory=dict)  # resolved Outputs values
    warnings: tuple[str, ...] = ()  # each unsupported resource/property, reported once
    secrets: dict[str, SecretSpec] = field(default_factory=dict)  # AWS::SecretsManager::Secret

    def function_arn(self, logical_id: str) -> str:
        name = self.functions[logical_id].physical_name
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"

    def only(self, functions: Collection[str]) -> StackSpec:
        """The stack cut down to `functions` and the routes that reach them, without event source mappings;
        every table, queue and secret stays (they are provisioned all the same)."""
        apis = {}
        for logical_id, api in self.http_apis.items():
            routes = tuple(r for r in api.routes if r.function in functions)
            if routes:
                apis[logical_id] = replace(api, routes=routes)
        kept = {k: v for k, v in self.functions.items() if k in functions}
        return replace(self, functions=kept, http_apis=apis, event_source_mappings=())


DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIALOCALCLOUDEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "localcloud/secret/not-a-real-key",
    "AWS_SESSION_TOKEN": "localcloud-session-token",
}
INIT_TIMEOUT_S = 10.0  # Lambda's init phase limit for on-demand functions


@dataclass(frozen=True)
class InvokeResult:
    request_id: str
    outcome: RuntimeOutcome
    status: str  # success | error | timeout | crash | init_error | throttled
    duration_ms: float = 0.0
    init_duration_ms: float | None = None
    max_memory_mb: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == "success"

    @property
    def cold(self) -> bool:
        return self.init_duration_ms is not None


@dataclass(frozen=True)
class PoolSettings:
    account_concurrency: int = 1000  # used when the function has no ReservedConcurrentExecutions
    idle_timeout_s: float = 300.0
    reap_interval_s: float = 1.0
    init_timeout_s: float = INIT_TIMEOUT_S
    shutdown_grace_s: float = 2.0
    console_reports: bool = True  # START/END/REPORT lines on the console too (always in the log file)
    batch_scheduling: bool = True  # run bootstraps under SCHED_BATCH (see `batch_schedule`)
