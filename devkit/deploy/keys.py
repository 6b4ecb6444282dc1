"""ES256 signing keys for the auth service, kept in AWS Secrets Manager (or the local cloud's backend).

The secret holds one JSON document, read once per cold start by the auth function:

    {"current":  {"kid": "...", "alg": "ES256", "private_key_pem": "-----BEGIN PRIVATE KEY-----...",
                  "created_at": "2026-11-24T00:00:00Z"},
     "previous": {...} | null}

Tokens are signed with ``current``; the JWKS publishes ``current`` and ``previous`` so tokens minted before a
rotation verify until they expire. ``kid`` is the key's RFC 7638 JWK thumbprint. No key is ever written to the
repository: ``./inv up`` calls :func:`ensure_signing_key` against the local backend, ``./inv deploy`` against the
deployed stack's secret (the template creates it empty).

Rotation (``./inv keys rotate``, :func:`rotate`) moves ``current`` to ``previous`` and generates a new ``current``.
Warm functions re-read the secret within ``KEY_REFRESH_SECONDS`` (template parameter ``KeyRefreshSeconds``, default
300 s) and publish the new key at once; they sign with it once it is that old (``created_at``), so every verifier
has fetched it first. Tokens signed with the old key keep verifying.
Once those tokens have expired (one access-token lifetime after the rotation took effect),
``./inv keys retire-previous`` (:func:`retire_previous`) removes ``previous``: within the same bound every verifier
refuses a token signed with it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ALG = "ES256"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def public_jwk(private_key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    """The public half as a JWK (kty, crv, x, y)."""
    numbers = private_key.public_key().public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": _b64url(numbers.x.to_bytes(32, "big")),
        "y": _b64url(numbers.y.to_bytes(32, "big")),
    }


def thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638 SHA-256 thumbprint of an EC JWK (required members, lexicographic order, no whitespace)."""
    canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(canonical.encode("ascii")).digest())


def generate_key() -> dict[str, str]:
    """A fresh P-256 key entry: kid, alg, PKCS#8 PEM private key, creation time."""
    private_key = ec.generate_private_key(ec.SECP256R1())
    pem = private_key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    ).decode("ascii")
    return {
        "kid": thumbprint(public_jwk(private_key)),
        "alg": ALG,
        "private_key_pem": pem,
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def load_private_key(entry: Any) -> ec.EllipticCurvePrivateKey | None:
    """The P-256 private key of a key entry, or None when the entry is missing, malformed or another curve."""
    if not isinstance(entry, dict) or entry.get("alg", ALG) != ALG:
        return None
    pem = entry.get("private_key_pem")
    if not isinstance(pem, str):
        return None
    try:
        key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    except (ValueError, TypeError, UnicodeEncodeError):
        return None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        return None
    return key


def is_valid_document(document: Any) -> bool:
    """Whether the auth function can start with this document (a usable ``current`` key)."""
    return isinstance(document, dict) and load_private_key(document.get("current")) is not None


def _read(secrets_client: Any, secret_id: str) -> tuple[bool, Any]:
    """(exists, parsed document or None). A secret without a value, or with non-JSON, exists but has no document."""
    errors = secrets_client.exceptions
    try:
        response = secrets_client.get_secret_value(SecretId=secret_id)
    except errors.ResourceNotFoundException:
        # Also raised for an existing secret that has no AWSCURRENT value yet.
        try:
            secrets_client.describe_secret(SecretId=secret_id)
        except errors.ResourceNotFoundException:
            return False, None
        return True, None
    try:
        return True, json.loads(response.get("SecretString") or "null")
    except ValueError:
        return True, None


def _write(secrets_client: Any, secret_id: str, exists: bool, document: dict[str, Any]) -> None:
    body = json.dumps(document)
    if exists:
        secrets_client.put_secret_value(SecretId=secret_id, SecretString=body)
    else:
        secrets_client.create_secret(
            Name=secret_id, SecretString=body, Description="ES256 signing keys of the auth service"
        )


def _key(document: Any, slot: str) -> Any:
    return document.get(slot) if isinstance(document, dict) else None


def _new_current(secrets_client: Any, secret_id: str, exists: bool, *, previous: Any) -> str:
    """Write a freshly generated current key beside `previous` (dropped unless it is a usable key); its ``kid``."""
    current = generate_key()
    document = {"current": current, "previous": previous if load_private_key(previous) else None}
    _write(secrets_client, secret_id, exists, document)
    return current["kid"]


def ensure_signing_key(secrets_client: Any, secret_id: str) -> str:
    """Make sure the secret holds a valid signing key; return the current ``kid``.

    Leaves a valid document untouched (idempotent: safe on every ``./inv up`` / ``./inv deploy``). Otherwise writes a
    new key, creating the secret (by name) when it does not exist. A valid ``previous`` key is kept.
    """
    exists, document = _read(secrets_client, secret_id)
    if is_valid_document(document):
        return str(document["current"].get("kid") or thumbprint(public_jwk(load_private_key(document["current"]))))
    return _new_current(secrets_client, secret_id, exists, previous=_key(document, "previous"))


def rotate(secrets_client: Any, secret_id: str) -> str:
    """Generate a new current key, keep the old current as ``previous``; return the new ``kid``."""
    exists, document = _read(secrets_client, secret_id)
    return _new_current(secrets_client, secret_id, exists, previous=_key(document, "current"))


def retire_previous(secrets_client: Any, secret_id: str) -> str | None:
    """Drop the ``previous`` key; return its ``kid`` (None when there was none). ``current`` is left as it is.

    Raises ``ValueError`` when the secret has no usable ``current`` key: retiring would leave nothing to sign with.
    """
    exists, document = _read(secrets_client, secret_id)
    if not is_valid_document(document):
        raise ValueError(f"{secret_id} has no usable current signing key (run ./inv keys rotate first)")
    previous = document.get("previous")
    if previous is None:
        return None
    retired = previous.get("kid") if isinstance(previous, dict) else None
    key = load_private_key(previous)
    _write(secrets_client, secret_id, exists, {"current": document["current"], "previous": None})
    if retired is None and key is not None:
        retired = thumbprint(public_jwk(key))
    return str(retired) if retired is not None else "(malformed entry)"


def key_ages(secrets_client: Any, secret_id: str) -> dict[str, str | None]:
    """Creation time of ``current`` and ``previous`` as stored (None where missing)."""
    _, document = _read(secrets_client, secret_id)
    document = document if isinstance(document, dict) else {}
    return {
        name: entry.get("created_at") if isinstance(entry := document.get(name), dict) else None
        for name in ("current", "previous")
    }


def public_jwks(secrets_client: Any, secret_id: str) -> dict[str, list[dict[str, str]]]:
    """The JWKS the auth function will publish for this secret (for checks and tooling; no private parts)."""
    _, document = _read(secrets_client, secret_id)
    keys = []
    for name in ("current", "previous"):
        entry = document.get(name) if isinstance(document, dict) else None
        key = load_private_key(entry)
        if key is not None:
            jwk = public_jwk(key)
            keys.append(jwk | {"kid": str(entry.get("kid") or thumbprint(jwk)), "alg": ALG, "use": "sig"})
    return {"keys": keys}
