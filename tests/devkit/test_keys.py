"""devkit.deploy.keys against an in-process moto Secrets Manager: ensure is idempotent, repairs, rotates, no leaks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from devkit.deploy import keys
from tests.support import moto_aws

SECRET = "auth-signing-key-test"


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with moto_aws(monkeypatch):
        yield boto3.client("secretsmanager", region_name="us-east-1")


def document(secrets: Any, secret_id: str = SECRET) -> dict[str, Any]:
    return json.loads(secrets.get_secret_value(SecretId=secret_id)["SecretString"])


def test_creates_the_secret_with_a_p256_key_when_missing(secrets: Any) -> None:
    kid = keys.ensure_signing_key(secrets, SECRET)
    doc = document(secrets)
    assert doc["current"]["kid"] == kid
    assert doc["current"]["alg"] == "ES256"
    assert doc["previous"] is None
    private = serialization.load_pem_private_key(doc["current"]["private_key_pem"].encode(), password=None)
    assert private.curve.name == "secp256r1"
    assert kid == keys.thumbprint(keys.public_jwk(private))


def test_is_idempotent_when_the_key_is_valid(secrets: Any) -> None:
    first = keys.ensure_signing_key(secrets, SECRET)
    before = document(secrets)
    assert keys.ensure_signing_key(secrets, SECRET) == first
    assert document(secrets) == before


@pytest.mark.parametrize(
    "initial", ["{}", "not json", '{"current": {"private_key_pem": "garbage"}}', '{"current": null}']
)
def test_replaces_an_empty_or_invalid_document_in_an_existing_secret(secrets: Any, initial: str) -> None:
    arn = secrets.create_secret(Name=SECRET, SecretString=initial)["ARN"]
    kid = keys.ensure_signing_key(secrets, arn)
    assert keys.is_valid_document(document(secrets))
    assert document(secrets)["current"]["kid"] == kid


def test_a_p384_key_is_not_valid(secrets: Any) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = (
        ec.generate_private_key(ec.SECP384R1())
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
    secrets.create_secret(Name=SECRET, SecretString=json.dumps({"current": {"private_key_pem": pem}}))
    old = document(secrets)
    keys.ensure_signing_key(secrets, SECRET)
    assert document(secrets) != old
    assert keys.is_valid_document(document(secrets))


def test_rotate_keeps_the_old_key_as_previous_and_jwks_publishes_both(secrets: Any) -> None:
    old_kid = keys.ensure_signing_key(secrets, SECRET)
    new_kid = keys.rotate(secrets, SECRET)
    assert new_kid != old_kid
    doc = document(secrets)
    assert doc["current"]["kid"] == new_kid
    assert doc["previous"]["kid"] == old_kid
    jwks = keys.public_jwks(secrets, SECRET)
    assert [k["kid"] for k in jwks["keys"]] == [new_kid, old_kid]
    assert all(k["use"] == "sig" and k["alg"] == "ES256" and "d" not in k for k in jwks["keys"])
    # A second rotation drops the oldest key.
    newest = keys.rotate(secrets, SECRET)
    assert [k["kid"] for k in keys.public_jwks(secrets, SECRET)["keys"]] == [newest, new_kid]


def test_a_token_signed_with_the_key_verifies_with_the_published_jwk(secrets: Any) -> None:
    kid = keys.ensure_signing_key(secrets, SECRET)
    pem = document(secrets)["current"]["private_key_pem"]
    token = jwt.encode({"sub": "u"}, pem, algorithm="ES256", headers={"kid": kid})
    jwk = keys.public_jwks(secrets, SECRET)["keys"][0]
    public = jwt.algorithms.ECAlgorithm.from_jwk(json.dumps(jwk))
    assert jwt.decode(token, public, algorithms=["ES256"]) == {"sub": "u"}


def test_thumbprint_matches_rfc7638_example_shape() -> None:
    # RFC 7638 section 3.1 canonical form: required members only, sorted, no whitespace.
    jwk = {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "BBBB", "kid": "ignored", "use": "sig"}
    assert keys.thumbprint(jwk) == keys.thumbprint({"y": "BBBB", "x": "AAAA", "crv": "P-256", "kty": "EC"})
    assert len(keys.thumbprint(jwk)) == 43


def test_retire_previous_drops_only_the_previous_key(secrets: Any) -> None:
    first = keys.ensure_signing_key(secrets, SECRET)
    second = keys.rotate(secrets, SECRET)
    assert keys.retire_previous(secrets, SECRET) == first
    doc = document(secrets)
    assert doc["current"]["kid"] == second and doc["previous"] is None
    assert [k["kid"] for k in keys.public_jwks(secrets, SECRET)["keys"]] == [second]
    assert keys.retire_previous(secrets, SECRET) is None, "nothing left to retire"


def test_retire_previous_refuses_without_a_current_key(secrets: Any) -> None:
    secrets.create_secret(Name=SECRET, SecretString="{}")
    with pytest.raises(ValueError, match="no usable current signing key"):
        keys.retire_previous(secrets, SECRET)


def test_retire_previous_waits_one_token_lifetime_and_refresh_unless_forced(secrets: Any) -> None:
    from datetime import UTC, datetime, timedelta

    from devkit.errors import TaskFailure
    from devkit.targets import Target, signing

    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    assert signing.too_early((now - timedelta(minutes=5)).strftime(stamp), now) == timedelta(minutes=15)
    assert signing.too_early((now - timedelta(hours=1)).strftime(stamp), now) is None
    assert signing.too_early(None, now) is None

    keys.ensure_signing_key(secrets, SECRET)
    first_rotation = keys.rotate(secrets, SECRET)

    class InProcess(Target):
        def client(self, service: str) -> Any:
            return secrets

    target = InProcess("a test target", "us-east-1", {"AuthSigningKeySecret": SECRET})
    with pytest.raises(TaskFailure, match="--force"):
        signing.run(target, "retire-previous")
    assert document(secrets)["previous"] is not None, "a refused retirement changes nothing"
    signing.run(target, "retire-previous", force=True)
    assert document(secrets)["previous"] is None
    assert document(secrets)["current"]["kid"] == first_rotation
