"""The password rule of the deployment: Django's AUTH_PASSWORD_VALIDATORS (settings), the one place it is defined.

Registration reaches it through the user repository (`DjangoUsers.password_problems`, a port of the services) and
the password change through `password_problems` here; the domain's `rules.check_password` runs first, with the same
bounds (at most PASSWORD_MAX characters, so the similarity check never reads a long input).
"""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from command_service.apps.users.models import User


def password_problems(password: str, user: User) -> list[str]:
    """The validators' messages against `password` for `user` (saved or not: username and display name are what the
    similarity rule compares); [] when it is acceptable."""
    try:
        validate_password(password, user)
    except ValidationError as exc:
        return list(exc.messages)
    return []
