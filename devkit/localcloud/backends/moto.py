"""The `moto` backend: a `moto_server` subprocess on a free loopback port (pip only; the default)."""

from __future__ import annotations

import sys
import time
from typing import Any

from devkit.localcloud.backends.base import Backend, BackendError, BackendKind, loopback_endpoint
from devkit.localcloud.backends.process import ManagedProcess
from devkit.localcloud.host import free_port


class MotoBackend(Backend):
    """`moto_server` on a free loopback port; one endpoint for every service."""

    kind: BackendKind = "moto"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.process = ManagedProcess("moto", self.state_dir)
        self.port: int | None = None

    @property
    def endpoint(self) -> str:
        return loopback_endpoint(self.port, "moto")

    def start(self) -> str:
        if self.is_running():
            return self.endpoint
        for attempt in range(3):  # the free port may be taken before moto binds it: try another
            self.port = free_port()
            cmd = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
            self.process.start(cmd, env={"MOTO_ACCOUNT_ID": self.account_id, "PYTHONUNBUFFERED": "1"})
            try:
                self.wait_ready(time.monotonic() + 30)
                return self.endpoint
            except BackendError:
                self.process.stop()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def wait_ready(self, deadline: float) -> None:
        self.process.wait_http(self.endpoint + "/moto-api/", deadline)

    def stop(self) -> None:
        self.process.stop()

    def is_running(self) -> bool:
        return self.process.alive()

    def endpoint_for(self, service: str) -> str | None:
        return self.endpoint

    def env(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL": self.endpoint}

    def queue_url(self, name: str) -> str:
        return f"{self.endpoint}/{self.account_id}/{name}"
