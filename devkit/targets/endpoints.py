"""Where contract and load tests send their requests: a deployed stage, explicit URLs, or a local cloud of their own.

`endpoints(choice)` resolves the URLs (and, when it can, a `devkit.targets.Target` for admin grants and cleanup),
applies the prod guard, and — with neither URLs nor a stage — starts `python -m devkit.stack` on loopback ports
in a temporary state directory and stops it on exit.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from devkit import targets
from devkit.stack import StackNotReady, started
from devkit.targets.safety import refuse_prod

Options = TypeVar("Options")

START_DEADLINE_S = 300.0  # a first start may build bootstraps


@dataclass(frozen=True)
class Endpoints:
    api: str  # the lith API (HttpApi): every module except identity
    auth: str  # the identity API (AuthApi): /register, /login, /logout, /me, /.well-known/*
    fat: str | None  # the fat Lambda's API (FatApi): every route
    target: Any | None  # devkit.targets.Target for admin grants and table cleanup; None for bare URLs
    label: str
    urls: dict[str, str] | None = None  # every API's URL (a local cloud of our own)
    control: dict[str, Any] | None = None  # its control file (lambda_endpoint, state_dir, …)

    def base_for(self, topology: str) -> tuple[str, str]:
        """(main URL, identity URL) for a topology: lith splits them, fat serves everything from one API."""
        if topology == "fat":
            if not self.fat:
                raise targets.TargetError(f"{self.label} has no fat API (FatApiUrl); use --topology lith")
            return self.fat, self.fat
        return self.api, self.auth


@contextmanager
def local_cloud(
    *, build: bool = True, backend: str = "moto", profile: str = "ci", demo_data: bool = False
) -> Iterator[Endpoints]:
    """A private local cloud (loopback, random ports; moto or dynamodb-local) for the duration of the block;
    `demo_data`: with the demo currencies (devkit.demo), as `./inv up` starts."""
    with tempfile.TemporaryDirectory(prefix="contract-cloud-") as tmp:
        state_dir = Path(tmp)
        cmd = [sys.executable, "-m", "devkit.stack", "--port", "0", "--state-dir", str(state_dir), "--quiet"]
        cmd += ["--backend", backend, "--profile", profile] + ([] if build else ["--no-build"])
        cmd += ["--demo-data"] if demo_data else []
        try:
            with started(cmd, state_dir, deadline_s=START_DEADLINE_S) as (_, control):
                urls = control["urls"]
                yield Endpoints(
                    urls["HttpApi"],
                    urls["AuthApi"],
                    urls.get("FatApi"),
                    targets.local(state_dir),
                    "the local cloud",
                    urls=urls,
                    control=control,
                )
        except StackNotReady as err:
            raise targets.TargetError(str(err)) from None


@contextmanager
def endpoints(choice: TargetChoice, *, fat_url: str = "") -> Iterator[Endpoints]:
    """Resolve where to test; refuse prod-looking targets; start a local cloud when nothing is given. `fat_url`:
    the fat API beside explicit URLs (default: the base URL)."""
    base_url, auth_url, stage, i_know = choice.base_url, choice.auth_url, choice.stage, choice.i_know
    if base_url and stage:
        raise targets.TargetError("give either --base-url or --stage, not both")
    if stage:
        refuse_prod([stage], i_know=i_know)
        target = targets.stage(stage)
        api = target.output("HttpApiUrl")
        found = Endpoints(
            api, target.outputs.get("AuthApiUrl", api), target.outputs.get("FatApiUrl"), target, target.name
        )
        refuse_prod([found.api, found.auth, found.fat or ""], i_know=i_know)
        yield found
        return
    if base_url:
        refuse_prod([base_url, auth_url, fat_url], i_know=i_know)
        base = base_url.rstrip("/")
        yield Endpoints(base, (auth_url or base).rstrip("/"), (fat_url or base).rstrip("/"), None, base)
        return
    with local_cloud(backend=choice.backend, demo_data=choice.demo_data) as local:
        yield local


@dataclass(frozen=True)
class TargetChoice:
    """What the operator named on the command line: URLs, a stage, or nothing (a private local cloud)."""

    base_url: str = ""
    auth_url: str = ""
    stage: str = ""
    i_know: bool = False
    backend: str = "moto"  # of the private local cloud
    demo_data: bool = False  # the private local cloud starts with the demo currencies


def run_on_target(
    run_against: Callable[[Endpoints, Options], int], options: Options, choice: TargetChoice, *, topology: str
) -> int:
    """Resolve the target (or start a private local cloud), then `run_against` it. On the fat topology a bare
    `--base-url` is the fat API."""
    with endpoints(choice, fat_url=choice.base_url if topology == "fat" else "") as where:
        return run_against(where, options)
