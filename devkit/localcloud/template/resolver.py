"""CloudFormation intrinsics resolved to local values: names, ARNs, URLs, parameters and conditions.

The local cloud never deploys, so every `Ref`/`Fn::GetAtt` answers what AWS *would* answer for a stack named
`stack_name` in `region`/`account_id`, with stable physical names (`<stack>-<LogicalId>` unless the template
names the resource). Queue URLs come from the data backend (`queue_url` callback) and execute-api URLs of this
stack's APIs are rewritten to the local gateway (`api_urls`).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any


class TemplateError(ValueError):
    """The template is broken (YAML, translator, dangling reference, ...); the message names the resource."""


class Unresolvable(Exception):
    """A value that can't be known locally (Fn::ImportValue, Fn::GetAZs, ...)."""


NO_VALUE = object()  # Ref AWS::NoValue: the enclosing key or list element disappears

_SUB_VAR = re.compile(r"\$\{([^}]*)\}")
_EXECUTE_API = re.compile(r"https://([a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?(/[^\s\"']*)?")

# Ref answers per type: "name" → physical name, "arn" → ARN, "url" → queue URL, "id" → API id.
_REF_KIND = {
    "AWS::SQS::Queue": "url",
    "AWS::ApiGatewayV2::Api": "id",
    "AWS::SNS::Topic": "arn",
    "AWS::Lambda::Version": "version",
    "AWS::Lambda::Alias": "alias",
    "AWS::IAM::ManagedPolicy": "arn",
    "AWS::Lambda::LayerVersion": "arn",
    "AWS::Lambda::EventSourceMapping": "id",
}
# Explicit-name property per type (resolved when present); otherwise `<stack>-<LogicalId>`.
NAME_PROPERTY = {
    "AWS::Lambda::Function": "FunctionName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::Lambda::CapacityProvider": "CapacityProviderName",
    "AWS::ApiGatewayV2::Stage": "StageName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::Policy": "PolicyName",
    "AWS::SecretsManager::Secret": "Name",
}


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws-us-gov" if region.startswith("us-gov-") else "aws"


def url_suffix_of(region: str) -> str:
    return "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"


def fake_api_id(stack_name: str, logical_id: str) -> str:
    """A stable 10-character API id, shaped like API Gateway's."""
    digest = hashlib.sha256(f"{stack_name}/{logical_id}".encode()).digest()
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(alphabet[b % len(alphabet)] for b in digest[:10])


def default_queue_url(region: str, account_id: str) -> Callable[[str], str]:
    """Placeholder queue URLs in AWS's own form, used when the caller gives no backend callback.

    SQS clients pointed at moto or ElasticMQ through AWS_ENDPOINT_URL take the queue from the URL's last path
    segment, so these work there too; the local cloud passes the backend's real URLs anyway.
    """
    return lambda name: f"https://sqs.{region}.{url_suffix_of(region)}/{account_id}/{name}"


