"""Accounts made outside the API (the admin's add form, `createsuperuser`, code calling `create_user`) are registered
through the `user_register` service too, so each one is a `user.registered` event in the outbox like any other.

Staff flags, groups and the e-mail address are no part of any event: they are set on the row in the same
transaction, after the service registered the account.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from command_service.apps.users.models import User as UserRow
from command_service.bootstrap import unit_of_work_outside_a_request
from command_service.domain.errors import DomainError
from command_service.services.users import user_register

# Fields carried by user events: only the services set them.
EVENT_FIELDS = frozenset({"username", "display_name", "avatar_url", "bio", "is_active", "version"})


def register_user(
    *, username: str, password: str | None, display_name: str, actor_id: str | None = None, **row_fields: Any
) -> UserRow:
    """Register an account through the service, then set the row's other fields (is_staff, email ...).

    Args:
        username: the account's username.
        password: its password (an account without one cannot be registered).
        display_name: its public name.
        actor_id: who registers it (the staff member in the admin), None for a command or a script.
        **row_fields: fields of the row no event carries, such as is_staff, is_superuser, email.

    Raises:
        ValidationError: the service refused (a rule of the domain, a taken username), one message per field.
    """
    if given := EVENT_FIELDS & set(row_fields):
        raise ValueError(f"{sorted(given)} are set by the services' events, not at registration")
    uow = unit_of_work_outside_a_request(actor_id)
    try:
        with uow.transaction():
            written = user_register(username=username, password=password or "", display_name=display_name, uow=uow)
            if row_fields:
                UserRow.objects.filter(pk=written.aggregate_id).update(**row_fields)
    except DomainError as error:
        raise validation_error(error) from None
    return UserRow.objects.get(pk=written.aggregate_id)


def validation_error(error: DomainError) -> ValidationError:
    """A refusal of the domain as Django's ValidationError: `{field: [messages]}`, or the message alone."""
    if error.fields:  # each message names its field: `createsuperuser` prints the messages alone
        return ValidationError({name: [f"{name}: {text}" for text in texts] for name, texts in error.fields.items()})
    return ValidationError(error.message)
