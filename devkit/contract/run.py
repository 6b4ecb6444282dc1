"""`./inv contract`: schemathesis against the committed openapi.json, on the lith or the fat topology.

The flow: resolve the target (URLs, a stage, or a private local cloud — `devkit.targets.endpoints`), refuse prod, create
two tagged accounts (a user and an admin; the admin grant needs table access, so it works on the local cloud
and on `--stage`, not on bare URLs), write a copy of the document with the stateful links (`contract_links`),
run the schemathesis CLI with our hooks (`hooks`: auth, lith routing, tagging), delete the accounts'
data, and return schemathesis' exit code. Reports (JUnit, HTML, NDJSON) land in one directory per run.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from devkit import paths
from devkit.contract import accounts as contract_accounts
from devkit.contract import cleanup as contract_cleanup
from devkit.contract import links as contract_links
from devkit.targets.endpoints import Endpoints, TargetChoice, run_on_target

# Every check but one. `unsupported_method`: an HTTP API answers a method it has no route for with its own 404 at
# the edge (AWS does the same); no service sees the request, so there is nothing a service could fix.
# (`positive_data_acceptance` runs: the document states the services' rules, and what JSON Schema cannot state is
# named in its `x-rules` extension, which the hooks apply to positive cases.)
EXCLUDED_CHECKS = ("unsupported_method",)
# The lith topology is two APIs: the identity API (AuthApi) and HttpApi; the fat API serves every path.
# (schemathesis keeps only the last of repeated --exclude-path-regex options, hence one pattern per leg.)
IDENTITY_PATHS = "^/(register|login|logout|me|\\.well-known/.*|health/auth)$"
STATELESS = "examples,coverage,fuzzing"
# The statuses a refusal of invalid data may have (schemathesis' list plus 412 and 413; the file says why).
CONFIG_FILE = paths.ROOT / "schemathesis.toml"
NOT_ON_HTTP_API = "^/(register|login|logout|me|\\.well-known/.*|health/auth|openapi\\.json|docs|docs/\\{asset\\})$"


@dataclass(frozen=True)
class ContractOptions:
    topology: str = "lith"
    examples: int = 200
    seed: int | None = None
    workers: int = 2
    phases: str = "examples,coverage,fuzzing,stateful"
    max_time: int | None = None
    report_dir: Path | None = None


def legs(topology: str, base: str, auth: str) -> list[tuple[str, str, list[str]]]:
    """(name, base URL, path filters) per schemathesis run: lith = identity API + HttpApi, fat = one API."""
    if topology == "fat":
        return [("fat", base, [])]
    return [
        # No links among the identity operations, so no stateful phase there.
        ("identity", auth, ["--include-path-regex", IDENTITY_PATHS, "--phases", STATELESS]),
        ("services", base, ["--exclude-path-regex", NOT_ON_HTTP_API]),
    ]


def schemathesis_command(
    options: ContractOptions, schema: Path, base_url: str, report_dir: Path, filters: list[str]
) -> list[str]:
    """The schemathesis CLI invocation (pure, so the flags are unit-tested)."""
    cmd = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG_FILE), "run", str(schema),
        "--url", base_url,
        "--checks", "all", "--exclude-checks", ",".join(EXCLUDED_CHECKS),
        "--mode", "all",
        "--max-examples", str(options.examples),
        "--workers", str(options.workers),
        "--generation-database", "none",
        "--report", "junit,html,ndjson",
        "--report-dir", str(report_dir),
        "--no-color",
    ]  # fmt: skip
    if options.seed is not None:
        cmd += ["--seed", str(options.seed)]
    if options.max_time:
        cmd += ["--max-time", str(options.max_time)]
    if "--phases" not in filters:
        cmd += ["--phases", options.phases]
    return cmd + filters


def _report_dir(options: ContractOptions) -> Path:
    if options.report_dir:
        return options.report_dir
    return paths.ROOT / "reports" / "contract" / f"{time.strftime('%Y%m%dT%H%M%S')}-{options.topology}"


def run_against(where: Endpoints, options: ContractOptions) -> int:
    """One contract run against resolved endpoints; returns schemathesis' exit code (0: no findings)."""
    base, auth = where.base_for(options.topology)
    report_dir = _report_dir(options).resolve()
    report_dir.mkdir(parents=True, exist_ok=True)
    run_tag = f"contract-{time.strftime('%H%M%S')}-{os.getpid()}"
    user = contract_accounts.create(auth, f"{run_tag}-user")
    admin = contract_accounts.create(auth, f"{run_tag}-admin", admin_target=where.target)
    if where.target is None:
        print("contract: no table access (bare URLs): the admin account is not an admin, currency writes answer 403")
    document = json.loads((paths.ROOT / "openapi.json").read_text())
    schema = report_dir / "openapi.links.json"
    schema.write_text(json.dumps(contract_links.contract_document(document), indent=1))
    config = report_dir / "contract-config.json"
    config.write_text(
        json.dumps(
            {
                "topology": options.topology,
                "tag": run_tag,
                "api": base,
                "auth": auth,
                "user": {"email": user.email, "password": user.password},
                "admin": {"email": admin.email, "password": admin.password},
            }
        )
    )
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "devkit.contract.hooks", "CONTRACT_CONFIG": str(config)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(paths.ROOT), env.get("PYTHONPATH", "")]))
    codes = {}
    try:
        for name, url, filters in legs(options.topology, base, auth):
            print(f"\ncontract: {options.topology} topology, {name} API on {where.label}: {url}", flush=True)
            cmd = schemathesis_command(options, schema, url, report_dir / name, filters)
            # From the report directory, so schemathesis' `.schemathesis/` cache lands there, not in the repository.
            codes[name] = subprocess.run(cmd, cwd=report_dir, env=env, check=False).returncode
    finally:
        if where.target is not None:
            report = contract_cleanup.clean(where.target, only_prefix=f"e2e-{run_tag}-")
            print(f"contract: cleanup: {report.summary()}")
        else:
            print("contract: bare URLs: run `./inv clean-test-data --stage NAME` to remove the tagged accounts' data")
    for name, code in codes.items():
        junit = sorted((report_dir / name).glob("junit-*.xml"))
        html = sorted((report_dir / name).glob("html-*/index.html"))
        print(f"contract: {name}: JUnit report {junit[-1] if junit else '(none)'}")
        print(f"contract: {name}: HTML report {html[-1] if html else '(none)'}")
        print(f"contract: {name}: {'no findings' if code == 0 else f'FINDINGS (schemathesis exit {code})'}")
    return max(codes.values(), default=1)


def contract_task(options: ContractOptions, choice: TargetChoice) -> None:
    """`./inv contract`: :func:`run_against` the target (or a private local cloud); TaskFailure (with schemathesis's
    exit code) when it found problems."""
    from devkit.errors import TaskFailure

    if options.topology not in ("lith", "fat"):
        raise TaskFailure("--topology is lith or fat")
    # A private local cloud starts as `./inv up` does, with the demo currencies, so conversions can succeed.
    code = run_on_target(run_against, options, dataclasses.replace(choice, demo_data=True), topology=options.topology)
    if code:
        raise TaskFailure("schemathesis found problems (see above and the reports)", code=code)
