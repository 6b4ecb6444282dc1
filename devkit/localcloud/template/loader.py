"""infra/template.yaml → `StackSpec`: expand the SAM template offline, then read the CloudFormation result.

Expansion uses aws-sam-translator exactly as SAM CLI does for `sam local`: local `CodeUri`s are swapped for an
`s3://` placeholder first (the real path is kept for `FunctionSpec.code_uri`), a region is set and managed
policies resolve to nothing, so no AWS call is made. The expanded template is cached on disk, keyed on the
template's bytes, the parameters and the translator version, so a warm `load_stack` skips the translator
import entirely (~0.25 s).
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from devkit.localcloud.host import cache_dir as default_cache_dir
from devkit.localcloud.model import StackSpec
from devkit.localcloud.template.reader import StackReader, as_str
from devkit.localcloud.template.resolver import Resolver, TemplateError, iter_references

__all__ = ["TemplateError", "expand", "load_stack"]

_PSEUDO = {
    "AWS::Region",
    "AWS::AccountId",
    "AWS::StackName",
    "AWS::StackId",
    "AWS::Partition",
    "AWS::URLSuffix",
    "AWS::NoValue",
    "AWS::NotificationARNs",
}
# SAM properties naming local files that SAM CLI uploads before translating (resource type → property).
_LOCAL_URI_PROPERTIES = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Serverless::StateMachine": "DefinitionUri",
    "AWS::Serverless::Application": "Location",
}
_memory_cache: dict[str, dict[str, Any]] = {}
last_expansion_seconds = 0.0  # how long the latest `expand` took (for reports)


def load_stack(
    template_path: str | Path,
    *,
    stack_name: str = "local",
    region: str = "us-east-1",
    account_id: str = "123456789012",
    parameters: dict[str, Any] | None = None,
    api_urls: dict[str, str] | None = None,
    queue_url: Callable[[str], str] | None = None,
    cache_dir: Path | None = None,
    physical_names: dict[str, str] | None = None,
) -> StackSpec:
    """Read the stack a SAM template describes, with every name and URL resolved for the local cloud.

    `api_urls` maps an HTTP API's logical id to its local base URL: any execute-api URL of that API in the
    template (JWT issuer, environment, outputs) is rewritten to it. `queue_url(physical_name)` gives a queue's
    URL on the data backend; without it `Ref Queue` is a placeholder in AWS's own URL form. `physical_names`
    (logical id → name) overrides the `<stack>-<LogicalId>` names, e.g. with a deployed stage's real names.
    """
    template_path = Path(template_path).resolve()
    parameters = {k: as_str(v) for k, v in (parameters or {}).items()}
    expanded = expand(template_path, region=region, parameters=parameters, cache_dir=cache_dir)
    cfn = expanded["template"]
    resources = cfn.get("Resources") or {}
    resolver = Resolver(
        stack_name=stack_name,
        region=region,
        account_id=account_id,
        parameters=_parameter_values(cfn.get("Parameters") or {}, parameters),
        conditions=cfn.get("Conditions") or {},
        resources=resources,
        mappings=cfn.get("Mappings") or {},
        queue_url=queue_url,
        api_urls=dict(api_urls or {}),
    )
    resolver.preset_names(physical_names or {})
    _check_references(cfn, resolver)
    reader = StackReader(resolver, template_path.parent, expanded["code_uris"])
    functions = reader.functions()
    http_apis = reader.http_apis(functions)
    tables = reader.tables()
    queues = reader.queues()
    mappings = reader.event_source_mappings(functions, queues)
    secrets = reader.secrets()
    reader.capacity_providers()
    reader.check_types()
    outputs = reader.outputs(cfn.get("Outputs") or {})
    return StackSpec(
        stack_name=stack_name,
        region=region,
        account_id=account_id,
        functions=functions,
        http_apis=http_apis,
        tables=tables,
        queues=queues,
        event_source_mappings=mappings,
        outputs=outputs,
        warnings=tuple(reader.warnings),
        secrets=secrets,
    )


def expand(
    template_path: Path, *, region: str, parameters: dict[str, str], cache_dir: Path | None = None
) -> dict[str, Any]:
    """{"template": expanded CloudFormation, "code_uris": {function: local CodeUri or None}}, cached."""
    global last_expansion_seconds
    started = time.perf_counter()
    try:
        source = template_path.read_bytes()
    except OSError as exc:
        raise TemplateError(f"{template_path}: can't read the template: {exc.strerror}") from exc
    key = _cache_key(source, region, parameters)
    cached = _memory_cache.get(key)
    disk = (cache_dir or default_cache_dir() / "sam-expansions") / f"{key}.json"
    if cached is None and disk.is_file():
        try:
            cached = json.loads(disk.read_text())
        except (OSError, ValueError):
            cached = None
    if cached is None:
        cached = _translate(template_path, source, region, parameters)
        _write_atomic(disk, json.dumps(cached))
    _memory_cache[key] = cached
    last_expansion_seconds = time.perf_counter() - started
    return copy.deepcopy(cached)


def _cache_key(source: bytes, region: str, parameters: dict[str, str]) -> str:
    digest = hashlib.sha256(source)
    digest.update(json.dumps([region, sorted(parameters.items()), _translator_version()]).encode())
    return digest.hexdigest()[:32]


def _translator_version() -> str:
    try:
        return metadata.version("aws-sam-translator")
    except metadata.PackageNotFoundError:
        return "unknown"


def _write_atomic(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text)
        tmp.replace(path)
    except OSError:
        pass  # a read-only cache only costs speed


def _translate(template_path: Path, source: bytes, region: str, parameters: dict[str, str]) -> dict[str, Any]:
    template = parse_yaml(source, template_path)
    code_uris = _swap_local_uris(template, template_path.parent)
    if "Transform" not in template:
        return {"template": template, "code_uris": code_uris}
    from samtranslator.model.exceptions import InvalidDocumentException, InvalidTemplateException
    from samtranslator.translator.transform import transform

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    values = {**_defaults(template.get("Parameters") or {}), **parameters, "AWS::Region": region}
    sam_logger = logging.getLogger("samtranslator")
    level = sam_logger.level
    sam_logger.setLevel(logging.ERROR)
    had_region = "AWS_DEFAULT_REGION" in os.environ
    os.environ.setdefault("AWS_DEFAULT_REGION", region)  # the translator reads it; restored below
    try:
        expanded = transform(template, values, NoManagedPolicies())
    except InvalidDocumentException as exc:
        causes = "; ".join(str(getattr(c, "message", c)) for c in exc.causes) or str(exc)
        raise TemplateError(f"{template_path.name}: SAM translation failed: {causes}") from exc
    except InvalidTemplateException as exc:
        raise TemplateError(f"{template_path.name}: SAM translation failed: {exc.message}") from exc
    finally:
        sam_logger.setLevel(level)
        if not had_region:
            os.environ.pop("AWS_DEFAULT_REGION", None)
    return {"template": expanded, "code_uris": code_uris}


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags; dates stay strings, as CloudFormation reads them."""


