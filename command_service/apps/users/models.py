"""The user row: Django's auth user plus the public profile and the aggregate's version.

Usernames are unique whatever their case: the repository checks first (a friendly 409), and the database's
`users_username_ci_unique` (a unique index on LOWER(username), on SQLite and PostgreSQL alike) makes the loser of
two concurrent registrations of "Alice" and "alice" fail with an IntegrityError, which the repository turns into
the same 409.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.apps import apps
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.db.models.functions import Lower


class UserManager(DjangoUserManager):
    """`create_user` and `create_superuser` (so `createsuperuser` too) register through the `user_register` service.

    The work is `command_service.apps.users.registration.register_user`, reached through the app's config (this
    module cannot import it: registration imports the repositories, which import this model).
    """

    use_in_migrations = False  # migrations get Django's own manager, which never runs the service

    def _create_user(self, username: str, email: str | None, password: str | None, **extra_fields: Any) -> User:
        display_name = extra_fields.pop("display_name", None) or username
        if email:
            extra_fields["email"] = self.normalize_email(email)
        return apps.get_app_config("users").register_user(
            username=username, password=password, display_name=display_name, **extra_fields
        )

    async def _acreate_user(self, username: str, email: str | None, password: str | None, **extra_fields: Any) -> User:
        return await sync_to_async(self._create_user)(username, email, password, **extra_fields)


class User(AbstractUser):
    """An account and its public profile."""

    display_name = models.CharField(max_length=80)
    avatar_url = models.URLField(max_length=500, blank=True, default="")
    bio = models.TextField(blank=True, default="")
    version = models.PositiveIntegerField(default=1)
    # Whether its creation event was written: set by the service's own writes, False for rows inserted any other way
    # (`backfill_events` emits their events, then sets it).
    announced = models.BooleanField(default=False, db_default=False)
    # When the person was erased (`user_erase`): the row keeps only its id and version, so that its id stays taken
    # and the account answers 404 like one that never was.
    erased_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()
    REQUIRED_FIELDS = ["display_name"]  # asked by createsuperuser (DJANGO_SUPERUSER_DISPLAY_NAME with --noinput)

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
