"""Comments on posts."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Comment(models.Model):
    """A comment; a deleted one stays as a tombstone, like posts."""

    post = models.ForeignKey("posts.Post", on_delete=models.PROTECT, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="comments")
    body = models.TextField()
    is_deleted = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=1)
    # Whether its creation event was written: set by the service's own writes, False for rows inserted any other way
    # (`backfill_events` emits their events, then sets it).
    announced = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "comments"
        indexes = [models.Index(fields=("post", "is_deleted"))]

    def __str__(self) -> str:
        return f"comment {self.pk} on post {self.post_id}"
