"""The local cloud as the benchmarks run it: on a started backend, quiet, and reaped only by the benchmark."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from devkit.localcloud import Backend, LocalCloud, StackSpec


def bench_cloud(
    stack: StackSpec, bootstraps: dict[str, Path], backend: Backend, *, control_port: int | None
) -> LocalCloud:
    """No state directory, no console; reaping is driven by the benchmark (idle timeout 0), never by the
    background reaper. `control_port`: 0 for the Invoke API on a random port, None for none."""
    from devkit.localcloud import LocalCloud, PoolSettings

    return LocalCloud(
        stack,
        bootstraps,
        endpoint_url=backend.env().get("AWS_ENDPOINT_URL"),
        extra_env=backend.env(),
        state_dir=None,
        console=None,
        pool_settings=PoolSettings(idle_timeout_s=0.0, reap_interval_s=3600.0, console_reports=False),
        control_port=control_port,
    )
