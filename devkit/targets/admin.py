"""Administrative actions on the auth service's users table (used by ``./inv grant-admin``).

The users table layout is the auth service's (services/auth/src/store/dynamo.rs): an ``EMAIL#<email>`` item names
the user id, and the ``USER#<id>`` item holds ``roles`` (a list of strings). Roles ride in the access token, so a
grant takes effect at the user's next login.
"""

from __future__ import annotations

from typing import Any

ADMIN = "admin"


class UnknownUser(LookupError):
    """No account has this email."""


def normalise_email(email: str) -> str:
    """The auth service's normalisation: trimmed and lowercased."""
    return email.strip().lower()


def user_id_for(dynamodb_client: Any, users_table: str, email: str) -> str:
    """The id of the account with this email, or :class:`UnknownUser`."""
    normalised = normalise_email(email)
    item = dynamodb_client.get_item(
        TableName=users_table, Key={"pk": {"S": f"EMAIL#{normalised}"}}, ConsistentRead=True
    ).get("Item")
    if not item or "user_id" not in item:
        raise UnknownUser(f"no account with email {normalised!r} in table {users_table}")
    return item["user_id"]["S"]


def grant_role(dynamodb_client: Any, users_table: str, email: str, role: str) -> bool:
    """Add ``role`` to the user's roles; return False when the user already had it (idempotent)."""
    user_id = user_id_for(dynamodb_client, users_table, email)
    errors = dynamodb_client.exceptions
    try:
        dynamodb_client.update_item(
            TableName=users_table,
            Key={"pk": {"S": f"USER#{user_id}"}},
            UpdateExpression="SET #roles = list_append(if_not_exists(#roles, :empty), :role)",
            ConditionExpression="attribute_exists(pk) AND NOT contains(#roles, :name)",
            ExpressionAttributeNames={"#roles": "roles"},
            ExpressionAttributeValues={
                ":empty": {"L": []},
                ":role": {"L": [{"S": role}]},
                ":name": {"S": role},
            },
        )
    except errors.ConditionalCheckFailedException:
        # Either the role is already there, or the user item vanished; tell them apart.
        item = dynamodb_client.get_item(
            TableName=users_table, Key={"pk": {"S": f"USER#{user_id}"}}, ConsistentRead=True
        ).get("Item")
        if not item:
            raise UnknownUser(f"account {user_id} for {normalise_email(email)!r} has no user item") from None
        return False
    return True


def grant_admin(dynamodb_client: Any, users_table: str, email: str) -> bool:
    """Make the account with this email an admin (effective at its next login). False if it already was."""
    return grant_role(dynamodb_client, users_table, email, ADMIN)


def grant_admin_task(email: str, stage: str) -> None:
    """`./inv grant-admin`: the `admin` role for `email` on the local cloud or a deployed stage."""
    from devkit import targets

    target = targets.resolve(stage)
    granted = grant_role(target.client("dynamodb"), target.output("UsersTableName"), email, ADMIN)
    print(f"grant-admin: {email} is {'now' if granted else 'already'} an admin on {target.name} (log in again)")
