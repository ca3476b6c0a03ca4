"""The user row: Django's auth user plus the public profile and the aggregate's version."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """An account and its public profile."""

    display_name = models.CharField(max_length=80)
    avatar_url = models.URLField(max_length=500, blank=True, default="")
    bio = models.TextField(blank=True, default="")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        db_table = "users"

    def __str__(self) -> str:
        return self.username
