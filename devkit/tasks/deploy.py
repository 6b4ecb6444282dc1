"""Tasks that deploy (SAM, one stack per stage; see devkit/deploy/stage.py): deploy, outputs, destroy, rollback."""

from __future__ import annotations

from invoke import Context, task

from devkit.tasks import exits


@task(
    help={
        "stage": "dev, staging, prod or a personal name (stack lambda-rust-reference-<stage>)",
        "guided": "sam deploy --guided (asks for every setting and saves it to infra/samconfig.toml)",
        "no_build": "deploy the zips already built by ./inv build (release, the stage's architecture)",
        "yes": "execute the change set without asking (CI)",
        "allow_replacement": "let a production stage replace a table or queue (their data or messages are lost)",
        "region": "AWS region (default: infra/samconfig.toml, or AWS_REGION)",
        "s3_bucket": "upload artifacts to this bucket instead of SAM's managed one",
        "parameters": "template parameter overrides, e.g. 'EnableLmi=false' (on top of infra/samconfig.toml)",
    }
)
@exits()
def deploy(
    c: Context,
    stage: str,
    guided: bool = False,
    no_build: bool = False,
    yes: bool = False,
    allow_replacement: bool = False,
    region: str = "",
    s3_bucket: str = "",
    parameters: str = "",
) -> None:
    """Deploy a stage: release zips → sam package → offline SAM translation → change set (shown, confirmed) → key."""
    from devkit.deploy import stage as deployer

    deployer.deploy_task(
        stage,
        guided=guided,
        build_first=not no_build,
        yes=yes,
        allow_replacement=allow_replacement,
        region=region,
        s3_bucket=s3_bucket,
        parameters=parameters,
    )


@task(help={"stage": "the deployed stage", "region": "AWS region (default: samconfig / AWS_REGION)"})
@exits()
def outputs(c: Context, stage: str, region: str = "") -> None:
    """Print a deployed stage's CloudFormation outputs (API URLs, table and queue names)."""
    from devkit.deploy import stage as deployer

    deployer.outputs_task(stage, region=region)


@task(
    help={
        "stage": "the stage to delete",
        "yes": "do not prompt (required when not on a terminal, e.g. CI)",
        "i_know": "required for prod (its tables are retained: DeletionPolicy Retain)",
        "region": "AWS region (default: samconfig / AWS_REGION)",
    }
)
@exits()
def destroy(c: Context, stage: str, yes: bool = False, i_know: bool = False, region: str = "") -> None:
    """Delete a stage's stack and uploaded artifacts (sam delete); asks first, refuses prod without --i-know."""
    from devkit.deploy import stage as deployer

    deployer.destroy_task(stage, yes=yes, i_know=i_know, region=region)


@task(help={"stage": "the deployed stage", "region": "AWS region (default: samconfig / AWS_REGION)"})
@exits()
def rollback(c: Context, stage: str, region: str = "") -> None:
    """Point the `live` aliases the last deploy moved back to their previous versions (no build, no stack update)."""
    from devkit.deploy import stage as deployer

    deployer.rollback_task(stage, region=region)
