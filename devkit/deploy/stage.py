"""`./inv deploy`, `./inv outputs`, `./inv destroy`: one stage = one CloudFormation stack, deployed with SAM CLI.

The path (the same against AWS and against a moto server standing in for it, see tests/infra/):

1. the zips `./inv build` made (release, the stage's architecture) become the functions' code
   (devkit/deploy/template.py `with_prebuilt_code`; `sam build` is not run, so SAM never rebuilds the code);
2. `sam package` uploads them to the SAM-managed bucket (`resolve_s3`) and rewrites `CodeUri` to S3;
3. the packaged template is translated offline by the pinned aws-sam-translator (`translate`), so CloudFormation
   gets plain resources: exactly the IAM the least-privilege test checked;
4. a CloudFormation change set is created and shown (added / modified / removed, replacements highlighted;
   devkit/deploy/changes.py); on a production stage a replacement of a table or queue is refused unless
   `--allow-replacement`; it is executed after `--yes` or a `y` on a terminal, and waited for
   (`--guided` runs `sam deploy --guided` instead);
5. the auth service's signing key is put in its secret (devkit/deploy/keys.py `ensure_signing_key`).

Where this differs from a plain `sam build && sam deploy` of infra/template.yaml: step 3 runs here instead of in
CloudFormation's `AWS::Serverless-2016-10-31` transform (same translator, our pinned version), and the
prod-only `DeletionPolicy`/`UpdateReplacePolicy` are resolved here instead of by `AWS::LanguageExtensions`.
Both still work on the source template for anyone who prefers SAM alone.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import boto3

from devkit import build, paths
from devkit.deploy import changes, keys
from devkit.deploy.sam import run_sam
from devkit.deploy.template import deploy_dir, function_binaries, translate, with_prebuilt_code
from devkit.localcloud import parse_yaml, stack_name_for

SAMCONFIG = paths.ROOT / "infra" / "samconfig.toml"
PROTECTED_STAGES = {"prod"}


class DeployError(RuntimeError):
    """A deploy/outputs/destroy step failed; the message says what to do."""


@dataclass
class StageConfig:
    stage: str
    config_env: str  # the samconfig section used ("default" for a personal stage)
    region: str
    stack_name: str
    parameters: dict[str, str] = field(default_factory=dict)

    def parameter_overrides(self) -> str:
        return " ".join(f"{k}={shlex.quote(v)}" for k, v in self.parameters.items())


def stage_config(
    stage: str, *, region: str | None = None, overrides: dict[str, str] | None = None, samconfig: Path = SAMCONFIG
) -> StageConfig:
    """The stage's settings: infra/samconfig.toml, then the environment's region, then explicit overrides."""
    config = tomllib.loads(samconfig.read_text()) if samconfig.is_file() else {}
    env = stage if stage in config else "default"
    section = config.get(env, {})
    deploy_params = section.get("deploy", {}).get("parameters", {})
    global_params = section.get("global", {}).get("parameters", {})
    parameters = _parse_overrides(str(deploy_params.get("parameter_overrides", "")))
    parameters["Stage"] = stage
    parameters |= overrides or {}
    chosen_region = (
        region
        or os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or global_params.get("region")
        or "us-east-1"
    )
    return StageConfig(stage, env, chosen_region, stack_name_for(stage), parameters)


def _parse_overrides(text: str) -> dict[str, str]:
    out = {}
    for item in shlex.split(text):
        key, sep, value = item.partition("=")
        if sep:
            out[key] = value
    return out


def check_stage_name(stage: str) -> None:
    import re

    if not re.fullmatch(r"[a-z][a-z0-9-]{0,15}", stage):
        raise DeployError(f"stage {stage!r}: use 1-16 lowercase letters, digits or '-', starting with a letter")


def deploy(
    stage: str,
    *,
    profile: str = "release",
    build_first: bool = True,
    guided: bool = False,
    confirm: bool | None = None,
    region: str | None = None,
    overrides: dict[str, str] | None = None,
    template: Path = paths.TEMPLATE,
    s3_bucket: str | None = None,
    via: str = "changeset",
    yes: bool = False,
    allow_replacement: bool = False,
    say: Callable[[str], None] = print,
) -> dict[str, str]:
    """Deploy `stage` (steps in the module docstring); returns the stack's outputs.

    `s3_bucket`: upload to this bucket instead of SAM's managed one (`resolve_s3`). Step 4 is `via`:
    "changeset" (preview, refusals, confirmation: `yes`, `allow_replacement`), "sam" (`sam deploy`, e.g.
    guided), or "cloudformation": CreateStack/UpdateStack — what the moto rehearsal uses, because moto's
    executed change sets lose the stack's Outputs (see tests/infra/test_deploy_rehearsal.py).
    """
    if via not in ("changeset", "sam", "cloudformation"):
        raise DeployError(f"via={via!r}: use changeset, sam or cloudformation")
    if via == "cloudformation" and not s3_bucket:
        raise DeployError("via=cloudformation needs s3_bucket (the template is uploaded there)")
    check_stage_name(stage)
    cfg = stage_config(stage, region=region, overrides=overrides)
    arch = cfg.parameters.get("Architecture", "arm64")
    out_dir = deploy_dir(stage)
    if build_first:
        binaries = sorted(set(function_binaries(parse_yaml(template.read_bytes(), template)).values()))
        say(f"deploy: building {len(binaries)} bootstraps ({profile}, {arch})…")
        try:
            build.build_bootstraps(binaries, profile=profile, arch=arch, quiet=True)
        except build.BuildError as err:
            raise DeployError(str(err)) from None
    source = out_dir / "template.yaml"
    with_prebuilt_code(template, source, profile=profile, arch=arch)
    packaged = out_dir / "packaged.yaml"
    common = ["--config-file", str(SAMCONFIG), "--config-env", cfg.config_env, "--region", cfg.region]
    bucket = ["--region", cfg.region, "--s3-bucket", s3_bucket, "--s3-prefix", cfg.stack_name] if s3_bucket else []
    say(f"deploy: sam package → {packaged.relative_to(paths.ROOT)}")
    package = ["package", "--template-file", str(source), "--output-template-file", str(packaged), "--no-progressbar"]
    run_sam([*package, *(bucket or common)])
    cfn_path = out_dir / "cloudformation.json"
    translate(packaged, cfn_path, region=cfg.region, parameters=cfg.parameters)
    if via == "changeset":
        url = upload_template(cfg, cfn_path, s3_bucket or artifact_bucket(packaged))
        try:
            changes.preview_and_execute(
                _client("cloudformation", cfg.region),
                stage=stage,
                stack=cfg.stack_name,
                template_url=url,
                parameters=cfg.parameters,
                yes=yes,
                allow_replacement=allow_replacement,
                say=say,
            )
        except changes.ChangeSetRefused as err:
            raise DeployError(str(err)) from None
    elif via == "cloudformation":
        say(f"deploy: CreateStack/UpdateStack {cfg.stack_name} ({cfg.region}) from {cfn_path.name}")
        apply_stack(cfg, cfn_path, str(s3_bucket))
    else:
        say(f"deploy: sam deploy {cfg.stack_name} ({cfg.region}) from {cfn_path.relative_to(paths.ROOT)}")
        args = ["deploy", "--template-file", str(cfn_path), "--stack-name", cfg.stack_name]
        args += bucket or common
        args += ["--parameter-overrides", cfg.parameter_overrides(), "--no-fail-on-empty-changeset"]
        args += ["--capabilities", "CAPABILITY_IAM"]
        if guided:
            args.append("--guided")
        elif confirm is not None:
            args.append("--confirm-changeset" if confirm else "--no-confirm-changeset")
        run_sam(args, interactive=guided or confirm is not False)
    outs = outputs(stage, region=cfg.region)
    secret = outs.get("AuthSigningKeySecret")
    if not secret:
        raise DeployError(f"{cfg.stack_name} has no AuthSigningKeySecret output; the auth service can't sign")
    kid = keys.ensure_signing_key(_client("secretsmanager", cfg.region), secret)
    say(f"deploy: signing key {kid} in {secret}")
    return outs


def artifact_bucket(packaged: Path) -> str:
    """The bucket `sam package` uploaded the code to (the first `s3://bucket/...` of the packaged template)."""
    match = re.search(r"s3://([a-z0-9][a-z0-9.-]+)/", packaged.read_text())
    if match is None:
        raise DeployError(f"{packaged}: no s3:// artifact in the packaged template; pass --s3-bucket")
    return match.group(1)


def upload_template(cfg: StageConfig, cfn_path: Path, bucket: str) -> str:
    """Upload the translated template (too big for TemplateBody) next to the code; returns its URL."""
    import hashlib

    body = cfn_path.read_bytes()
    key = f"{cfg.stack_name}/cloudformation-{hashlib.sha256(body).hexdigest()[:16]}.json"
    _client("s3", cfg.region).put_object(Bucket=bucket, Key=key, Body=body)
    return f"https://{bucket}.s3.{cfg.region}.amazonaws.com/{key}"  # CloudFormation reads it with our credentials


def apply_stack(cfg: StageConfig, cfn_path: Path, bucket: str) -> None:
    """Create or update the stack from the translated template (uploaded to `bucket`) and wait for it."""
    url = upload_template(cfg, cfn_path, bucket)
    cfn = _client("cloudformation", cfg.region)
    params = [{"ParameterKey": k, "ParameterValue": v} for k, v in cfg.parameters.items()]
    request = {"StackName": cfg.stack_name, "TemplateURL": url, "Parameters": params}
    request["Capabilities"] = ["CAPABILITY_IAM"]
    try:
        cfn.describe_stacks(StackName=cfg.stack_name)
        exists = True
    except cfn.exceptions.ClientError:
        exists = False
    try:
        if exists:
            cfn.update_stack(**request)
            cfn.get_waiter("stack_update_complete").wait(StackName=cfg.stack_name, WaiterConfig={"Delay": 2})
        else:
            cfn.create_stack(**request)
            cfn.get_waiter("stack_create_complete").wait(StackName=cfg.stack_name, WaiterConfig={"Delay": 2})
    except Exception as err:
        if "No updates are to be performed" in str(err):
            return
        raise DeployError(f"{cfg.stack_name}: {err}") from None


def _client(service: str, region: str):
    # boto3 itself honours AWS_ENDPOINT_URL (the rehearsal's stand-in); credentials: the default chain.
    return boto3.session.Session(region_name=region).client(service)


def outputs(stage: str, *, region: str | None = None) -> dict[str, str]:
    """The stage's CloudFormation outputs (name → value)."""
    cfg = stage_config(stage, region=region)
    try:
        stack = _client("cloudformation", cfg.region).describe_stacks(StackName=cfg.stack_name)["Stacks"][0]
    except Exception as err:
        raise DeployError(f"cannot read stack {cfg.stack_name} in {cfg.region}: {err}") from None
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def confirm_destroy(stage: str, *, i_know: bool, yes: bool, ask: Callable[[str], str] = input) -> None:
    """Refuse prod without `i_know`; without `yes`, a terminal must type the stage name (CI must pass --yes)."""
    if stage in PROTECTED_STAGES and not i_know:
        raise DeployError(f"refusing to destroy {stage!r} without --i-know (its tables are retained either way)")
    if yes:
        return
    if os.environ.get("CI") or not sys.stdin.isatty():
        raise DeployError("not interactive (CI or no terminal): pass --yes to destroy without a prompt")
    answer = ask(f"destroy stack {stack_name_for(stage)}? type the stage name ({stage}) to confirm: ")
    if answer.strip() != stage:
        raise DeployError("not confirmed; nothing was deleted")


