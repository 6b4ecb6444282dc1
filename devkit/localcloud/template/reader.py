"""Expanded CloudFormation resources → the plain specs of `model.py`, with a warning for anything unsupported.

Every resource type and property falls in one of three sets: read (it drives local behaviour), ignored (it
has no effect on a laptop: IAM, permissions, logs, alarms, ...), or unsupported (it would change behaviour
and the local cloud can't honour it). Unsupported ones produce exactly one warning each; nothing is dropped
silently.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from devkit.localcloud.model import (
    AccessLogSpec,
    CorsSpec,
    EventSourceMappingSpec,
    FunctionSpec,
    HttpApiSpec,
    JwtAuthorizerSpec,
    QueueSpec,
    RouteSpec,
    SecretSpec,
    TableSpec,
    ThrottleSpec,
)
from devkit.localcloud.template.resolver import NO_VALUE, Resolver, TemplateError, Unresolvable

FUNCTION = "AWS::Lambda::Function"
HTTP_API = "AWS::ApiGatewayV2::Api"
STAGE = "AWS::ApiGatewayV2::Stage"
ESM = "AWS::Lambda::EventSourceMapping"
TABLE = "AWS::DynamoDB::Table"
QUEUE = "AWS::SQS::Queue"
CAPACITY_PROVIDER = "AWS::Lambda::CapacityProvider"
SECRET = "AWS::SecretsManager::Secret"

READ_TYPES = {FUNCTION, HTTP_API, STAGE, ESM, TABLE, QUEUE, CAPACITY_PROVIDER, SECRET}
# No effect on local behaviour: recognised and skipped without a warning.
IGNORED_TYPES = {
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::InstanceProfile",
    "AWS::Lambda::Permission",
    "AWS::Lambda::Version",
    "AWS::Lambda::Alias",
    "AWS::Logs::LogGroup",
    "AWS::Logs::MetricFilter",
    "AWS::Logs::SubscriptionFilter",
    "AWS::CloudWatch::Alarm",
    "AWS::CloudWatch::CompositeAlarm",
    "AWS::CloudWatch::Dashboard",
    # Alarm notifications (AlarmTopic): nothing alarms locally.
    "AWS::SNS::Topic",
    "AWS::SNS::Subscription",
    "AWS::SQS::QueuePolicy",
    "AWS::ApiGatewayV2::DomainName",
    "AWS::ApiGatewayV2::ApiMapping",
    "AWS::CertificateManager::Certificate",
    "AWS::Route53::RecordSet",
    "AWS::CodeDeploy::Application",
    "AWS::CodeDeploy::DeploymentGroup",
    "AWS::ApplicationAutoScaling::ScalableTarget",
    "AWS::ApplicationAutoScaling::ScalingPolicy",
    "AWS::CloudFormation::WaitConditionHandle",
}

FUNCTION_READ = {
    "Code",
    "Handler",
    "Runtime",
    "MemorySize",
    "Timeout",
    "Environment",
    "Architectures",
    "ReservedConcurrentExecutions",
    "CapacityProviderConfig",
    "FunctionScalingConfig",
    "FunctionName",
    "PackageType",
}
FUNCTION_IGNORED = {
    "Role",
    "Tags",
    "Description",
    "LoggingConfig",
    "TracingConfig",
    "KmsKeyArn",
    "VpcConfig",
    "EphemeralStorage",
    "CodeSigningConfigArn",
    "RuntimeManagementConfig",
    "PublishToLatestPublished",
    "SnapStart",
    "RecursiveLoop",
}
TABLE_READ = {
    "TableName",
    "KeySchema",
    "AttributeDefinitions",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "TimeToLiveSpecification",
    "BillingMode",
    "StreamSpecification",
    "ProvisionedThroughput",
}
TABLE_IGNORED = {
    "Tags",
    "PointInTimeRecoverySpecification",
    "SSESpecification",
    "DeletionProtectionEnabled",
    "ContributorInsightsSpecification",
    "TableClass",
    "WarmThroughput",
    "OnDemandThroughput",
    "ResourcePolicy",
}
QUEUE_READ = {
    "QueueName",
    "FifoQueue",
    "ContentBasedDeduplication",
    "VisibilityTimeout",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "RedrivePolicy",
    "DelaySeconds",
    "MaximumMessageSize",
}
QUEUE_IGNORED = {
    "Tags",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
    "RedriveAllowPolicy",
    "DeduplicationScope",
    "FifoThroughputLimit",
}
ESM_READ = {
    "EventSourceArn",
    "FunctionName",
    "BatchSize",
    "MaximumBatchingWindowInSeconds",
    "FunctionResponseTypes",
    "Enabled",
    "ScalingConfig",
}
ESM_IGNORED = {"Tags", "MetricsConfig"}
API_READ = {"Body", "ProtocolType"}
API_IGNORED = {"Name", "Description", "Tags", "FailOnWarnings", "DisableExecuteApiEndpoint", "Version"}
STAGE_READ = {"ApiId", "StageName", "DefaultRouteSettings", "RouteSettings", "AccessLogSettings"}
STAGE_IGNORED = {"AutoDeploy", "Tags", "Description", "DeploymentId"}
SECRET_READ = {"Name", "SecretString", "GenerateSecretString"}
SECRET_IGNORED = {"Description", "KmsKeyId", "Tags", "ReplicaRegions"}
CAPACITY_PROVIDER_IGNORED = {
    "CapacityProviderName",
    "VpcConfig",
    "PermissionsConfig",
    "InstanceRequirements",
    "CapacityProviderScalingConfig",
    "Tags",
    "KmsKeyArn",
}

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "x-amazon-apigateway-any-method"}
# AWS doesn't document a PerExecutionEnvironmentMaxConcurrency default for custom runtimes; this is ours.
LMI_DEFAULT_MAX_CONCURRENCY = 16
LMI_DEFAULT_MIN_ENVIRONMENTS = 3  # FunctionScalingConfig.MinExecutionEnvironments default (SAM docs)
_FUNCTION_ARN = re.compile(r"(arn:[^:]+:lambda:[^:]+:[^:]+:function:[^:/]+)(?::[^/]+)?")


def as_str(value: Any) -> str:
    """CloudFormation's string form (YAML true → "true", 1 → "1")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def as_bool(value: Any, default: bool = False) -> bool:
    if value is None:
        return default
    return value is True or str(value).lower() == "true"


