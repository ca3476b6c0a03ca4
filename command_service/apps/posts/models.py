"""Posts and their tags."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Tag(models.Model):
    """A tag name, shared by every post that carries it."""

    name = models.CharField(max_length=32, unique=True)

    class Meta:
        db_table = "tags"
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Post(models.Model):
    """A post; a deleted post stays as a tombstone so that its version and events stay consistent."""

    class Status(models.TextChoices):
        DRAFT = "draft"
        PUBLISHED = "published"
        ARCHIVED = "archived"
        DELETED = "deleted"

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="posts")
    title = models.CharField(max_length=200)
    content = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True)
    tags = models.ManyToManyField(Tag, related_name="posts", blank=True)
    version = models.PositiveIntegerField(default=1)
    # Whether its creation event was written: set by the service's own writes, False for rows inserted any other way
    # (`backfill_events` emits their events, then sets it).
    announced = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "posts"

    def __str__(self) -> str:
        return self.title