_CfnLoader.yaml_implicit_resolvers = {
    ch: [r for r in rs if r[0] != "tag:yaml.org,2002:timestamp"]
    for ch, rs in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix in ("Ref", "Condition"):
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def parse_yaml(source: bytes, template_path: Path) -> dict[str, Any]:
    try:
        template = yaml.load(source, Loader=_CfnLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise TemplateError(f"{template_path.name}{where}: invalid YAML: {getattr(exc, 'problem', exc)}") from exc
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        raise TemplateError(f"{template_path.name}: not a CloudFormation template (no Resources mapping)")
    return template


def _is_local(uri: Any) -> bool:
    return isinstance(uri, str) and not uri.startswith("s3://")


def _swap_local_uris(template: dict[str, Any], template_dir: Path) -> dict[str, str | None]:
    """Replace local file properties by s3:// placeholders (as SAM CLI does); return functions' local CodeUris."""
    globals_fn = (template.get("Globals") or {}).get("Function") or {}
    global_code = globals_fn.get("CodeUri")
    if _is_local(global_code):
        globals_fn["CodeUri"] = "s3://local-placeholder/globals"
    code_uris: dict[str, str | None] = {}
    for lid, res in template["Resources"].items():
        if not isinstance(res, dict):
            raise TemplateError(f"{lid}: a resource must be a mapping")
        rtype, props = res.get("Type"), res.get("Properties")
        if rtype in ("AWS::Serverless::HttpApi", "AWS::Serverless::Api") and isinstance(props, dict):
            _inline_definition(lid, props, template_dir)
        prop = _LOCAL_URI_PROPERTIES.get(str(rtype))
        if prop is None:
            continue
        props = res.setdefault("Properties", {}) or {}
        res["Properties"] = props
        uri = props.get(prop, global_code if prop == "CodeUri" else None)
        if rtype == "AWS::Serverless::Function":
            code_uris[lid] = uri if _is_local(uri) else None
        if _is_local(props.get(prop)):
            props[prop] = f"s3://local-placeholder/{lid}"
    return code_uris


def _inline_definition(lid: str, props: dict[str, Any], template_dir: Path) -> None:
    """A local DefinitionUri (OpenAPI file) becomes DefinitionBody, as SAM CLI does."""
    uri = props.get("DefinitionUri")
    if not _is_local(uri):
        return
    path = template_dir / uri
    try:
        props["DefinitionBody"] = yaml.load(path.read_bytes(), Loader=_CfnLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise TemplateError(f"{lid}: DefinitionUri {uri!r} can't be read: {exc}") from exc
    del props["DefinitionUri"]


def _defaults(declared: dict[str, Any]) -> dict[str, str]:
    return {name: as_str(p["Default"]) for name, p in declared.items() if isinstance(p, dict) and "Default" in p}


def _parameter_values(declared: dict[str, Any], overrides: dict[str, str]) -> dict[str, Any]:
    """Declared parameters' values (override, else Default); unknown overrides are ignored, as `sam` does."""
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        spec = spec if isinstance(spec, dict) else {}
        if name in overrides:
            value = overrides[name]
        elif "Default" in spec:
            value = as_str(spec["Default"])
        else:
            raise TemplateError(f"Parameters.{name}: no value given and no Default")
        allowed = spec.get("AllowedValues")
        if allowed and value not in [as_str(a) for a in allowed]:
            raise TemplateError(f"Parameters.{name}: {value!r} is not one of AllowedValues {allowed}")
        ptype = str(spec.get("Type", "String"))
        values[name] = value.split(",") if ptype.startswith("List<") or ptype == "CommaDelimitedList" else value
    return values


def _check_references(cfn: dict[str, Any], resolver: Resolver) -> None:
    """Every Ref/GetAtt/Sub target exists, anywhere in the template (CloudFormation rejects dangling ones)."""
    known = set(resolver.parameters) | set(resolver.resources) | _PSEUDO
    sections = [(lid, res) for lid, res in resolver.resources.items()]
    sections += [(f"Outputs.{name}", out) for name, out in (cfn.get("Outputs") or {}).items()]
    sections += [(f"Conditions.{name}", cond) for name, cond in resolver.conditions.items()]
    for where, node in sections:
        for kind, target in iter_references(node):
            if kind == "Fn::GetAtt" and target not in resolver.resources:
                raise TemplateError(f"{where}: Fn::GetAtt on {target!r}, which is not a resource of the template")
            if target not in known:
                raise TemplateError(f"{where}: {kind} to {target!r}, which is neither a parameter nor a resource")
