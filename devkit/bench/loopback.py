"""Stand-ins the benchmarks start and stop: an aiohttp application on a random loopback port, `async with`."""

from __future__ import annotations

from typing import Self

from aiohttp import web


class Started:
    """`async with` for a stand-in with async `start()` and `stop()`: started on entry, stopped on exit."""

    async def start(self) -> object:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    """Start `app` on 127.0.0.1 (a free port, no access log); its runner (`cleanup()` stops it) and base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"
