"""The templates `./inv deploy` hands to SAM CLI, generated under build/deploy/<stage>/ from infra/template.yaml.

1. `with_prebuilt_code`: every function's `CodeUri` becomes the zip `./inv build` made
   (`<target>/lambda/<profile>/<arch>/<binary>/bootstrap.zip`) and the `BuildMethod` metadata goes, so SAM CLI
   uploads those exact bytes and never runs cargo itself (no `sam build`; it would rebuild with its own settings).
2. `sam package` uploads the zips and rewrites `CodeUri` to `s3://…/<md5>` (devkit/deploy/stage.py).
3. `translate`: the packaged template is expanded offline by aws-sam-translator (the pinned version, the same
   expansion the least-privilege test checks) and the stage-dependent `DeletionPolicy`/`UpdateReplacePolicy`
   (`!If`, which the template leaves to AWS::LanguageExtensions) are resolved for the stage. CloudFormation then
   receives plain resources: what the tests verified is what is deployed, and a stand-in without the SAM
   transform (moto) can create the same stack.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from devkit import build, paths
from devkit.localcloud import expand, parse_yaml

_POLICY_ATTRIBUTES = ("DeletionPolicy", "UpdateReplacePolicy")


class DeployTemplateError(RuntimeError):
    """The template cannot be prepared for deployment; the message says what is missing."""


def deploy_dir(stage: str) -> Path:
    return paths.ROOT / "build" / "deploy" / stage


def function_binaries(template: dict[str, Any]) -> dict[str, str]:
    """Function logical id → cargo binary (Metadata.BuildProperties.Binary)."""
    out = {}
    for lid, res in template["Resources"].items():
        if res.get("Type") == "AWS::Serverless::Function":
            binary = ((res.get("Metadata") or {}).get("BuildProperties") or {}).get("Binary")
            if not binary:
                raise DeployTemplateError(f"{lid} lacks Metadata.BuildProperties.Binary")
            out[lid] = str(binary)
    return out


def with_prebuilt_code(source: Path, out: Path, *, profile: str, arch: str) -> dict[str, Path]:
    """Write `out`: the SAM template with CodeUri = the prebuilt zips. Returns logical id → zip path."""
    template = parse_yaml(source.read_bytes(), source)
    zips: dict[str, Path] = {}
    for lid, binary in function_binaries(template).items():
        zip_path = build.bootstrap_path(binary, profile=profile, arch=arch).with_name("bootstrap.zip")
        if not zip_path.is_file():
            raise DeployTemplateError(
                f"{lid}: no {zip_path}; build it first: ./inv build --arch {arch} --profile {profile}"
            )
        res = template["Resources"][lid]
        res["Properties"]["CodeUri"] = str(zip_path)
        metadata = res.get("Metadata") or {}
        metadata.pop("BuildMethod", None)  # nothing for `sam build` to do: the code is the zip
        zips[lid] = zip_path
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(dump_cfn_yaml(template))
    return zips


def translate(packaged: Path, out: Path, *, region: str, parameters: dict[str, str]) -> dict[str, Any]:
    """Expand the packaged SAM template offline into plain CloudFormation (JSON at `out`) for `parameters`."""
    cfn = expand(packaged, region=region, parameters=parameters)["template"]
    cfn.pop("Transform", None)
    resolve_policies(cfn, {**_defaults(cfn), **parameters})
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(cfn, indent=1, sort_keys=False))
    return cfn


def _defaults(cfn: dict[str, Any]) -> dict[str, str]:
    return {k: str(v["Default"]) for k, v in (cfn.get("Parameters") or {}).items() if "Default" in v}


def resolve_policies(cfn: dict[str, Any], parameters: dict[str, str]) -> None:
    """`DeletionPolicy: !If [Cond, A, B]` → A or B for these parameters (what AWS::LanguageExtensions does)."""
    conditions = cfn.get("Conditions") or {}
    for lid, res in (cfn.get("Resources") or {}).items():
        for attribute in _POLICY_ATTRIBUTES:
            value = res.get(attribute)
            if isinstance(value, dict):
                branch = value.get("Fn::If")
                if not (isinstance(branch, list) and len(branch) == 3):
                    raise DeployTemplateError(f"{lid}.{attribute}: only a literal or Fn::If is supported")
                res[attribute] = branch[1] if condition(conditions, branch[0], parameters) else branch[2]


def condition(conditions: dict[str, Any], name: str, parameters: dict[str, str]) -> bool:
    return _evaluate(conditions[name], conditions, parameters)


def _evaluate(node: Any, conditions: dict[str, Any], parameters: dict[str, str]) -> Any:
    if isinstance(node, dict) and len(node) == 1:
        ((key, arg),) = node.items()
        if key == "Ref":
            if arg not in parameters:
                raise DeployTemplateError(f"condition refers to {arg!r}, which has no value")
            return parameters[arg]
        if key == "Condition":
            return condition(conditions, arg, parameters)
        if key == "Fn::Equals":
            return str(_evaluate(arg[0], conditions, parameters)) == str(_evaluate(arg[1], conditions, parameters))
        if key == "Fn::Not":
            return not _evaluate(arg[0], conditions, parameters)
        if key == "Fn::And":
            return all(_evaluate(a, conditions, parameters) for a in arg)
        if key == "Fn::Or":
            return any(_evaluate(a, conditions, parameters) for a in arg)
        raise DeployTemplateError(f"condition function {key} is not supported here")
    return node


class _CfnDumper(yaml.SafeDumper):
    """YAML with CloudFormation's long forms (`Ref:`, `Fn::Sub:`); SAM CLI reads both forms."""


def dump_cfn_yaml(template: dict[str, Any]) -> str:
    return yaml.dump(template, Dumper=_CfnDumper, sort_keys=False, width=120)