@dataclass
class Resolver:
    stack_name: str
    region: str
    account_id: str
    parameters: dict[str, Any]  # resolved parameter values (defaults + overrides), lists for List<> types
    conditions: dict[str, Any]  # raw Conditions section
    resources: dict[str, dict]  # every resource of the expanded template, including conditioned-out ones
    mappings: dict[str, Any] = field(default_factory=dict)
    queue_url: Callable[[str], str] | None = None
    api_urls: dict[str, str] = field(default_factory=dict)
    _condition_values: dict[str, bool] = field(default_factory=dict)
    _names: dict[str, str] = field(default_factory=dict)
    _evaluating: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.queue_url is None:
            self.queue_url = default_queue_url(self.region, self.account_id)
        self.partition = partition_of(self.region)
        self.url_suffix = url_suffix_of(self.region)
        self.api_ids = {
            lid: fake_api_id(self.stack_name, lid)
            for lid, res in self.resources.items()
            if res.get("Type") == "AWS::ApiGatewayV2::Api"
        }
        self._fns = self._handlers()

    # ---- conditions -------------------------------------------------------------------------------------------
    def condition(self, name: str, where: str) -> bool:
        if name in self._condition_values:
            return self._condition_values[name]
        if name not in self.conditions:
            raise TemplateError(f"{where}: condition {name!r} is not defined in Conditions")
        if name in self._evaluating:
            raise TemplateError(f"Conditions.{name}: circular condition")
        self._evaluating.add(name)
        try:
            value = self._truth(self.conditions[name], f"Conditions.{name}")
        finally:
            self._evaluating.discard(name)
        self._condition_values[name] = value
        return value

    def _truth(self, node: Any, where: str) -> bool:
        if isinstance(node, dict) and len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Condition":
                return self.condition(arg, where)
            if key == "Fn::Equals":
                left, right = (self.resolve(v, where) for v in arg)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self._truth(arg[0], where)
            if key == "Fn::And":
                return all(self._truth(v, where) for v in arg)
            if key == "Fn::Or":
                return any(self._truth(v, where) for v in arg)
        value = self.resolve(node, where)
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "false"):
            return str(value).lower() == "true"
        raise TemplateError(f"{where}: not a condition: {node!r}")

    def is_active(self, logical_id: str) -> bool:
        """False when the resource's `Condition` is false (CloudFormation doesn't create it)."""
        res = self.resources[logical_id]
        return "Condition" not in res or self.condition(res["Condition"], logical_id)

    def preset_names(self, names: dict[str, str]) -> None:
        """Use these physical names (e.g. a deployed stack's) instead of computing them."""
        self._names.update({lid: name for lid, name in names.items() if lid in self.resources})

    # ---- names, ARNs ------------------------------------------------------------------------------------------
    def physical_name(self, logical_id: str) -> str:
        if logical_id in self._names:
            return self._names[logical_id]
        res = self.resources[logical_id]
        rtype = res.get("Type", "")
        prop = NAME_PROPERTY.get(rtype)
        explicit = (res.get("Properties") or {}).get(prop) if prop else None
        if explicit is not None:
            name = str(self.resolve(explicit, f"{logical_id}.{prop}"))
        else:
            name = f"{self.stack_name}-{logical_id}"
            if rtype == "AWS::SQS::Queue" and _is_true((res.get("Properties") or {}).get("FifoQueue")):
                name += ".fifo"
        self._names[logical_id] = name
        return name

    def arn(self, logical_id: str) -> str:
        rtype = self.resources[logical_id].get("Type", "")
        name = self.physical_name(logical_id)
        p, r, a = self.partition, self.region, self.account_id
        match rtype:
            case "AWS::Lambda::Function":
                return f"arn:{p}:lambda:{r}:{a}:function:{name}"
            case "AWS::DynamoDB::Table":
                return f"arn:{p}:dynamodb:{r}:{a}:table/{name}"
            case "AWS::SQS::Queue" | "AWS::SNS::Topic":
                return f"arn:{p}:{rtype.split('::')[1].lower()}:{r}:{a}:{name}"
            case "AWS::IAM::Role":
                return f"arn:{p}:iam::{a}:role/{name}"
            case "AWS::IAM::ManagedPolicy":
                return f"arn:{p}:iam::{a}:policy/{name}"
            case "AWS::Logs::LogGroup":
                return f"arn:{p}:logs:{r}:{a}:log-group:{name}:*"
            case "AWS::Lambda::CapacityProvider":
                return f"arn:{p}:lambda:{r}:{a}:capacity-provider:{name}"
            case "AWS::ApiGatewayV2::Api":
                return f"arn:{p}:apigateway:{r}::/apis/{self.api_ids[logical_id]}"
            case "AWS::SecretsManager::Secret":
                return f"arn:{p}:secretsmanager:{r}:{a}:secret:{name}"
            case "AWS::Lambda::Version" | "AWS::Lambda::Alias":
                return str(self._ref(logical_id, logical_id))
            case _:
                service = rtype.split("::")[1].lower() if rtype.count("::") == 2 else "cloudformation"
                return f"arn:{p}:{service}:{r}:{a}:{rtype.split('::')[-1].lower()}/{name}"

    def api_endpoint(self, logical_id: str) -> str:
        return self.rewrite_urls(f"https://{self.api_ids[logical_id]}.execute-api.{self.region}.{self.url_suffix}")

    def rewrite_urls(self, text: str) -> str:
        """execute-api URLs of this stack's APIs → the API's local base URL (when `api_urls` knows it)."""
        by_id = {api_id: lid for lid, api_id in self.api_ids.items()}

        def swap(match: re.Match[str]) -> str:
            lid = by_id.get(match.group(1))
            if lid is None or lid not in self.api_urls:
                return match.group(0)
            return self.api_urls[lid].rstrip("/") + (match.group(2) or "")

        return _EXECUTE_API.sub(swap, text)

    # ---- Ref / GetAtt -------------------------------------------------------------------------------------------
    def _pseudo(self, name: str) -> Any:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": f"arn:{self.partition}:cloudformation:{self.region}:{self.account_id}:stack/"
            f"{self.stack_name}/00000000-0000-0000-0000-000000000000",
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": self.url_suffix,
            "AWS::NoValue": NO_VALUE,
            "AWS::NotificationARNs": [],
        }.get(name, KeyError)

    def _ref(self, target: str, where: str) -> Any:
        pseudo = self._pseudo(target)
        if pseudo is not KeyError:
            return pseudo
        if target in self.parameters:
            return self.parameters[target]
        if target not in self.resources:
            raise TemplateError(f"{where}: Ref to {target!r}, which is neither a parameter nor a resource")
        self._require_active(target, where)
        res = self.resources[target]
        kind = _REF_KIND.get(res.get("Type", ""), "name")
        props = res.get("Properties") or {}
        if kind == "url":
            assert self.queue_url is not None
            return self.queue_url(self.physical_name(target))
        if kind == "id":
            return self.api_ids.get(target) or fake_api_id(self.stack_name, target)
        if kind == "arn":
            return self.arn(target)
        if kind in ("version", "alias"):
            fn = self.resolve(props.get("FunctionName"), f"{target}.FunctionName")
            fn_arn = fn if str(fn).startswith("arn:") else self._function_arn_by_name(str(fn))
            qualifier = "1" if kind == "version" else str(self.resolve(props.get("Name"), f"{target}.Name"))
            return f"{fn_arn}:{qualifier}"
        return self.physical_name(target)

    def _function_arn_by_name(self, name: str) -> str:
        return f"arn:{self.partition}:lambda:{self.region}:{self.account_id}:function:{name}"

    def _get_att(self, target: str, attribute: str, where: str) -> Any:
        if target not in self.resources:
            raise TemplateError(f"{where}: Fn::GetAtt on {target!r}, which is not a resource")
        self._require_active(target, where)
        rtype = self.resources[target].get("Type", "")
        known: dict[str, dict[str, Callable[[], Any]]] = {
            "AWS::Lambda::Function": {"Arn": lambda: self.arn(target)},
            "AWS::DynamoDB::Table": {
                "Arn": lambda: self.arn(target),
                "StreamArn": lambda: f"{self.arn(target)}/stream/1970-01-01T00:00:00.000",
            },
            "AWS::SQS::Queue": {
                "Arn": lambda: self.arn(target),
                "QueueName": lambda: self.physical_name(target),
                "QueueUrl": lambda: self._ref(target, where),
            },
            "AWS::ApiGatewayV2::Api": {
                "ApiEndpoint": lambda: self.api_endpoint(target),
                "ApiId": lambda: self.api_ids[target],
            },
        }
        if rtype in known:
            getter = known[rtype].get(attribute)
            if getter is None:
                raise TemplateError(f"{where}: {rtype} {target!r} has no attribute {attribute!r}")
            return getter()
        if attribute in ("Arn", "TopicArn"):
            return self.arn(target)
        if attribute in ("Name", "TopicName"):
            return self.physical_name(target)
        return f"{self.physical_name(target)}-{attribute}"

    def _require_active(self, target: str, where: str) -> None:
        if not self.is_active(target):
            raise TemplateError(
                f"{where}: refers to {target!r}, which is not created (its Condition "
                f"{self.resources[target]['Condition']!r} is false)"
            )

    # ---- resolution -----------------------------------------------------------------------------------------------
    def resolve(self, node: Any, where: str) -> Any:
        """Resolve every intrinsic in `node`; strings get execute-api URLs rewritten to the local gateway."""
        value = self._resolve(node, where)
        return self._rewrite_all(value)

    def _rewrite_all(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.rewrite_urls(value)
        if isinstance(value, list):
            return [self._rewrite_all(v) for v in value]
        if isinstance(value, dict):
            return {k: self._rewrite_all(v) for k, v in value.items()}
        return value

    def _resolve(self, node: Any, where: str) -> Any:
        if isinstance(node, list):
            items = (self._resolve(v, where) for v in node)
            return [v for v in items if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            handler = self._fns.get(key)
            if handler is not None:
                return handler(arg, where)
        out = {}
        for key, val in node.items():
            resolved = self._resolve(val, f"{where}.{key}")
            if resolved is not NO_VALUE:
                out[key] = resolved
        return out

    def _handlers(self) -> dict[str, Callable[[Any, str], Any]]:
        return {
            "Ref": lambda arg, where: self._ref(str(arg), where),
            "Fn::GetAtt": self._fn_get_att,
            "Fn::Sub": self._fn_sub,
            "Fn::Join": self._fn_join,
            "Fn::Select": self._fn_select,
            "Fn::If": self._fn_if,
            "Fn::Split": self._fn_split,
            "Fn::FindInMap": self._fn_find_in_map,
            "Fn::Base64": lambda arg, where: base64.b64encode(str(self._resolve(arg, where)).encode()).decode(),
            "Fn::Equals": lambda arg, where: self._truth({"Fn::Equals": arg}, where),
            "Fn::ImportValue": self._unresolvable("Fn::ImportValue"),
            "Fn::GetAZs": self._unresolvable("Fn::GetAZs"),
            "Fn::Cidr": self._unresolvable("Fn::Cidr"),
            "Fn::Transform": self._unresolvable("Fn::Transform"),
        }

    @staticmethod
    def _unresolvable(fn: str) -> Callable[[Any, str], Any]:
        def raise_(arg: Any, where: str) -> Any:
            raise Unresolvable(f"{where}: {fn} can't be resolved without AWS")

        return raise_

    def _fn_get_att(self, arg: Any, where: str) -> Any:
        if isinstance(arg, str):
            arg = arg.split(".", 1)
        target, attribute = (self._resolve(a, where) for a in arg)
        return self._get_att(str(target), str(attribute), where)

    def _fn_sub(self, arg: Any, where: str) -> str:
        if isinstance(arg, list):
            text, variables = arg[0], {k: self._resolve(v, where) for k, v in (arg[1] or {}).items()}
        else:
            text, variables = arg, {}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and name.split(".", 1)[0] in self.resources:
                target, attribute = name.split(".", 1)
                return str(self._get_att(target, attribute, where))
            value = self._ref(name, where)
            if isinstance(value, list):
                raise TemplateError(f"{where}: Fn::Sub of list parameter {name!r}")
            return str(value)

        return _SUB_VAR.sub(substitute, str(text))

    def _fn_join(self, arg: Any, where: str) -> str:
        delimiter, items = arg
        values = self._resolve(items, where)
        return str(delimiter).join(str(v) for v in values)

    def _fn_select(self, arg: Any, where: str) -> Any:
        index, items = arg
        values = self._resolve(items, where)
        i = int(self._resolve(index, where))
        if not 0 <= i < len(values):
            raise TemplateError(f"{where}: Fn::Select index {i} out of range")
        return values[i]

    def _fn_if(self, arg: Any, where: str) -> Any:
        name, when_true, when_false = arg
        return self._resolve(when_true if self.condition(name, where) else when_false, where)

    def _fn_split(self, arg: Any, where: str) -> list[str]:
        delimiter, source = arg
        return str(self._resolve(source, where)).split(str(delimiter))

    def _fn_find_in_map(self, arg: Any, where: str) -> Any:
        name, first, second = (self._resolve(a, where) for a in arg[:3])
        try:
            return self.mappings[name][first][second]
        except KeyError:
            raise TemplateError(f"{where}: Fn::FindInMap [{name}, {first}, {second}] not found in Mappings") from None


def _is_true(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def iter_references(node: Any) -> Iterator[tuple[str, str]]:
    """Every (kind, target) a node refers to: ("Ref", X), ("GetAtt", X), ("Sub", X) — for the dangling check."""
    if isinstance(node, list):
        for v in node:
            yield from iter_references(v)
        return
    if not isinstance(node, dict):
        return
    for key, arg in node.items():
        if key == "Ref" and isinstance(arg, str):
            yield "Ref", arg
        elif key == "Fn::GetAtt":
            parts = arg.split(".", 1) if isinstance(arg, str) else arg
            if parts and isinstance(parts[0], str):
                yield "Fn::GetAtt", parts[0]
            yield from iter_references(arg)
        elif key == "Fn::Sub":
            text, variables = (arg[0], arg[1] or {}) if isinstance(arg, list) else (arg, {})
            for name in _SUB_VAR.findall(str(text)) if isinstance(text, str) else ():
                if not name.startswith("!") and name not in variables:
                    yield "Fn::Sub", name.split(".", 1)[0]
            yield from iter_references(variables)
        else:
            yield from iter_references(arg)
