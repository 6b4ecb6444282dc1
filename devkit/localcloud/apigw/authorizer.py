"""HTTP API JWT authorizer, enforced as API Gateway does it, before the function is invoked.

Configuration comes from the route's `JwtAuthorizerSpec` (issuer, audience, identity source). Keys come from
`{issuer}/.well-known/openid-configuration` → `jwks_uri`, cached with a TTL (and refetched once when a token
names an unknown `kid`). Checks: signature (RS*/PS*/ES*/EdDSA), `iss` equal to the issuer, `aud` (or `client_id`
when there is no `aud`) among the configured audiences, `exp` present and in the future, `nbf`/`iat` not in the
future, and the route's authorization scopes against the `scope`/`scp` claim. Claims reach the function as
strings, as API Gateway passes them (arrays as `[a b]`).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

import aiohttp
import jwt
from jwt import PyJWK

from devkit.localcloud.model import JwtAuthorizerSpec

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]


@dataclass(frozen=True)
class Denial:
    status: int  # 401 Unauthorized, 403 Forbidden (scopes)
    www_authenticate: str

    @property
    def body(self) -> bytes:
        return b'{"message":"Unauthorized"}' if self.status == 401 else b'{"message":"Forbidden"}'


@dataclass(frozen=True)
class Grant:
    claims: dict[str, str]
    scopes: list[str] | None


def _invalid(description: str) -> Denial:
    return Denial(401, f'Bearer scope="" error="invalid_token" error_description="{description}"')


def claim_to_string(value: object) -> str:
    """API Gateway's rendering of a claim value: strings as-is, arrays as `[a b]`, numbers and booleans as text."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(claim_to_string(v) for v in value) + "]"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


class JwksCache:
    """OpenID discovery + JWKS per issuer, with a TTL."""

    def __init__(self, session_factory: type[aiohttp.ClientSession] = aiohttp.ClientSession, ttl_s: float = 300.0):
        self.ttl_s = ttl_s
        self._session: aiohttp.ClientSession | None = None
        self._session_factory = session_factory
        self._keys: dict[str, tuple[float, dict[str, PyJWK]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.fetches = 0

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _get_json(self, url: str) -> dict:
        if self._session is None:
            self._session = self._session_factory(timeout=aiohttp.ClientTimeout(total=5))
        async with self._session.get(url) as response:
            response.raise_for_status()
            return await response.json(content_type=None)

    async def keys(self, issuer: str, *, refresh: bool = False) -> dict[str, PyJWK]:
        cached = self._keys.get(issuer)
        if cached is not None and not refresh and time.monotonic() - cached[0] < self.ttl_s:
            return cached[1]
        lock = self._locks.setdefault(issuer, asyncio.Lock())
        async with lock:
            cached = self._keys.get(issuer)
            if cached is not None and time.monotonic() - cached[0] < (1.0 if refresh else self.ttl_s):
                return cached[1]
            self.fetches += 1
            discovery = await self._get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
            jwks = await self._get_json(discovery["jwks_uri"])
            keys: dict[str, PyJWK] = {}
            for index, data in enumerate(jwks.get("keys", [])):
                try:
                    keys[data.get("kid") or f"#{index}"] = PyJWK(data)
                except jwt.PyJWTError:
                    continue  # a key type PyJWT cannot use; API Gateway ignores it too
            self._keys[issuer] = (time.monotonic(), keys)
            return keys


class JwtAuthorizer:
    def __init__(self, cache: JwksCache) -> None:
        self.cache = cache

    async def authorize(
        self, spec: JwtAuthorizerSpec, headers: dict[str, str], route_scopes: tuple[str, ...]
    ) -> Grant | Denial:
        token = _identity(spec, headers)
        if not token:
            return Denial(401, "Bearer")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return _invalid("the token is malformed")
        try:
            key = await self._key_for(spec.issuer, header.get("kid"))
        except (TimeoutError, aiohttp.ClientError, KeyError, ValueError):
            return _invalid("unable to fetch the signing keys of the issuer")
        if key is None:
            return _invalid("the token has no valid signing key")
        try:
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=[key.algorithm_name] if key.algorithm_name else ALGORITHMS,
                issuer=spec.issuer,
                options={"require": ["exp"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError:
            return _invalid("the token has expired")
        except jwt.ImmatureSignatureError:
            return _invalid("the token is not valid yet")
        except jwt.InvalidIssuerError:
            return _invalid("the token does not have a valid issuer")
        except jwt.PyJWTError:
            return _invalid("the token has an invalid signature or claims")
        if not _audience_ok(claims, spec.audience):
            return _invalid("the token does not have a valid audience")
        token_scopes = _scopes(claims)
        if route_scopes and not set(route_scopes) & set(token_scopes):
            expected = " ".join(route_scopes)
            return Denial(
                403,
                f'Bearer scope="{expected}" error="insufficient_scope" '
                f'error_description="expected scopes: [{expected}]"',
            )
        return Grant(
            {k: claim_to_string(v) for k, v in claims.items()},
            token_scopes if route_scopes else None,
        )

    async def _key_for(self, issuer: str, kid: str | None) -> PyJWK | None:
        keys = await self.cache.keys(issuer)
        key = _pick(keys, kid)
        if key is None:
            keys = await self.cache.keys(issuer, refresh=True)
            key = _pick(keys, kid)
        return key


def _pick(keys: dict[str, PyJWK], kid: str | None) -> PyJWK | None:
    if kid is not None:
        return keys.get(kid)
    return next(iter(keys.values())) if len(keys) == 1 else None


def _identity(spec: JwtAuthorizerSpec, headers: dict[str, str]) -> str | None:
    source = spec.identity_source.split(",")[0].strip()
    prefix = "$request.header."
    if not source.startswith(prefix):
        return None
    value = headers.get(source[len(prefix) :].lower())
    if not value:
        return None
    value = value.strip()
    if value[:7].lower() == "bearer ":
        value = value[7:].strip()
    return value or None


def _audience_ok(claims: dict, audiences: tuple[str, ...]) -> bool:
    if "aud" in claims:
        aud = claims["aud"]
        values = aud if isinstance(aud, list) else [aud]
    elif "client_id" in claims:
        values = [claims["client_id"]]
    else:
        return False
    return any(v in audiences for v in values)


def _scopes(claims: dict) -> list[str]:
    raw = claims.get("scope", claims.get("scp"))
    if isinstance(raw, str):
        return raw.split()
    if isinstance(raw, list):
        return [str(v) for v in raw]
    return []