def destroy(stage: str, *, region: str | None = None, say: Callable[[str], None] = print) -> None:
    """Delete the stage's stack and its uploaded artifacts (`sam delete`); prod tables are retained."""
    check_stage_name(stage)
    cfg = stage_config(stage, region=region)
    say(f"destroy: sam delete {cfg.stack_name} ({cfg.region})")
    args = ["delete", "--stack-name", cfg.stack_name, "--region", cfg.region, "--no-prompts"]
    args += ["--config-file", str(SAMCONFIG), "--config-env", cfg.config_env]
    run_sam(args)


def _print_outputs(outs: dict[str, str]) -> None:
    for key, value in sorted(outs.items()):
        print(f"{key:<28} {value}")


def deploy_task(
    stage: str,
    *,
    guided: bool,
    build_first: bool,
    yes: bool,
    allow_replacement: bool,
    region: str,
    s3_bucket: str,
    parameters: str = "",
) -> None:
    """`./inv deploy`: :func:`deploy` (change set preview, or `sam deploy --guided`), then the stage's outputs."""
    outs = deploy(
        stage,
        overrides=_parse_overrides(parameters),
        build_first=build_first,
        guided=guided,
        via="sam" if guided else "changeset",
        yes=yes,
        allow_replacement=allow_replacement,
        region=region or None,
        s3_bucket=s3_bucket or None,
    )
    _print_outputs(outs)


def rollback_task(stage: str, *, region: str) -> None:
    """`./inv rollback`: the aliases the last deploy moved, back to their previous versions."""
    from devkit.deploy import rollback

    check_stage_name(stage)
    cfg = stage_config(stage, region=region or None)
    try:
        moved = rollback.rollback(_client("cloudformation", cfg.region), _client("lambda", cfg.region), cfg.stack_name)
    except rollback.RollbackError as err:
        raise DeployError(str(err)) from None
    print(f"rollback: {len(moved)} alias(es) of {cfg.stack_name} moved back")


def outputs_task(stage: str, *, region: str) -> None:
    """`./inv outputs`: a deployed stage's CloudFormation outputs."""
    _print_outputs(outputs(stage, region=region or None))


def destroy_task(stage: str, *, yes: bool, i_know: bool, region: str) -> None:
    """`./inv destroy`: asks first (refuses prod without `i_know`), then :func:`destroy`."""
    confirm_destroy(stage, i_know=i_know, yes=yes)
    destroy(stage, region=region or None)
    print(f"destroy: {stage} deleted")
