"""The user row: Django's auth user plus the public profile and the aggregate's version.

Usernames are unique whatever their case: the repository checks first (a friendly 409), and the database's
`users_username_ci_unique` (a unique index on LOWER(username), on SQLite and PostgreSQL alike) makes the loser of
two concurrent registrations of "Alice" and "alice" fail with an IntegrityError, which the repository turns into
the same 409.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower


class User(AbstractUser):
    """An account and its public profile."""

    display_name = models.CharField(max_length=80)
    avatar_url = models.URLField(max_length=500, blank=True, default="")
    bio = models.TextField(blank=True, default="")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        db_table = "users"
        constraints = [
            models.UniqueConstraint(
                Lower("username"),
                name="users_username_ci_unique",
                violation_error_message="A user with that username already exists.",
            )
        ]

    def __str__(self) -> str:
        return self.username
