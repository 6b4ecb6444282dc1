"""Stage and route throttling of an HTTP API, as API Gateway applies it: a token bucket per route.

https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html: API Gateway throttles with
the token bucket algorithm, a token per request; the burst limit is the bucket's size, the rate limit its refill
per second. A stage's DefaultRouteSettings apply to every route, and a route's RouteSettings (keyed by route key,
e.g. `POST /login`) override them. A request without a token gets 429 `{"message":"Too Many Requests"}` before
any function runs. A limit set at neither level falls back to the account-level quota (10,000 requests per
second, burst 5,000), as on AWS.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from devkit.localcloud.model import HttpApiSpec, ThrottleSpec

ACCOUNT_RATE = 10_000.0
ACCOUNT_BURST = 5_000

Clock = Callable[[], float]


class TokenBucket:
    """`burst` tokens at most, `rate` tokens added per second; starts full."""

    __slots__ = ("_at", "_clock", "_tokens", "burst", "rate")

    def __init__(self, burst: int, rate: float, clock: Clock = time.monotonic) -> None:
        self.burst = burst
        self.rate = rate
        self._clock = clock
        self._tokens = float(burst)
        self._at = clock()

    def take(self) -> bool:
        """True and one token fewer, or False when the bucket is empty."""
        now = self._clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


def effective(default: ThrottleSpec | None, route: ThrottleSpec | None) -> ThrottleSpec | None:
    """The limits one route runs under (route settings override the stage's, limit by limit); None: unthrottled
    by the stage (only the account quota, which the local cloud does not enforce)."""
    burst = next((s.burst for s in (route, default) if s is not None and s.burst is not None), None)
    rate = next((s.rate for s in (route, default) if s is not None and s.rate is not None), None)
    if burst is None and rate is None:
        return None
    return ThrottleSpec(ACCOUNT_BURST if burst is None else burst, ACCOUNT_RATE if rate is None else rate)


class RouteThrottle:
    """One bucket per route key of an API (built on first use), from its stage's settings."""

    def __init__(self, api: HttpApiSpec, clock: Clock = time.monotonic) -> None:
        self._default = api.default_throttle
        self._routes = api.route_throttles
        self._clock = clock
        self._buckets: dict[str, TokenBucket | None] = {}
        self.enabled = api.default_throttle is not None or bool(api.route_throttles)

    def allow(self, route_key: str) -> bool:
        if route_key not in self._buckets:
            limits = effective(self._default, self._routes.get(route_key))
            self._buckets[route_key] = (
                None if limits is None else TokenBucket(int(limits.burst or 0), float(limits.rate or 0), self._clock)
            )
        bucket = self._buckets[route_key]
        return bucket is None or bucket.take()