@dataclass
class StackReader:
    resolver: Resolver
    template_dir: Path
    code_uris: dict[str, str | None]  # function logical id → local CodeUri from the SAM template (None: not local)
    warnings: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def resolve(self, node: Any, where: str, *, default: Any = None) -> Any:
        """Resolve `node`; what can't be known locally becomes a warning and `default`."""
        if node is None:
            return default
        try:
            return self.resolver.resolve(node, where)
        except Unresolvable as exc:
            self.warn(f"{exc}; using {default!r} locally")
            return default

    @property
    def resources(self) -> dict[str, dict]:
        return self.resolver.resources

    def active(self, rtype: str) -> list[str]:
        return [lid for lid, res in self.resources.items() if res.get("Type") == rtype and self.resolver.is_active(lid)]

    def check_properties(self, logical_id: str, read: set[str], ignored: set[str]) -> dict[str, Any]:
        props = self.resources[logical_id].get("Properties") or {}
        rtype = self.resources[logical_id].get("Type")
        for name in props:
            if name not in read and name not in ignored:
                self.warn(f"{logical_id} ({rtype}): property {name} is not supported by the local cloud (ignored)")
        return props

    def check_types(self) -> None:
        for lid, res in self.resources.items():
            rtype = res.get("Type", "")
            if not self.resolver.is_active(lid) or rtype in READ_TYPES or rtype in IGNORED_TYPES:
                continue
            self.warn(f"{lid} ({rtype}): resource type not supported by the local cloud (not created)")

    # ---- functions ------------------------------------------------------------------------------------------------
    def functions(self) -> dict[str, FunctionSpec]:
        out = {}
        for lid in self.active(FUNCTION):
            props = self.check_properties(lid, FUNCTION_READ, FUNCTION_IGNORED)
            out[lid] = self.function(lid, props)
        return out

    def function(self, lid: str, props: dict[str, Any]) -> FunctionSpec:
        runtime = as_str(self.resolve(props.get("Runtime"), f"{lid}.Runtime", default=""))
        if props.get("PackageType") == "Image":
            self.warn(f"{lid}: container image functions are not supported by the local cloud")
        elif not runtime.startswith("provided"):
            self.warn(f"{lid}: runtime {runtime!r} — the local cloud runs custom-runtime bootstraps (provided.*) only")
        archs = self.resolve(props.get("Architectures"), f"{lid}.Architectures", default=["x86_64"]) or ["x86_64"]
        lmi = (props.get("CapacityProviderConfig") or {}).get("LambdaManagedInstancesCapacityProviderConfig")
        max_per_env = min_envs = max_envs = None
        if lmi is not None:
            lmi = self.resolve(lmi, f"{lid}.CapacityProviderConfig", default={})
            max_per_env = int(lmi.get("PerExecutionEnvironmentMaxConcurrency", LMI_DEFAULT_MAX_CONCURRENCY))
            scaling = self.resolve(props.get("FunctionScalingConfig"), f"{lid}.FunctionScalingConfig", default={})
            min_envs = int(scaling.get("MinExecutionEnvironments", LMI_DEFAULT_MIN_ENVIRONMENTS))
            max_envs = int(scaling["MaxExecutionEnvironments"]) if "MaxExecutionEnvironments" in scaling else None
        metadata = self.resources[lid].get("Metadata") or {}
        binary = (metadata.get("BuildProperties") or {}).get("Binary")
        reserved = self.resolve(props.get("ReservedConcurrentExecutions"), f"{lid}.ReservedConcurrentExecutions")
        return FunctionSpec(
            logical_id=lid,
            physical_name=self.resolver.physical_name(lid),
            code_uri=self.code_path(lid, props),
            binary=str(binary) if binary is not None else None,
            handler=as_str(self.resolve(props.get("Handler"), f"{lid}.Handler", default="bootstrap")),
            runtime=runtime,
            architecture=as_str(archs[0]),
            memory_mb=int(self.resolve(props.get("MemorySize"), f"{lid}.MemorySize", default=128)),
            timeout_s=float(self.resolve(props.get("Timeout"), f"{lid}.Timeout", default=3)),
            environment=self.environment(lid, props),
            reserved_concurrency=int(reserved) if reserved is not None and reserved is not NO_VALUE else None,
            max_concurrency_per_env=max_per_env,
            min_environments=min_envs or 0,
            max_environments=max_envs,
        )

    def code_path(self, lid: str, props: dict[str, Any]) -> Path:
        local = self.code_uris.get(lid)
        if local is None and isinstance(props.get("Code"), str):
            local = props["Code"]  # plain AWS::Lambda::Function with a local Code path (packaged by `sam build`)
        if local is None:
            self.warn(f"{lid}: CodeUri is not a local path; the local cloud has no code to build for it")
            return self.template_dir
        return (self.template_dir / local).resolve()

    def environment(self, lid: str, props: dict[str, Any]) -> dict[str, str]:
        variables = (props.get("Environment") or {}).get("Variables") or {}
        if not isinstance(variables, dict):
            variables = self.resolve(variables, f"{lid}.Environment.Variables", default={})
        out = {}
        for name, raw in variables.items():
            value = self.resolve(raw, f"{lid}.Environment.Variables.{name}", default="")
            if value is not None and value is not NO_VALUE:
                out[str(name)] = as_str(value)
        return out

    # ---- HTTP APIs ------------------------------------------------------------------------------------------------
    def http_apis(self, functions: dict[str, FunctionSpec]) -> dict[str, HttpApiSpec]:
        arn_to_function = {self.resolver.arn(lid): lid for lid in functions}
        out = {}
        for lid in self.active(HTTP_API):
            props = self.check_properties(lid, API_READ, API_IGNORED)
            if str(props.get("ProtocolType", "HTTP")).upper() == "WEBSOCKET":
                self.warn(f"{lid}: WebSocket APIs are not supported by the local cloud (not served)")
                continue
            if "Body" not in props:
                self.warn(f"{lid}: HTTP API without an inline OpenAPI Body is not supported (not served)")
                continue
            body = self.resolve(props["Body"], f"{lid}.Body", default={})
            out[lid] = self.http_api(lid, body, arn_to_function)
        self.check_stages(out)
        return out

    def http_api(self, lid: str, body: dict[str, Any], arn_to_function: dict[str, str]) -> HttpApiSpec:
        schemes = (body.get("components") or {}).get("securitySchemes") or {}
        authorizers, unsupported_auth = {}, set()
        for name, scheme in schemes.items():
            config = scheme.get("x-amazon-apigateway-authorizer") or {}
            if str(config.get("type", "")).lower() == "jwt":
                authorizers[name] = self.jwt_authorizer(name, config)
            else:
                unsupported_auth.add(name)
        routes = []
        for path, item in (body.get("paths") or {}).items():
            for method_key, op in (item or {}).items():
                if method_key.lower() not in HTTP_METHODS:
                    continue
                route = self.route(lid, path, method_key, op, body, arn_to_function, authorizers, unsupported_auth)
                if route is not None:
                    routes.append(route)
        for key in body:
            if key.startswith("x-amazon-apigateway-") and key not in _BODY_EXTENSIONS_OK:
                self.warn(f"{lid}: OpenAPI extension {key} is not supported by the local cloud (ignored)")
        return HttpApiSpec(
            logical_id=lid,
            routes=tuple(routes),
            authorizers=authorizers,
            cors=self.cors(body),
            api_id=self.resolver.api_ids[lid],
        )

    def route(
        self,
        api: str,
        path: str,
        method_key: str,
        op: dict[str, Any],
        body: dict[str, Any],
        arn_to_function: dict[str, str],
        authorizers: dict[str, JwtAuthorizerSpec],
        unsupported_auth: set[str],
    ) -> RouteSpec | None:
        method = "ANY" if method_key.lower() == "x-amazon-apigateway-any-method" else method_key.upper()
        key = "$default" if path == "$default" else f"{method} {path}"
        integration = op.get("x-amazon-apigateway-integration") or {}
        if str(integration.get("type", "")).lower() != "aws_proxy":
            self.warn(f"{api}: route {key!r} has a non-Lambda integration, not supported locally (not served)")
            return None
        for extra in ("requestParameters", "responseParameters", "requestTemplates", "tlsConfig"):
            if extra in integration:
                self.warn(f"{api}: route {key!r}: integration {extra} is not applied by the local cloud")
        match = _FUNCTION_ARN.search(str(integration.get("uri", "")))
        function = arn_to_function.get(match.group(1)) if match else None
        if function is None:
            raise TemplateError(
                f"{api}: route {key!r} integrates {integration.get('uri')!r}, which is not a function of this template"
            )
        authorizer, scopes = None, ()
        security = op.get("security", body.get("security")) or []
        for requirement in security[:1]:
            for name, requested in requirement.items():
                if name in authorizers:
                    authorizer, scopes = name, tuple(requested or ())
                elif name != "NONE":
                    self.warn(
                        f"{api}: route {key!r} uses authorizer {name!r}, which the local cloud can't run "
                        "(only JWT authorizers); the route is served without authorization"
                    )
        return RouteSpec(
            method=method,
            path=path,
            function=function,
            authorizer=authorizer,
            authorization_scopes=scopes,
            payload_format_version=as_str(integration.get("payloadFormatVersion", "2.0")),
            timeout_ms=int(integration.get("timeoutInMillis", 30_000)),
        )

    def jwt_authorizer(self, name: str, config: dict[str, Any]) -> JwtAuthorizerSpec:
        jwt = config.get("jwtConfiguration") or {}
        audience = jwt.get("audience") or []
        source = config.get("identitySource", "$request.header.Authorization")
        return JwtAuthorizerSpec(
            name=name,
            issuer=as_str(jwt.get("issuer", "")),
            audience=tuple(as_str(a) for a in (audience if isinstance(audience, list) else [audience])),
            identity_source=",".join(source) if isinstance(source, list) else as_str(source),
        )

    @staticmethod
    def cors(body: dict[str, Any]) -> CorsSpec | None:
        cors = body.get("x-amazon-apigateway-cors")
        if not cors:
            return None

        def strings(key: str) -> tuple[str, ...]:
            return tuple(as_str(v) for v in cors.get(key) or ())

        return CorsSpec(
            allow_origins=strings("allowOrigins"),
            allow_methods=strings("allowMethods"),
            allow_headers=strings("allowHeaders"),
            expose_headers=strings("exposeHeaders"),
            allow_credentials=as_bool(cors.get("allowCredentials")),
            max_age=int(cors["maxAge"]) if cors.get("maxAge") is not None else None,
        )

    def check_stages(self, apis: dict[str, HttpApiSpec]) -> None:
        """Applies each stage's throttling (DefaultRouteSettings/RouteSettings) and AccessLogSettings to its API."""
        by_api_id = {api.api_id: lid for lid, api in apis.items()}
        for lid in self.active(STAGE):
            props = self.check_properties(lid, STAGE_READ, STAGE_IGNORED | {"StageVariables"})
            name = as_str(self.resolve(props.get("StageName"), f"{lid}.StageName", default="$default"))
            if name != "$default":
                self.warn(f"{lid}: stage {name!r} is served at the root of the local gateway (no /{name} prefix)")
            if props.get("StageVariables"):
                self.warn(f"{lid}: StageVariables are not applied by the local cloud")
            api_lid = by_api_id.get(as_str(self.resolve(props.get("ApiId"), f"{lid}.ApiId", default="")))
            if api_lid is None:
                continue
            default = self.throttle(self.resolve(props.get("DefaultRouteSettings"), f"{lid}.DefaultRouteSettings"))
            routes = self.resolve(props.get("RouteSettings"), f"{lid}.RouteSettings") or {}
            route_throttles = {}
            for key, settings in routes.items():
                throttle = self.throttle(settings)
                if throttle is not None:
                    route_throttles[str(key)] = throttle
            known = {route.route_key for route in apis[api_lid].routes}
            for key in sorted(set(route_throttles) - known):
                self.warn(f"{lid}: RouteSettings name route {key!r}, which {api_lid} does not have")
            apis[api_lid] = replace(
                apis[api_lid],
                default_throttle=default,
                route_throttles=route_throttles,
                access_log=self.access_log(lid, api_lid, props.get("AccessLogSettings")),
            )

    @staticmethod
    def throttle(settings: Any) -> ThrottleSpec | None:
        if not isinstance(settings, dict):
            return None
        burst, rate = settings.get("ThrottlingBurstLimit"), settings.get("ThrottlingRateLimit")
        if burst is None and rate is None:
            return None
        return ThrottleSpec(burst=None if burst is None else int(burst), rate=None if rate is None else float(rate))

    def access_log(self, stage: str, api: str, settings: Any) -> AccessLogSpec | None:
        if not settings:
            return None
        settings = self.resolve(settings, f"{stage}.AccessLogSettings", default={}) or {}
        fmt = as_str(settings.get("Format") or "")
        destination = as_str(settings.get("DestinationArn") or "")
        if not fmt or not destination:
            return None
        groups = {self.resolver.arn(group).removesuffix(":*"): group for group in self.active("AWS::Logs::LogGroup")}
        return AccessLogSpec(destination=groups.get(destination.removesuffix(":*"), f"{api}AccessLogs"), format=fmt)

    # ---- data -------------------------------------------------------------------------------------------------------
    def tables(self) -> dict[str, TableSpec]:
        out = {}
        for lid in self.active(TABLE):
            props = self.resolve(self.check_properties(lid, TABLE_READ, TABLE_IGNORED), lid, default={})
            for key in ("KinesisStreamSpecification", "ImportSourceSpecification"):
                if key in props:
                    self.warn(f"{lid}: {key} is not supported by the local cloud (ignored)")
            ttl = props.get("TimeToLiveSpecification") or {}
            stream = props.get("StreamSpecification") or {}
            out[lid] = TableSpec(
                logical_id=lid,
                physical_name=self.resolver.physical_name(lid),
                key_schema=tuple(props.get("KeySchema") or ()),
                attribute_definitions=tuple(props.get("AttributeDefinitions") or ()),
                global_secondary_indexes=tuple(props.get("GlobalSecondaryIndexes") or ()),
                local_secondary_indexes=tuple(props.get("LocalSecondaryIndexes") or ()),
                ttl_attribute=ttl.get("AttributeName") if as_bool(ttl.get("Enabled")) else None,
                billing_mode=as_str(props.get("BillingMode", "PROVISIONED")),
                stream_view_type=stream.get("StreamViewType"),
                provisioned_throughput=props.get("ProvisionedThroughput"),
            )
            if not out[lid].key_schema:
                raise TemplateError(f"{lid}: AWS::DynamoDB::Table without KeySchema")
        return out

    def queues(self) -> dict[str, QueueSpec]:
        arn_to_queue = {self.resolver.arn(lid): lid for lid in self.active(QUEUE)}
        out = {}
        for lid in self.active(QUEUE):
            props = self.resolve(self.check_properties(lid, QUEUE_READ, QUEUE_IGNORED), lid, default={})
            fifo = as_bool(props.get("FifoQueue"))
            name = self.resolver.physical_name(lid)
            if fifo != name.endswith(".fifo"):
                raise TemplateError(f"{lid}: QueueName {name!r} must end in .fifo exactly when FifoQueue is true")
            dlq, max_receive = self.redrive(lid, props.get("RedrivePolicy"), arn_to_queue)
            out[lid] = QueueSpec(
                logical_id=lid,
                physical_name=name,
                fifo=fifo,
                content_based_deduplication=as_bool(props.get("ContentBasedDeduplication")),
                visibility_timeout_s=int(props.get("VisibilityTimeout", 30)),
                message_retention_s=int(props.get("MessageRetentionPeriod", 345_600)),
                receive_wait_time_s=int(props.get("ReceiveMessageWaitTimeSeconds", 0)),
                dead_letter_queue=dlq,
                max_receive_count=max_receive,
                delay_s=int(props.get("DelaySeconds", 0)),
                max_message_size=int(props["MaximumMessageSize"]) if "MaximumMessageSize" in props else None,
            )
        return out

    def redrive(self, lid: str, policy: Any, arn_to_queue: dict[str, str]) -> tuple[str | None, int | None]:
        if not policy:
            return None, None
        if isinstance(policy, str):
            policy = json.loads(policy)
        target = as_str(policy.get("deadLetterTargetArn", ""))
        dlq = arn_to_queue.get(target)
        if dlq is None:
            self.warn(f"{lid}: RedrivePolicy targets {target!r}, not a queue of this template (no DLQ locally)")
            return None, None
        return dlq, int(policy.get("maxReceiveCount", 1))

    def event_source_mappings(
        self, functions: dict[str, FunctionSpec], queues: dict[str, QueueSpec]
    ) -> tuple[EventSourceMappingSpec, ...]:
        arn_to_queue = {self.resolver.arn(lid): lid for lid in queues}
        by_name = {f.physical_name: lid for lid, f in functions.items()}
        by_arn = {self.resolver.arn(lid): lid for lid in functions}
        out = []
        for lid in self.active(ESM):
            props = self.check_properties(lid, ESM_READ, ESM_IGNORED | {"FilterCriteria"})
            if "FilterCriteria" in props:
                self.warn(f"{lid}: FilterCriteria are not applied by the local cloud (every message is delivered)")
            props = self.resolve(props, lid, default={})
            source = as_str(props.get("EventSourceArn", ""))
            queue = arn_to_queue.get(source)
            if queue is None:
                self.warn(f"{lid}: event source {source!r} is not an SQS queue of this template (not polled)")
                continue
            target = as_str(props.get("FunctionName", ""))
            arn = _FUNCTION_ARN.fullmatch(target)
            function = by_arn.get(arn.group(1)) if arn else by_name.get(target.split(":")[0])
            if function is None:
                raise TemplateError(f"{lid}: FunctionName {target!r} is not a function of this template")
            scaling = props.get("ScalingConfig") or {}
            out.append(
                EventSourceMappingSpec(
                    function=function,
                    queue=queue,
                    batch_size=int(props.get("BatchSize", 10)),
                    maximum_batching_window_s=int(props.get("MaximumBatchingWindowInSeconds", 0)),
                    report_batch_item_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or ()),
                    enabled=as_bool(props.get("Enabled"), default=True),
                    maximum_concurrency=int(scaling["MaximumConcurrency"]) if "MaximumConcurrency" in scaling else None,
                    logical_id=lid,
                )
            )
        return tuple(out)

    def secrets(self) -> dict[str, SecretSpec]:
        out = {}
        for lid in self.active(SECRET):
            props = self.resolve(self.check_properties(lid, SECRET_READ, SECRET_IGNORED), lid, default={})
            value = props.get("SecretString")
            out[lid] = SecretSpec(
                logical_id=lid,
                physical_name=self.resolver.physical_name(lid),
                secret_string=as_str(value) if value is not None else None,
                generate=props.get("GenerateSecretString"),
            )
        return out

    def capacity_providers(self) -> None:
        for lid in self.active(CAPACITY_PROVIDER):
            self.check_properties(lid, set(), CAPACITY_PROVIDER_IGNORED)

    def outputs(self, raw: dict[str, Any]) -> dict[str, str]:
        out = {}
        for name, output in (raw or {}).items():
            if "Condition" in output and not self.resolver.condition(output["Condition"], f"Outputs.{name}"):
                continue
            value = self.resolve(output.get("Value"), f"Outputs.{name}", default="")
            out[name] = as_str(value)
        return out


_BODY_EXTENSIONS_OK = {
    "x-amazon-apigateway-cors",
    "x-amazon-apigateway-importexport-version",
    "x-amazon-apigateway-endpoint-configuration",
    "x-amazon-apigateway-tag-value",
    "x-amazon-apigateway-api-key-source",
    "x-amazon-apigateway-policy",
}
