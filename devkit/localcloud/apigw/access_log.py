"""HTTP API access logs: a stage's AccessLogSettings.Format with its `$context` variables filled in, one line per
request.

https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging.html (format, JSON example) and
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html (the variables).
A variable without a value renders as `-`, as API Gateway does; a variable the local gateway does not know is
reported once, when the gateway starts, and renders as `-` too. Values are escaped for a JSON string so a JSON
format stays JSON whatever a header or an error message holds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

_VARIABLE = re.compile(r"\$context\.([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)")
MISSING = "-"


@dataclass
class AccessEntry:
    """What one request leaves for its access log line (filled in as the request goes)."""

    request_id: str
    source_ip: str
    method: str
    path: str
    protocol: str
    user_agent: str
    request_time: str  # 06/Dec/2026:23:47:24 +0000
    request_time_epoch_ms: int
    started: float  # monotonic seconds
    route_key: str | None = None
    status: int | None = None
    response_length: int | None = None
    response_latency_ms: int | None = None
    integration_latency_ms: int | None = None
    integration_status: int | None = None
    integration_error: str | None = None
    error_message: str | None = None
    authorizer_error: str | None = None


def _optional(value: object) -> str | None:
    return None if value is None else str(value)


Getter = Callable[[AccessEntry, str, str, str], str | None]  # (entry, api id, stage, domain name) -> value

VARIABLES: dict[str, Getter] = {
    "requestId": lambda e, *_: e.request_id,
    "extendedRequestId": lambda e, *_: e.request_id,
    "apiId": lambda e, api, stage, domain: api,
    "stage": lambda e, api, stage, domain: stage,
    "domainName": lambda e, api, stage, domain: domain,
    "domainPrefix": lambda e, api, stage, domain: domain.split(".", 1)[0],
    "identity.sourceIp": lambda e, *_: e.source_ip,
    "identity.userAgent": lambda e, *_: e.user_agent or None,
    "httpMethod": lambda e, *_: e.method,
    "path": lambda e, *_: e.path,
    "protocol": lambda e, *_: e.protocol,
    "requestTime": lambda e, *_: e.request_time,
    "requestTimeEpoch": lambda e, *_: str(e.request_time_epoch_ms),
    "routeKey": lambda e, *_: e.route_key,
    "status": lambda e, *_: _optional(e.status),
    "responseLength": lambda e, *_: _optional(e.response_length),
    "responseLatency": lambda e, *_: _optional(e.response_latency_ms),
    "integrationLatency": lambda e, *_: _optional(e.integration_latency_ms),
    "integration.latency": lambda e, *_: _optional(e.integration_latency_ms),
    "integrationStatus": lambda e, *_: _optional(e.integration_status),
    "integration.integrationStatus": lambda e, *_: _optional(e.integration_status),
    "integration.status": lambda e, *_: _optional(e.integration_status),
    "integrationErrorMessage": lambda e, *_: e.integration_error,
    "integration.error": lambda e, *_: e.integration_error,
    "error.message": lambda e, *_: e.error_message,
    "error.responseType": lambda e, *_: None,
    "authorizer.error": lambda e, *_: e.authorizer_error,
}
VARIABLES["ip"] = VARIABLES["identity.sourceIp"]


def _escape(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)[1:-1]


class AccessLogFormat:
    """A compiled format: literal pieces and variable getters, rendered per request."""

    def __init__(self, format: str) -> None:
        self.format = format
        self.unsupported: list[str] = []
        self._pieces: list[str | Getter] = []
        at = 0
        for match in _VARIABLE.finditer(format):
            self._pieces.append(format[at : match.start()])
            name = match.group(1)
            getter = VARIABLES.get(name)
            if getter is None:
                if name not in self.unsupported:
                    self.unsupported.append(name)
                getter = _missing
            self._pieces.append(getter)
            at = match.end()
        self._pieces.append(format[at:])

    def render(self, entry: AccessEntry, *, api_id: str, stage: str, domain: str) -> str:
        out = []
        for piece in self._pieces:
            if isinstance(piece, str):
                out.append(piece)
            else:
                value = piece(entry, api_id, stage, domain)
                out.append(MISSING if value is None or value == "" else _escape(value))
        return "".join(out)


def _missing(entry: AccessEntry, api: str, stage: str, domain: str) -> str | None:
    return None
