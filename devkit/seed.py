"""Project-specific steps after the local cloud provisions the template's resources.

The local cloud is generic; this module knows our services: the auth service's signing key must exist in its
Secrets Manager secret before the first token is issued (the same step `./inv deploy` runs against AWS).
"""

from __future__ import annotations

from devkit.localcloud import Backend, StackSpec

SIGNING_KEY_ENV = "SIGNING_KEY_SECRET_ARN"


def signing_key_secrets(stack: StackSpec) -> list[str]:
    """Every secret id a function reads its signing key from (resolved from the template)."""
    return sorted(
        {fn.environment[SIGNING_KEY_ENV] for fn in stack.functions.values() if SIGNING_KEY_ENV in fn.environment}
    )


def signing_keys(stack: StackSpec, backend: Backend) -> None:
    from devkit.deploy import keys

    secrets = signing_key_secrets(stack)
    if not secrets:
        return
    client = backend.boto3_client("secretsmanager")
    for secret_id in secrets:
        keys.ensure_signing_key(client, secret_id)
