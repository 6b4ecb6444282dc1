"""Payload format 2.0: request pieces (headers, cookies, query, binary bodies), the response rules, and CORS.

Response rules: a JSON object with `statusCode` is used as is (headers, `cookies` → Set-Cookie, `body`, base64
when `isBase64Encoded`; `multiValueHeaders` is ignored in 2.0); any other valid JSON is returned as the body with
200 and `content-type: application/json`; anything unusable raises ValueError (the gateway answers 500).
"""

from __future__ import annotations

import base64
from urllib.parse import parse_qsl

import orjson

from devkit.localcloud.model import CorsSpec, InvokeResult
from devkit.localcloud.server.http1 import Response

_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript", "application/graphql")


def is_text(content_type: str | None) -> bool:
    if not content_type:
        return False
    ct = content_type.split(";", 1)[0].strip().lower()
    return ct.startswith(_TEXT_TYPES) or ct.endswith(("+json", "+xml"))


def joined_headers(raw: list[tuple[str, str]]) -> tuple[dict[str, str], list[str]]:
    """Lowercased headers with duplicates joined by commas, and the Cookie header split into `cookies`."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in raw:
        key = name.lower()
        if key == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    return headers, cookies


def query_parameters(raw: str) -> dict[str, str] | None:
    if not raw:
        return None
    out: dict[str, str] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        out[key] = f"{out[key]},{value}" if key in out else value
    return out


def v2_response(result: InvokeResult) -> Response:
    """Payload format 2.0 response rules; ValueError when the shape is unusable (→ 500)."""
    raw = result.outcome.body
    try:
        value = orjson.loads(raw) if raw else None
    except ValueError as exc:  # orjson.JSONDecodeError is a ValueError
        raise ValueError("response is not JSON") from exc
    if not (isinstance(value, dict) and "statusCode" in value):
        return Response(200, raw, [("content-type", "application/json")])
    status = value["statusCode"]
    if (isinstance(status, str) and status.isdigit()) or (isinstance(status, float) and status.is_integer()):
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise ValueError("bad statusCode")
    headers = value.get("headers") or {}
    if not isinstance(headers, dict):
        raise ValueError("bad headers")
    body = value.get("body")
    if body is None:
        data = b""
    elif isinstance(body, str):
        data = base64.b64decode(body) if value.get("isBase64Encoded") else body.encode()
    else:
        raise ValueError("bad body")
    merged: dict[str, tuple[str, str]] = {}  # lowercased name → (name, value): the last of a repeated name wins
    for key, val in headers.items():
        if isinstance(val, (dict, list)):
            raise ValueError("bad header value")
        text = "true" if val is True else "false" if val is False else str(val)
        if "\r" in text or "\n" in text:
            raise ValueError("bad header value")
        name = str(key)
        merged[name.lower()] = (name, text)
    if "content-type" not in merged:
        merged["content-type"] = ("content-type", "application/json")
    out = Response(status, data, list(merged.values()))
    cookies = value.get("cookies") or []
    if not isinstance(cookies, list):
        raise ValueError("bad cookies")
    for cookie in cookies:
        out.add("set-cookie", str(cookie))
    return out


def _origin_allowed(cors: CorsSpec, origin: str) -> str | None:
    if "*" in cors.allow_origins:
        return "*" if not cors.allow_credentials else origin
    return origin if origin in cors.allow_origins else None


def preflight(cors: CorsSpec, origin: str) -> Response:
    response = Response(204)
    allowed = _origin_allowed(cors, origin)
    if allowed is None:
        return response
    response.set("access-control-allow-origin", allowed)
    if cors.allow_methods:
        response.set("access-control-allow-methods", ",".join(cors.allow_methods))
    if cors.allow_headers:
        response.set("access-control-allow-headers", ",".join(cors.allow_headers))
    if cors.allow_credentials:
        response.set("access-control-allow-credentials", "true")
    if cors.max_age is not None:
        response.set("access-control-max-age", str(cors.max_age))
    return response


def cors_headers(cors: CorsSpec, origin: str, response: Response) -> None:
    allowed = _origin_allowed(cors, origin)
    if allowed is None:
        return
    response.set("access-control-allow-origin", allowed)
    if cors.expose_headers:
        response.set("access-control-expose-headers", ",".join(cors.expose_headers))
    if cors.allow_credentials:
        response.set("access-control-allow-credentials", "true")
