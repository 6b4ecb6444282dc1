"""What every data backend of the local cloud answers (`Backend`), its error, and the names of a deployed stage.

Every backend answers the same questions: which endpoint(s) functions must use (`env()`), a queue's URL,
and a boto3 client for provisioning and tests. Functions are separate processes, hence servers, never
in-process mocks.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Literal

import boto3
from botocore.config import Config

BackendKind = Literal["moto", "dynamodb-local", "aws"]
LOCAL_CREDENTIALS = {"aws_access_key_id": "localcloud", "aws_secret_access_key": "localcloud"}
CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=30, retries={"max_attempts": 2, "mode": "standard"})


class BackendError(RuntimeError):
    """A backend could not start or answer; the message says why and where its log is."""


class Backend(ABC):
    """What the local cloud needs from a data backend."""

    kind: BackendKind

    def __init__(self, *, state_dir: Path, cache_dir: Path, region: str, account_id: str) -> None:
        self.state_dir = Path(state_dir)
        self.cache_dir = Path(cache_dir)
        self.region = region
        self.account_id = account_id

    @abstractmethod
    def start(self) -> str:
        """Start (or attach to) the backend; return the endpoint URL for AWS_ENDPOINT_URL ("" for real AWS)."""

    @abstractmethod
    def stop(self) -> None: ...

    @abstractmethod
    def is_running(self) -> bool: ...

    @abstractmethod
    def wait_ready(self, deadline: float) -> None:
        """Block until the backend answers; `deadline` is a `time.monotonic()` value."""

    @property
    def endpoint_url(self) -> str | None:
        """The main endpoint (AWS_ENDPOINT_URL); `env()` adds per-service ones where a backend has several."""
        return self.endpoint_for("dynamodb")

    @abstractmethod
    def endpoint_for(self, service: str) -> str | None:
        """The endpoint URL for a boto3/SDK service name ("dynamodb", "sqs", ...), None for AWS's own."""

    @abstractmethod
    def env(self) -> dict[str, str]:
        """Environment variables that point a function's SDK at this backend."""

    @abstractmethod
    def queue_url(self, name: str) -> str:
        """The URL of queue `name` (physical name) on this backend, whether or not it exists yet."""

    def credentials(self) -> dict[str, str]:
        return dict(LOCAL_CREDENTIALS)

    def boto3_client(self, service: str) -> Any:
        return boto3.client(
            service,
            region_name=self.region,
            endpoint_url=self.endpoint_for(service),
            config=CLIENT_CONFIG,
            **self.credentials(),
        )

    def __enter__(self) -> Backend:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


STACK_PREFIX = "lambda-rust-reference"


def loopback_endpoint(port: int | None, backend: str) -> str:
    """The URL of a server the `backend` started on `port` of 127.0.0.1; BackendError before it started."""
    if port is None:
        raise BackendError(f"{backend} backend not started")
    return f"http://127.0.0.1:{port}"


def stack_name_for(stage: str) -> str:
    """The CloudFormation stack of a deployed stage (infra/samconfig.toml names stacks this way)."""
    return f"{STACK_PREFIX}-{stage}"
