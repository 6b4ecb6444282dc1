"""Tasks that measure: bench, bench-fat, bench-lmi, soak, compare (reports under reports/)."""

from __future__ import annotations

from invoke import Context, task

from devkit.tasks import compiled, exits


@task(
    help={
        "quick": "small counts (about 3 minutes from built bootstraps)",
        "local_cloud": "only local cloud vs cargo lambda watch and cold start per function (no warm load)",
        "release": "release bootstraps (the default; as deployed)",
        "profile": "cargo profile of the bootstraps: release (default) or ci",
        "no_build": "do not build; run the bootstraps already built",
        "threshold": "relative worsening vs the previous run that counts as a regression (default 0.25)",
    }
)
@exits()
@compiled
def bench(
    c: Context,
    quick: bool = False,
    local_cloud: bool = False,
    release: bool = False,
    profile: str = "release",
    no_build: bool = False,
    threshold: float = 0.25,
) -> None:
    """Benchmarks: local cloud vs cargo lambda watch on the same bootstrap, per-function cold start, warm
    latency, RSS and sizes, Rust vs Python (awslambdaric); JSON + Markdown under reports/bench/, compared with
    the previous run."""
    from devkit.bench import run

    profile = "release" if release else profile
    run.bench_task(
        quick=quick, local_cloud_only=local_cloud, profile=profile, build_first=not no_build, threshold=threshold
    )


@task(help={"rounds": "cold starts per function and path (default 10)", "profile": "release (default) or ci"})
@exits()
@compiled
def bench_fat(c: Context, rounds: int = 10, profile: str = "release") -> None:
    """Fat vs lith on the local cloud: Init Duration, first-request latency, warm p50, RSS, bootstrap size."""
    from devkit.bench import fat

    fat.run(rounds=rounds, profile=profile)


@task(help={"requests": "requests per concurrency level (default 640)"})
@exits()
@compiled
def bench_lmi(c: Context, requests: int = 640) -> None:
    """One LMI environment vs standard environments at rising concurrency: req/s, p99, RSS, environments."""
    from devkit.bench import lmi

    lmi.run(requests=requests)


@task(
    help={
        "commands": "how many commands (default 10000)",
        "rate": "commands per second, steady (default 100)",
        "failures": "percentage of the projector's early deliveries that fail (default 10)",
        "seed": "fault RNG seed (default 1)",
        "backend": "dynamodb-local (default when Java is present) or moto",
        "profile": "cargo profile of the bootstraps: ci (default) or release",
        "no_build": "do not build; run the bootstraps already built",
    }
)
@exits(RuntimeError)
@compiled
def soak(
    c: Context,
    commands: int = 10_000,
    rate: float = 100.0,
    failures: float = 10.0,
    seed: int = 1,
    backend: str = "",
    profile: str = "ci",
    no_build: bool = False,
) -> None:
    """Currency soak: commands through write → SQS → projector with projector faults injected, then every
    command counted as applied exactly once; JSON + Markdown under reports/soak/. Fails when any count is off."""
    from devkit.soak import currency

    settings = currency.SoakSettings(commands=commands, rate=rate, failure_percentage=failures, seed=seed)
    currency.soak_task(settings, profile=profile, build_first=not no_build, backend=backend or None)


@task(
    help={
        "traffic": "a traffic profile (blog, currency, convert) or all (default)",
        "quick": "300 requests per topology instead of 2000 (about 3 minutes from built bootstraps)",
        "profile": "cargo profile of the bootstraps: ci (default) or release",
        "backend": "moto (default) or dynamodb-local",
        "no_build": "do not build; run the bootstraps already built",
        "stage": "a deployed stage instead of a fresh local cloud (its APIs; billing from CloudWatch REPORT lines)",
        "i_know": "run against a stage or URL that looks like production",
    }
)
@exits(ValueError, RuntimeError)
@compiled
def compare(
    c: Context,
    traffic: str = "all",
    quick: bool = False,
    profile: str = "ci",
    backend: str = "moto",
    no_build: bool = False,
    stage: str = "",
    i_know: bool = False,
) -> None:
    """Every topology (lith, micro, fat, read/write split, LMI) under the same traffic: latency, cold starts,
    environments, memory, cost against monthly volume, IAM breadth, deploy size, a decision table per profile;
    one self-contained HTML page (inline SVG) + Markdown under reports/compare/."""
    from devkit.compare import run

    options = run.CompareOptions(traffic=traffic, quick=quick, profile=profile, backend=backend, build=not no_build)
    run.compare_task(options, stage=stage, i_know=i_know)
